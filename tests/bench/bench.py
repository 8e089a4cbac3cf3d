#!/usr/bin/env python3
"""`make bench`: the performance benchmark of qbitrr-sweep (issue 8).

What it does, in order:

1. Fake-server scenarios (tests/bench/fake_qbit.py, one process per
   instance, 127.0.0.1 only): 1x100, 1x10k and 5x10k torrents with 20 % in
   managed categories, 5x10k all managed (memory), the same 5x10k/20 % without
   the emulated server cost, 1 vs 5 instances answering every request in
   200 ms (parallelism), and 4 such instances plus one dead one (accepts, never
   answers; HttpTimeout 3 s).  The fake server emulates qBittorrent's cost of
   building a torrents/info answer: BENCH_SERIALISE_MS (default 130) ms per
   1,000 torrents *returned*, one request at a time (lab: 1.3-2.9 s for 10k
   unfiltered, milliseconds for a filter matching few).
   Each scenario alternates BENCH_RUNS (default 5) runs of
     (a) the tool: a first sweep on a fresh state file, then a second sweep
         with nothing changed (one minute later on the policy clock), and
     (b) the curl | jq loop a user would otherwise write: per instance, log in
         with curl, fetch the whole torrents/info, keep the managed categories
         with jq; sequential over the instances.
   CPU (user+sys), peak RSS and wall time come from wait4() and
   CLOCK_MONOTONIC in build/bench/bench-run, a small C helper compiled on the
   fly that forks the measured command: a command forked straight from this
   Python would report Python's own RSS (~50 MB) as its peak, since Linux
   records the old address space's high-water mark at exec.  The baseline's
   figures include its curl and jq children (RSS: the largest of them).
   Requests and bytes come from the tool's --json stats and from the fake
   servers' /__stats.
   One extra, untimed run per scenario checks the second sweep's writes: an
   LD_PRELOAD shim counts SQLite write commits and row changes per table, and
   the state file is compared before and after.
2. Listing strategies: one unfiltered torrents/info vs one filtered list per
   managed category, fetched with curl --compressed from the fake server
   (bytes, emulated server time, wall) and from the real server.
3. A real qbittorrent-nox (harness.QbtInstance) with BENCH_REAL_TORRENTS
   (default 2,000) torrents of 1 KiB, added in batches of 100 with
   skip_checking, 20 % managed: sweep vs baseline, same measurements.

Prints the machine, a table of medians, the issue's targets with PASS/MISS,
and writes it all to build/bench/results.md (and results.json).  When run as
root it re-executes itself in a private network namespace (like the
integration suite), so nothing can leave the machine and ports never clash.

Environment: BENCH_RUNS, BENCH_SERIALISE_MS, BENCH_REAL_TORRENTS (0: skip the
real server), BENCH_QUICK=1 (small sizes, for trying the script),
QBITRR_BENCH_BIN (default build/hooks/qbitrr-sweep: the release code with QBITRR_TEST_NOW), BENCH_NO_NETNS=1,
BENCH_REPORT_ONLY=build/bench/results.json (re-print a saved run).
"""

import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import harness as H  # noqa: E402

BIN = os.environ.get("QBITRR_BENCH_BIN") or os.path.join(REPO, "build", "hooks", "qbitrr-sweep")
FAKE = os.path.join(HERE, "fake_qbit.py")
OUTDIR = os.path.join(REPO, "build", "bench")
RUNS = max(1, int(os.environ.get("BENCH_RUNS", "5")))
SER_MS = float(os.environ.get("BENCH_SERIALISE_MS", "130"))
QUICK = os.environ.get("BENCH_QUICK") == "1"
REAL_N = int(os.environ.get("BENCH_REAL_TORRENTS", "200" if QUICK else "2000"))
BIG = 1000 if QUICK else 10000
USER, PASSWORD = "admin", "adminadmin"
MANAGED_ARRS = [("Radarr-Movies", "radarr"), ("Sonarr-TV", "sonarr")]
# What the tool lists per instance: the Arr categories + FailedCategory + RecheckCategory.
MANAGED_LISTS = ["radarr", "sonarr", "failed", "recheck"]
DEAD_TIMEOUT = 3
T_START = time.monotonic()


