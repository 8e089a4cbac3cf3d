"""Issue 13: a hostile or broken server, a shared folder and a slow hook
cannot hurt the host or the other instances."""
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import harness as H
from common import Env, instance_section, arr_section, file_bytes
from test_reliability import spawn_tool, finish

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SEEDING = ("stalledUP", "uploading")
SECRET = b"root-only secret\n"


class SharedFolderTest(Env):
    """Someone who can write the folders the tool writes to plants links."""

    n_instances = 1

    def victim(self, name="victim"):
        """A root-only file outside the shared folder the links point at."""
        d = os.path.join(self.tmp, "private")
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, name)
        with open(p, "wb") as f:
            f.write(SECRET)
        os.chmod(p, 0o600)
        return p

    def setup(self, settings=""):
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\n%s\n\n" % settings
                    + instance_section("qBit", self.qbt[0])
                    + arr_section("Radarr-Movies", "radarr"))

    def test_symlinked_lock_file_is_refused_not_written_through(self):
        self.setup()
        v = self.victim()
        os.symlink(v, self.state + ".lock")
        r = self.sweep()
        self.assertEqual(r.rc, 74, r)
        self.assertIn(self.state + ".lock", r.stderr)
        self.assertIn("symbolic link", r.stderr)
        self.assertEqual(file_bytes(v), SECRET)
        self.assertFalse(os.path.exists(self.state), "state created after a refused lock")
        # A hard link to the file is refused the same way.
        os.unlink(self.state + ".lock")
        os.link(v, self.state + ".lock")
        r = self.sweep()
        self.assertEqual(r.rc, 74, r)
        self.assertIn("hard links", r.stderr)
        self.assertEqual(file_bytes(v), SECRET)

    def test_symlinked_state_file_is_refused_with_74(self):
        self.setup()
        # dangling: the target must not be created
        target = os.path.join(self.tmp, "private", "created-by-root.db")
        os.makedirs(os.path.dirname(target))
        os.symlink(target, self.state)
        for args in ((), ("--dry-run",), ("status",)):
            r = self.sweep(*args)
            self.assertEqual(r.rc, 74, r)
            self.assertIn(self.state, r.stderr)
            self.assertIn("symbolic link", r.stderr)
            self.assertFalse(os.path.exists(target), "file created through the link")
        # to an existing file: never written through
        os.unlink(self.state)
        v = self.victim()
        os.symlink(v, self.state)
        r = self.sweep()
        self.assertEqual(r.rc, 74, r)
        self.assertEqual(file_bytes(v), SECRET)
        # a link at SQLite's journal name is refused too
        os.unlink(self.state)
        os.symlink(v, self.state + "-wal")
        r = self.sweep()
        self.assertEqual(r.rc, 74, r)
        self.assertIn(self.state + "-wal", r.stderr)
        self.assertEqual(file_bytes(v), SECRET)

    def test_status_page_and_metrics_temp_names_are_not_followed(self):
        page = os.path.join(self.tmp, "www", "status.html")
        prom = os.path.join(self.tmp, "textfile", "qbitrr.prom")
        os.makedirs(os.path.dirname(page))
        os.makedirs(os.path.dirname(prom))
        self.setup("StatusPage = %s\nMetricsFile = %s" % (page, prom))
        v = self.victim()
        # The old temp names were NAME.tmp.<pid>: plant links for the next pids.
        with open("/proc/sys/kernel/ns_last_pid") as f:
            last = int(f.read())
        planted = []
        for pid in range(last + 1, last + 400):
            for base in (page, prom):
                p = "%s.tmp.%d" % (base, pid)
                os.symlink(v, p)
                planted.append(p)
        self.sweep(check=0)
        self.assertEqual(file_bytes(v), SECRET)
        self.assertIn(b"<html", file_bytes(page))
        self.assertIn(b"qbitrr_instance_up", file_bytes(prom))
        for p in planted:
            self.assertTrue(os.path.islink(p), p)
        # no temporary file is left behind
        self.assertEqual(sorted(os.listdir(os.path.dirname(page))),
                         sorted(["status.html"] + [os.path.basename(p) for p in planted
                                                   if p.startswith(page)]))
        # A link at the page itself is an error naming it; never written through.
        os.unlink(page)
        os.symlink(v, page)
        os.unlink(prom)
        os.symlink(v, prom)
        r = self.sweep()
        self.assertEqual(r.rc, 0, r)
        self.assertIn(page + ": is a symbolic link", r.stderr)
        self.assertIn(prom + ": is a symbolic link", r.stderr)
        self.assertIn("warning: StatusPage", r.stderr)
        self.assertEqual(file_bytes(v), SECRET)
        self.assertTrue(os.path.islink(page))

    def test_migration_backup_is_not_written_through_a_link(self):
        self.setup()
        db = sqlite3.connect(self.state)
        db.execute("CREATE TABLE torrents (hash TEXT PRIMARY KEY, category TEXT, arr TEXT,"
                   " first_seen INTEGER, last_seen INTEGER, imported_at INTEGER,"
                   " stalled_since INTEGER)")
        db.execute("INSERT INTO torrents VALUES ('ab', 'radarr', 'Radarr-Movies', 1, 2, NULL, NULL)")
        db.execute("PRAGMA user_version = 1")
        db.commit()
        db.close()
        v1 = file_bytes(self.state)
        v = self.victim()
        bak = self.state + ".v1.bak"
        os.symlink(v, bak)
        r = self.sweep()
        self.assertEqual(r.rc, 74, r)
        self.assertIn(bak, r.stderr)
        self.assertIn("symbolic link", r.stderr)
        self.assertEqual(file_bytes(v), SECRET)
        self.assertEqual(file_bytes(self.state), v1, "migrated without a backup")
        # Once the link is gone the backup is made (by us, with a fresh name) and the
        # file migrated.
        os.unlink(bak)
        r = self.sweep(check=0)
        self.assertFalse(os.path.islink(bak))
        db = sqlite3.connect(bak)
        self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 1)
        self.assertEqual(db.execute("SELECT hash FROM torrents").fetchall(), [("ab",)])
        db.close()
        self.assertEqual([n for n in os.listdir(self.tmp) if ".tmp." in n], [])


