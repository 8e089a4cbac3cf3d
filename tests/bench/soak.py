#!/usr/bin/env python3
"""A simulated year of sweeps (issue 16): does the state stay bounded and
every read fast?

5 fake qBittorrent instances (tests/bench/fake_qbit.py, served from this
process) with SOAK_TORRENTS managed torrents each (default 400), 5 % of
them replaced every day by new completed ones (imported through a fake
Radarr: 100 imports a day), one sweep per simulated day with the
tool's clock hook (QBITRR_TEST_NOW) moved a day each time, HistoryDays and
GoneRowDays at their defaults (90 and 30).  At days 1, 90, 180 and 365 it
prints the state file's size, its row counts, the sweep's wall time and the
read commands' times.

    python3 tests/bench/soak.py          (make soak; a few minutes)
Environment: SOAK_TORRENTS, SOAK_DAYS (default 365).
"""
import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench as B        # noqa: E402
import fake_qbit as F    # noqa: E402
import harness as H      # noqa: E402

N = int(os.environ.get("SOAK_TORRENTS", "400"))
DAYS = int(os.environ.get("SOAK_DAYS", "365"))
INSTANCES = 5
CHURN = max(1, N // 20)         # 5 % a day
DAY = 86400
MARKS = (1, 90, 180, 365)


class Instance:
    """One fake qBittorrent whose torrents slide through a generated pool."""

    def __init__(self, i, t0):
        args = argparse.Namespace(
            now=t0, managed_categories="radarr", torrents=0, managed_fraction=1.0,
            seed="soak%d" % i, downloading_fraction=0.0, serialise_ms_per_1k=0.0,
            latency_ms=0.0, serial=True, free_space=500 * 1024 ** 3,
            username=B.USER, password=B.PASSWORD, port=0)
        self.st = F.State(args)
        self.pool = F.generate(N + (DAYS + 1) * CHURN, 1.0, ["radarr"], args.seed, t0)
        handler = type("Handler%d" % i, (F.Handler,), {"st": self.st})
        self.srv = F.Server(("127.0.0.1", 0), handler)
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()

    def day(self, d, now):
        """The torrents of day d: completed before now, added before that."""
        win = self.pool[d * CHURN:d * CHURN + N]
        for k, t in enumerate(win[-CHURN:] if d else []):
            # The newcomers of the day completed an hour ago.
            t.info["added_on"] = now - 7200
            t.info["completion_on"] = now - 3600
            t.info["seeding_time"] = 3600
            t.json = F.json.dumps(t.info, sort_keys=True, separators=(",", ":"))
        st = self.st
        st.torrents = win
        st.by_hash = {t.hash: t for t in win}
        st.by_cat = {}
        for t in win:
            st.by_cat.setdefault(t.category, []).append(t)
        st.lists = {None: F.Payload(F.json_list(win), len(win), True)}
        for c in set(st.categories) | set(st.by_cat):
            lst = st.by_cat.get(c, [])
            st.lists[c] = F.Payload(F.json_list(lst), len(lst), True)
        st.maindata = None


def timed(args, now):
    env = H._clean_env({"QBITRR_TEST_NOW": str(now)})
    t = time.monotonic()
    r = subprocess.run([B.BIN] + args, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=900)
    if r.returncode not in (0, 1):
        raise SystemExit("%s: exit %d\n%s" % (" ".join(args), r.returncode,
                                                r.stderr.decode()[-2000:]))
    return time.monotonic() - t


def main():
    d = tempfile.mkdtemp(prefix="qbitrr-soak-")
    t0 = int(time.time()) - 400 * DAY
    insts = [Instance(i, t0) for i in range(INSTANCES)]
    arr = H.FakeArr("radarr", workdir=d)
    arr.start()
    try:
        state = os.path.join(d, "qbitrr.db")
        text = "[Settings]\nStateFile = %s\nImportDelay = 0\nIgnoreTorrentsYoungerThan = 0\n\n" % state
        for i, inst in enumerate(insts):
            text += "[qBit-%d]\nHost = %s\nUserName = %s\nPassword = %s\n\n" % (
                i, inst.url, B.USER, B.PASSWORD)
        text += "[Radarr-Movies]\nCategory = radarr\nURI = %s\nAPIKey = %s\n\n" % (
            arr.url, arr.api_key)
        cfg = H.write_config(d, text)
        print("%d instances x %d torrents, %d replaced a day (%d imports a day), %d days"
              % (INSTANCES, N, CHURN, INSTANCES * CHURN, DAYS), flush=True)
        print("| day | file | torrents (gone) | audit rows | sweep | status --html |"
              " explain all | history all | history prefix |")
        print("|---|---|---|---|---|---|---|---|---|")
        t_start = time.monotonic()
        page = os.path.join(d, "status.html")
        for day in range(DAYS + 1):
            now = t0 + day * DAY
            for inst in insts:
                inst.day(day, now)
            dt = timed(["-c", cfg, "-q"], now)
            if day in MARKS:
                db = sqlite3.connect(state)
                rows, gone = db.execute("SELECT count(*), count(gone_at) FROM torrents").fetchone()
                audit = db.execute("SELECT count(*) FROM actions").fetchone()[0]
                some = db.execute("SELECT hash FROM torrents LIMIT 1").fetchone()[0]
                db.close()
                size = sum(os.path.getsize(state + s) for s in ("", "-wal")
                           if os.path.exists(state + s))
                print("| %d | %.1f MB | %d (%d) | %d | %.2f s | %.2f s | %.2f s | %.2f s | %.2f s |"
                      % (day, size / 1e6, rows, gone, audit, dt,
                         timed(["-c", cfg, "status", "--html", page], now + 60),
                         timed(["-c", cfg, "explain"], now + 60),
                         timed(["-c", cfg, "history"], now + 60),
                         timed(["-c", cfg, "history", some[:8]], now + 60)), flush=True)
        print("total %.0f s" % (time.monotonic() - t_start))
    finally:
        arr.stop()
        for inst in insts:
            inst.srv.shutdown()


if __name__ == "__main__":
    main()
