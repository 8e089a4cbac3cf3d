"""Issue 3: health rules acting on the instance where the torrent lives,
with Arr blocklists and searches recorded by a fake Arr."""
import json
import os
import time

import harness as H
from common import Env, instance_section, arr_section, later, GENERATED_FILTERS

SEEDING = ("stalledUP", "uploading")


class HealthTest(Env):

    def setup_two(self, settings="", torrent_extra="", seeding_extra=""):
        self.radarr = self.fake_arr("radarr")
        a, b = self.qbt[0], self.qbt[1]
        self.config("[Settings]\nImportDelay = 1h\nIgnoreTorrentsYoungerThan = 0\n%s\n"
                    % settings
                    + instance_section("qBit", a)
                    + instance_section("qBit-Seedbox", b)
                    + arr_section("Radarr-Movies", "radarr", self.radarr)
                    + "[Radarr-Movies.Torrent]\nStalledDelay = 15\n%s\n" % torrent_extra
                    + "[Radarr-Movies.Torrent.SeedingMode]\n%s\n" % seeding_extra)
        return a, b

    def queue_for(self, *specs, start_id=40):
        self.radarr.set_queue([{"downloadId": s.hash_upper, "movieId": start_id + i,
                                "title": s.name, "status": "downloading"}
                               for i, s in enumerate(specs)])

    def test_stalled_removed_only_after_delay_across_runs_other_instance_untouched(self):
        a, b = self.setup_two()
        spec = self.torrent("Stalled.Movie.2021", files={"movie.mkv": 100000})
        # Instance B has the data and seeds; instance A has nothing: stalledDL.
        b.add(spec, category="radarr", skip_checking=True)
        a.add(spec, category="radarr", save_path=os.path.join(self.tmp, "empty"))
        a.wait_state(spec.hash, ("stalledDL",))
        b.wait_state(spec.hash, SEEDING)
        self.queue_for(spec)
        t0 = int(time.time())

        r = self.sweep("--json", now=t0, check=0)
        self.assertEqual([x for x in r.json()["actions"] if x["action"] == "delete"], [])
        row = self.rows("instance = 'qBit' AND hash = ?", (spec.hash,))[0]
        self.assertEqual(row["stalled_since"], t0)

        # A later, separate run before the delay: still waiting.
        r = self.sweep("--json", now=t0 + 10 * 60, check=0)
        self.assertEqual([x for x in r.json()["actions"] if x["action"] == "delete"], [])
        self.assertIsNotNone(a.torrent(spec.hash))
        self.assertEqual(self.rows("instance = 'qBit' AND hash = ?",
                                   (spec.hash,))[0]["stalled_since"], t0)
        self.assertEqual([c for c in self.radarr.calls() if c["method"] == "DELETE"], [])

        # Past StalledDelay: blocklist, delete on A only, search.
        r = self.sweep("--json", now=t0 + 16 * 60, check=0)
        acts = [(x["instance"], x["action"], x["result"]) for x in r.json()["actions"]]
        self.assertIn(("qBit", "blocklist", "done"), acts)
        self.assertIn(("qBit", "delete", "done"), acts)
        self.assertIn(("qBit", "search", "done"), acts)
        self.assertNotIn("qBit-Seedbox", [x[0] for x in acts])
        H.wait_until(lambda: a.torrent(spec.hash) is None, what="deleted on qBit")
        self.assertEqual(b.torrent(spec.hash)["state"] in SEEDING, True)
        self.assertTrue(os.path.exists(spec.content_path), "B's data must stay")
        calls = self.radarr.calls()
        dels = [c for c in calls if c["method"] == "DELETE"]
        self.assertEqual(len(dels), 1)
        q = dels[0]["query"]
        self.assertEqual((q["removeFromClient"], q["blocklist"], q["skipRedownload"]),
                         ("false", "true", "true"))
        cmds = [c["body"] for c in calls if c["method"] == "POST" and c["path"].endswith("/command")]
        self.assertEqual(cmds, [{"name": "MoviesSearch", "movieIds": [40]}])
        self.assertIn("stalled", r.stderr)
        self.assertIn("StalledDelay 15 min", r.stderr)

    def test_stalled_waits_when_the_arr_is_unreachable(self):
        a, b = self.setup_two()
        spec = self.torrent("Stalled.Unreachable.mkv", size=50000, write_data=False)
        a.add(spec, category="radarr")
        a.wait_state(spec.hash, ("stalledDL",))
        t0 = int(time.time())
        self.sweep(now=t0, check=0)
        self.radarr.set_fault("GET", "/queue", "500")
        r = self.sweep("--json", now=t0 + 20 * 60, check=1)
        self.assertEqual([x for x in r.json()["actions"] if x["action"] == "delete"], [])
        self.assertIsNotNone(a.torrent(spec.hash))
        self.assertIn("Radarr-Movies: queue: HTTP 500", r.stderr)
        self.radarr.clear_faults()
        self.queue_for(spec)
        r = self.sweep("--json", now=t0 + 21 * 60, check=0)
        self.assertIn(("delete", "done"), [(x["action"], x["result"]) for x in r.json()["actions"]])

    def test_failed_category_deletes_blocklists_and_searches_on_its_instance(self):
        a, b = self.setup_two()
        spec = self.torrent("Bad.Release.2020", size=60000)
        other_root = os.path.join(self.tmp, "copy")
        os.makedirs(other_root)
        copy = H.make_torrent(other_root, "Bad.Release.2020", size=60000)
        self.assertEqual(copy.hash, spec.hash)
        a.add(copy, category="radarr", skip_checking=True)
        b.add(spec, category="radarr", skip_checking=True)
        b.wait_state(spec.hash, SEEDING)
        # Radarr grabbed it to the Seedbox; the copy on qBit is a cross-seed
        # it also tracks (same hash, its category, another client).
        self.radarr.set_queue([{"downloadId": spec.hash_upper, "movieId": 7,
                                "title": spec.name, "downloadClient": "qBit-Seedbox"}])
        self.sweep(check=0)      # learns the Arr and category of both
        b.post("torrents/setCategory", {"hashes": spec.hash, "category": "failed"})
        r = self.sweep("--json", check=0)
        acts = [(x["instance"], x["action"], x["result"]) for x in r.json()["actions"]]
        # Gone from the queue on the Seedbox: blocklisted through its grab; the
        # qBit copy's queue record (another instance's) is left alone.
        self.assertEqual(sorted(acts), sorted([("qBit-Seedbox", "blocklist", "done"),
                                               ("qBit-Seedbox", "delete", "done")]))
        H.wait_until(lambda: b.torrent(spec.hash) is None)
        H.wait_until(lambda: not os.path.exists(spec.content_path), what="files deleted")
        self.assertIsNotNone(a.torrent(spec.hash))
        self.assertTrue(os.path.exists(copy.content_path))
        writes = [(c["method"], c["path"]) for c in self.radarr.calls() if c["method"] != "GET"]
        grab = [h["id"] for h in self.radarr.state()["history"] if h["eventType"] == "grabbed"]
        self.assertEqual(writes, [("POST", "/api/v3/history/failed/%d" % grab[0])])
        # Searched once, by the Arr's own Redownload Failed.
        self.assertEqual([c["body"]["movieIds"] for c in self.radarr.commands()], [[7]])

    def test_recheck_category_rechecks_and_restores_category(self):
        a, b = self.setup_two()
        spec = self.torrent("Recheck.Me", size=40000)
        b.add(spec, category="radarr", skip_checking=True)
        b.wait_state(spec.hash, SEEDING)
        self.sweep(check=0)
        b.post("torrents/setCategory", {"hashes": spec.hash, "category": "recheck"})
        r = self.sweep("--json", check=0)
        acts = [(x["instance"], x["action"], x["result"]) for x in r.json()["actions"]]
        self.assertIn(("qBit-Seedbox", "recheck", "done"), acts)
        self.assertIn(("qBit-Seedbox", "set_category", "done"), acts)
        H.wait_until(lambda: b.torrent(spec.hash)["category"] == "radarr")
        # Without a known previous category: left in recheck and reported.
        new = self.torrent("Recheck.Unknown", size=30000)
        b.add(new, category="recheck", skip_checking=True)
        r = self.sweep("--json", check=0)
        acts = [(x["hash"], x["action"]) for x in r.json()["actions"]]
        self.assertIn((new.hash, "recheck"), acts)
        self.assertNotIn((new.hash, "set_category"), acts)
        self.assertIn("no previous category", r.stderr)
        r = self.sweep("--json", check=0)
        self.assertNotIn((new.hash, "recheck"),
                         [(x["hash"], x["action"]) for x in r.json()["actions"]])

    def test_missing_files_removed_without_blocklist(self):
        a, b = self.setup_two()
        spec = self.torrent("Vanishing.Data", files={"a.mkv": 40000, "b.srt": 100})
        b.add(spec, category="radarr", skip_checking=True)
        b.wait_state(spec.hash, SEEDING)
        self.queue_for(spec)
        import shutil
        shutil.rmtree(spec.content_path)
        b.restart()
        b.wait_state(spec.hash, ("missingFiles",))
        r = self.sweep("--json", check=0)
        acts = [(x["instance"], x["action"], x["result"]) for x in r.json()["actions"]]
        self.assertIn(("qBit-Seedbox", "delete", "done"), acts)
        self.assertNotIn("blocklist", [x[1] for x in acts])
        self.assertEqual([c for c in self.radarr.calls() if c["method"] != "GET"], [])
        H.wait_until(lambda: b.torrent(spec.hash) is None)

    def test_unwanted_files_get_priority_zero(self):
        a, b = self.setup_two(torrent_extra=GENERATED_FILTERS)
        spec = self.torrent("Film.2022", write_data=False, files={
            "film.mkv": 60000, "sample.mkv": 5000, "info.nfo": 300,
            "Extras/bonus.mkv": 8000, "subs.srt": 200})
        b.add(spec, category="radarr")
        b.wait_state(spec.hash, ("stalledDL", "downloading", "metaDL"))
        r = self.sweep("--json", check=0)
        acts = [(x["action"], x["result"]) for x in r.json()["actions"]]
        self.assertIn(("set_file_priority", "done"), acts)
        files = {f["name"]: f["priority"] for f in b.get("torrents/files", hash=spec.hash)}
        self.assertEqual(files, {"Film.2022/film.mkv": 1, "Film.2022/subs.srt": 1,
                                 "Film.2022/sample.mkv": 0, "Film.2022/info.nfo": 0,
                                 "Film.2022/Extras/bonus.mkv": 0})
        # Once per torrent: the next sweep does not even fetch the files.
        r = self.sweep("--json", check=0)
        self.assertNotIn("set_file_priority", [x["action"] for x in r.json()["actions"]])

    def test_dry_run_plans_the_same_actions_and_changes_nothing(self):
        a, b = self.setup_two()
        spec = self.torrent("Dry.Stalled.mkv", size=50000, write_data=False)
        a.add(spec, category="radarr")
        a.wait_state(spec.hash, ("stalledDL",))
        self.queue_for(spec)
        t0 = int(time.time())
        self.sweep(now=t0, check=0)
        before_db = open(self.state, "rb").read()
        before_calls = len(self.radarr.calls())
        r = self.sweep("--dry-run", "--json", now=t0 + 16 * 60, check=0)
        planned = sorted((x["action"], x["result"]) for x in r.json()["actions"])
        self.assertEqual(planned, [("blocklist", "planned"), ("delete", "planned"),
                                   ("search", "planned")])
        self.assertIsNotNone(a.torrent(spec.hash))
        self.assertEqual(open(self.state, "rb").read(), before_db)
        new_calls = self.radarr.calls()[before_calls:]
        self.assertEqual(sorted((c["method"], c["path"]) for c in new_calls),
                         [("GET", "/api/v3/downloadclient"), ("GET", "/api/v3/queue")])
        # The real run then does what was planned.
        r = self.sweep("--json", now=t0 + 16 * 60, check=0)
        done = sorted((x["action"], x["result"]) for x in r.json()["actions"])
        self.assertEqual(done, [("blocklist", "done"), ("delete", "done"), ("search", "done")])

    def test_errored_torrent_rechecked_once_then_reported_never_deleted(self):
        a, b = self.setup_two()
        blocker = os.path.join(self.tmp, "not-a-dir")
        with open(blocker, "w") as f:
            f.write("x")
        spec = self.torrent("Errored.Thing", size=30000, write_data=False)
        b.add(spec, category="radarr", save_path=blocker)
        b.wait_state(spec.hash, ("error",))
        r = self.sweep("--json", check=0)
        self.assertIn(("recheck", "done"), [(x["action"], x["result"]) for x in r.json()["actions"]])
        b.wait_state(spec.hash, ("error",))
        r = self.sweep("--json", check=0)
        self.assertEqual(r.json()["actions"], [])
        self.assertIn("still in state error after a recheck", r.stderr)
        self.assertIsNotNone(b.torrent(spec.hash))