# ---------------------------------------------------------------------------
# hostile or broken servers: bounded answers, isolated failures, SIGTERM
# ---------------------------------------------------------------------------

RELEASE = os.path.join(ROOT, "qbitrr-sweep")
MB = 1 << 20


def run_measured(binary, args, timeout=120):
    """Run binary; return (rc, stdout, stderr, peak RSS in bytes) of that
    process alone (wait4), not of any other child."""
    e = H._clean_env()
    p = subprocess.Popen([binary] + [str(a) for a in args], env=e,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out, err = [], []
    t_out = threading.Thread(target=lambda: out.append(p.stdout.read()))
    t_err = threading.Thread(target=lambda: err.append(p.stderr.read()))
    t_out.start()
    t_err.start()
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        if time.monotonic() > deadline:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            raise AssertionError("%s timed out" % binary)
        time.sleep(0.05)
    p.returncode = os.waitstatus_to_exitcode(status)
    t_out.join()
    t_err.join()
    return (p.returncode, out[0].decode("utf-8", "replace"),
            err[0].decode("utf-8", "replace"), ru.ru_maxrss * 1024)


class HostileServerTest(Env):

    def proxy(self, inst_url):
        p = H.FaultProxy(inst_url)
        self.addCleanup(p.close)
        return p

    def spawn(self, args):
        p = spawn_tool(["-c", self.cfg] + list(args))
        self.addCleanup(lambda: p.poll() is None and H._killpg(p, signal.SIGKILL))
        return p

    def test_endless_body_and_gzip_bomb_beside_a_healthy_instance(self):
        a, b, c = self.qbt
        endless = self.proxy(b.url)
        endless.set_fault(r"/torrents/info", "endless")
        bomb = self.proxy(c.url)
        bomb.set_fault(r"/torrents/info", "gzipbomb")
        H.gzip_bomb()       # made before the clock of the run starts
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\nImportDelay = 1h\n\n"
                    + instance_section("qBit", a)
                    + instance_section("qBit-Endless", b, url=endless.url)
                    + instance_section("qBit-Bomb", c, url=bomb.url)
                    + arr_section("Radarr-Movies", "radarr"))
        ok = self.torrent("Healthy.Movie.2020", size=20000)
        a.add(ok, category="radarr", skip_checking=True)
        a.wait_state(ok.hash, SEEDING)
        r = self.sweep("--json")
        self.assertEqual(r.rc, 1, r)
        for name in ("qBit-Endless", "qBit-Bomb"):
            self.assertIn("%s: torrents/info: answer larger than %d bytes "
                          "(MaxResponseSize)" % (name, 64 * MB), r.stderr)
        inst = {i["name"]: i for i in r.json()["instances"]}
        self.assertTrue(inst["qBit"]["reachable"])
        self.assertFalse(inst["qBit-Endless"]["reachable"])
        self.assertFalse(inst["qBit-Bomb"]["reachable"])
        self.assertEqual([(x["hash"], x["instance"]) for x in self.rows()],
                         [(ok.hash, "qBit")])
        # The endless server was cut off near the cap, not read to the end.
        self.assertLess(endless.sent_bytes, 256 * MB)

        # Memory stays bounded: the release build, measured by the kernel.
        self.assertTrue(os.access(RELEASE, os.X_OK),
                        "release build %s missing (make)" % RELEASE)
        rc, out, err, rss = run_measured(RELEASE, ["-c", self.cfg, "--dry-run"])
        self.assertEqual(rc, 1, err)
        self.assertIn("qBit-Endless: torrents/info: answer larger than", err)
        self.assertIn("qBit-Bomb: torrents/info: answer larger than", err)
        print("# peak RSS against an endless body and a gzip bomb: %.1f MB"
              % (rss / MB), file=sys.stderr)
        self.assertLess(rss, 256 * MB)

        # A smaller cap is honoured too.
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\nMaxResponseSize = 1M\n\n"
                    + instance_section("qBit", a)
                    + instance_section("qBit-Endless", b, url=endless.url)
                    + arr_section("Radarr-Movies", "radarr"))
        r = self.sweep("--dry-run")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("qBit-Endless: torrents/info: answer larger than %d bytes" % MB,
                      r.stderr)
        self.assertNotIn("qBit:", r.stderr.replace("qBit: create_category", ""))

    def test_drip_fed_answer_is_bounded_by_the_timeout(self):
        a, b = self.qbt[0], self.qbt[1]
        drip = self.proxy(b.url)
        drip.set_fault(r"/torrents/info", "drip")
        self.config("[Settings]\nHttpTimeout = 2\nIgnoreTorrentsYoungerThan = 0\n\n"
                    + instance_section("qBit", a)
                    + instance_section("qBit-Drip", b, url=drip.url)
                    + arr_section("Radarr-Movies", "radarr"))
        ok = self.torrent("Drip.Healthy.2020", size=20000)
        a.add(ok, category="radarr", skip_checking=True)
        r = self.sweep()
        self.assertEqual(r.rc, 1, r)
        self.assertLess(r.duration, 2 + 4)
        self.assertIn("qBit-Drip: torrents/info: no answer within 2 s", r.stderr)
        self.assertEqual([(x["hash"], x["instance"]) for x in self.rows()],
                         [(ok.hash, "qBit")])

    def test_runaway_total_records_is_an_error_for_that_arr_only(self):
        a = self.qbt[0]
        radarr = self.fake_arr("radarr")
        sonarr = self.fake_arr("sonarr")
        px = self.proxy(radarr.url)

        def bomb(body):
            doc = json.loads(body)
            doc["totalRecords"] = 10 ** 10
            return json.dumps(doc).encode()
        px.set_rewrite(r"/queue", bomb)
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\nImportDelay = 0\n\n"
                    + instance_section("qBit", a)
                    + "[Radarr-Movies]\nCategory = radarr\nURI = %s\nAPIKey = %s\n"
                    'ArrErrorCodesToBlocklist = ["Not an upgrade for existing movie file(s)"]\n\n'
                    % (px.url, radarr.api_key)
                    + arr_section("Sonarr-TV", "sonarr", sonarr))
        movie = self.torrent("Bomb.Movie.2020", size=20000)
        show = self.torrent("Fine.Show.S01E01", size=20000)
        a.add(movie, category="radarr", skip_checking=True)
        a.add(show, category="sonarr", skip_checking=True)
        a.wait_state(movie.hash, SEEDING)
        a.wait_state(show.hash, SEEDING)
        time.sleep(1.1)
        r = self.sweep()
        self.assertEqual(r.rc, 1, r)
        self.assertLess(r.duration, 20)
        self.assertIn("Radarr-Movies: queue: totalRecords 10000000000 is beyond any "
                      "real queue", r.stderr)
        queue_calls = [q for q in px.requests() if q["path"].endswith("/queue")]
        self.assertEqual(len(queue_calls), 1, queue_calls)
        # the other Arr and the instance are swept and recorded
        self.assertTrue(any(c["path"].endswith("/queue") for c in sonarr.calls()))
        self.assertEqual(sorted(x["hash"] for x in self.rows()),
                         sorted([movie.hash, show.hash]))

    def sigterm_within(self, p, seconds):
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        rc, out, err = finish(p, timeout=30)
        took = time.monotonic() - t0
        self.assertLess(took, seconds, err)
        return rc, err, took

    def test_sigterm_is_honoured_at_once_while_a_server_hangs(self):
        a, b = self.qbt[0], self.qbt[1]
        hang = self.proxy(b.url)
        hang.set_fault(r"/torrents/info", "hang")
        radarr = self.fake_arr("radarr")
        self.config("[Settings]\nHttpTimeout = 60\nIgnoreTorrentsYoungerThan = 0\n"
                    "ImportDelay = 0\n\n"
                    + instance_section("qBit", a)
                    + instance_section("qBit-Hang", b, url=hang.url)
                    + arr_section("Radarr-Movies", "radarr", radarr))
        ok = self.torrent("Term.Movie.2020", size=20000)
        a.add(ok, category="radarr", skip_checking=True)
        # discovery
        p = self.spawn([])
        H.wait_until(lambda: any(q["path"] == "/api/v2/torrents/info"
                                 for q in hang.requests()),
                     timeout=10, what="the sweep hanging on torrents/info")
        rc, err, took = self.sigterm_within(p, 2.0)
        self.assertEqual(rc, 1, err)
        self.assertIn("interrupted", err)
        # an Arr that hangs on its queue
        hang.clear()
        radarr.set_fault("*", r"/queue", "hang")
        p = self.spawn([])
        H.wait_until(lambda: any(c["path"].endswith("/queue") for c in radarr.calls()),
                     timeout=20, what="the sweep hanging on the Arr queue")
        rc, err, took = self.sigterm_within(p, 2.0)
        self.assertEqual(rc, 1, err)


