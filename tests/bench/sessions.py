#!/usr/bin/env python3
"""What a steady sweep costs a real qBittorrent 4.5.2 (issue 11): logins,
logouts and server CPU per sweep, with 2,000 torrents (20 % managed).

    python3 tests/bench/sessions.py        (as root: in its own netns)

A qbittorrent-nox with SESSIONS_TORRENTS torrents (default 2,000) behind a
recording proxy; one warm-up sweep, then SESSIONS_RUNS (default 10) steady
sweeps of the release build.  The server's CPU is read from /proc/PID/stat
(utime + stime) around each sweep; a login's own cost is measured apart
(20 logins in a row).  Prints medians as a Markdown table.
"""
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

if os.geteuid() == 0 and not os.environ.get("SESSIONS_IN_NETNS"):
    os.environ["SESSIONS_IN_NETNS"] = "1"
    os.execvp("unshare", ["unshare", "--net", "sh", "-c",
                          "ip link set lo up && exec %s %s" % (sys.executable,
                                                               os.path.abspath(__file__))])

import harness as H  # noqa: E402

N = int(os.environ.get("SESSIONS_TORRENTS", "2000"))
RUNS = int(os.environ.get("SESSIONS_RUNS", "10"))
BIN = os.environ.get("QBITRR_BENCH_BIN", os.path.join(REPO, "qbitrr-sweep"))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_ms(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / TICK


def main():
    work = H.TempDir("qbitrr-sessions-")
    inst = H.QbtInstance("sessions", os.path.join(work.path, "qbt"))
    inst.start(timeout=60)
    try:
        for c in ("radarr", "other", "failed", "recheck", "sonarr"):
            inst.create_category(c)
        data = os.path.join(work.path, "data")
        managed = N // 5
        specs = [(("radarr" if i < managed else "other"),
                  H.make_torrent(data, "Title.%05d.2021.1080p-GRP.mkv" % i, size=1024))
                 for i in range(N)]
        for cat in ("radarr", "other"):
            lst = [s for c, s in specs if c == cat]
            for b in range(0, len(lst), 100):
                inst._call("POST", "torrents/add", data={
                    "savepath": data, "category": cat, "skip_checking": "true",
                    "paused": "false"}, files=[
                    ("torrents", s.name + ".torrent", s.data, "application/x-bittorrent")
                    for s in lst[b:b + 100]], timeout=120)
        H.wait_until(lambda: len(inst.torrents()) == N, timeout=300, interval=1.0,
                     what="%d torrents listed" % N)
        H.wait_until(lambda: all(t["state"] in ("stalledUP", "uploading", "queuedUP")
                                 for t in inst.torrents()), timeout=300, interval=1.0,
                     what="all seeding")
        proxy = H.FaultProxy(inst.url)
        cfg = H.write_config(work.path, (
            "[Settings]\nStateFile = %s\nIgnoreTorrentsYoungerThan = 0\n\n"
            "[qBit]\nHost = %s\nUserName = %s\nPassword = %s\n\n"
            "[Radarr-Movies]\nCategory = radarr\n\n[Sonarr-TV]\nCategory = sonarr\n"
            % (os.path.join(work.path, "state.db"), proxy.url, inst.username,
               inst.password)))
        pid = inst.proc.pid
        subprocess.run([BIN, "-c", cfg], check=True, capture_output=True)  # warm-up
        time.sleep(2)                 # let the server's own timers settle
        idle0 = cpu_ms(pid)
        time.sleep(5)
        idle = (cpu_ms(pid) - idle0) / 5.0          # ms of CPU per second, idle
        sweeps = []
        for _ in range(RUNS):
            proxy.clear()
            c0, t0 = cpu_ms(pid), time.monotonic()
            subprocess.run([BIN, "-c", cfg], check=True, capture_output=True)
            wall = time.monotonic() - t0
            c1 = cpu_ms(pid)
            paths = [q["path"].replace("/api/v2/", "") for q in proxy.requests()]
            sweeps.append({"cpu": c1 - c0 - idle * wall, "wall": wall * 1000,
                           "requests": len(paths),
                           "logins": paths.count("auth/login"),
                           "logouts": paths.count("auth/logout")})
            time.sleep(0.5)
        # A login alone, 20 in a row (each a PBKDF2 check on the server).
        c0, t0 = cpu_ms(pid), time.monotonic()
        for _ in range(20):
            inst._sid = None
            inst.login()
        login_wall = (time.monotonic() - t0) * 1000 / 20
        login_cpu = (cpu_ms(pid) - c0 - idle * login_wall * 20 / 1000) / 20
        med = lambda k: statistics.median(s[k] for s in sweeps)
        version = inst.get("app/version")
        print("| qBittorrent %s, %d torrents (%d managed), %d steady sweeps | median |"
              % (version, N, managed, RUNS))
        print("|---|---|")
        print("| logins per sweep | %d |" % med("logins"))
        print("| logouts per sweep (sessions left behind: %d) | %d |"
              % (med("logins") - med("logouts"), med("logouts")))
        print("| requests per sweep | %d |" % med("requests"))
        print("| server CPU per sweep | %.0f ms |" % med("cpu"))
        print("| sweep wall | %.0f ms |" % med("wall"))
        print("| one login alone: server CPU / wall | %.0f ms / %.0f ms |"
              % (login_cpu, login_wall))
        print("| server idle CPU (subtracted) | %.1f ms/s |" % idle)
        proxy.close()
    finally:
        inst.kill()
        work.cleanup()


if __name__ == "__main__":
    main()
