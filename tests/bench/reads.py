#!/usr/bin/env python3
"""Reads at scale (issue 16): how long the read commands take on a big state.

5 fake qBittorrent instances (tests/bench/fake_qbit.py, no emulated server
cost) with 10,000 torrents each, all managed; one sweep records their 50,000
rows, then 500,000 audit rows are generated over 90 days (10 per torrent).
Times, with the release binary: status, status --html, a sweep that writes
StatusPage, explain of one torrent and of all, history (all, --since 1d,
--instance, a hash prefix), and counts the state file's size.

    python3 tests/bench/reads.py            (make bench-reads)
Environment: READS_TORRENTS (per instance, default 10000), READS_AUDIT
(default 500000).
"""
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench as B   # noqa: E402
import harness as H  # noqa: E402

N = int(os.environ.get("READS_TORRENTS", "10000"))
AUDIT = int(os.environ.get("READS_AUDIT", "500000"))


RUNS = int(os.environ.get("READS_RUNS", "3"))


def run(args, now, what, runs=1):
    """The median wall time of runs runs."""
    times = []
    env = H._clean_env({"QBITRR_TEST_NOW": str(now)})
    for _ in range(runs):
        # Output to /dev/null: the figure is the tool's, not a pipe reader's.
        t = time.monotonic()
        r = subprocess.run([B.BIN] + args, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=600)
        times.append(time.monotonic() - t)
        if r.returncode not in (0, 1):
            raise SystemExit("%s: exit %d\n%s" % (what, r.returncode, r.stderr[-2000:]))
    return sorted(times)[len(times) // 2], r


def main():
    H.BINARY = B.BIN
    print("machine: %s" % os.uname().release, flush=True)
    fleet = B.Fleet(5, N, 1.0, ser_ms=0.0)
    d = tempfile.mkdtemp(prefix="qbitrr-reads-")
    try:
        insts = [("qBit-%d" % i, u, B.USER, B.PASSWORD) for i, u in enumerate(fleet.urls)]
        cfg = B.write_config(d, insts, timeout=120)
        state = os.path.join(d, "qbitrr.db")
        now = int(time.time())
        dt, _ = run(["-c", cfg, "-q"], now, "first sweep")
        print("first sweep (50,000 new rows): %.2f s" % dt)
        db = sqlite3.connect(state)
        rows = db.execute("SELECT hash, instance, name FROM torrents").fetchall()
        rnd = random.Random(1)
        acts = ["import", "delete", "blocklist", "set_limits", "recheck", "pause"]
        batch = []
        for i in range(AUDIT):
            h, inst, name = rows[i % len(rows)]
            batch.append((now - rnd.randrange(90 * 86400), inst, h, name,
                          rnd.choice(acts), "generated: reason text of a usual length here",
                          rnd.choice(["done", "done", "done", "failed"]), None))
        db.executemany("INSERT INTO actions (time, instance, hash, name, action, reason,"
                       " result, error) VALUES (?,?,?,?,?,?,?,?)", batch)
        db.commit()
        tracked = db.execute("SELECT count(*) FROM torrents").fetchone()[0]
        audit = db.execute("SELECT count(*) FROM actions").fetchone()[0]
        db.close()
        print("state: %d tracked torrents, %d audit rows, %.1f MB"
              % (tracked, audit, os.path.getsize(state) / 1e6))
        page = os.path.join(d, "status.html")
        some = rows[12345 % len(rows)][0]
        empty = os.path.join(d, "empty.db")
        cases = [
            ("status, empty state file (the servers' part)",
             ["-c", cfg, "-s", empty, "status"]),
            ("status", ["-c", cfg, "status"]),
            ("status --json", ["-c", cfg, "status", "--json"]),
            ("status --html", ["-c", cfg, "status", "--html", page]),
            ("explain (one torrent)", ["-c", cfg, "explain", some[:12]]),
            ("explain (all)", ["-c", cfg, "explain"]),
            ("history (all)", ["-c", cfg, "history"]),
            ("history --since 1d", ["-c", cfg, "history", "--since", "1d"]),
            ("history --instance", ["-c", cfg, "history", "--instance", "qBit-3"]),
            ("history PREFIX", ["-c", cfg, "history", some[:6]]),
        ]
        print("| command (median of %d) | wall |\n|---|---|" % RUNS)
        for label, args in cases:
            dt, _ = run(args, now + 60, label, RUNS)
            print("| %s | %.2f s |" % (label, dt), flush=True)
        dt, _ = run(["-c", cfg, "-q"], now + 120, "sweep", RUNS)
        print("| sweep, no StatusPage | %.2f s |" % dt)
        text = open(cfg).read().replace("[Settings]\n", "[Settings]\nStatusPage = %s\n" % page, 1)
        with open(cfg, "w") as f:
            f.write(text)
        dt, _ = run(["-c", cfg, "-q"], now + 180, "sweep with StatusPage", RUNS)
        print("| sweep writing StatusPage | %.2f s |" % dt)
        if os.environ.get("READS_KEEP"):
            print("kept:", cfg, flush=True)
            time.sleep(float(os.environ["READS_KEEP"]))
    finally:
        fleet.stop()


if __name__ == "__main__":
    main()