# ---------------------------------------------------------------------------
# server strings made safe for terminals, logs and mail; --json exact
# ---------------------------------------------------------------------------

EVIL_NAME = ("Evil\x1b]0;pwned\x07\x1b[2J\u009b31m\u0085\u202eevil\u2066"
             "\u2028qbitrr-sweep: error: forged\x7f.mkv")
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
SCRIPT = os.path.join(ROOT, "examples", "sweep-report.sh")


class EscapeTest(Env):
    n_instances = 1

    def assert_safe(self, text, what):
        bad = UNSAFE.findall(text)
        self.assertEqual(bad, [], "%s carries unsafe characters: %r" % (what, text[-3000:]))
        self.assertNotRegex(text, r"(?m)^qbitrr-sweep: error: forged", what)

    def test_hostile_names_and_versions_are_escaped_everywhere_json_exact(self):
        a = self.qbt[0]
        radarr = self.fake_arr("radarr")
        px = H.FaultProxy(a.url)
        self.addCleanup(px.close)
        spec = self.torrent("Evil.Movie.2020", size=20000)
        a.add(spec, category="radarr", skip_checking=True)
        a.wait_state(spec.hash, SEEDING)

        def rename(body):
            doc = json.loads(body)
            for t in doc:
                if t.get("hash") == spec.hash:
                    t["name"] = EVIL_NAME
            return json.dumps(doc).encode()
        px.set_rewrite(r"/torrents/info", rename)
        # not UTF-8, with a raw C1 CSI byte and an escape sequence
        px.set_rewrite(r"/app/version", lambda body: b"v4.5.2\xc3(\x9b2J\x1b[31m")
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\nImportDelay = 0\n\n"
                    + instance_section("qBit-Evil", a, url=px.url)
                    + arr_section("Radarr-Movies", "radarr", radarr))
        r = self.sweep("-vv", "--json", check=0)
        self.assert_safe(r.stderr, "sweep -vv stderr")
        self.assertIn("\\x1b]0;pwned\\x07", r.stderr)
        self.assertIn("\\u202e", r.stderr)
        for ln in r.stderr.splitlines():
            self.assertTrue(ln.startswith("qbitrr-sweep: "), ln)
        # --json: exact, the instance kept, the bad version bytes replaced
        doc = r.json()
        inst = {i["name"]: i for i in doc["instances"]}
        self.assertIn("qBit-Evil", inst)
        self.assertEqual(inst["qBit-Evil"]["version"], "v4.5.2\ufffd(\ufffd2J\x1b[31m")
        self.assertEqual([t["name"] for t in doc["torrents"]], [EVIL_NAME])
        self.assertEqual([x["name"] for x in doc["actions"] if x["hash"]], [EVIL_NAME])
        self.assertTrue(all(ord(c) < 128 for c in r.stdout), "JSON not ASCII-escaped")

        for args in (("status",), ("explain", "Evil"), ("history",), ("-v", "status")):
            r = self.sweep(*args)
            self.assertEqual(r.rc, 0, r)
            self.assert_safe(r.stdout, "%s stdout" % " ".join(args))
            self.assert_safe(r.stderr, "%s stderr" % " ".join(args))
            self.assertIn("Evil\\x1b]0;pwned", r.stdout, args)
        r = self.sweep("status")
        self.assertIn("v4.5.2\\xc3(\\x9b2J\\x1b[31m", r.stdout)
        # the status page: HTML entities, and the same escapes as the logs
        # (a bidi override would reorder the page's text)
        page = os.path.join(self.tmp, "status.html")
        r = self.sweep("status", "--html", page)
        self.assertEqual(r.rc, 0, r)
        html = open(page, "rb").read().decode("utf-8")
        self.assert_safe(html, "status page")
        self.assertIn("Evil\\x1b]0;pwned\\x07\\x1b[2J\\u009b31m\\u0085\\u202eevil"
                      "\\u2066\\u2028qbitrr-sweep: error: forged\\x7f.mkv", html)
        self.assertIn("v4.5.2\\xc3(\\x9b2J\\x1b[31m", html)
        r = self.sweep("status", "--json")
        self.assertEqual(r.json()["torrents"][0]["name"], EVIL_NAME)

        # the report mail escapes the names it quotes
        if shutil.which("jq") is None:
            self.skipTest("jq not installed")
        stubs = os.path.join(self.tmp, "bin")
        os.makedirs(stubs)
        with open(os.path.join(stubs, "mail"), "w") as f:
            f.write("#!/bin/sh\ncat >\"$STUB_DIR/mail.body\"\n")
        os.chmod(os.path.join(stubs, "mail"), 0o755)
        radarr.set_fault("POST", r"/command", "500")
        later_spec = self.torrent("Second.Movie.2021", size=20000)
        a.add(later_spec, category="radarr", skip_checking=True)
        a.wait_state(later_spec.hash, SEEDING)
        self.db_forget_import(spec.hash)
        e = dict(os.environ, PATH=stubs + ":/usr/bin:/bin", STUB_DIR=self.tmp,
                 QBITRR_SWEEP=H.BINARY, QBITRR_REPORT_TO="ops@example.com",
                 ASAN_OPTIONS="detect_leaks=1:abort_on_error=0")
        p = subprocess.run(["sh", SCRIPT, "-c", self.cfg], env=e, capture_output=True,
                           timeout=120)
        body = open(os.path.join(self.tmp, "mail.body"), "rb").read().decode("utf-8")
        self.assert_safe(body, "mail body")
        self.assertIn("Evil\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m\\u0085\\u202eevil"
                      "\\u2066\\u2028qbitrr-sweep: error: forged\\u007f.mkv", body)

    def db_forget_import(self, h):
        """Let the torrent be imported again, so the next sweep acts on it."""
        db = sqlite3.connect(self.state)
        db.execute("UPDATE torrents SET import_sent_at = NULL, import_result = NULL,"
                   " import_attempts = 0, import_next_try = NULL WHERE hash = ?", (h,))
        db.commit()
        db.close()


