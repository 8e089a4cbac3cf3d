"""Issue 5: never lose state, never touch the wrong thing.

Through the built binary against real qbittorrent-nox instances, a recording
fake Arr and a fault-injecting proxy: the run lock, SIGKILL at each phase and
the resume, SIGTERM, a black-holed instance, an expired session, an IP ban,
broken answers from qBittorrent and from the Arr, migration of a v1 state
file, refused newer/corrupt state files, secrets absent from every output,
and hostile torrent names."""
import fcntl
import os
import random
import signal
import sqlite3
import subprocess
import time
import urllib.parse

import harness as H
from common import Env, instance_section, arr_section, file_bytes

SEEDING = ("stalledUP", "uploading")
KILLED = -signal.SIGKILL


def spawn_tool(args, env=None):
    """Start the tool like harness.run_tool does, without waiting."""
    e = H._clean_env()
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    for k, v in (env or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = str(v)
    return H._spawn([H.BINARY] + [str(a) for a in args], env=e,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(p, timeout=60):
    """Wait for a spawned tool; return (rc, stdout, stderr) as text."""
    try:
        out, err = p.communicate(timeout=timeout)
    finally:
        if p.poll() is None:
            H._killpg(p, signal.SIGKILL)
            p.wait()
        H._forget(p)
    err = err.decode("utf-8", "replace")
    for m in H.SANITIZER_MARKERS:
        if m in err:
            raise AssertionError("sanitizer report (%r):\n%s" % (m, err))
    return p.returncode, out.decode("utf-8", "replace"), err


class ReliabilityEnv(Env):

    def proxy(self, inst):
        p = H.FaultProxy(inst.url)
        self.addCleanup(p.close)
        return p

    def integrity_ok(self, path=None):
        """PRAGMA integrity_check of an existing state file (never creates one)."""
        db = sqlite3.connect("file:%s?mode=rw" % urllib.parse.quote(path or self.state),
                             uri=True)
        try:
            return db.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            db.close()

    def logins(self, proxy):
        return [r for r in proxy.requests() if r["path"] == "/api/v2/auth/login"]

    def error_lines(self, stderr, name):
        return [ln for ln in stderr.splitlines()
                if ln.startswith("qbitrr-sweep: error: %s:" % name)]


# ---------------------------------------------------------------------------
# the lock
# ---------------------------------------------------------------------------

class LockTest(ReliabilityEnv):

    def test_second_run_exits_75_at_once_naming_lock_and_pid(self):
        a, b = self.qbt[0], self.qbt[1]
        slow = self.proxy(b)
        slow.set_fault(r"/torrents/info", "hang")
        self.config("[Settings]\nHttpTimeout = 4\nIgnoreTorrentsYoungerThan = 0\n\n"
                    + instance_section("qBit", a)
                    + instance_section("qBit-Slow", b, url=slow.url)
                    + arr_section("Radarr-Movies", "radarr"))
        spec = self.torrent("Lock.Movie.2020", size=20000)
        a.add(spec, category="radarr", skip_checking=True)
        lock = self.state + ".lock"

        p1 = spawn_tool(["-c", self.cfg])
        self.addCleanup(lambda: p1.poll() is None and H._killpg(p1, signal.SIGKILL))
        H.wait_until(lambda: os.path.exists(lock) and
                     file_bytes(lock).strip() == str(p1.pid).encode(),
                     timeout=10, what="run 1 holding %s" % lock)
        # It is really an flock held by run 1, not just a file.
        with open(lock, "rb") as f:
            with self.assertRaises(BlockingIOError):
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        H.wait_until(lambda: any(r["path"] == "/api/v2/torrents/info"
                                 for r in slow.requests()),
                     timeout=10, what="run 1 hanging on torrents/info")

        r2 = self.sweep()
        self.assertEqual(r2.rc, 75, r2)
        self.assertLess(r2.duration, 2.0)
        self.assertIn(lock, r2.stderr)
        self.assertIn("pid %d" % p1.pid, r2.stderr)
        self.assertIsNone(p1.poll(), "run 1 must still be running")

        rc, out, err = finish(p1)
        self.assertEqual(rc, 1, err)
        self.assertIn("qBit-Slow: torrents/info: no answer within 4 s", err)
        self.assertEqual(self.integrity_ok(), "ok")
        self.assertEqual([(x["hash"], x["instance"]) for x in self.rows()],
                         [(spec.hash, "qBit")])
        self.assertEqual(self.rows("instance = 'qBit-Slow'"), [])

        # A SIGKILLed run leaves its lock file (with its dead pid) behind:
        # it never blocks the next run.
        slow.clear_faults()
        r = self.sweep(env={"QBITRR_TEST_KILL_AT": "discover"})
        self.assertEqual(r.rc, KILLED, r)
        self.assertTrue(os.path.exists(lock))
        dead = int(file_bytes(lock).strip())
        self.assertNotEqual(dead, p1.pid)
        self.assertFalse(os.path.exists("/proc/%d" % dead), "the killed run is gone")
        r = self.sweep(check=0)
        self.assertNotIn(lock, r.stderr)
        self.assertEqual(self.integrity_ok(), "ok")

    def test_read_only_commands_do_not_need_the_lock(self):
        a = self.qbt[0]
        self.config(instance_section("qBit", a) + arr_section("Radarr-Movies", "radarr"))
        self.sweep(check=0)
        lock = self.state + ".lock"
        with open(lock, "a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            r = self.sweep(check=75)
            self.assertIn(lock, r.stderr)
            self.sweep("status", check=0)
            self.sweep("check-config", check=0)


# ---------------------------------------------------------------------------
# crashes
# ---------------------------------------------------------------------------

class CrashTest(ReliabilityEnv):

    def setup_two(self, settings="ImportDelay = 0"):
        self.radarr = self.fake_arr("radarr")
        a, b = self.qbt[0], self.qbt[1]
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\n%s\n\n" % settings
                    + instance_section("qBit", a)
                    + instance_section("qBit-Seedbox", b)
                    + arr_section("Radarr-Movies", "radarr", self.radarr)
                    + "[Radarr-Movies.Torrent]\nStalledDelay = 15\n\n")
        return a, b

    def precreate_categories(self, *insts):
        for inst in insts:
            for c in ("radarr", "failed", "recheck"):
                inst.create_category(c)

    def scans(self):
        return [c for c in self.radarr.calls()
                if c["method"] == "POST" and c["path"].endswith("/command")
                and c["status"] == 201 and c["body"]
                and c["body"].get("name") == "DownloadedMoviesScan"]

    def blocklists(self):
        return [c for c in self.radarr.calls() if c["method"] == "DELETE"
                and c["query"].get("blocklist") == "true"]

    def test_kill_during_discovery_then_resume(self):
        a, b = self.setup_two(settings="ImportDelay = 1h")
        m1 = self.torrent("Kill.Discover.A", size=20000)
        m2 = self.torrent("Kill.Discover.B", size=20000)
        a.add(m1, category="radarr", skip_checking=True)
        b.add(m2, category="radarr", skip_checking=True)
        r = self.sweep(env={"QBITRR_TEST_KILL_AT": "discover"})
        self.assertEqual(r.rc, KILLED, r)
        if os.path.exists(self.state):      # it may be created before discovery
            self.assertEqual(self.integrity_ok(), "ok")
            db = sqlite3.connect(self.state)
            tables = [t for (t,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
            db.close()
            if "torrents" in tables:
                self.assertEqual(self.rows(), [])
        r = self.sweep("--json", check=0)
        self.assertEqual(self.integrity_ok(), "ok")
        self.assertEqual(sorted((x["hash"], x["instance"]) for x in self.rows()),
                         sorted([(m1.hash, "qBit"), (m2.hash, "qBit-Seedbox")]))
        for inst in (a, b):
            self.assertIn("radarr", inst.categories())

    def test_kill_between_blocklist_and_delete_then_resume(self):
        a, b = self.setup_two()
        spec = self.torrent("Kill.Stalled.mkv", size=50000, write_data=False)
        a.add(spec, category="radarr")
        a.wait_state(spec.hash, ("stalledDL",))
        self.radarr.set_queue([{"downloadId": spec.hash_upper, "movieId": 11,
                                "title": spec.name, "status": "downloading"}])
        t0 = int(time.time())
        self.sweep(now=t0, check=0)
        r = self.sweep(now=t0 + 16 * 60, env={"QBITRR_TEST_KILL_AT": "act"})
        self.assertEqual(r.rc, KILLED, r)
        self.assertEqual(self.integrity_ok(), "ok")
        self.assertEqual(len(self.blocklists()), 1)   # the first action was sent
        self.assertIsNotNone(a.torrent(spec.hash), "killed before the delete")

        r = self.sweep("--json", now=t0 + 16 * 60, check=0)
        self.assertEqual(self.integrity_ok(), "ok")
        acts = [(x["action"], x["result"]) for x in r.json()["actions"]]
        self.assertIn(("delete", "done"), acts)
        H.wait_until(lambda: a.torrent(spec.hash) is None, what="deleted on qBit")
        self.assertEqual(len(self.blocklists()), 1, "never blocklisted twice")
        ok_dels = [c for c in self.radarr.calls() if c["method"] == "DELETE"
                   and c["status"] == 200]
        self.assertEqual(len(ok_dels), 1)
        # The row says gone; a further run does nothing more.
        self.assertIsNotNone(self.rows("instance = 'qBit'")[0]["gone_at"])
        r = self.sweep("--json", now=t0 + 17 * 60, check=0)
        self.assertEqual(r.json()["actions"], [])
        self.assertEqual(len(self.blocklists()), 1)

    def test_kill_after_blocklist_does_not_lose_the_research(self):
        """The blocklist (skipRedownload=true) was sent, the re-search that
        was to follow it never was: the resume must still search."""
        a, b = self.setup_two()
        spec = self.torrent("Kill.Research.mkv", size=50000, write_data=False)
        a.add(spec, category="radarr")
        a.wait_state(spec.hash, ("stalledDL",))
        self.radarr.set_queue([{"downloadId": spec.hash_upper, "movieId": 12,
                                "title": spec.name, "status": "downloading"}])
        t0 = int(time.time())
        self.sweep(now=t0, check=0)
        r = self.sweep(now=t0 + 16 * 60, env={"QBITRR_TEST_KILL_AT": "act"})
        self.assertEqual(r.rc, KILLED, r)
        self.sweep(now=t0 + 16 * 60, check=0)
        self.sweep(now=t0 + 17 * 60, check=0)
        bl = self.blocklists()
        searches = [c["body"] for c in self.radarr.calls() if c["method"] == "POST"
                    and c["body"] and c["body"].get("name") == "MoviesSearch"]
        redownload = [c for c in bl if c["query"].get("skipRedownload") == "false"]
        self.assertTrue(searches or redownload,
                        "blocklisted with skipRedownload=%s but no MoviesSearch was "
                        "ever sent: the re-search is lost"
                        % [c["query"].get("skipRedownload") for c in bl])

    def test_kill_after_import_sent_then_resume_never_scans_twice(self):
        a, b = self.setup_two()
        self.precreate_categories(a, b)
        spec = self.torrent("Kill.Import.mkv", size=30000)
        b.add(spec, category="radarr", skip_checking=True)
        b.wait_state(spec.hash, SEEDING)
        b.wait_completed(spec.hash)
        r = self.sweep(env={"QBITRR_TEST_KILL_AT": "act"})
        self.assertEqual(r.rc, KILLED, r)
        self.assertEqual(self.integrity_ok(), "ok")
        self.assertEqual(len(self.scans()), 1)
        # Written down before it was sent.
        self.assertEqual([(x["action"], x["result"]) for x in self.audit()],
                         [("import", "intended")])
        self.sweep(check=0)
        self.assertEqual(self.integrity_ok(), "ok")
        self.assertEqual(len(self.scans()), 1)
        self.assertIsNotNone(self.rows("instance = 'qBit-Seedbox'")[0]["import_sent_at"])
        for _ in range(2):
            r = self.sweep("--json", check=0)
            self.assertEqual([x for x in r.json()["actions"] if x["action"] == "import"], [])
        self.assertEqual(len(self.scans()), 1)
        self.assertEqual([(x["action"], x["result"]) for x in self.audit()],
                         [("import", "interrupted")])

    def test_kill_before_commit_then_resume_records_once(self):
        a, b = self.setup_two()
        spec = self.torrent("Kill.Commit.mkv", size=30000)
        b.add(spec, category="radarr", skip_checking=True)
        b.wait_state(spec.hash, SEEDING)
        b.wait_completed(spec.hash)
        r = self.sweep(env={"QBITRR_TEST_KILL_AT": "commit"})
        self.assertEqual(r.rc, KILLED, r)
        self.assertEqual(self.integrity_ok(), "ok")
        # Only the intents of the killed run are in the file: the final
        # transaction never committed.
        self.assertEqual([(x["instance"], x["import_result"]) for x in self.rows()],
                         [("qBit-Seedbox", "sent")])
        intents = self.audit()
        self.assertEqual({x["result"] for x in intents}, {"intended"})
        self.assertEqual(sorted({x["action"] for x in intents}), ["create_category", "import"])
        self.assertEqual(len(self.scans()), 1)
        for inst in (a, b):
            self.assertIn("radarr", inst.categories())

        r = self.sweep("--json", check=0)
        self.assertEqual(self.integrity_ok(), "ok")
        self.assertEqual(len(self.scans()), 1)
        audit = [(x["instance"], x["hash"], x["action"], x["result"]) for x in self.audit()
                 if x["action"] == "import"]
        self.assertEqual(audit, [("qBit-Seedbox", spec.hash, "import", "interrupted")])
        self.assertEqual([x for x in r.json()["actions"]
                          if x["action"] == "create_category"], [])
        r = self.sweep("--json", check=0)
        self.assertEqual(r.json()["actions"], [])
        self.assertEqual(len(self.scans()), 1)
        self.assertEqual(len(self.audit()), len(intents))


# ---------------------------------------------------------------------------
# signals, timeouts and faults
# ---------------------------------------------------------------------------

class FaultTest(ReliabilityEnv):

    def two_with_proxy(self, settings="", name="qBit-Faulty"):
        a, b = self.qbt[0], self.qbt[1]
        px = self.proxy(b)
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\nImportDelay = 1h\n%s\n\n"
                    % settings
                    + instance_section("qBit", a)
                    + instance_section(name, b, url=px.url)
                    + arr_section("Radarr-Movies", "radarr"))
        ma = self.torrent("Fault.A.2020", size=20000)
        mb = self.torrent("Fault.B.2020", size=20000)
        a.add(ma, category="radarr", skip_checking=True)
        b.add(mb, category="radarr", skip_checking=True)
        return a, b, px, ma, mb

    def test_sigterm_stops_after_the_current_request_and_commits(self):
        a, b, px, ma, mb = self.two_with_proxy("HttpTimeout = 3", name="qBit-Hang")
        px.set_fault(r"/torrents/info", "hang")
        p = spawn_tool(["-c", self.cfg])
        self.addCleanup(lambda: p.poll() is None and H._killpg(p, signal.SIGKILL))
        H.wait_until(lambda: any(r["path"] == "/api/v2/torrents/info"
                                 for r in px.requests()),
                     timeout=10, what="the sweep hanging on torrents/info")
        time.sleep(0.3)
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        rc, out, err = finish(p, timeout=30)
        took = time.monotonic() - t0
        self.assertLess(took, 3 + 2, err)
        self.assertEqual(rc, 1, err)
        self.assertIn("interrupted", err)
        self.assertEqual(self.integrity_ok(), "ok")
        self.assertEqual([(x["hash"], x["instance"]) for x in self.rows()],
                         [(ma.hash, "qBit")])

    def test_blackholed_instance_is_bounded_by_the_timeout(self):
        a, b, c = self.qbt
        hole = H.Blackhole()
        self.addCleanup(hole.close)
        self.config("[Settings]\nHttpTimeout = 2\nIgnoreTorrentsYoungerThan = 0\n"
                    "ImportDelay = 1h\n\n"
                    + instance_section("qBit", a)
                    + instance_section("qBit-Hole", b, url=hole.url)
                    + instance_section("qBit-NAS", c)
                    + arr_section("Radarr-Movies", "radarr"))
        ma = self.torrent("Hole.A", size=20000)
        mc = self.torrent("Hole.C", size=20000)
        a.add(ma, category="radarr", skip_checking=True)
        c.add(mc, category="radarr", skip_checking=True)
        r = self.sweep("--json")
        self.assertEqual(r.rc, 1, r)
        self.assertLess(r.duration, 2 + 3)
        self.assertGreaterEqual(hole.accepted, 1)
        self.assertIn("qBit-Hole: auth/login: no answer within 2 s", r.stderr)
        inst = {i["name"]: i for i in r.json()["instances"]}
        self.assertFalse(inst["qBit-Hole"]["reachable"])
        self.assertIn("no answer within 2 s", inst["qBit-Hole"]["error"])
        self.assertTrue(inst["qBit"]["reachable"] and inst["qBit-NAS"]["reachable"])
        self.assertEqual(sorted((x["hash"], x["instance"]) for x in self.rows()),
                         sorted([(ma.hash, "qBit"), (mc.hash, "qBit-NAS")]))

    def test_expired_session_logs_in_again_once(self):
        a, b, px, ma, mb = self.two_with_proxy(name="qBit-Expiring")
        px.set_fault(r"/torrents/info", "403", count=1)
        r = self.sweep("-v", check=0)
        self.assertEqual(len(self.logins(px)), 2, px.requests())
        self.assertEqual(len([x for x in px.requests() if x["status"] == 403]), 1)
        self.assertIn("session expired", r.stderr)
        self.assertEqual(sorted((x["hash"], x["instance"]) for x in self.rows()),
                         sorted([(ma.hash, "qBit"), (mb.hash, "qBit-Expiring")]))

    def test_ban_is_reported_and_never_retried(self):
        a, b, px, ma, mb = self.two_with_proxy(name="qBit-Banned")
        px.set_fault(r"/auth/login", "ban")
        r = self.sweep()
        self.assertEqual(r.rc, 1, r)
        self.assertIn("qBit-Banned: auth/login:", r.stderr)
        self.assertIn("banned", r.stderr)
        self.assertEqual(len(self.logins(px)), 1)
        self.assertEqual(len(px.requests()), 1, "nothing else tried on a banned IP")
        self.assertEqual([(x["hash"], x["instance"]) for x in self.rows()],
                         [(ma.hash, "qBit")])

    def test_broken_torrent_lists_fail_that_instance_only(self):
        a, b, px, ma, mb = self.two_with_proxy()
        t0 = int(time.time())
        self.sweep(now=t0, check=0)
        before = self.rows("instance = 'qBit-Faulty'")
        self.assertEqual(len(before), 1)
        expect = {"500": "HTTP 500", "truncate": "malformed JSON",
                  "garbage": "malformed JSON", "cutoff": "partial"}
        for k, mode in enumerate(("500", "truncate", "garbage", "cutoff")):
            with self.subTest(mode=mode):
                px.clear_faults()
                px.set_fault(r"/torrents/info", mode)
                now = t0 + 60 * (k + 1)
                r = self.sweep("--json", now=now)
                self.assertEqual(r.rc, 1, r)
                errs = self.error_lines(r.stderr, "qBit-Faulty")
                self.assertEqual(len(errs), 1, r.stderr)
                self.assertIn("qBit-Faulty: torrents/info: ", errs[0])
                self.assertIn(expect[mode], errs[0])
                self.assertEqual(self.error_lines(r.stderr, "qBit"), [])
                inst = {i["name"]: i for i in r.json()["instances"]}
                self.assertFalse(inst["qBit-Faulty"]["reachable"])
                self.assertTrue(inst["qBit"]["reachable"])
                self.assertEqual(self.rows("instance = 'qBit-Faulty'"), before)
                # Swept: qBit's last success is now; qBit-Faulty's stays at t0.
                self.assertEqual(self.last_success("qBit"), now)
                self.assertEqual(self.last_success("qBit-Faulty"), t0)
        px.clear_faults()
        self.sweep(now=t0 + 600, check=0)
        self.assertEqual(self.last_success("qBit-Faulty"), t0 + 600)
        seen = {(t["instance"], t["last_seen"]) for t in
                self.sweep("status", "--json", check=0).json()["torrents"]}
        self.assertIn(("qBit-Faulty", t0 + 600), seen)

    def last_success(self, instance):
        db = sqlite3.connect(self.state)
        try:
            return db.execute("SELECT last_success FROM instances WHERE name = ?",
                              (instance,)).fetchone()[0]
        finally:
            db.close()

    def test_broken_arr_queue_makes_blocklisted_removals_wait(self):
        radarr = self.fake_arr("radarr")
        a, b = self.qbt[0], self.qbt[1]
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\nImportDelay = 1h\n\n"
                    + instance_section("qBit", a)
                    + instance_section("qBit-Seedbox", b)
                    + arr_section("Radarr-Movies", "radarr", radarr)
                    + "[Radarr-Movies.Torrent]\nStalledDelay = 15\n\n")
        spec = self.torrent("Arr.Fault.Stalled.mkv", size=50000, write_data=False)
        a.add(spec, category="radarr")
        a.wait_state(spec.hash, ("stalledDL",))
        radarr.set_queue([{"downloadId": spec.hash_upper, "movieId": 5,
                           "title": spec.name, "status": "downloading"}])
        t0 = int(time.time())
        self.sweep(now=t0, check=0)
        for k, (mode, what) in enumerate((("500", "HTTP 500"),
                                          ("truncate", "JSON"),
                                          ("cutoff", "partial"))):
            with self.subTest(mode=mode):
                radarr.clear_faults()
                radarr.set_fault("GET", r"/queue", mode)
                r = self.sweep("--json", now=t0 + (16 + k) * 60)
                self.assertEqual(r.rc, 1, r)
                errs = self.error_lines(r.stderr, "Radarr-Movies")
                self.assertEqual(len(errs), 1, r.stderr)
                self.assertIn("Radarr-Movies: queue: ", errs[0])
                self.assertIn(what, errs[0])
                self.assertEqual([x for x in r.json()["actions"]
                                  if x["action"] in ("delete", "blocklist")], [])
                self.assertIsNotNone(a.torrent(spec.hash))
                self.assertEqual([c for c in radarr.calls() if c["method"] != "GET"], [])
                # the instances themselves were swept
                self.assertTrue(all(i["reachable"] for i in r.json()["instances"]))
        radarr.clear_faults()
        r = self.sweep("--json", now=t0 + 30 * 60, check=0)
        self.assertIn(("delete", "done"),
                      [(x["action"], x["result"]) for x in r.json()["actions"]])


# ---------------------------------------------------------------------------
# the state file: migration, refusal
# ---------------------------------------------------------------------------

V1_SCHEMA = ("CREATE TABLE torrents (hash TEXT PRIMARY KEY, category TEXT, arr TEXT,"
             " first_seen INTEGER, last_seen INTEGER, imported_at INTEGER,"
             " stalled_since INTEGER)")


class StateFileTest(ReliabilityEnv):

    def test_v1_state_file_is_migrated_with_backup_and_facts_kept(self):
        radarr = self.fake_arr("radarr")
        a = self.qbt[0]
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\nImportDelay = 0\n\n"
                    + instance_section("qBit", a)
                    + arr_section("Radarr-Movies", "radarr", radarr)
                    + "[Radarr-Movies.Torrent]\nStalledDelay = 60\n\n")
        done = self.torrent("Migrated.Imported.mkv", size=30000)
        stalled = self.torrent("Migrated.Stalled.mkv", size=30000, write_data=False)
        a.add(done, category="radarr", skip_checking=True)
        a.add(stalled, category="radarr")
        a.wait_state(done.hash, SEEDING)
        a.wait_state(stalled.hash, ("stalledDL",))
        now = int(time.time())
        imported_at, stalled_since = now - 7200, now - 600
        v1_rows = [(done.hash.upper(), "radarr", "Radarr-Movies", now - 9000, now - 3600,
                    imported_at, None),
                   (stalled.hash, "radarr", "Radarr-Movies", now - 900, now - 300,
                    None, stalled_since)]
        db = sqlite3.connect(self.state)
        db.execute(V1_SCHEMA)
        db.executemany("INSERT INTO torrents VALUES (?,?,?,?,?,?,?)", v1_rows)
        db.execute("PRAGMA user_version = 1")
        db.commit()
        db.close()
        v1_bytes = file_bytes(self.state)

        r = self.sweep("--json", now=now, check=0)
        bak = self.state + ".v1.bak"
        self.assertTrue(os.path.exists(bak), r.stderr)
        db = sqlite3.connect(bak)
        self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 1)
        self.assertEqual(sorted(db.execute("SELECT * FROM torrents").fetchall(),
                                key=lambda t: t[0].lower()),
                         sorted(v1_rows, key=lambda t: t[0].lower()))
        db.close()
        self.assertNotEqual(file_bytes(self.state), v1_bytes)
        db = sqlite3.connect(self.state)
        self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 2)
        db.close()
        self.assertEqual(self.integrity_ok(), "ok")
        rows = {x["hash"]: x for x in self.rows()}
        self.assertEqual(sorted(rows), sorted([done.hash, stalled.hash]))
        self.assertEqual({x["instance"] for x in rows.values()}, {"qBit"})
        self.assertEqual(rows[done.hash]["import_sent_at"], imported_at)
        self.assertEqual(rows[done.hash]["first_seen"], now - 9000)
        self.assertEqual(rows[stalled.hash]["stalled_since"], stalled_since)
        self.assertEqual(rows[stalled.hash]["first_seen"], now - 900)
        # already imported: not imported again, now or later
        self.assertEqual([x for x in r.json()["actions"] if x["action"] == "import"], [])
        self.sweep(now=now + 60, check=0)
        self.assertEqual([c for c in radarr.calls() if c["method"] == "POST"], [])
        self.assertEqual(self.rows("hash = ?", (stalled.hash,))[0]["stalled_since"],
                         stalled_since)
        # the backup is taken once; the second run does not migrate again
        self.assertNotIn("migrat", self.sweep(now=now + 120, check=0).stderr)

    def refused(self, path, what):
        before = file_bytes(path)
        r = self.sweep("-s", path)
        self.assertEqual(r.rc, 74, r)
        self.assertIn(path, r.stderr)
        for w in what:
            self.assertIn(w, r.stderr)
        self.assertEqual(file_bytes(path), before, "state file modified")
        return r

    def test_newer_schema_is_refused_untouched(self):
        self.config(instance_section("qBit", self.qbt[0])
                    + arr_section("Radarr-Movies", "radarr"))
        db = sqlite3.connect(self.state)
        db.execute("CREATE TABLE torrents (hash TEXT, instance TEXT, future TEXT)")
        db.execute("INSERT INTO torrents VALUES ('x', 'qBit', 'y')")
        db.execute("PRAGMA user_version = 99")
        db.commit()
        db.close()
        r = self.refused(self.state, ["newer", "99"])
        self.assertFalse(os.path.exists(self.state + ".v1.bak"))
        self.assertFalse(os.path.exists(self.state + "-wal"))
        # read-only commands refuse it too, and leave it alone
        r = self.sweep("status")
        self.assertEqual(r.rc, 74, r)
        self.assertIn("newer", r.stderr)

    def test_non_sqlite_file_is_refused_untouched(self):
        self.config(instance_section("qBit", self.qbt[0])
                    + arr_section("Radarr-Movies", "radarr"))
        with open(self.state, "wb") as f:
            f.write(random.Random(5).randbytes(8192))
        self.refused(self.state, ["not a"])
        self.assertFalse(os.path.exists(self.state + "-wal"))
        self.assertFalse(os.path.exists(self.state + "-shm"))
        self.assertFalse(os.path.exists(self.state + "-journal"))
        # also a short text file
        with open(self.state, "w") as f:
            f.write("hello, not a database\n")
        self.refused(self.state, ["not a"])

    def test_damaged_sqlite_file_is_refused_untouched(self):
        self.config(instance_section("qBit", self.qbt[0])
                    + arr_section("Radarr-Movies", "radarr"))
        db = sqlite3.connect(self.state)
        db.execute("PRAGMA page_size = 4096")
        db.execute("CREATE TABLE torrents (hash TEXT NOT NULL, instance TEXT NOT NULL,"
                   " name TEXT, UNIQUE(hash, instance))")
        db.executemany("INSERT INTO torrents VALUES (?, 'qBit', ?)",
                       [("%040x" % i, "name %d " % i * 20) for i in range(400)])
        db.execute("PRAGMA user_version = 2")
        db.commit()
        npages = db.execute("PRAGMA page_count").fetchone()[0]
        db.close()
        self.assertGreater(npages, 6)
        with open(self.state, "r+b") as f:
            for page in range(3, npages, 2):      # 1-based pages 4, 6, ...
                f.seek(page * 4096)
                f.write(b"\xff" * 12)
        r = self.refused(self.state, ["corrupt"])
        self.assertFalse(os.path.exists(self.state + "-wal"))


