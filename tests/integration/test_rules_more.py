"""Issue 3 rules that need more setup: free space measured per instance,
unregistered torrents on a real (fake) HTTP tracker, Arr import errors,
and make install."""
import http.server
import os
import subprocess
import threading
import time

import harness as H
from common import Env, instance_section, arr_section

SEEDING = ("stalledUP", "uploading")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Tracker(http.server.BaseHTTPRequestHandler):
    """An HTTP tracker that refuses every torrent as unregistered."""
    message = b"Unregistered torrent"

    def do_GET(self):
        body = b"d14:failure reason%d:%se" % (len(self.message), self.message)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class MoreRulesTest(Env):

    def setup(self, qbit_extra="", torrent="", arr_extra=""):
        self.radarr = self.fake_arr("radarr")
        a, b = self.qbt[0], self.qbt[1]
        self.config("[Settings]\nImportDelay = 1h\nIgnoreTorrentsYoungerThan = 0\n\n"
                    + instance_section("qBit", a, extra=qbit_extra)
                    + instance_section("qBit-Seedbox", b)
                    + arr_section("Radarr-Movies", "radarr", self.radarr, extra=arr_extra)
                    + "[Radarr-Movies.Torrent]\nStalledDelay = 600\n%s\n" % torrent)
        return a, b

    def test_free_space_pauses_on_its_instance_and_resumes_what_it_paused(self):
        a, b = self.setup(qbit_extra='FreeSpace = "1000T"')
        dl = self.torrent("Big.Download.mkv", size=400000, write_data=False)
        user_paused = self.torrent("User.Paused.mkv", size=300000, write_data=False)
        other = self.torrent("Seedbox.Download.mkv", size=200000, write_data=False)
        a.add(dl, category="radarr")
        a.add(user_paused, category="radarr", paused=True)
        b.add(other, category="radarr")
        a.wait_state(dl.hash, ("stalledDL",))
        a.wait_state(user_paused.hash, ("pausedDL",))
        b.wait_state(other.hash, ("stalledDL",))
        # The decision needs the instance's own figure and each download's
        # amount_left: qBittorrent measures both on timers after start.
        a.wait_free_space()
        H.wait_until(lambda: all(a.torrent(h)["amount_left"] > 0
                                 for h in (dl.hash, user_paused.hash)),
                     what="amount_left known for both downloads")
        r = self.sweep("--json", check=0)
        acts = [(x["instance"], x["name"], x["action"], x["result"]) for x in r.json()["actions"]
                if x["action"] in ("pause", "resume")]
        self.assertEqual(acts, [("qBit", "Big.Download.mkv", "pause", "done")])
        a.wait_state(dl.hash, ("pausedDL",))
        self.assertEqual(b.torrent(other.hash)["state"], "stalledDL")
        self.assertIsNotNone(self.rows("hash = ?", (dl.hash,))[0]["space_paused_at"])
        self.assertIn("free space", r.stderr)
        # Space returns (a lower threshold): only the torrent we paused resumes.
        self.config(open(self.cfg).read().replace('FreeSpace = "1000T"', 'FreeSpace = "1K"'))
        r = self.sweep("--json", check=0)
        acts = [(x["name"], x["action"], x["result"]) for x in r.json()["actions"]
                if x["action"] in ("pause", "resume")]
        self.assertEqual(acts, [("Big.Download.mkv", "resume", "done")])
        H.wait_until(lambda: a.torrent(dl.hash)["state"] != "pausedDL")
        self.assertEqual(a.torrent(user_paused.hash)["state"], "pausedDL")
        self.assertIsNone(self.rows("hash = ?", (dl.hash,))[0]["space_paused_at"])

    def test_unregistered_on_tracker_removed_tracker_down_kept(self):
        srv = http.server.HTTPServer(("127.0.0.1", 0), Tracker)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.addCleanup(srv.shutdown)
        a, b = self.setup(torrent="RemoveUnregistered = true")
        gone = self.torrent("Nuked.Release.mkv", size=40000, write_data=False,
                            tracker="http://127.0.0.1:%d/announce" % srv.server_port)
        down = self.torrent("Tracker.Down.mkv", size=40000, write_data=False,
                            tracker="http://127.0.0.1:%d/announce" % H.free_port())
        a.add(gone, category="radarr")
        a.add(down, category="radarr")
        H.wait_until(lambda: any(t["status"] == 4 and "nregistered" in t["msg"]
                                 for t in a.get("torrents/trackers", hash=gone.hash)),
                     timeout=30, what="tracker says unregistered")
        H.wait_until(lambda: any(t["status"] == 4 for t in
                                 a.get("torrents/trackers", hash=down.hash)),
                     timeout=30, what="dead tracker seen")
        self.radarr.set_queue([{"downloadId": gone.hash_upper, "movieId": 11},
                               {"downloadId": down.hash_upper, "movieId": 12}])
        r = self.sweep("--json", check=0)
        acts = sorted((x["name"], x["action"], x["result"]) for x in r.json()["actions"]
                      if x["action"] in ("blocklist", "delete", "search"))
        self.assertEqual(acts, [("Nuked.Release.mkv", "blocklist", "done"),
                                ("Nuked.Release.mkv", "delete", "done"),
                                ("Nuked.Release.mkv", "search", "done")])
        self.assertIn('says "Unregistered torrent"', r.stderr)
        H.wait_until(lambda: a.torrent(gone.hash) is None)
        self.assertIsNotNone(a.torrent(down.hash))

    def test_arr_error_codes_remove_from_the_instance_holding_the_hash(self):
        a, b = self.setup()
        spec = self.torrent("Not.An.Upgrade.mkv", size=40000)
        keep = self.torrent("Fine.Movie.mkv", size=30000)
        b.add(spec, category="radarr", skip_checking=True)
        b.add(keep, category="radarr", skip_checking=True)
        b.wait_state(spec.hash, SEEDING)
        b.wait_state(keep.hash, SEEDING)
        msg = "Not an upgrade for existing movie file(s)"
        self.radarr.set_queue([
            {"downloadId": spec.hash_upper, "movieId": 21, "status": "completed",
             "trackedDownloadState": "importPending", "trackedDownloadStatus": "warning",
             "statusMessages": [{"title": spec.name, "messages": [msg]}]},
            {"downloadId": keep.hash_upper, "movieId": 22, "status": "completed",
             "trackedDownloadState": "importPending", "trackedDownloadStatus": "warning",
             "statusMessages": [{"title": keep.name, "messages": ["Something else"]}]}])
        r = self.sweep("--json", check=0)
        acts = sorted((x["instance"], x["name"], x["action"]) for x in r.json()["actions"]
                      if x["action"] in ("blocklist", "delete", "search"))
        self.assertEqual(acts, [("qBit-Seedbox", "Not.An.Upgrade.mkv", "blocklist"),
                                ("qBit-Seedbox", "Not.An.Upgrade.mkv", "delete"),
                                ("qBit-Seedbox", "Not.An.Upgrade.mkv", "search")])
        self.assertIn("ArrErrorCodesToBlocklist", r.stderr)
        H.wait_until(lambda: b.torrent(spec.hash) is None)
        self.assertIsNotNone(b.torrent(keep.hash))


class InstallTest(H.IntegrationTestCase):

    def test_make_install_honours_prefix_and_destdir(self):
        dest = os.path.join(self.tmp, "root")
        r = subprocess.run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + dest,
                            "PREFIX=/usr"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        for f in ("usr/bin/qbitrr-sweep", "usr/share/man/man1/qbitrr-sweep.1",
                  "usr/share/man/man5/qbitrr.ini.5"):
            self.assertTrue(os.path.isfile(os.path.join(dest, f)), f)
        out = subprocess.run([os.path.join(dest, "usr/bin/qbitrr-sweep"), "-V"],
                             capture_output=True, text=True)
        self.assertRegex(out.stdout, r"^qbitrr-sweep \d+\.\d+\.\d+\n$")