# ---------------------------------------------------------------------------
# PathMapping: no escape from the mapping's root
# ---------------------------------------------------------------------------

class PathEscapeTest(Env):
    n_instances = 2

    def test_dotdot_content_path_is_refused_nothing_sent(self):
        a, b = self.qbt[0], self.qbt[1]
        radarr = self.fake_arr("radarr")
        px = H.FaultProxy(a.url)
        self.addCleanup(px.close)
        evil = self.torrent("Escape.Movie.2020", size=20000)
        inside = self.torrent("Inside.Movie.2020", size=20000)
        fine = self.torrent("Fine.Movie.2020", size=20000)
        a.add(evil, category="radarr", skip_checking=True)
        a.add(inside, category="radarr", skip_checking=True)
        b.add(fine, category="radarr", skip_checking=True)
        for inst, spec in ((a, evil), (a, inside), (b, fine)):
            inst.wait_state(spec.hash, SEEDING)
            inst.wait_completed(spec.hash)

        def escape(body):
            doc = json.loads(body)
            for t in doc:
                if t.get("hash") == evil.hash:
                    t["content_path"] = "/downloads/../../../root/.ssh"
                elif t.get("hash") == inside.hash:
                    t["content_path"] = "/downloads/x/../Inside.Movie.2020"
            return json.dumps(doc).encode()
        px.set_rewrite(r"/torrents/info", escape)
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\nImportDelay = 0\n\n"
                    + instance_section("qBit-Evil", a, url=px.url,
                                       extra='PathMapping = ["/downloads=/mnt/seedbox"]')
                    + instance_section("qBit", b)
                    + arr_section("Radarr-Movies", "radarr", radarr,
                                  extra="importMode = Move\n"))
        r = self.sweep("--json")
        scans = [c["body"] for c in radarr.calls()
                 if c["method"] == "POST" and c["body"]
                 and c["body"].get("name") == "DownloadedMoviesScan"]
        paths = sorted(s["path"] for s in scans)
        # the escaping path: nothing sent, a clear warning naming it
        self.assertNotIn(evil.hash.upper(), [s["downloadClientId"] for s in scans])
        self.assertFalse(any(".ssh" in p or ".." in p for p in paths), paths)
        self.assertIn("import refused: content_path /downloads/../../../root/.ssh leaves "
                      "the PathMapping root /downloads once '..' is resolved; nothing sent",
                      r.stderr)
        self.assertRegex(r.stderr, r"warning: qBit-Evil: %s" % evil.hash[:8])
        # a '..' that stays inside is resolved and mapped; the other instance is imported
        self.assertIn("/mnt/seedbox/Inside.Movie.2020", paths)
        self.assertEqual(len(scans), 2, scans)
        self.assertEqual([x["hash"] for x in r.json()["actions"] if x["action"] == "import"
                          and x["instance"] == "qBit-Evil"], [inside.hash])
        ex = self.sweep("explain", "Escape")
        self.assertIn("import: refused", ex.stdout)


