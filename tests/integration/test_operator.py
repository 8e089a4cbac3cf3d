"""Issue 7: what an operator sees: the HTML status page (rendered in
headless Chromium), Prometheus metrics, NotifyCommand, WebhookURL, and
logging conventions for cron and the journal."""
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

import harness as H
from common import Env, instance_section, arr_section

SEEDING = ("stalledUP", "uploading")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def chromium():
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    return None


def chromium_run(args, tmp):
    base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync",
            "--user-data-dir=" + os.path.join(tmp, "chromium-profile")]
    return subprocess.run(base + args, capture_output=True, text=True, timeout=90)


def parse_metrics(text):
    """A strict reader of the Prometheus text format (what promtool checks)."""
    helps, types, samples = set(), {}, []
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (-?[0-9.eE+]+|NaN)$')
    lab = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, typ = line.split()
            assert typ in ("gauge", "counter"), line
            types[name] = typ
        else:
            m = sample.match(line)
            assert m, "bad sample line: %r" % line
            name, labels = m.group(1), {}
            if m.group(3):
                rest = m.group(3)
                pos = 0
                while pos < len(rest):
                    lm = lab.match(rest, pos)
                    assert lm, "bad labels: %r" % line
                    labels[lm.group(1)] = lm.group(2)
                    pos = lm.end()
            assert name in types and name in helps, "no HELP/TYPE for %s" % name
            samples.append((name, labels, float(m.group(4))))
    return samples


