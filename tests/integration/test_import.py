"""Issue 4: instance-aware imports (path mapping, one scan per (hash,
instance), retries with backoff, VerifyImport) and seeding cleanup that
removes from the owning instance only."""
import os
import time

import harness as H
from common import Env, instance_section, arr_section, wait_seeded

SEEDING = ("stalledUP", "uploading")


class ImportTest(Env):

    def setup_two(self, settings="ImportDelay = 0", arr_extra="", seeding="",
                  seedbox_extra=""):
        self.radarr = self.fake_arr("radarr")
        a, b = self.qbt[0], self.qbt[1]
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\n%s\n\n" % settings
                    + instance_section("qBit", a)
                    + instance_section("qBit-Seedbox", b, extra=seedbox_extra)
                    + arr_section("Radarr-Movies", "radarr", self.radarr,
                                  extra="importMode = Copy\n" + arr_extra)
                    + "[Radarr-Movies.Torrent.SeedingMode]\n%s\n" % seeding)
        return a, b

    def scans(self):
        """Scan commands the Arr accepted."""
        return [c["body"] for c in self.radarr.calls()
                if c["method"] == "POST" and c["body"] and c["status"] == 201
                and c["body"].get("name") == "DownloadedMoviesScan"]

    def test_one_scan_with_mapped_path_and_upper_case_hash_across_sweeps(self):
        a, b = self.setup_two(seedbox_extra='PathMapping = ["%s=/mnt/arr/movies", "/nowhere=/x"]'
                              % self.data)
        spec = self.torrent("Complete.Movie.2020", files={"m.mkv": 70000, "n.srt": 100})
        b.add(spec, category="radarr", skip_checking=True)
        b.wait_state(spec.hash, SEEDING)
        b.wait_completed(spec.hash)
        r1 = self.sweep("--json", check=0)
        r2 = self.sweep("--json", check=0)
        self.assertEqual(self.scans(), [{
            "name": "DownloadedMoviesScan", "path": "/mnt/arr/movies/Complete.Movie.2020",
            "downloadClientId": spec.hash.upper(), "importMode": "Copy"}])
        self.assertEqual([x["instance"] for x in r1.json()["actions"] if x["action"] == "import"],
                         ["qBit-Seedbox"])
        self.assertEqual([x for x in r2.json()["actions"] if x["action"] == "import"], [])
        row = self.rows("instance = 'qBit-Seedbox'")[0]
        self.assertEqual(row["import_command_id"], 1)
        self.assertEqual(row["import_result"], "queued")
        self.assertIsNotNone(row["import_sent_at"])

    def test_import_waits_for_import_delay(self):
        a, b = self.setup_two(settings="ImportDelay = 10m")
        spec = self.torrent("Fresh.Movie.mkv", size=30000)
        a.add(spec, category="radarr", skip_checking=True)
        a.wait_state(spec.hash, SEEDING)
        completed = a.torrent(spec.hash)["completion_on"]
        self.sweep(now=completed + 9 * 60, check=0)
        self.assertEqual(self.scans(), [])
        self.sweep(now=completed + 10 * 60, check=0)
        self.assertEqual(len(self.scans()), 1)

    def test_failed_import_is_retried_with_backoff_then_never_again(self):
        a, b = self.setup_two()
        spec = self.torrent("Retry.Movie.mkv", size=30000)
        a.add(spec, category="radarr", skip_checking=True)
        a.wait_state(spec.hash, SEEDING)
        t0 = int(time.time()) + 5
        self.radarr.set_fault("POST", "/command", "500", count=1)
        r = self.sweep("--json", now=t0, check=1)
        self.assertEqual([(x["action"], x["result"]) for x in r.json()["actions"]
                          if x["action"] == "import"], [("import", "failed")])
        self.assertIn("Radarr-Movies: command: HTTP 500", r.stderr)
        row = self.rows()[0]
        self.assertEqual(row["import_attempts"], 1)
        self.assertTrue(row["import_result"].startswith("failed"))
        self.sweep(now=t0 + 30, check=0)           # inside the backoff: nothing sent
        self.assertEqual(self.scans(), [])
        self.sweep(now=t0 + 61, check=0)
        self.assertEqual(len(self.scans()), 1)
        self.sweep(now=t0 + 4000, check=0)
        self.assertEqual(len(self.scans()), 1)

    def test_verify_import_reports_a_failed_command(self):
        a, b = self.setup_two(arr_extra="VerifyImport = true\n")
        self.radarr.set_command_result("DownloadedMoviesScan", "failed")
        spec = self.torrent("Verify.Movie.mkv", size=30000)
        a.add(spec, category="radarr", skip_checking=True)
        a.wait_state(spec.hash, SEEDING)
        a.wait_completed(spec.hash)
        self.sweep(check=0)
        statuses = []
        for _ in range(4):
            r = self.sweep("--json")
            statuses.append(self.rows()[0]["import_result"])
            if statuses[-1] == "failed":
                break
        self.assertEqual(statuses[-1], "failed")
        self.assertEqual(r.rc, 1)
        self.assertIn("import command 1 failed", r.stderr)
        gets = [c for c in self.radarr.calls() if c["method"] == "GET"
                and c["path"].endswith("/command/1")]
        self.assertEqual(len(gets), len(statuses))
        self.assertEqual(len(self.scans()), 1)

    def test_verify_import_unsuccessful_is_a_failed_import(self):
        # A scan that imports nothing ends completed/unsuccessful: said once, final.
        a, b = self.setup_two(arr_extra="VerifyImport = true\n")
        self.radarr.set_command_result("DownloadedMoviesScan", "unsuccessful")
        spec = self.torrent("Verify.Unsuccessful.mkv", size=30000)
        a.add(spec, category="radarr", skip_checking=True)
        a.wait_state(spec.hash, SEEDING)
        a.wait_completed(spec.hash)
        self.sweep(check=0)
        for _ in range(4):
            r = self.sweep("--json")
            if self.rows()[0]["import_result"] == "unsuccessful":
                break
        self.assertEqual(self.rows()[0]["import_result"], "unsuccessful")
        self.assertEqual(r.rc, 1)
        self.assertRegex(r.stderr, r"import command \d+ unsuccessful")
        r = self.sweep("--json", check=0)
        self.assertNotIn("verify_import", [x["action"] for x in r.json()["actions"]])
        self.assertEqual(len(self.scans()), 1)

    def test_verify_import_orphaned_is_said_once_then_imported_again(self):
        # The Arr restarted while the scan ran: nothing was imported.
        a, b = self.setup_two(arr_extra="VerifyImport = true\n")
        self.radarr.set_command_result("DownloadedMoviesScan", "orphaned")
        spec = self.torrent("Verify.Orphaned.mkv", size=30000)
        a.add(spec, category="radarr", skip_checking=True)
        a.wait_state(spec.hash, SEEDING)
        a.wait_completed(spec.hash)
        t0 = int(time.time()) + 5
        self.sweep(now=t0, check=0)
        for k in range(4):
            r = self.sweep("--json", now=t0 + 1 + k)
            if self.rows()[0]["import_result"] == "orphaned":
                break
        self.assertEqual(self.rows()[0]["import_result"], "orphaned")
        self.assertEqual(r.rc, 1)
        self.assertIn("orphaned (the Arr restarted while it ran): the import is sent "
                      "again in 60 s", r.stderr)
        self.assertEqual(len(self.scans()), 1)
        self.radarr.set_command_result("DownloadedMoviesScan", "completed")
        r = self.sweep("--json", now=t0 + 30, check=0)     # inside the backoff
        self.assertEqual([x for x in r.json()["actions"]
                          if x["action"] in ("import", "verify_import")], [])
        self.sweep(now=t0 + 70, check=0)
        self.assertEqual(len(self.scans()), 2)

    def test_seeding_time_counts_seeding_only_paused_copy_kept(self):
        # qBitrr's clock is qBittorrent's seeding_time: a paused copy has not
        # seeded, however long ago it completed.
        a, b = self.setup_two(seeding="RemoveTorrent = 2\nMaxSeedingTime = 2\n")
        spec = self.torrent("Seeded.Enough", files={"movie.mkv": 50000})
        copy_root = os.path.join(self.tmp, "b")
        os.makedirs(copy_root)
        copy = H.make_torrent(copy_root, "Seeded.Enough", files={"movie.mkv": 50000})
        a.add(spec, category="radarr", skip_checking=True)
        b.add(copy, category="radarr", skip_checking=True, paused=True)
        a.wait_state(spec.hash, SEEDING)
        b.wait_state(copy.hash, ("pausedUP", "stoppedUP"))
        t0 = int(time.time()) + 2
        self.sweep(now=t0, check=0)            # imports both
        wait_seeded(a, spec, 2)
        self.assertLess(b.torrent(copy.hash)["seeding_time"], 2)
        r = self.sweep("--json", now=t0 + 2 * 3600, check=0)
        dels = [(x["instance"], x["result"]) for x in r.json()["actions"] if x["action"] == "delete"]
        self.assertEqual(dels, [("qBit", "done")])
        H.wait_until(lambda: a.torrent(spec.hash) is None)
        self.assertIsNotNone(b.torrent(copy.hash))
        self.assertTrue(os.path.exists(copy.content_path))
        self.assertIn("MaxSeedingTime 2 s", r.stderr)

    def test_ratio_reached_by_real_upload_removes_seeder_only(self):
        a, b = self.setup_two(seeding="RemoveTorrent = 1\nMaxUploadRatio = 0.5\n")
        tracker_port = H.free_port()
        a.set_prefs({"enable_embedded_tracker": True, "embedded_tracker_port": tracker_port})
        spec = self.torrent("Shared.Movie", files={"movie.mkv": 3 * 1024 * 1024},
                            tracker="http://127.0.0.1:%d/announce" % tracker_port,
                            piece_length=65536)
        a.add(spec, category="radarr", skip_checking=True)
        a.wait_state(spec.hash, SEEDING)
        leech_root = os.path.join(self.tmp, "leech")
        os.makedirs(leech_root)
        b.add(spec, category="radarr", save_path=leech_root)
        for _ in range(3):
            try:
                b.wait_state(spec.hash, SEEDING, timeout=20)
                break
            except AssertionError:
                a.post("torrents/reannounce", {"hashes": spec.hash})
                b.post("torrents/reannounce", {"hashes": spec.hash})
        b.wait_state(spec.hash, SEEDING, timeout=30)
        H.wait_until(lambda: a.torrent(spec.hash)["ratio"] >= 0.5, timeout=20,
                     what="seeder ratio >= 0.5")
        a.wait_completed(spec.hash)
        b.wait_completed(spec.hash)
        self.sweep(check=0)                   # imports on both instances
        self.assertEqual(len(self.scans()), 2)
        r = self.sweep("--json", check=0)
        dels = [(x["instance"], x["result"]) for x in r.json()["actions"] if x["action"] == "delete"]
        self.assertEqual(dels, [("qBit", "done")])
        H.wait_until(lambda: a.torrent(spec.hash) is None)
        self.assertIsNotNone(b.torrent(spec.hash))
        self.assertIn("MaxUploadRatio 0.50", r.stderr)

    def test_not_removed_before_import_succeeded(self):
        a, b = self.setup_two(seeding="RemoveTorrent = 2\nMaxSeedingTime = 1h\n")
        spec = self.torrent("Not.Imported.mkv", size=30000)
        a.add(spec, category="radarr", skip_checking=True)
        a.wait_state(spec.hash, SEEDING)
        self.radarr.set_fault("POST", "/command", "500")
        self.radarr.set_queue([{"downloadId": spec.hash_upper, "movieId": 3}])
        t0 = int(time.time()) + 2
        self.sweep(now=t0, check=1)
        r = self.sweep("--json", now=t0 + 3 * 3600, check=1)
        self.assertEqual([x for x in r.json()["actions"] if x["action"] == "delete"], [])
        self.assertIsNotNone(a.torrent(spec.hash))

    def test_rate_limits_applied_only_when_different(self):
        # Bytes/s, as qBitrr passes the Arr-level limit to qBittorrent.
        a, b = self.setup_two(seeding="UploadRateLimitPerTorrent = 102400\n")
        spec = self.torrent("Limited.mkv", size=30000)
        b.add(spec, category="radarr", skip_checking=True)
        b.wait_state(spec.hash, SEEDING)
        r = self.sweep("--json", check=0)
        self.assertIn(("qBit-Seedbox", "set_limits", "done"),
                      [(x["instance"], x["action"], x["result"]) for x in r.json()["actions"]])
        H.wait_until(lambda: b.torrent(spec.hash)["up_limit"] == 102400)
        r = self.sweep("--json", check=0)
        self.assertNotIn("set_limits", [x["action"] for x in r.json()["actions"]])

    def test_dry_run_plans_import_and_removal_and_sends_nothing(self):
        a, b = self.setup_two(seeding="RemoveTorrent = 2\nMaxSeedingTime = 2\n")
        spec = self.torrent("Dry.Import.mkv", size=30000)
        a.add(spec, category="radarr", skip_checking=True)
        a.wait_state(spec.hash, SEEDING)
        a.wait_completed(spec.hash)
        r = self.sweep("--dry-run", "--json", check=0)
        self.assertIn(("import", "planned"), [(x["action"], x["result"]) for x in r.json()["actions"]])
        self.assertEqual(self.scans(), [])
        t0 = int(time.time())
        self.sweep(now=t0, check=0)
        n_calls = len(self.radarr.calls())
        wait_seeded(a, spec, 2)
        r = self.sweep("--dry-run", "--json", now=t0 + 2 * 3600, check=0)
        self.assertIn(("delete", "planned"), [(x["action"], x["result"]) for x in r.json()["actions"]])
        self.assertEqual([c for c in self.radarr.calls()[n_calls:] if c["method"] != "GET"], [])
        self.assertIsNotNone(a.torrent(spec.hash))