# ---------------------------------------------------------------------------
# NotifyCommand: a clean slate, bounded, never in the way
# ---------------------------------------------------------------------------

HOOK = """#!/bin/sh
grep -E '^(SigIgn|SigBlk):' /proc/self/status >"$HOOK_OUT/sig"
ls /proc/self/fd >"$HOOK_OUT/fds"
cut -d' ' -f5 /proc/$$/stat >"$HOOK_OUT/pgid"
sleep 300 &
echo $! >"$HOOK_OUT/grandchild"
echo $$ >"$HOOK_OUT/pid"
exec sleep 300
"""


class NotifyCommandTest(Env):
    n_instances = 1

    def setup(self, timeout, down=True):
        a = self.qbt[0]
        self.out = os.path.join(self.tmp, "hook")
        os.makedirs(self.out)
        hook = os.path.join(self.tmp, "hook.sh")
        with open(hook, "w") as f:
            f.write(HOOK)
        os.chmod(hook, 0o755)
        px = H.FaultProxy(a.url)
        self.addCleanup(px.close)
        spec = self.torrent("Hook.Movie.2020", size=20000)
        a.add(spec, category="radarr", skip_checking=True)
        a.wait_state(spec.hash, SEEDING)

        def big(body):
            # a document far larger than a pipe's buffer, never read
            doc = json.loads(body)
            for t in doc:
                t["name"] = "N" * 300000
            return json.dumps(doc).encode()
        px.set_rewrite(r"/torrents/info", big)
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\nHttpTimeout = %d\n"
                    "NotifyCommand = HOOK_OUT=%s %s\n\n" % (timeout, self.out, hook)
                    + instance_section("qBit", a, url=px.url)
                    + ("[qBit-Down]\nHost = 127.0.0.1\nPort = %d\n\n" % H.free_port()
                       if down else "")
                    + arr_section("Radarr-Movies", "radarr"))

    def read(self, name):
        with open(os.path.join(self.out, name)) as f:
            return f.read()

    def assert_gone(self, pid, what):
        def gone():
            try:
                with open("/proc/%d/stat" % pid) as f:
                    return f.read().split()[2] == "Z"
            except FileNotFoundError:
                return True
        H.wait_until(gone, timeout=5, what="%s (pid %d) killed" % (what, pid))

    def test_hook_that_never_reads_is_killed_with_its_group_at_the_limit(self):
        self.setup(timeout=2)
        p = spawn_tool(["-c", self.cfg])
        self.addCleanup(lambda: p.poll() is None and H._killpg(p, signal.SIGKILL))
        H.wait_until(lambda: os.path.exists(os.path.join(self.out, "pid")), timeout=30,
                     what="the hook started")
        tool_pgid = os.getpgid(p.pid)
        t0 = time.monotonic()
        rc, out, err = finish(p, timeout=30)
        self.assertLess(time.monotonic() - t0, 2 + 2, err)
        self.assertEqual(rc, 1, err)     # qBit-Down, not the hook
        self.assertIn("warning: NotifyCommand: no exit within 2 s: killed", err)
        # a clean slate: default dispositions, nothing blocked, 0-2 only, own group
        sig = dict(ln.split(":") for ln in self.read("sig").splitlines())
        self.assertEqual(int(sig["SigBlk"], 16), 0)
        # signals 32 and 33 are glibc's own: no program can set them, and
        # a test runner may have left them ignored; every other is default
        self.assertEqual(int(sig["SigIgn"], 16) & ~(3 << 31), 0, sig)
        # what ls inherited (the shell's own descriptors are close-on-exec):
        # 0-2, and 3 for the folder ls itself is reading
        self.assertEqual(sorted(self.read("fds").split()), ["0", "1", "2", "3"])
        self.assertNotEqual(int(self.read("pgid")), tool_pgid)
        self.assert_gone(int(self.read("pid")), "the hook")
        self.assert_gone(int(self.read("grandchild")), "the hook's child")

    def test_sigterm_during_the_hook_stops_at_once_and_exits_non_zero(self):
        # a sweep that would exit 0 (its first run: categories created)
        self.setup(timeout=60, down=False)
        p = spawn_tool(["-c", self.cfg])
        self.addCleanup(lambda: p.poll() is None and H._killpg(p, signal.SIGKILL))
        H.wait_until(lambda: os.path.exists(os.path.join(self.out, "grandchild")),
                     timeout=30, what="the hook started")
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        rc, out, err = finish(p, timeout=30)
        self.assertLess(time.monotonic() - t0, 2.0, err)
        self.assertEqual(rc, 1, err)
        self.assertIn("NotifyCommand: interrupted: killed", err)
        self.assertIn("interrupted while publishing", err)
        self.assert_gone(int(self.read("grandchild")), "the hook's child")