# ---------------------------------------------------------------------------
# secrets
# ---------------------------------------------------------------------------

class SecretsTest(ReliabilityEnv):

    PW_A = "PwInline-7f3a9cQ"
    PW_B = "PwFromFile-c41d2eZ"
    PW_WRONG = "PwWrong-9e8d7cX"
    KEY_A = "apikeyinline7f3a9c0000000000000a"
    KEY_B = "apikeyfromfilec41d2e00000000000b"

    def arr(self, kind, key):
        d = os.path.join(self.tmp, "arr-" + kind)
        os.makedirs(d)
        arr = H.FakeArr(kind, api_key=key, workdir=d)
        arr.start()
        self.addCleanup(arr.stop)
        return arr

    def secret_file(self, name, text):
        p = os.path.join(self.tmp, name)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        return p

    def setup_secrets(self, pw_b=None):
        a, b = self.qbt[0], self.qbt[1]
        a.set_prefs({"web_ui_password": self.PW_A})
        b.set_prefs({"web_ui_password": self.PW_B})
        self.radarr = self.arr("radarr", self.KEY_A)
        self.sonarr = self.arr("sonarr", self.KEY_B)
        pwfile = self.secret_file("qbt-b.pw", pw_b or self.PW_B)
        keyfile = self.secret_file("sonarr.key", self.KEY_B)
        text = ("[Settings]\nIgnoreTorrentsYoungerThan = 0\nImportDelay = 0\n\n"
                "[qBit]\nHost = %s\nUserName = %s\nPassword = %s\n\n"
                "[qBit-Seedbox]\nHost = %s\nUserName = %s\nPasswordFile = %s\n\n"
                "[Radarr-Movies]\nURI = %s\nAPIKey = %s\nCategory = radarr\n\n"
                "[Sonarr-TV]\nURI = %s\nAPIKeyFile = %s\nCategory = sonarr\n\n"
                % (a.url, a.username, self.PW_A, b.url, b.username, pwfile,
                   self.radarr.url, self.KEY_A, self.sonarr.url, keyfile))
        self.config(text)
        return a, b, text

    def assert_no_secret(self, label, data):
        if isinstance(data, str):
            data = data.encode("utf-8", "replace")
        for s in (self.PW_A, self.PW_B, self.PW_WRONG, self.KEY_A, self.KEY_B):
            self.assertNotIn(s.encode(), data, "%s leaks %s" % (label, s))

    def test_secrets_never_appear_in_any_output_or_state(self):
        a, b, _ = self.setup_secrets()
        movie = self.torrent("Secret.Movie.mkv", size=30000)
        show = self.torrent("Secret.Show.S01", files={"e1.mkv": 30000})
        a.add(movie, category="radarr", skip_checking=True)
        b.add(show, category="sonarr", skip_checking=True)
        a.wait_state(movie.hash, SEEDING)
        b.wait_state(show.hash, SEEDING)
        a.wait_completed(movie.hash)
        b.wait_completed(show.hash)
        runs = [("sweep -vvv", self.sweep("-vvv", check=0)),
                ("sweep --json -vvv", self.sweep("--json", "-vvv", check=0)),
                ("status -vvv", self.sweep("status", "-vvv", check=0)),
                ("status --json", self.sweep("status", "--json", check=0)),
                ("check-config", self.sweep("check-config", "-vvv", check=0)),
                ("explain -vvv", self.sweep("explain", "-vvv", check=0)),
                ("explain --json", self.sweep("explain", "--json", check=0)),
                ("history", self.sweep("history", "-vvv", check=0)),
                ("history --json", self.sweep("history", "--json", check=0)),
                ("dry run", self.sweep("-n", "--json", "-vvv", check=0))]
        # the Arrs were really used with their keys, the instances logged in
        self.assertTrue([c for c in self.radarr.calls() if c["method"] == "POST"])
        self.assertTrue([c for c in self.sonarr.calls() if c["method"] == "POST"])
        for label, r in runs:
            self.assert_no_secret(label + " stdout", r.stdout)
            self.assert_no_secret(label + " stderr", r.stderr)
        self.assertIn("********", runs[4][1].stdout)
        self.assertGreater(len(runs[0][1].stderr.splitlines()), 10, "-vvv traces")
        # a failing login (wrong password from the file)
        self.setup_wrong_password_file()
        r = self.sweep("-vvv", "--json")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("qBit-Seedbox: auth/login", r.stderr)
        self.assert_no_secret("failed login stdout", r.stdout)
        self.assert_no_secret("failed login stderr", r.stderr)
        for suffix in ("", "-wal", "-shm", ".lock"):
            p = self.state + suffix
            if os.path.exists(p):
                self.assert_no_secret("state file " + p, file_bytes(p))

    def setup_wrong_password_file(self):
        self.secret_file("qbt-b.pw", self.PW_WRONG)

    def test_group_readable_config_with_secrets_warns(self):
        a, b, text = self.setup_secrets()
        os.chmod(self.cfg, 0o644)
        r = self.sweep("check-config", check=0)
        warn = [ln for ln in r.stderr.splitlines() if "warning" in ln and self.cfg in ln]
        self.assertTrue(warn, r.stderr)
        self.assertIn("readable", warn[0])
        self.assert_no_secret("check-config stderr", r.stderr)
        r = self.sweep("-n", check=0)
        self.assertTrue([ln for ln in r.stderr.splitlines()
                         if "warning" in ln and self.cfg in ln], r.stderr)
        os.chmod(self.cfg, 0o600)
        r = self.sweep("check-config", check=0)
        self.assertNotIn("readable", r.stderr)