def log(msg):
    print("# [%5.0fs] %s" % (time.monotonic() - T_START, msg), file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# the machine
# ---------------------------------------------------------------------------

def _first_line(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = "%.1f GiB" % (int(line.split()[1]) / 1048576.0)
    except OSError:
        pass
    try:
        rev = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                             capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        rev = "?"
    u = os.uname()
    return [
        ("machine", "%s %s %s" % (u.sysname, u.release, u.machine)),
        ("CPU", cpu),
        ("nproc", str(os.cpu_count())),
        ("memory", mem),
        ("tool", "%s (%s, git %s)" % (_first_line([BIN, "--version"]), os.path.relpath(BIN, REPO), rev)),
        ("qBittorrent", _first_line(["qbittorrent-nox", "--version"])),
        ("curl", _first_line(["curl", "--version"])),
        ("jq", _first_line(["jq", "--version"])),
        ("python", platform.python_version()),
        ("load average at start", " ".join("%.2f" % x for x in os.getloadavg())),
    ]


# ---------------------------------------------------------------------------
# processes, measured
# ---------------------------------------------------------------------------

RUNNER_C = r"""
/* bench-run OUT CMD ARGS...: run CMD; write its wall time, user and system
 * CPU and peak RSS (wait4: CMD and the descendants it waited for) to OUT.
 * Forked from this small process, CMD's peak RSS does not inherit the
 * high-water mark of a big parent (Linux records the old mm's at exec). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int st;
	pid_t pid;
	FILE *f;

	if (argc < 3)
		return 64;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid == -1)
		return 71;
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) == -1)
		return 71;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if ((f = fopen(argv[1], "w")) == NULL)
		return 73;
	fprintf(f, "%.6f %ld.%06ld %ld.%06ld %ld\n",
	    (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	    (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
	    (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, ru.ru_maxrss);
	fclose(f);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}
"""
RUNNER = None


def measured(argv, env=None, cwd=None, out_path=None, timeout=300):
    """Run argv to completion: wall, CPU (user+sys) and peak RSS from wait4(),
    through the small bench-run helper when it could be built."""
    e = H._clean_env(env)
    out = open(out_path or os.devnull, "wb")
    err = tempfile.TemporaryFile()
    ru_file = tempfile.NamedTemporaryFile(prefix="qbitrr-bench-ru-", delete=False)
    ru_file.close()
    full = ([RUNNER, ru_file.name] + list(argv)) if RUNNER else list(argv)
    t0 = time.monotonic()
    p = subprocess.Popen(full, env=e, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=err, start_new_session=True)
    deadline = t0 + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        if time.monotonic() > deadline:
            os.killpg(p.pid, signal.SIGKILL)
            pid, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.002)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    out.close()
    err.seek(0)
    stderr = err.read().decode("utf-8", "replace")
    err.close()
    r = {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "user": ru.ru_utime,
         "sys": ru.ru_stime, "rss_kb": ru.ru_maxrss, "rc": p.returncode, "stderr": stderr}
    if RUNNER:
        try:
            with open(ru_file.name) as f:
                w, u, sy, rss = f.read().split()
            r.update(wall=float(w), user=float(u), sys=float(sy), cpu=float(u) + float(sy),
                     rss_kb=int(rss))
        except (OSError, ValueError):
            raise RuntimeError("bench-run gave no measurement for %s (rc %d)\n%s"
                               % (argv[0], p.returncode, stderr[-2000:]))
    os.unlink(ru_file.name)
    return r


# ---------------------------------------------------------------------------
# fake servers
# ---------------------------------------------------------------------------

class Fleet:
    """n fake_qbit.py processes (one per instance)."""

    def __init__(self, n, torrents, managed, latency_ms=0.0, ser_ms=SER_MS):
        self.procs, self.urls, self.info = [], [], []
        for i in range(n):
            argv = [sys.executable, FAKE, "--port", "0", "--torrents", str(torrents),
                    "--managed-fraction", str(managed), "--latency-ms", str(latency_ms),
                    "--serialise-ms-per-1k", str(ser_ms), "--seed", str(i + 1),
                    "--username", USER, "--password", PASSWORD]
            self.procs.append(H._spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
        for p in self.procs:
            first = p.stdout.readline().decode().strip()
            if not first.startswith("listening on "):
                raise RuntimeError("fake_qbit.py did not start: %r" % first)
            self.urls.append(first.split()[-1])
            self.info.append(p.stdout.readline().decode().strip())

    def stats(self):
        out = []
        for u in self.urls:
            st, _, body = H.http_request(u + "/__stats", timeout=30)
            out.append(json.loads(body))
        return out

    def reset(self):
        for u in self.urls:
            H.http_request(u + "/__reset", method="POST", body=b"", timeout=30)

    def stop(self):
        for p in self.procs:
            H._terminate(p, 5)
            if p.stdout:
                p.stdout.close()


def fleet_totals(stats):
    tot = {"requests": 0, "wire_bytes": 0, "raw_bytes": 0, "server_ms": 0.0, "lists": 0}
    for s in stats:
        for k in ("requests", "wire_bytes", "raw_bytes", "server_ms"):
            tot[k] += s["total"][k]
        tot["lists"] += s["endpoints"].get("torrents/info", {}).get("requests", 0)
    tot["per_instance"] = [s["total"]["requests"] for s in stats]
    eps = {}
    for s in stats:
        for ep, v in s["endpoints"].items():
            eps[ep] = eps.get(ep, 0) + v["requests"]
    tot["endpoints"] = eps
    return tot


# ---------------------------------------------------------------------------
# the tool and the baseline
# ---------------------------------------------------------------------------

def write_config(d, instances, timeout=30):
    """instances: [(name, url, user, password)]"""
    text = "[Settings]\nStateFile = %s\nHttpTimeout = %d\n\n" % (os.path.join(d, "qbitrr.db"), timeout)
    for name, url, user, pw in instances:
        text += "[%s]\nHost = %s\nUserName = %s\nPassword = %s\n\n" % (name, url, user, pw)
    for name, cat in MANAGED_ARRS:
        text += "[%s]\nCategory = %s\n\n" % (name, cat)
    return H.write_config(d, text)


def sweep(cfg, now, env=None):
    e = {"QBITRR_TEST_NOW": str(now)}
    e.update(env or {})
    out = os.path.join(os.path.dirname(cfg), "sweep.json")
    r = measured([BIN, "-c", cfg, "-q", "--json"], env=e, out_path=out)
    try:
        with open(out) as f:
            doc = json.load(f)
    except (OSError, ValueError) as ex:
        raise RuntimeError("qbitrr-sweep gave no JSON (rc %d): %s\n%s" % (r["rc"], ex, r["stderr"][-3000:]))
    if r["rc"] not in (0, 1):
        raise RuntimeError("qbitrr-sweep exited %d:\n%s" % (r["rc"], r["stderr"][-3000:]))
    s = doc.get("stats", {})
    r.update(requests=s.get("requests"), wire=s.get("wire_bytes"), body=s.get("body_bytes"),
             rows=s.get("rows_written"), duration_ms=doc.get("duration_ms"),
             reachable=sum(1 for i in doc.get("instances", []) if i.get("reachable")),
             managed=len(doc.get("torrents", [])), actions=len(doc.get("actions", [])))
    return r


BASELINE_SH = r"""#!/bin/sh
# The script a user would write instead of qbitrr-sweep: for each instance,
# log in, fetch every torrent, keep those of the managed categories with jq.
# Arguments: OUTDIR TIMEOUT, then lines "URL USER PASSWORD" on stdin.
out=$1
tmo=$2
i=0
while read -r url user pass; do
	i=$((i + 1))
	jar="$out/cookies.$i"
	curl -sS -f --max-time "$tmo" -c "$jar" -o /dev/null -w '%{stderr}bytes %{size_download}\n' \
	    --data-urlencode "username=$user" --data-urlencode "password=$pass" \
	    "$url/api/v2/auth/login" || { echo "instance $i: login failed" >&2; continue; }
	curl -sS -f --max-time "$tmo" -b "$jar" -w '%{stderr}bytes %{size_download}\n' \
	    "$url/api/v2/torrents/info" |
	jq -c '[.[] | select(.category == "radarr" or .category == "sonarr" or
	    .category == "failed" or .category == "recheck") |
	    {hash, name, category, state, progress, ratio}]' >"$out/managed.$i.json"
done
"""


def baseline(workdir, instances, timeout=30):
    """instances: [(url, user, password)]"""
    script = os.path.join(workdir, "baseline.sh")
    with open(script, "w") as f:
        f.write(BASELINE_SH)
    lst = os.path.join(workdir, "instances.txt")
    with open(lst, "w") as f:
        for url, user, pw in instances:
            f.write("%s %s %s\n" % (url, user, pw))
    r = measured(["sh", "-c", 'exec sh "$0" "$1" "$2" <"$3"', script, workdir, str(timeout), lst])
    r["wire"] = sum(int(l.split()[1]) for l in r["stderr"].splitlines()
                    if l.startswith("bytes ") and l.split()[1].isdigit())
    r["requests"] = sum(1 for l in r["stderr"].splitlines() if l.startswith("bytes "))
    managed = 0
    for i in range(1, len(instances) + 1):
        try:
            with open(os.path.join(workdir, "managed.%d.json" % i)) as f:
                managed += len(json.load(f))
        except (OSError, ValueError):
            pass
    r["managed"] = managed
    return r


# ---------------------------------------------------------------------------
# the second sweep's writes: an LD_PRELOAD shim counting SQLite commits
# ---------------------------------------------------------------------------

SHIM_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long commits;
static int opened;
static struct { char name[32]; long n[3]; } tables[16];
static int ntables;

static int on_commit(void *a) { (void)a; commits++; return 0; }

static void
on_update(void *a, int op, const char *db, const char *tbl, sqlite3_int64 rowid)
{
	int i, k = op == SQLITE_INSERT ? 0 : op == SQLITE_UPDATE ? 1 : 2;
	(void)a; (void)db; (void)rowid;
	for (i = 0; i < ntables; i++)
		if (strcmp(tables[i].name, tbl) == 0)
			break;
	if (i == ntables) {
		if (ntables == 16)
			return;
		snprintf(tables[ntables++].name, sizeof(tables[0].name), "%s", tbl);
	}
	tables[i].n[k]++;
}

int
sqlite3_open_v2(const char *f, sqlite3 **db, int flags, const char *vfs)
{
	static int (*real)(const char *, sqlite3 **, int, const char *);
	int rc;
	if (real == NULL)
		real = (int (*)(const char *, sqlite3 **, int, const char *))dlsym(RTLD_NEXT, "sqlite3_open_v2");
	rc = real(f, db, flags, vfs);
	opened = 1;
	if (rc == SQLITE_OK && *db != NULL) {
		sqlite3_commit_hook(*db, on_commit, NULL);
		sqlite3_update_hook(*db, on_update, NULL);
	}
	return rc;
}

__attribute__((destructor)) static void
dump(void)
{
	const char *p = getenv("BENCH_TXLOG");
	FILE *f;
	if (!opened || p == NULL || (f = fopen(p, "w")) == NULL)
		return;	/* not the process that used SQLite (e.g. bench-run) */
	fprintf(f, "{\"commits\": %ld, \"tables\": {", commits);
	for (int i = 0; i < ntables; i++)
		fprintf(f, "%s\"%s\": {\"insert\": %ld, \"update\": %ld, \"delete\": %ld}",
		    i ? ", " : "", tables[i].name, tables[i].n[0], tables[i].n[1], tables[i].n[2]);
	fprintf(f, "}}\n");
	fclose(f);
}
"""


def build_helpers():
    """build/bench/bench-run and build/bench/txcount.so (None when no compiler)."""
    global RUNNER
    os.makedirs(OUTDIR, exist_ok=True)
    cc = os.environ.get("CC", "cc")
    out = {}
    for name, src, args in (("bench-run", RUNNER_C, []),
                            ("txcount.so", SHIM_C, ["-shared", "-fPIC"])):
        c = os.path.join(OUTDIR, name.split(".")[0] + ".c")
        target = os.path.join(OUTDIR, name)
        with open(c, "w") as f:
            f.write(src)
        libs = ["-ldl", "-lsqlite3"] if name.endswith(".so") else []
        r = subprocess.run([cc, "-O1"] + args + ["-o", target, c] + libs,
                           capture_output=True, text=True)
        if r.returncode != 0:
            log("cannot build %s (%s)" % (name, r.stderr.strip()))
            target = None
        out[name] = target
    RUNNER = out["bench-run"]
    if RUNNER is None:
        log("measuring without bench-run: peak RSS includes this Python's at fork")
    return out["txcount.so"]


def db_snapshot(path):
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    db.row_factory = sqlite3.Row
    try:
        tor = {(r["hash"], r["instance"]): dict(r) for r in db.execute("SELECT * FROM torrents")}
        inst = {r["name"]: dict(r) for r in db.execute("SELECT * FROM instances")}
        actions = db.execute("SELECT count(*) FROM actions").fetchone()[0]
    finally:
        db.close()
    return tor, inst, actions


def changed_columns(before, after):
    cols, added, removed = set(), 0, 0
    for k, row in after.items():
        old = before.get(k)
        if old is None:
            added += 1
            continue
        cols |= {c for c in row if row[c] != old.get(c)}
    removed = sum(1 for k in before if k not in after)
    return sorted(cols), added, removed


def check_second_sweep(shim, instances):
    """Untimed: sweep twice on a fresh state file; the second under the shim."""
    with H.TempDir("qbitrr-bench-") as d:
        cfg = write_config(d, instances)
        now = int(time.time())
        sweep(cfg, now)
        db = os.path.join(d, "qbitrr.db")
        t0, i0, a0 = db_snapshot(db)
        txlog = os.path.join(d, "tx.json")
        env = {"LD_PRELOAD": shim, "BENCH_TXLOG": txlog} if shim else {}
        r = sweep(cfg, now + 60, env=env)
        t1, i1, a1 = db_snapshot(db)
        tx = None
        if shim:
            try:
                with open(txlog) as f:
                    tx = json.load(f)
            except (OSError, ValueError):
                tx = None
        tcols, tadd, tdel = changed_columns(t0, t1)
        icols, _, _ = changed_columns(i0, i1)
        return {"commits": tx["commits"] if tx else None, "tables": tx["tables"] if tx else None,
                "torrent_columns": tcols, "torrents_added": tadd, "torrents_removed": tdel,
                "instance_columns": icols, "actions_added": a1 - a0, "rows": r["rows"],
                "managed": r["managed"]}


# ---------------------------------------------------------------------------
# scenarios
# ---------------------------------------------------------------------------

def med(rs, key):
    vals = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def summarize(rs):
    keys = ("wall", "cpu", "user", "sys", "rss_kb", "requests", "wire", "body", "rows",
            "srv_requests", "srv_lists", "srv_wire", "srv_raw", "srv_ms", "reachable",
            "managed", "actions")
    out = {k: med(rs, k) for k in keys}
    out["srv_endpoints"] = rs[-1].get("srv_endpoints") if rs else None
    out["all_wall"] = [round(r["wall"], 3) for r in rs]
    out["all_cpu"] = [round(r["cpu"], 3) for r in rs]
    return out


def attach_server(r, fleet):
    if fleet is None:
        return r
    t = fleet_totals(fleet.stats())
    r.update(srv_requests=t["requests"], srv_lists=t["lists"], srv_wire=t["wire_bytes"],
             srv_raw=t["raw_bytes"], srv_ms=t["server_ms"], srv_per_instance=t["per_instance"],
             srv_endpoints=t["endpoints"])
    return r


def run_pairs(label, tool_instances, base_instances, fleet, timeout=30, second=True,
              with_baseline=True, runs=RUNS):
    """Alternate tool (first [+ second] sweep) and baseline runs."""
    first, again, base = [], [], []
    for k in range(runs):
        order = ("tool", "base") if k % 2 == 0 else ("base", "tool")
        for what in order:
            if what == "base" and not with_baseline:
                continue
            with H.TempDir("qbitrr-bench-") as d:
                if what == "tool":
                    cfg = write_config(d, tool_instances, timeout)
                    now = int(time.time())
                    if fleet:
                        fleet.reset()
                    first.append(attach_server(sweep(cfg, now), fleet))
                    if second:
                        if fleet:
                            fleet.reset()
                        again.append(attach_server(sweep(cfg, now + 60), fleet))
                else:
                    if fleet:
                        fleet.reset()
                    base.append(attach_server(baseline(d, base_instances, timeout), fleet))
        log("%s: run %d/%d: tool %.2fs%s%s" % (
            label, k + 1, runs, first[-1]["wall"],
            (", again %.2fs" % again[-1]["wall"]) if second else "",
            (", baseline %.2fs" % base[-1]["wall"]) if with_baseline else ""))
    return first, again, base


RESULTS = []        # rows for the main table
EXTRA = {}          # named facts for the targets


def gzip_floor(info):
    """The fake server's own gzip ratio of its full list, in %."""
    try:
        return float(info.rsplit("(", 1)[1].split()[0])
    except (IndexError, ValueError):
        return None


def fake_scenario(key, label, n_inst, torrents, managed, latency_ms=0.0, ser_ms=SER_MS,
                  dead=False, timeout=30, second=True, with_baseline=True, shim=None):
    log("%s: starting %d fake instance(s) of %d torrents" % (label, n_inst, torrents))
    fleet = Fleet(n_inst, torrents, managed, latency_ms, ser_ms)
    hole = None
    try:
        tool_inst = [("qBit-%d" % (i + 1), u, USER, PASSWORD) for i, u in enumerate(fleet.urls)]
        base_inst = [(u, USER, PASSWORD) for u in fleet.urls]
        if dead:
            hole = H.Blackhole()
            tool_inst.append(("qBit-dead", hole.url, USER, PASSWORD))
            base_inst.append((hole.url, USER, PASSWORD))
        first, again, base = run_pairs(label, tool_inst, base_inst, fleet, timeout,
                                       second, with_baseline)
        check = None
        if second and not dead:
            check = check_second_sweep(shim, tool_inst)
        row = {"key": key, "label": label, "instances": n_inst + (1 if dead else 0),
               "live": n_inst, "torrents": torrents, "managed_share": managed,
               "latency_ms": latency_ms, "ser_ms": ser_ms, "timeout": timeout,
               "first": summarize(first), "second": summarize(again) if again else None,
               "base": summarize(base) if base else None, "check": check,
               "server_info": fleet.info[0], "runs": len(first),
               "gzip_floor": gzip_floor(fleet.info[0])}
        RESULTS.append(row)
        return row
    finally:
        if hole is not None:
            hole.close()
        fleet.stop()


# ---------------------------------------------------------------------------
# listing strategies: per-category lists vs one unfiltered list
# ---------------------------------------------------------------------------

def curl_fetch(url, paths, jar, d):
    """One curl process fetching paths (in parallel, on reused connections)
    with --compressed.  Returns (wire bytes, raw bytes, wall s, sum of the
    server's think time: time to first byte after the request was sent)."""
    argv = ["curl", "-sS", "-f", "--compressed", "-b", jar, "-Z", "--parallel-max", "4",
            "-w", "%{size_download} %{time_pretransfer} %{time_starttransfer}\n"]
    outs = []
    for i, p in enumerate(paths):
        outs.append(os.path.join(d, "body.%d" % i))
        argv += ["-o", outs[-1], url + "/api/v2/" + p]
    if len(paths) == 1:
        argv.remove("-Z")
        i = argv.index("--parallel-max")
        del argv[i:i + 2]
    t0 = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True, env=H._clean_env(), timeout=300)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError("curl %s: %s" % (paths, r.stderr))
    wire = think = 0.0
    for line in r.stdout.split("\n"):
        if line.strip():
            size, pre, start = line.split()
            wire += int(size)
            think += float(start) - float(pre)
    raw = sum(os.path.getsize(o) for o in outs)
    return int(wire), raw, wall, think * 1000.0


def curl_login(url, user, pw, jar):
    subprocess.run(["curl", "-sS", "-f", "-c", jar, "-o", os.devnull, "--data-urlencode",
                    "username=" + user, "--data-urlencode", "password=" + pw,
                    url + "/api/v2/auth/login"], check=True, env=H._clean_env(), timeout=60)


def strategies(url, user, pw, fleet=None, runs=3):
    """Median wire bytes, raw bytes, wall (and emulated server ms) of both ways."""
    res = {"per-category": [], "unfiltered": []}
    with H.TempDir("qbitrr-bench-") as d:
        jar = os.path.join(d, "jar")
        curl_login(url, user, pw, jar)
        for k in range(runs):
            for way in (("per-category", "unfiltered") if k % 2 == 0 else ("unfiltered", "per-category")):
                if fleet:
                    fleet.reset()
                paths = (["torrents/info?category=" + c for c in MANAGED_LISTS]
                         if way == "per-category" else ["torrents/info"])
                wire, raw, wall, think = curl_fetch(url, paths, jar, d)
                srv = None
                if fleet:
                    srv = fleet_totals(fleet.stats())["server_ms"]
                res[way].append({"requests": len(paths), "wire": wire, "raw": raw,
                                 "wall": wall, "srv_ms": srv, "ttfb_ms": think})
    return {w: {k: med(v, k) for k in ("requests", "wire", "raw", "wall", "srv_ms", "ttfb_ms")}
            for w, v in res.items()}


STRATEGIES = []


def fake_strategies(torrents, managed):
    log("strategies: fake 1x%d, %d %% managed" % (torrents, managed * 100))
    fleet = Fleet(1, torrents, managed)
    try:
        s = strategies(fleet.urls[0], USER, PASSWORD, fleet, runs=max(1, min(RUNS, 3)))
    finally:
        fleet.stop()
    STRATEGIES.append({"label": "fake 1×%s, %d %% managed (emulated %g ms/1k)" % (
        human_count(torrents), managed * 100, SER_MS), "s": s})


# ---------------------------------------------------------------------------
# the real server
# ---------------------------------------------------------------------------

REAL_CATS = [("radarr", 0.10), ("sonarr", 0.10), ("long-term-seed", 0.70), ("linux-isos", 0.10)]


def real_server(shim):
    n = REAL_N
    log("real: starting qbittorrent-nox, %d torrents" % n)
    work = H.TempDir("qbitrr-bench-real-")
    inst = H.QbtInstance("bench", os.path.join(work.path, "qbt"))
    try:
        inst.start(timeout=60)
        inst.login()
        for c, _ in REAL_CATS:
            inst.create_category(c)
        for c in ("failed", "recheck"):
            inst.create_category(c)
        data = os.path.join(work.path, "data")
        t0 = time.monotonic()
        specs, k = {}, 0
        for c, share in REAL_CATS:
            m = int(round(n * share))
            specs[c] = [H.make_torrent(data, "%s.Title.%05d.2021.1080p-GRP.mkv" % (c.capitalize(), k + j),
                                       size=1024) for j in range(m)]
            k += m
        total = sum(len(v) for v in specs.values())
        gen = time.monotonic() - t0
        t0 = time.monotonic()
        for c, lst in specs.items():
            for b in range(0, len(lst), 100):
                batch = lst[b:b + 100]
                inst._call("POST", "torrents/add", data={
                    "savepath": data, "category": c, "skip_checking": "true", "paused": "false"},
                    files=[("torrents", s.name + ".torrent", s.data, "application/x-bittorrent")
                           for s in batch], timeout=120)
        posts = time.monotonic() - t0

        def ready():
            lst = inst.torrents()
            return len(lst) == total and all(t["state"] in ("stalledUP", "uploading", "queuedUP")
                                             for t in lst)
        H.wait_until(ready, timeout=180, interval=1.0, what="%d torrents seeding" % total)
        settle = time.monotonic() - t0
        EXTRA["real_setup"] = "%d torrents: generated in %.1f s, added (batches of 100, skip_checking) in %.1f s, all seeding after %.1f s" % (
            total, gen, posts, settle)
        log("real: " + EXTRA["real_setup"])
        tool_inst = [("qBit-real", inst.url, inst.username, inst.password)]
        base_inst = [(inst.url, inst.username, inst.password)]
        first, again, base = run_pairs("real 1×%s" % human_count(total), tool_inst, base_inst, None)
        check = check_second_sweep(shim, tool_inst)
        RESULTS.append({"key": "real", "label": "real qbittorrent-nox 1×%s (20 %%)" % human_count(total),
                        "instances": 1, "live": 1, "torrents": total, "managed_share": 0.2,
                        "latency_ms": 0, "ser_ms": None, "timeout": 30,
                        "first": summarize(first), "second": summarize(again),
                        "base": summarize(base), "check": check, "runs": len(first)})
        log("strategies: real server")
        s = strategies(inst.url, inst.username, inst.password, None, runs=RUNS)
        STRATEGIES.append({"label": "real qbittorrent-nox 1×%s, 20 %% managed" % human_count(total), "s": s})
    finally:
        inst.kill()
        work.cleanup()


# ---------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------

def human_count(n):
    return "%dk" % (n // 1000) if n >= 1000 and n % 1000 == 0 else str(n)


def fmt_bytes(b):
    if b is None:
        return "—"
    if b >= 10 * 1048576:
        return "%.1f MB" % (b / 1048576.0)
    if b >= 10 * 1024:
        return "%.0f KB" % (b / 1024.0)
    return "%d B" % b


def fmt(v, spec="%.2f"):
    return "—" if v is None else spec % v


def table_rows():
    hdr = ["scenario", "run", "wall s", "user+sys s", "peak RSS MB", "requests",
           "lists", "wire bytes", "raw bytes", "rows written", "ratio to baseline"]
    rows = []
    for r in RESULTS:
        b = r["base"]
        for name, m in (("tool, 1st sweep", r["first"]), ("tool, 2nd sweep", r["second"]),
                        ("curl | jq", b)):
            if m is None:
                continue
            tool = name.startswith("tool")
            if tool:
                lists = m.get("srv_lists")
                raw = m.get("body")
            else:
                lists = r["live"]          # one unfiltered list per live instance
                raw = m.get("srv_raw") or m.get("wire")   # curl asked for no compression
            ratio = "—"
            if tool and b and b.get("wall"):
                ratio = "%.2f" % (m["wall"] / b["wall"])
            rows.append([r["label"], name, fmt(m["wall"]), fmt(m["cpu"]),
                         fmt(m["rss_kb"] / 1024.0 if m["rss_kb"] else None, "%.1f"),
                         fmt(m.get("requests"), "%d"), fmt(lists, "%d"),
                         fmt_bytes(m.get("wire")), fmt_bytes(raw),
                         fmt(m.get("rows"), "%d") if tool else "—", ratio])
    return hdr, rows


def md_table(hdr, rows):
    out = ["| " + " | ".join(hdr) + " |", "|" + "|".join("---" for _ in hdr) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    return "\n".join(out)


def strategies_table():
    hdr = ["server", "strategy", "requests", "wire bytes (gzip)", "raw bytes",
           "emulated server ms", "time to first byte ms (sum)", "client wall s"]
    rows = []
    for e in STRATEGIES:
        for way in ("per-category", "unfiltered"):
            s = e["s"][way]
            rows.append([e["label"], way + (" (%s)" % ", ".join(MANAGED_LISTS) if way == "per-category" else ""),
                         fmt(s["requests"], "%d"), fmt_bytes(s["wire"]), fmt_bytes(s["raw"]),
                         fmt(s["srv_ms"], "%.0f"), fmt(s.get("ttfb_ms"), "%.0f"),
                         fmt(s["wall"], "%.3f")])
    return hdr, rows


def find(key):
    for r in RESULTS:
        if r["key"] == key:
            return r
    return None


def targets():
    """(target, measured, PASS/MISS/n.a.) per issue-8 target."""
    out = []

    def add(name, measured, ok):
        out.append([name, measured, "n/a" if ok is None else ("PASS" if ok else "MISS")])

    main = find("5x10k")
    # Requests per instance
    allowed = 2 + len(MANAGED_LISTS)

    def per_instance(r, m):
        per = m["requests"] / float(r["live"]) if m.get("requests") else None
        eps = m.get("srv_endpoints")
        if eps:
            what = ", ".join("%s %g" % (k, v / float(r["live"])) for k, v in sorted(eps.items()))
        else:
            what = "tool's own count"
        return per, what

    for key in ("1x100", "1x10k", "5x10k", "real"):
        r = find(key)
        if r is None:
            continue
        for run, m in (("steady state (2nd sweep)", r["second"]), ("first sweep", r["first"])):
            if not m:
                continue
            per, what = per_instance(r, m)
            add("requests per instance ≤ 2 + one list per managed category (%d) — %s, %s"
                % (allowed, r["label"], run), "%.0f (%s)" % (per, what),
                per is not None and per <= allowed)
    # Bytes
    for key in ("5x10k", "real"):
        r = find(key)
        if r is None:
            continue
        m = r["first"]
        if not m.get("wire") or not m.get("body"):
            continue
        share = 100.0 * m["wire"] / m["body"]
        if key == "real":
            floor = None
            for e in STRATEGIES:
                if e["label"].startswith("real"):
                    pc = e["s"]["per-category"]
                    floor = 100.0 * pc["wire"] / pc["raw"] if pc["raw"] else None
            add("bytes: lists compressed, ≈ 5 %% of raw — %s" % r["label"],
                "wire %.1f %% of raw (curl --compressed on the same lists: %s %%)"
                % (share, fmt(floor, "%.1f")), floor is not None and share <= floor * 1.1)
        else:
            gz = r.get("gzip_floor")
            add("bytes: lists compressed, ≈ 5 %% of raw — %s" % r["label"],
                "wire %.1f %% of raw (gzip -6 of this generated data: %s %%; lab's real lists: 4.9 %%)"
                % (share, fmt(gz, "%.1f")), gz is not None and share <= gz * 1.1)
    # Parallel
    one, five = find("par1"), find("par5")
    if one and five:
        f = five["first"]["wall"] / one["first"]["wall"]
        add("parallel: 5 instances answering in 200 ms ≤ 1.3 × one instance's wall",
            "%.2f s vs %.2f s = %.2f×" % (five["first"]["wall"], one["first"]["wall"], f), f <= 1.3)
    dead = find("dead")
    if dead:
        w = dead["first"]["wall"]
        live_ok = dead["first"]["reachable"] == dead["live"]
        add("dead instance costs ≤ its timeout (%d s), concurrently with the others" % DEAD_TIMEOUT,
            "wall %.2f s, %d of %d live instances swept" % (w, dead["first"]["reachable"] or 0, dead["live"]),
            w <= DEAD_TIMEOUT + 0.5 and live_ok)
    if main:
        m = main["first"]
        add("CPU (user+sys) ≤ 0.3 s — %s, first sweep" % main["label"], "%.2f s" % m["cpu"], m["cpu"] <= 0.3)
        add("peak RSS ≤ 64 MB — %s" % main["label"], "%.1f MB" % (m["rss_kb"] / 1024.0),
            m["rss_kb"] <= 64 * 1024)
    allm = find("5x10k-all")
    if allm:
        m = allm["first"]
        add("peak RSS ≤ 150 MB — %s" % allm["label"], "%.1f MB" % (m["rss_kb"] / 1024.0),
            m["rss_kb"] <= 150 * 1024)
    for key in ("5x10k", "5x10k-all", "real"):
        r = find(key)
        if r is None or not r["second"]:
            continue
        a, b = r["first"], r["second"]
        pa, pb = a.get("all_cpu") or [], b.get("all_cpu") or []
        more = sum(1 for x, y in zip(pa, pb) if y > x)
        add("2nd sweep (no changes) costs ≤ the first (tool CPU, medians, 5 %% noise allowed) — %s" % r["label"],
            "CPU %.2f vs %.2f s (%+.0f %%), wall %.2f vs %.2f s (%+.0f %%); 2nd used more CPU "
            "in %d of %d paired runs" % (
                b["cpu"], a["cpu"], 100.0 * (b["cpu"] / a["cpu"] - 1), b["wall"], a["wall"],
                100.0 * (b["wall"] / a["wall"] - 1), more, min(len(pa), len(pb))),
            b["cpu"] <= a["cpu"] * 1.05)
        c = r.get("check")
        if c:
            single = c["commits"] == 1 if c["commits"] is not None else None
            only = (not c["torrent_columns"] or c["torrent_columns"] == ["last_seen"]) and \
                c["actions_added"] == 0 and c["torrents_added"] == 0
            add("2nd sweep: one write transaction, touching only last-seen data — %s" % r["label"],
                "%s commit(s); rows written %s; torrents columns changed: %s; instances columns: %s; "
                "new actions: %d; per table %s" % (
                    fmt(c["commits"], "%d"), c["rows"], ", ".join(c["torrent_columns"]) or "none",
                    ", ".join(c["instance_columns"]) or "none", c["actions_added"],
                    json.dumps(c["tables"]) if c["tables"] else "?"),
                (single is not False) and only)
    for key in ("1x100", "1x10k", "5x10k", "5x10k-all", "5x10k-free", "real"):
        r = find(key)
        if r is None or not r["base"]:
            continue
        ratio = r["first"]["wall"] / r["base"]["wall"]
        add("sweep wall ≤ 0.25 × curl|jq loop — %s" % r["label"],
            "%.2f (%.2f s vs %.2f s)" % (ratio, r["first"]["wall"], r["base"]["wall"]), ratio <= 0.25)
    return out


def report(mach, elapsed):
    lines = ["# qbitrr-sweep benchmark (`make bench`)", ""]
    lines += ["Machine:", ""] + ["- %s: %s" % kv for kv in mach] + [""]
    lines.append("Method: medians of %d alternated runs per scenario (tool: first sweep on a fresh "
                 "state file, then a second sweep with nothing changed; baseline: the curl | jq loop "
                 "below, sequential over the instances).  CPU = user+sys and peak RSS from wait4(); "
                 "the baseline's include its curl and jq children.  Fake server: "
                 "tests/bench/fake_qbit.py, ~%s bytes of JSON per torrent, emulated "
                 "serialisation cost %g ms per 1,000 torrents returned (one request at a time), "
                 "unless the scenario says otherwise.  'requests' and 'wire bytes' of the tool are its "
                 "own --json stats (bodies as received, i.e. compressed); 'lists' = torrents/info calls "
                 "seen by the servers; 'raw bytes' = bodies after decompression.  ratio = tool wall / "
                 "baseline wall." % (RUNS, EXTRA.get("bytes_per_torrent", "1.2k"), SER_MS))
    lines.append("")
    hdr, rows = table_rows()
    lines += [md_table(hdr, rows), ""]
    if EXTRA.get("real_setup"):
        lines += ["Real server setup: " + EXTRA["real_setup"] + ".", ""]
    lines += ["## Listing strategies: one list per managed category vs one unfiltered list", ""]
    hdr, rows = strategies_table()
    lines += [md_table(hdr, rows), ""]
    lines += ["## Targets of issue 8", ""]
    lines += [md_table(["target", "measured", ""], targets()), ""]
    lines += ["Baseline script (per instance, sequential):", "", "```sh"] + \
        BASELINE_SH.strip().splitlines() + ["```", ""]
    lines.append("`make bench` took %.0f s; load average at the end: %s." % (
        elapsed, EXTRA.get("load_end", "?")))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------

def maybe_netns():
    if os.environ.get("BENCH_IN_NETNS") or os.environ.get("BENCH_NO_NETNS"):
        return
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return
    if subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode != 0:
        return
    env = dict(os.environ, BENCH_IN_NETNS="1")
    cmd = "ip link set lo up && exec %s %s" % (sys.executable, os.path.abspath(__file__))
    sys.stdout.flush()
    os.execvpe("unshare", ["unshare", "--net", "sh", "-c", cmd], env)


def main():
    if os.environ.get("BENCH_REPORT_ONLY"):
        # Re-render the report from a results.json (for working on the output).
        with open(os.environ["BENCH_REPORT_ONLY"]) as f:
            saved = json.load(f)
        RESULTS[:] = saved["results"]
        STRATEGIES[:] = saved["strategies"]
        EXTRA.update(saved.get("extra", {}))
        text = report(list(saved["machine"].items()), saved["elapsed_s"])
        print(text)
        if os.path.dirname(os.path.abspath(os.environ["BENCH_REPORT_ONLY"])) == OUTDIR:
            with open(os.path.join(OUTDIR, "results.md"), "w") as f:
                f.write(text)
        return 0
    maybe_netns()
    for tool in ("curl", "jq"):
        if not shutil.which(tool):
            sys.exit("bench: %s is missing (apt-get install -y curl jq)" % tool)
    if not os.access(BIN, os.X_OK):
        sys.exit("bench: %s not built (run make)" % BIN)
    os.makedirs(OUTDIR, exist_ok=True)
    mach = machine()
    print("## Machine")
    for k, v in mach:
        print("- %s: %s" % (k, v))
    print(flush=True)
    shim = build_helpers()

    # bytes per torrent of the generated data, for the method line
    sys.path.insert(0, HERE)
    import fake_qbit  # noqa: E402
    sample = fake_qbit.generate(1000, 0.2, ["radarr", "sonarr"], 1, int(time.time()))
    EXTRA["bytes_per_torrent"] = "%.0f" % (len(fake_qbit.json_list(sample)) / 1000.0)

    fake_scenario("1x100", "fake 1×100 (20 %)", 1, 100, 0.2, shim=shim)
    fake_scenario("1x10k", "fake 1×%s (20 %%)" % human_count(BIG), 1, BIG, 0.2, shim=shim)
    fake_scenario("5x10k", "fake 5×%s (20 %%)" % human_count(BIG), 5, BIG, 0.2, shim=shim)
    fake_scenario("5x10k-all", "fake 5×%s (100 %%)" % human_count(BIG), 5, BIG, 1.0, shim=shim)
    fake_scenario("5x10k-free", "fake 5×%s (20 %%), no server cost" % human_count(BIG), 5, BIG, 0.2,
                  ser_ms=0.0, second=False)
    fake_scenario("par1", "fake 1×1k (20 %), 200 ms per request", 1, 1000, 0.2, latency_ms=200,
                  second=False)
    fake_scenario("par5", "fake 5×1k (20 %), 200 ms per request", 5, 1000, 0.2, latency_ms=200,
                  second=False)
    fake_scenario("dead", "fake 4×1k (20 %%), 200 ms + 1 dead, HttpTimeout %d" % DEAD_TIMEOUT, 4, 1000,
                  0.2, latency_ms=200, dead=True, timeout=DEAD_TIMEOUT, second=False)
    fake_strategies(BIG, 0.2)
    fake_strategies(BIG, 1.0)
    if REAL_N > 0:
        if shutil.which("qbittorrent-nox"):
            real_server(shim)
        else:
            log("qbittorrent-nox not found: real-server part skipped")

    elapsed = time.monotonic() - T_START
    EXTRA["load_end"] = " ".join("%.2f" % x for x in os.getloadavg())
    with open(os.path.join(OUTDIR, "results.json"), "w") as f:
        json.dump({"machine": dict(mach), "results": RESULTS, "strategies": STRATEGIES,
                   "extra": EXTRA, "elapsed_s": elapsed}, f, indent=1, default=str)
    text = report(mach, elapsed)
    print(text[text.index("Method:"):])
    with open(os.path.join(OUTDIR, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(OUTDIR, "results.json"), "w") as f:
        json.dump({"machine": dict(mach), "results": RESULTS, "strategies": STRATEGIES,
                   "extra": EXTRA, "targets": targets(), "elapsed_s": elapsed}, f, indent=1,
                  default=str)
    print("(written to %s)" % os.path.relpath(os.path.join(OUTDIR, "results.md"), REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