# ---------------------------------------------------------------------------
# test hooks, extreme timestamps, readable secrets
# ---------------------------------------------------------------------------

class SmallerTest(Env):
    n_instances = 1

    def test_release_binary_ignores_the_test_hooks(self):
        a = self.qbt[0]
        spec = self.torrent("Hooks.Movie.2020", size=20000)
        a.add(spec, category="radarr", skip_checking=True)
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\n\n"
                    + instance_section("qBit", a) + arr_section("Radarr-Movies", "radarr"))
        self.assertTrue(os.access(RELEASE, os.X_OK), "release build %s missing" % RELEASE)
        with open(RELEASE, "rb") as f:
            image = f.read()
        self.assertNotIn(b"QBITRR_TEST_NOW", image)
        self.assertNotIn(b"QBITRR_TEST_KILL_AT", image)
        # the test build honours them ...
        r = self.sweep(env={"QBITRR_TEST_KILL_AT": "discover"})
        self.assertEqual(r.rc, -signal.SIGKILL, r)
        # ... the release build neither dies nor moves its clock
        t0 = int(time.time())
        p = subprocess.run([RELEASE, "-c", self.cfg], capture_output=True, timeout=60,
                           env=H._clean_env({"QBITRR_TEST_KILL_AT": "discover",
                                             "QBITRR_TEST_NOW": "1000000000"}))
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = self.rows()
        self.assertEqual([x["hash"] for x in rows], [spec.hash])
        self.assertGreaterEqual(rows[0]["first_seen"], t0)
        self.assertLessEqual(rows[0]["first_seen"], int(time.time()) + 1)

    def test_extreme_timestamps_do_not_overflow(self):
        a = self.qbt[0]
        radarr = self.fake_arr("radarr")
        px = H.FaultProxy(a.url)
        self.addCleanup(px.close)
        stalled = self.torrent("Extreme.Stalled.2020.mkv", size=50000, write_data=False)
        done = self.torrent("Extreme.Done.2020.mkv", size=20000)
        a.add(stalled, category="radarr")
        a.add(done, category="radarr", skip_checking=True)
        a.wait_state(stalled.hash, ("stalledDL",))
        a.wait_state(done.hash, SEEDING)
        lo, hi = -2 ** 63, 2 ** 63 - 1

        def extreme(body):
            doc = json.loads(body)
            for t in doc:
                if t.get("hash") == stalled.hash:
                    t.update(added_on=lo, last_activity=lo, completion_on=lo, eta=lo,
                             seeding_time=lo, time_active=lo)
                elif t.get("hash") == done.hash:
                    t.update(added_on=lo, last_activity=hi, completion_on=hi, eta=hi,
                             seeding_time=hi, time_active=hi, amount_left=hi)
            return json.dumps(doc).encode()
        px.set_rewrite(r"/torrents/info", extreme)
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\nImportDelay = 10\n"
                    "FreeSpace = 1M\n\n"
                    + instance_section("qBit", a, url=px.url)
                    + arr_section("Radarr-Movies", "radarr", radarr)
                    + "[Radarr-Movies.Torrent]\nStalledDelay = 1\nMaximumETA = 60\n\n"
                    + "[Radarr-Movies.Torrent.SeedingMode]\nMaxSeedingTime = 60\n"
                    "RemoveTorrent = 2\n\n")
        now = int(time.time())
        # the sanitizer build stops on any signed overflow (run_tool fails on it)
        runs = []
        for args, t in ((("--dry-run",), now), (("--json",), now),
                        (("--json",), now + 7200)):
            r = self.sweep(*args, now=t)
            self.assertIn(r.rc, (0, 1), r)
            runs.append(r)
        acts = [(x["name"], x["action"], x["rule"], x["reason"]) for r in runs[1:] for x in r.json()["actions"]
                if x["hash"]]
        self.assertEqual(sorted(t["hash"] for t in runs[1].json()["torrents"]),
                         sorted([stalled.hash, done.hash]), runs[1].stderr)
        # a stalled torrent whose activity is unknown (INT64_MIN) is not removed on it
        self.assertEqual([a for a in acts if a[0] == stalled.name and a[2] == "stalled"], [])
        for args in (("explain", "Extreme"), ("status",), ("history",)):
            self.sweep(*args, now=now + 7200, check=0)

    def test_world_readable_secrets_warn(self):
        a = self.qbt[0]
        self.config("[Settings]\nWebhookURL = https://hooks.example.com/T0KEN\n\n"
                    + "[qBit]\nHost = 127.0.0.1\nPort = 1\n\n"
                    + arr_section("Radarr-Movies", "radarr"))
        os.chmod(self.cfg, 0o644)
        r = self.sweep("check-config")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("contains secrets but is readable by group/others", r.stderr)
        self.assertNotIn("T0KEN", r.stderr + r.stdout)
        os.chmod(self.cfg, 0o600)
        self.assertEqual(self.sweep("check-config").stderr, "")
        pw = os.path.join(self.tmp, "qbit.pw")
        with open(pw, "w") as f:
            f.write("s3cret\n")
        os.chmod(pw, 0o644)
        self.config("[qBit]\nHost = 127.0.0.1\nPort = 1\nUserName = admin\n"
                    "PasswordFile = %s\n\n" % pw + arr_section("Radarr-Movies", "radarr"))
        r = self.sweep("check-config")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("%s holds a secret but is readable by group/others (chmod 600 %s)"
                      % (pw, pw), r.stderr)
        self.assertRegex(r.stderr, r"qbitrr\.ini:\d+")
        self.assertNotIn("s3cret", r.stderr + r.stdout)
        os.chmod(pw, 0o600)
        self.assertEqual(self.sweep("check-config").stderr, "")


