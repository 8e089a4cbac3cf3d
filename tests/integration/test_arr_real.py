"""Issue 11: Arrs that track only their own category (arr-api.md section 8).

The fake Arrs here list a download in their queue only while it sits in
their category on one of their download clients (the config's instances),
as Radarr, Sonarr and Lidarr do; a move to FailedCategory drops it from the
queue, and the blocklist must go through the grab in the Arr's history."""
import os

import harness as H
from common import Env, instance_section, arr_section

SEEDING = ("stalledUP", "uploading")


class BlocklistWithoutQueueTest(Env):

    n_instances = 2

    def setup_one(self, kind="radarr", category="radarr"):
        self.arr = self.fake_arr(kind)
        a = self.qbt[0]
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\n\n"
                    + instance_section("qBit", a)
                    + arr_section(kind.capitalize() + "-Test", category, self.arr))
        return a

    def failed_download(self, a, name, media_id=5, category="radarr", grabbed=True,
                        sweep_first=True):
        spec = self.torrent(name, size=40000)
        a.add(spec, category=category, skip_checking=True)
        a.wait_state(spec.hash, SEEDING)
        if grabbed:
            field = {"radarr": "movieId", "sonarr": "episodeId",
                     "lidarr": "albumId"}[self.arr.kind]
            self.arr.set_queue([{"downloadId": spec.hash_upper, field: media_id,
                                 "title": spec.name}])
            H.wait_until(lambda: [r["downloadId"] for r in
                                  self.arr.api("GET", "queue")[1]["records"]]
                         == [spec.hash_upper], what="download in the Arr's queue")
        if sweep_first:
            self.sweep(check=0)         # seen in the Arr's category first
        else:
            a.create_category("failed")
        a.post("torrents/setCategory", {"hashes": spec.hash, "category": "failed"})
        # The Arr's next look at its category: gone from its queue.
        H.wait_until(lambda: self.arr.api("GET", "queue")[1]["records"] == [],
                     what="download gone from the Arr's queue")
        return spec

    def test_moved_to_failed_is_blocklisted_by_its_grab_and_searched_once(self):
        for kind, cat, field, search in (("sonarr", "tv-sonarr", "episodeIds", "EpisodeSearch"),
                                         ("lidarr", "music", "albumIds", "AlbumSearch")):
            with self.subTest(kind=kind):
                self.cluster.reset()
                self.arrs = []
                a = self.setup_one(kind, cat)
                spec = self.failed_download(a, "Gone.From.Queue.%s" % kind, 31, cat)
                r = self.sweep("--json", check=0)
                acts = [(x["action"], x["result"]) for x in r.json()["actions"]]
                self.assertEqual(acts, [("blocklist", "done"), ("delete", "done")])
                api = "v1" if kind == "lidarr" else "v3"
                grab = [h["id"] for h in self.arr.state()["history"]
                        if h["eventType"] == "grabbed"]
                self.assertEqual([(c["method"], c["path"]) for c in self.arr.calls()
                                  if c["method"] != "GET"],
                                 [("POST", "/api/%s/history/failed/%d" % (api, grab[0]))])
                self.assertEqual([(c["name"], c["body"][field]) for c in
                                  self.arr.commands()], [(search, [31])])
                H.wait_until(lambda: a.torrent(spec.hash) is None, what="deleted")
                self.assertIn("its grab %d in the history is marked failed" % grab[0],
                              r.stderr)

    def test_history_unreachable_waits_then_blocklists(self):
        a = self.setup_one()
        spec = self.failed_download(a, "History.Down")
        self.arr.set_fault("GET", "/history", "500")
        r = self.sweep("--json", check=1)
        self.assertEqual(r.json()["actions"], [])
        self.assertIn("Radarr-Test: history: HTTP 500", r.stderr)
        self.assertIn("Radarr-Test history is unreachable: removal waits",
                      r.json()["torrents"][0]["waiting"])
        self.assertIsNotNone(a.torrent(spec.hash))
        self.arr.clear_faults()
        r = self.sweep("--dry-run", "--json", check=0)
        self.assertEqual(sorted((x["action"], x["result"]) for x in r.json()["actions"]),
                         [("blocklist", "planned"), ("delete", "planned")])
        self.assertEqual([c for c in self.arr.calls() if c["method"] != "GET"], [])
        r = self.sweep("--json", check=0)
        self.assertEqual(sorted((x["action"], x["result"]) for x in r.json()["actions"]),
                         [("blocklist", "done"), ("delete", "done")])

    def test_never_grabbed_is_deleted_without_a_blocklist(self):
        a = self.setup_one()
        # Never seen in an Arr's category either: every Arr's history is asked.
        spec = self.failed_download(a, "Never.Grabbed", grabbed=False, sweep_first=False)
        r = self.sweep("--json", check=0)
        acts = [(x["action"], x["result"]) for x in r.json()["actions"]
                if x["action"] != "create_category"]
        self.assertEqual(acts, [("delete", "done")])
        self.assertIn("neither in any Arr queue nor in its grab history", r.stderr)
        self.assertEqual([(c["method"], c["path"], c["query"].get("downloadId"))
                          for c in self.arr.calls() if "/history" in c["path"]],
                         [("GET", "/api/v3/history", spec.hash_upper)])
        self.assertEqual([c for c in self.arr.calls() if c["method"] != "GET"], [])
        H.wait_until(lambda: a.torrent(spec.hash) is None, what="deleted")