# ---------------------------------------------------------------------------
# hostile names
# ---------------------------------------------------------------------------

class HostileNamesTest(ReliabilityEnv):
    """qBittorrent 4.5 replaces control characters in a .torrent's name
    (file-name sanitising) but keeps them in a rename and in a magnet's dn=
    (shown as the name until metadata arrives), so the hostile names come
    in by those two routes too."""

    UTF8 = "Am\u00e9lie \u65e5\u672c \"q\" 'x'"
    RENAMED = "Esc\x1b[31mRed\x1b[0m \"q\" tab\there"
    MAGNET = "Two\nLines \"and\" a \\ backslash\x1b]0;title\x07"

    def setup_names(self):
        radarr = self.fake_arr("radarr")
        a = self.qbt[0]
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\nImportDelay = 0\n\n"
                    + instance_section("qBit", a)
                    + arr_section("Radarr-Movies", "radarr", radarr))
        utf8 = self.torrent(self.UTF8, size=20000)
        a.add(utf8, category="radarr", skip_checking=True)
        ren = self.torrent("Plain.To.Rename", size=20001)
        a.add(ren, category="radarr", skip_checking=True)
        a.post("torrents/rename", {"hash": ren.hash, "name": self.RENAMED})
        mag = self.torrent("Plain.Magnet", size=20002, write_data=False)
        self.assertEqual(a.post("torrents/add", {
            "urls": "magnet:?xt=urn:btih:%s&dn=%s" % (mag.hash, urllib.parse.quote(self.MAGNET)),
            "category": "radarr", "savepath": self.data}).strip(), "Ok.")
        H.wait_until(lambda: a.torrent(mag.hash) is not None, what="magnet listed")
        a.wait_state(utf8.hash, SEEDING)
        a.wait_state(ren.hash, SEEDING)
        a.wait_state(mag.hash, ("metaDL",))
        a.wait_completed(utf8.hash)
        a.wait_completed(ren.hash)
        names = {utf8.hash: self.UTF8, ren.hash: self.RENAMED, mag.hash: self.MAGNET}
        for h, n in names.items():      # qBittorrent reports them as given
            self.assertEqual(a.torrent(h)["name"], n)
        self.complete = {utf8.hash, ren.hash}
        return a, names

    def assert_log_lines(self, stderr):
        self.assertNotIn("\x1b", stderr)
        self.assertNotIn("\x07", stderr)
        for ln in stderr.split("\n"):
            if ln:
                self.assertTrue(ln.startswith("qbitrr-sweep: "),
                                "stderr line is not a log line: %r" % ln)

    def test_names_survive_json_logs_and_state(self):
        a, names = self.setup_names()
        r = self.sweep("--json", "-vv", check=0)
        doc = r.json()
        self.assertEqual({t["hash"]: t["name"] for t in doc["torrents"]}, names)
        imports = {x["hash"]: x["name"] for x in doc["actions"] if x["action"] == "import"}
        self.assertEqual(imports, {h: names[h] for h in self.complete})
        self.assertNotIn("\x1b", r.stdout)    # escaped as \u001b in the JSON text
        self.assert_log_lines(r.stderr)
        # the names are in the log, escaped
        self.assertIn("Esc\\x1b[31mRed", r.stderr)
        self.assertIn("Two\\x0aLines", r.stderr)     # the stalled magnet's wait line
        self.assertIn(self.UTF8, r.stderr)
        db = sqlite3.connect(self.state)
        stored = dict(db.execute("SELECT hash, CAST(name AS BLOB) FROM torrents"))
        audit = dict(db.execute("SELECT hash, CAST(name AS BLOB) FROM actions"
                                " WHERE action = 'import'"))
        db.close()
        self.assertEqual(stored, {h: n.encode() for h, n in names.items()})
        self.assertEqual(audit, {h: names[h].encode() for h in self.complete})
        # a second run at the highest verbosity: still one line each
        r = self.sweep("--json", "-vvv", check=0)
        self.assert_log_lines(r.stderr)
        self.assertEqual({t["hash"]: t["name"] for t in r.json()["torrents"]}, names)

    def test_names_in_status_history_and_explain_are_escaped(self):
        a, names = self.setup_names()
        self.sweep(check=0)
        for args in (("status",), ("history",), ("explain",), ("explain", "Esc")):
            r = self.sweep(*args, "-vv", check=0)
            self.assertNotIn("\x1b", r.stdout, args)
            self.assertNotIn("\x07", r.stdout, args)
            self.assertNotIn("Two\nLines", r.stdout, args)
            self.assert_log_lines(r.stderr)
        r = self.sweep("status", "--json", check=0)
        self.assertEqual({t["hash"]: t["name"] for t in r.json()["torrents"]}, names)
        r = self.sweep("explain", "--json", check=0)
        self.assertEqual({t["hash"]: t["name"] for t in r.json()}, names)
        r = self.sweep("history", "--json", check=0)
        self.assertEqual({x["hash"]: x["name"] for x in r.json() if x["action"] == "import"},
                         {h: names[h] for h in self.complete})