class FuseTest(Env):
    n_instances = 2

    def test_fuse_counts_blocklists_and_searches_too(self):
        a, b = self.qbt
        radarr = self.fake_arr("radarr")
        stalled = self.torrent("Fuse.Stalled.2020.mkv", size=50000, write_data=False)
        a.add(stalled, category="radarr")
        a.wait_state(stalled.hash, ("stalledDL",))
        radarr.set_queue([{"downloadId": stalled.hash_upper, "movieId": 21,
                           "title": stalled.name, "status": "downloading"}])
        common = ("[Settings]\nIgnoreTorrentsYoungerThan = 0\nImportDelay = 0\n"
                  "MaxDeletionsPerRun = 2\n\n"
                  + arr_section("Radarr-Movies", "radarr", radarr)
                  + "[Radarr-Movies.Torrent]\nStalledDelay = 15\n\n")
        self.config(common + instance_section("qBit", a) + instance_section("qBit-B", b))
        t0 = int(time.time())
        self.sweep(now=t0, check=0)
        # one stalled download: delete + blocklist + re-search = 3 > 2
        r = self.sweep("--json", now=t0 + 16 * 60, check=1)
        self.assertIn("qBit: 3 deletions, blocklists and re-searches decided > "
                      "MaxDeletionsPerRun 2: none performed", r.stderr)
        acts = sorted((x["action"], x["result"]) for x in r.json()["actions"]
                      if x["hash"] == stalled.hash)
        self.assertEqual(acts, [("delete", "held")])
        self.assertEqual([c for c in radarr.calls() if c["method"] in ("POST", "DELETE")], [])
        self.assertIsNotNone(a.torrent(stalled.hash))
        # with room for all three they go
        self.config(common.replace("MaxDeletionsPerRun = 2", "MaxDeletionsPerRun = 3")
                    + instance_section("qBit", a) + instance_section("qBit-B", b))
        r = self.sweep("--json", now=t0 + 17 * 60, check=0)
        acts = sorted((x["action"], x["result"]) for x in r.json()["actions"]
                      if x["hash"] == stalled.hash)
        self.assertEqual([x[0] for x in acts], ["blocklist", "delete", "search"], r.stderr)


