#!/usr/bin/env python3
"""A simulated year of sweeps (issue 16): does the state stay bounded and
every read fast?

5 fake qBittorrent instances (tests/bench/fake_qbit.py, served from this
process) with SOAK_TORRENTS managed torrents each (default 10,000), 5 % of
them replaced every day by new completed ones (imported through a fake
Radarr: 2,500 imports a day at the default size), one sweep per simulated
day with the tool's clock hook (QBITRR_TEST_NOW) moved a day each time,
HistoryDays and GoneRowDays at their defaults.  At days 1, 90, 180 and 365
it prints the state file's size, its row counts, the sweep's wall and CPU
time (the median of the five sweeps around that day: one sweep is noisy)
and the read commands' times; then day 365's sweep against day 1's.

    python3 tests/bench/soak.py          (make soak; about half an hour)
Environment: SOAK_TORRENTS, SOAK_DAYS (default 365), SOAK_EVERY_DAY=1
prints every sweep.
"""
import argparse
import os
import resource
import sqlite3
import statistics
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

N = int(os.environ.get("SOAK_TORRENTS", "10000"))
DAYS = int(os.environ.get("SOAK_DAYS", "365"))
INSTANCES = 5
CHURN = max(1, N // 20)         # 5 % a day
DAY = 86400
MARKS = (1, 90, 180, 365)


class Instance:
    """One fake qBittorrent whose torrents slide: each day the oldest 5 %
    leave and as many new ones, completed an hour ago, arrive."""

    def __init__(self, i, t0):
        args = argparse.Namespace(
            now=t0, managed_categories="radarr", torrents=0, managed_fraction=1.0,
            seed="soak%d" % i, downloading_fraction=0.0, serialise_ms_per_1k=0.0,
            latency_ms=0.0, serial=True, free_space=500 * 1024 ** 3,
            username=B.USER, password=B.PASSWORD, port=0)
        self.i, self.t0 = i, t0
        self.st = F.State(args)
        self.win = F.generate(N, 1.0, ["radarr"], args.seed, t0)
        handler = type("Handler%d" % i, (F.Handler,), {"st": self.st})
        self.srv = F.Server(("127.0.0.1", 0), handler)
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()

    def day(self, d, now):
        """The torrents of day d (generated as the days come: a year's pool
        would hold a million)."""
        if d > 0:
            new = F.generate(CHURN, 1.0, ["radarr"], "soak%d-day%d" % (self.i, d), self.t0)
            for t in new:
                t.info["added_on"] = now - 7200
                t.info["completion_on"] = now - 3600
                t.info["seeding_time"] = 3600
                t.json = F.json.dumps(t.info, sort_keys=True, separators=(",", ":"))
            self.win = self.win[CHURN:] + new
        st = self.st
        st.torrents = self.win
        st.by_hash = {t.hash: t for t in self.win}
        st.by_cat = {"radarr": self.win}
        # Only the radarr list is asked for; gzip level 1 keeps the days short.
        st.lists = {None: F.Payload(F.json_list(self.win), len(self.win), False)}
        for c in set(st.categories) | set(st.by_cat):
            lst = st.by_cat.get(c, [])
            st.lists[c] = F.Payload(F.json_list(lst), len(lst), False)
            if lst:
                st.lists[c].gz = F.gzip.compress(st.lists[c].raw, compresslevel=1, mtime=0)
        st.maindata = None


def timed(args, now, cpu=None):
    """Wall time of one run of the tool; its CPU time (user + system) into
    cpu[0] when given."""
    env = H._clean_env({"QBITRR_TEST_NOW": str(now)})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    r = subprocess.run([B.BIN] + args, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=900)
    dt = time.monotonic() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu[0] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode not in (0, 1):
        raise SystemExit("%s: exit %d\n%s" % (" ".join(args), r.returncode,
                                                r.stderr.decode()[-2000:]))
    return dt


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
        t_start = time.monotonic()
        page = os.path.join(d, "status.html")
        sweeps = {}             # day -> (wall, CPU)
        marks = {}              # day -> the state and the reads that day
        for day in range(DAYS + 1):
            now = t0 + day * DAY
            for inst in insts:
                inst.day(day, now)
            cpu = [0.0]
            dt = timed(["-c", cfg, "-q"], now, cpu)
            sweeps[day] = (dt, cpu[0])
            if os.environ.get("SOAK_EVERY_DAY"):
                print("day %d: sweep %.2f s wall, %.2f s CPU" % (day, dt, cpu[0]), flush=True)
            if day in MARKS:
                db = sqlite3.connect(state)
                rows, gone = db.execute("SELECT count(*), count(gone_at) FROM torrents").fetchone()
                audit = db.execute("SELECT count(*) FROM actions").fetchone()[0]
                some = db.execute("SELECT hash FROM torrents LIMIT 1").fetchone()[0]
                db.close()
                size = sum(os.path.getsize(state + x) for x in ("", "-wal")
                           if os.path.exists(state + x))
                marks[day] = (size, rows, gone, audit,
                              timed(["-c", cfg, "status", "--html", page], now + 60),
                              timed(["-c", cfg, "explain"], now + 60),
                              timed(["-c", cfg, "history"], now + 60),
                              timed(["-c", cfg, "history", some[:8]], now + 60))
                print("day %d: %.1f MB, %d torrent rows (%d gone), %d audit rows"
                      % (day, size / 1e6, rows, gone, audit), flush=True)

        def median_sweep(m):
            """The median wall and CPU time of the five sweeps around day m."""
            lo = max(1, min(m - 2, DAYS - 4))
            days = [x for x in range(lo, lo + 5) if x in sweeps]
            return (statistics.median(sweeps[x][0] for x in days),
                    statistics.median(sweeps[x][1] for x in days))

        print("| day | state file | torrent rows (gone) | audit rows | sweep wall (CPU) |"
              " `status --html` | `explain` all | `history` all | `history PREFIX` |")
        print("|---|---|---|---|---|---|---|---|---|")
        for m in sorted(marks):
            size, rows, gone, audit, html, expl, hist, pref = marks[m]
            wall, cpu = median_sweep(m)
            print("| %d | %.1f MB | %s (%s) | %s | %.2f s (%.2f s) | %.2f s | %.2f s |"
                  " %.2f s | %.2f s |" % (m, size / 1e6, "{:,}".format(rows),
                                           "{:,}".format(gone), "{:,}".format(audit),
                                           wall, cpu, html, expl, hist, pref))
        first, last = min(marks), max(marks)
        if last > first:
            (w1, c1), (w2, c2) = median_sweep(first), median_sweep(last)
            print("sweep on day %d against day %d: wall %+.0f %%, CPU %+.0f %%"
                  % (last, first, 100 * (w2 / w1 - 1), 100 * (c2 / c1 - 1)))
        print("total %.0f s" % (time.monotonic() - t_start))
    finally:
        arr.stop()
        # The fake Radarr's call log: a million lines by day 365.
        if os.path.exists(os.path.join(d, "calls.jsonl")):
            os.unlink(os.path.join(d, "calls.jsonl"))
        for inst in insts:
            inst.srv.shutdown()


if __name__ == "__main__":
    main()