class Recorder(http.server.BaseHTTPRequestHandler):
    bodies = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        Recorder.bodies.append((self.path, self.headers.get("Content-Type"),
                                self.rfile.read(n)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


class OperatorTest(Env):

    def setup(self, settings=""):
        self.radarr = self.fake_arr("radarr")
        a, b = self.qbt[0], self.qbt[1]
        self.config("[Settings]\nImportDelay = 0\nIgnoreTorrentsYoungerThan = 0\n%s\n\n" % settings
                    + instance_section("qBit", a)
                    + instance_section("qBit-Seedbox", b)
                    + arr_section("Radarr-Movies", "radarr", self.radarr)
                    + arr_section("Sonarr-TV", "sonarr"))
        return a, b

    def test_status_page_renders_in_chromium_with_escaped_text(self):
        if chromium() is None:
            self.skipTest("chromium not installed (apt-get install chromium)")
        page = os.path.join(self.tmp, "status.html")
        a, b = self.setup("StatusPage = %s" % page)
        evil = self.torrent("<img src=x onerror=alert(1)> & \"Movie\".mkv", size=30000)
        stalled = self.torrent("Slow.Show.S01E01.mkv", size=30000, write_data=False)
        a.add(evil, category="radarr", skip_checking=True)
        b.add(stalled, category="sonarr")
        a.wait_state(evil.hash, SEEDING)
        b.wait_state(stalled.hash, ("stalledDL",))
        a.wait_completed(evil.hash)
        self.sweep(check=0)
        html = open(page, encoding="utf-8").read()
        # Self-contained: no script, no external asset; names escaped.
        self.assertNotRegex(html, r"<script|<img|<link|<[^>]*\b(src|href)=|@import|url\(")
        self.assertIn("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Movie&quot;.mkv", html)
        # status --html writes the same kind of page without touching the state.
        before = open(self.state, "rb").read()
        page2 = os.path.join(self.tmp, "status2.html")
        self.sweep("status", "--html", page2, check=0)
        self.assertEqual(open(self.state, "rb").read(), before)
        r = chromium_run(["--dump-dom", "file://" + page2], self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        dom = r.stdout
        text = re.sub(r"<[^>]+>", " ", dom)
        for expected in ("qBit-Seedbox", "v4.5.2", "Slow.Show.S01E01.mkv", "stalledDL",
                         "sonarr / stalledDL: 1", "radarr", "import", "done",
                         "Free space"):
            self.assertIn(expected, text)
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;", dom)
        self.assertNotIn("<img", dom)
        shot = os.path.join(self.tmp, "status.png")
        r = chromium_run(["--screenshot=" + shot, "--window-size=1400,700",
                          "file://" + page2], self.tmp)
        self.assertTrue(os.path.getsize(shot) > 5000, r.stderr[-2000:])
        out = os.environ.get("QBITRR_SCREENSHOT")
        if out:
            shutil.copy(shot, out)

    def test_metrics_file_in_prometheus_text_format(self):
        metrics = os.path.join(self.tmp, "qbitrr.prom")
        a, b = self.setup("MetricsFile = %s\nHttpTimeout = 3" % metrics)
        spec = self.torrent("Metric.Movie.mkv", size=30000)
        a.add(spec, category="radarr", skip_checking=True)
        a.wait_state(spec.hash, SEEDING)
        a.wait_completed(spec.hash)
        self.sweep(check=0)
        samples = parse_metrics(open(metrics).read())
        up = {l["instance"]: v for n, l, v in samples if n == "qbitrr_instance_up"}
        self.assertEqual(up, {"qBit": 1.0, "qBit-Seedbox": 1.0})
        self.assertIn(("qbitrr_torrents", {"instance": "qBit", "category": "radarr",
                                           "state": "stalledUP"}, 1.0), samples)
        self.assertIn(("qbitrr_actions", {"instance": "qBit", "action": "import",
                                          "result": "done"}, 1.0), samples)
        names = {n for n, _, _ in samples}
        self.assertTrue({"qbitrr_sweep_duration_seconds", "qbitrr_last_success_timestamp_seconds",
                         "qbitrr_last_sweep_timestamp_seconds"} <= names)
        self.assertEqual(os.listdir(self.tmp).count("qbitrr.prom"), 1)
        self.assertEqual([f for f in os.listdir(self.tmp) if ".tmp." in f], [])
        b.stop()
        self.sweep(check=1)
        up = {l["instance"]: v for n, l, v in parse_metrics(open(metrics).read())
              if n == "qbitrr_instance_up"}
        self.assertEqual(up, {"qBit": 1.0, "qBit-Seedbox": 0.0})
        if shutil.which("promtool"):
            r = subprocess.run(["promtool", "check", "metrics"], stdin=open(metrics),
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_notify_command_and_webhook_get_the_json_when_something_happened(self):
        got = os.path.join(self.tmp, "notified.json")
        srv = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.addCleanup(srv.shutdown)
        Recorder.bodies = []
        hook = "http://127.0.0.1:%d/hook?token=s3cr3t-t0ken" % srv.server_port
        a, b = self.setup("NotifyCommand = cat > %s\nWebhookURL = %s" % (got, hook))
        spec = self.torrent("Notify.Movie.mkv", size=30000)
        a.add(spec, category="radarr", skip_checking=True)
        a.wait_state(spec.hash, SEEDING)
        a.wait_completed(spec.hash)
        r = self.sweep("-vvv", check=0)
        doc = json.load(open(got))
        self.assertIn("import", [x["action"] for x in doc["actions"]])
        self.assertEqual(doc["exit_status"], 0)
        self.assertEqual(len(Recorder.bodies), 1)
        path, ctype, body = Recorder.bodies[0]
        self.assertEqual(path, "/hook?token=s3cr3t-t0ken")
        self.assertEqual(ctype, "application/json")
        self.assertEqual(json.loads(body)["actions"], doc["actions"])
        self.assertNotIn("s3cr3t-t0ken", r.stderr)
        # Nothing happened: no notification.
        os.unlink(got)
        self.sweep(check=0)
        self.assertFalse(os.path.exists(got))
        self.assertEqual(len(Recorder.bodies), 1)
        # A failing notifier is reported but does not fail the sweep.
        self.config(open(self.cfg).read().replace("cat > %s" % got, "exit 3")
                    .replace(hook, "http://127.0.0.1:9/nothing-listens"))
        b.stop()
        r = self.sweep()
        self.assertEqual(r.rc, 1)          # because qBit-Seedbox is down, not the notifier
        self.assertIn("NotifyCommand: exited with status 3", r.stderr)
        self.assertIn("WebhookURL: POST failed", r.stderr)

    def test_quiet_when_nothing_happened_journal_priorities_when_journald(self):
        a, b = self.setup()
        spec = self.torrent("Quiet.Movie.mkv", size=30000)
        a.add(spec, category="radarr", skip_checking=True)
        a.wait_state(spec.hash, SEEDING)
        a.wait_completed(spec.hash)
        first = self.sweep(check=0)
        self.assertRegex(first.stderr, r"qbitrr-sweep: qBit: %s Quiet.Movie.mkv: import in "
                         r"Radarr-Movies .*: done" % spec.hash[:8])
        for line in first.stderr.splitlines():
            self.assertRegex(line, r"^qbitrr-sweep: ")
        second = self.sweep(check=0)
        self.assertEqual(second.stderr, "")
        # stderr is the journal's stream: sd-daemon priorities, no program prefix.
        err = os.path.join(self.tmp, "journal")
        b.stop()
        with open(err, "w") as f:
            st = os.fstat(f.fileno())
            env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
            p = subprocess.run([H.BINARY, "-c", self.cfg], stderr=f, env=env)
        self.assertEqual(p.returncode, 1)
        lines = open(err).read().splitlines()
        self.assertTrue(lines)
        self.assertTrue(all(re.match(r"^<[3-7]>", l) for l in lines), lines)
        self.assertTrue(any(l.startswith("<3>error: qBit-Seedbox: auth/login") for l in lines))
        # A JOURNAL_STREAM that is not our stderr (a redirect) is ignored.
        env = dict(os.environ, JOURNAL_STREAM="1:1")
        p = subprocess.run([H.BINARY, "-c", self.cfg], capture_output=True, text=True, env=env)
        self.assertTrue(p.stderr.startswith("qbitrr-sweep: "), p.stderr)