class ManyTorrentsTest(H.IntegrationTestCase):
    """A server listing 10,000 downloading torrents asks for 10,000 file
    lists: they are queued, at most a few per server at a time, not all
    started at once (the release build measured: ~30 MB, was ~150 MB)."""

    def test_ten_thousand_file_requests_stay_small(self):
        fake = os.path.join(ROOT, "tests", "bench", "fake_qbit.py")
        p = H._spawn([sys.executable, fake, "--port", "0", "--torrents", "10000",
                      "--managed-fraction", "1.0", "--downloading-fraction", "1.0",
                      "--parallel-api"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (H._killpg(p, signal.SIGKILL), p.wait(), H._forget(p)))
        line = p.stdout.readline().decode()
        m = re.search(r"127\.0\.0\.1:(\d+)", line)
        self.assertIsNotNone(m, line)
        cfg = H.write_config(self.tmp, "[Settings]\nIgnoreTorrentsYoungerThan = 0\n"
                             "HttpTimeout = 60\n\n[qBit]\nHost = 127.0.0.1\nPort = %s\n"
                             "UserName = admin\nPassword = adminadmin\n\n"
                             "[Radarr-Movies]\nCategory = radarr\n\n"
                             "[Sonarr-TV]\nCategory = sonarr\n" % m.group(1))
        self.assertTrue(os.access(RELEASE, os.X_OK), "release build %s missing" % RELEASE)
        rc, out, err, rss = run_measured(RELEASE, ["-c", cfg, "-s",
                                                   os.path.join(self.tmp, "s.db"),
                                                   "--dry-run", "--json"])
        self.assertEqual(rc, 0, err[-2000:])
        stats = json.loads(H.http_request("http://127.0.0.1:%s/__stats" % m.group(1))[2])
        self.assertEqual(stats["endpoints"]["torrents/files"]["requests"], 10000)
        print("# peak RSS with 10,000 file-list requests: %.1f MB" % (rss / MB),
              file=sys.stderr)
        self.assertLess(rss, 80 * MB)
