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

    def test_odd_history_or_failed_mark_deletes_nothing(self):
        a = self.setup_one()
        spec = self.failed_download(a, "History.Odd")
        # A history page cut in half: an error for the Arr, the torrent kept.
        self.arr.set_fault("GET", "/history", "truncate", count=1)
        r = self.sweep("--json", check=1)
        self.assertEqual(r.json()["actions"], [])
        self.assertIn("Radarr-Test: history: malformed JSON", r.stderr)
        # history/failed refused: no delete after a blocklist that did not happen.
        self.arr.set_fault("POST", "/history/failed", "500", count=1)
        r = self.sweep("--json", check=1)
        self.assertEqual(sorted((x["action"], x["result"]) for x in r.json()["actions"]),
                         [("blocklist", "failed"), ("delete", "skipped")])
        self.assertIsNotNone(a.torrent(spec.hash))
        self.assertTrue(os.path.exists(spec.content_path))
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


class SameHashTwoInstancesTest(Env):
    """A hash on two instances: the Arr's download clients (host, port) tell
    which queue record or grab is which instance's."""

    n_instances = 2

    def setup_two(self, b_url=None):
        self.arr = self.fake_arr("radarr")
        a, b = self.qbt[0], self.qbt[1]
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\n\n"
                    + instance_section("qBit", a)
                    + instance_section("qBit-Seedbox", b, url=b_url)
                    + arr_section("Radarr-Movies", "radarr", self.arr)
                    + "[Radarr-Movies.Torrent]\nStalledDelay = 15\n")
        return a, b

    def test_queue_blocklist_removes_only_this_instances_record(self):
        a, b = self.setup_two()
        spec = self.torrent("Two.Clients.2021", files={"movie.mkv": 100000})
        b.add(spec, category="radarr", skip_checking=True)
        a.add(spec, category="radarr", save_path=os.path.join(self.tmp, "empty"))
        a.wait_state(spec.hash, ("stalledDL",))
        b.wait_state(spec.hash, SEEDING)
        self.arr.set_queue([{"downloadId": spec.hash_upper, "movieId": 8,
                             "title": spec.name, "downloadClient": "qBit"}])
        queue = H.wait_until(lambda: (lambda q: q if len(q) == 2 else None)(
            self.arr.api("GET", "queue")[1]["records"]), what="a record per client")
        mine = [q["id"] for q in queue if q["downloadClient"] == "qBit"]
        t0 = int(H.time.time())
        self.sweep(now=t0, check=0)
        r = self.sweep("--json", now=t0 + 16 * 60, check=0)
        acts = sorted((x["instance"], x["action"], x["result"]) for x in r.json()["actions"]
                      if x["action"] in ("blocklist", "delete", "search"))
        self.assertEqual(acts, [("qBit", "blocklist", "done"), ("qBit", "delete", "done"),
                                ("qBit", "search", "done")])
        dels = [c for c in self.arr.calls() if c["method"] == "DELETE"]
        self.assertEqual([c["path"] for c in dels], ["/api/v3/queue/%d" % mine[0]])
        # The Seedbox's download is still tracked by the Arr, and still seeds.
        self.assertEqual([q["downloadClient"] for q in self.arr.queue()], ["qBit-Seedbox"])
        self.assertIn(b.torrent(spec.hash)["state"], SEEDING)

    def test_cannot_tell_whose_grab_keeps_and_reports(self):
        b_proxy = H.FaultProxy(self.qbt[1].url)
        self.addCleanup(b_proxy.close)
        # The tool reaches the Seedbox through a proxy: the Arr's client for it
        # (the real host:port) matches none of the tool's instances.
        a, b = self.setup_two(b_url=b_proxy.url)
        spec = self.torrent("Whose.Grab.2022", size=50000)
        copy_root = os.path.join(self.tmp, "copy")
        os.makedirs(copy_root)
        copy = H.make_torrent(copy_root, "Whose.Grab.2022", size=50000)
        a.add(copy, category="radarr", skip_checking=True)
        b.add(spec, category="radarr", skip_checking=True)
        b.wait_state(spec.hash, SEEDING)
        self.arr.set_queue([{"downloadId": spec.hash_upper, "movieId": 9,
                             "title": spec.name, "downloadClient": "qBit-Seedbox"}])
        self.sweep(check=0)
        b.post("torrents/setCategory", {"hashes": spec.hash, "category": "failed"})
        r = self.sweep("--json", check=0)
        self.assertEqual([x for x in r.json()["actions"] if x["action"] != "create_category"], [])
        self.assertIn("grab names a download client that matches none of them: kept",
                      r.stderr)
        self.assertEqual([c for c in self.arr.calls() if c["method"] != "GET"], [])
        self.assertIsNotNone(b.torrent(spec.hash))
        self.assertTrue(os.path.exists(spec.content_path))


    def test_another_instance_listing_the_hash_in_failed_blocklists_nothing(self):
        # Issue 13: an instance (hostile, or a user's mistake) that puts
        # another instance's download in its FailedCategory: the grab is the
        # Seedbox's, so nothing is blocklisted, searched or removed there.
        a, b = self.setup_two()
        spec = self.torrent("Not.Yours.2023", size=50000)
        copy_root = os.path.join(self.tmp, "copy")
        os.makedirs(copy_root)
        copy = H.make_torrent(copy_root, "Not.Yours.2023", size=50000)
        b.add(spec, category="radarr", skip_checking=True)
        b.wait_state(spec.hash, SEEDING)
        self.arr.set_queue([{"downloadId": spec.hash_upper, "movieId": 12,
                             "title": spec.name, "downloadClient": "qBit-Seedbox"}])
        H.wait_until(lambda: len(self.arr.api("GET", "queue")[1]["records"]) == 1,
                     what="the Seedbox's download in the Arr's queue")
        a.create_category("failed")
        a.add(copy, category="failed", skip_checking=True)
        a.wait_state(copy.hash, SEEDING)
        r = self.sweep("--json", check=0)
        self.assertEqual([x for x in r.json()["actions"]
                          if x["action"] in ("blocklist", "search")], [])
        # Its own copy is its own to remove; the Seedbox's is not touched.
        self.assertEqual([(x["instance"], x["result"]) for x in r.json()["actions"]
                          if x["action"] == "delete"], [("qBit", "done")])
        self.assertEqual([c for c in self.arr.calls() if c["method"] != "GET"], [])
        self.assertEqual([q["downloadClient"] for q in self.arr.queue()], ["qBit-Seedbox"])
        self.assertIn(b.torrent(spec.hash)["state"], SEEDING)
        self.assertTrue(os.path.exists(spec.content_path))


class UrlBaseTest(Env):

    n_instances = 1

    def test_307_says_the_url_base_is_probably_missing(self):
        arr = H.FakeArr("radarr", url_base="/radarr", workdir=self.tmp)
        arr.start()
        self.addCleanup(arr.stop)
        a = self.qbt[0]
        spec = self.torrent("Url.Base.Missing", size=30000)
        a.create_category("failed")
        a.add(spec, category="failed", skip_checking=True)
        a.wait_state(spec.hash, SEEDING)
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\n\n"
                    + instance_section("qBit", a)
                    + "[Radarr-Movies]\nCategory = radarr\nURI = %s\nAPIKey = %s\n"
                    % (arr.root_url, arr.api_key))
        r = self.sweep("--json", check=1)
        self.assertIn("Radarr-Movies: queue: HTTP 307: redirected; the Arr's URL Base "
                      "(Settings, General) is probably missing from URI", r.stderr)
        self.assertEqual([x for x in r.json()["actions"] if x["action"] == "delete"], [])
        self.assertIsNotNone(a.torrent(spec.hash))


class QueueReadTest(Env):

    n_instances = 1

    def test_a_long_queue_is_read_as_one_page_of_total_records(self):
        arr = self.fake_arr("radarr")
        a = self.qbt[0]
        spec = self.torrent("Deep.In.The.Queue", size=30000)
        a.create_category("failed")
        a.add(spec, category="failed", skip_checking=True)
        a.wait_state(spec.hash, SEEDING)
        others = [{"downloadId": "%040X" % (i + 1), "movieId": 1000 + i}
                  for i in range(1200)]
        arr.set_queue(others + [{"downloadId": spec.hash_upper, "movieId": 7}])
        # Written directly: this fake keeps its queue as set (not following
        # the categories), so the download stays queued however it moves.
        self.cfg = H.write_config(self.tmp, "[Settings]\nIgnoreTorrentsYoungerThan = 0\n\n"
                                  + instance_section("qBit", a)
                                  + arr_section("Radarr-Movies", "radarr", arr))
        r = self.sweep("--json", check=0)
        acts = sorted((x["action"], x["result"]) for x in r.json()["actions"]
                      if x["action"] != "create_category")
        self.assertEqual(acts, [("blocklist", "done"), ("delete", "done"),
                                ("search", "done")])
        sizes = [c["query"].get("pageSize") for c in arr.calls()
                 if c["path"] == "/api/v3/queue" and c["method"] == "GET"]
        self.assertEqual(sizes, ["1000", "1201"])
        self.assertEqual([c["query"].get("page") for c in arr.calls()
                          if c["path"] == "/api/v3/queue"], ["1", "1"])

    def test_bulk_404_does_not_skip_the_other_downloads(self):
        arr = self.fake_arr("radarr")
        a = self.qbt[0]
        a.create_category("failed")
        one = self.torrent("Bulk.One", size=30000)
        two = self.torrent("Bulk.Two", size=31000)
        for spec in (one, two):
            a.add(spec, category="failed", skip_checking=True)
            a.wait_state(spec.hash, SEEDING)
        arr.set_queue([{"downloadId": one.hash_upper, "movieId": 1},
                       {"downloadId": two.hash_upper, "movieId": 2}])
        ids = {r["downloadId"]: r["id"] for r in arr.queue()}
        # The Arr drops Bulk.Two between our read and our delete: the bulk
        # call answers 404 and removes nothing, as Radarr does; so does
        # Bulk.Two's own delete then.
        arr.set_fault("DELETE", "/queue/bulk$", "404", count=1)
        arr.set_fault("DELETE", "/queue/%d$" % ids[two.hash_upper], "404", count=1)
        self.cfg = H.write_config(self.tmp, "[Settings]\nIgnoreTorrentsYoungerThan = 0\n\n"
                                  + instance_section("qBit", a)
                                  + arr_section("Radarr-Movies", "radarr", arr))
        r = self.sweep("--json", check=1)
        got = sorted((x["name"], x["action"], x["result"]) for x in r.json()["actions"]
                     if x["action"] != "create_category")
        self.assertEqual(got, [("Bulk.One", "blocklist", "done"),
                               ("Bulk.One", "delete", "done"),
                               ("Bulk.One", "search", "done"),
                               ("Bulk.Two", "blocklist", "failed"),
                               ("Bulk.Two", "delete", "skipped"),
                               ("Bulk.Two", "search", "skipped")])
        dels = sorted(c["path"] for c in arr.calls() if c["method"] == "DELETE")
        self.assertEqual(dels, sorted(["/api/v3/queue/bulk",
                                       "/api/v3/queue/%d" % ids[one.hash_upper],
                                       "/api/v3/queue/%d" % ids[two.hash_upper]]))
        H.wait_until(lambda: a.torrent(one.hash) is None, what="Bulk.One deleted")
        self.assertIsNotNone(a.torrent(two.hash))


class ImportRejectionTest(Env):

    n_instances = 1

    def test_import_blocked_and_lidarr_release_rejection_are_arr_errors(self):
        lidarr = self.fake_arr("lidarr")
        a = self.qbt[0]
        blocked = self.torrent("Album.Not.Upgrade", size=40000)
        whole = self.torrent("Album.Whole.Release", size=41000)
        for spec in (blocked, whole):
            a.add(spec, category="music", skip_checking=True)
            a.wait_state(spec.hash, SEEDING)
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\nImportDelay = 1h\n\n"
                    + instance_section("qBit", a)
                    + arr_section("Lidarr-Music", "music", lidarr,
                                  extra='ArrErrorCodesToBlocklist = ["Not an upgrade '
                                  'for existing track file(s)", "Has unmatched tracks"]\n'))
        lidarr.set_queue([
            {"downloadId": blocked.hash_upper, "albumId": 3, "status": "completed",
             "trackedDownloadState": "importBlocked", "trackedDownloadStatus": "warning",
             "statusMessages": [{"title": "01.flac",
                                 "messages": ["Not an upgrade for existing track file(s)"]}]},
            {"downloadId": whole.hash_upper, "albumId": 4, "status": "completed",
             "trackedDownloadState": "importFailed", "trackedDownloadStatus": "error",
             "statusMessages": [{"title": "Has unmatched tracks", "messages": []}]}])
        H.wait_until(lambda: len(lidarr.api("GET", "queue")[1]["records"]) == 2,
                     what="both in the Lidarr queue")
        r = self.sweep("--json", check=0)
        acts = sorted((x["name"], x["action"], x["result"]) for x in r.json()["actions"]
                      if x["action"] in ("blocklist", "delete", "search"))
        self.assertEqual(acts, [(n, act, "done") for n in ("Album.Not.Upgrade",
                                                          "Album.Whole.Release")
                                for act in ("blocklist", "delete", "search")])
        # One search for both albums; the order of ids in it carries nothing.
        self.assertEqual(sorted(sorted(c["body"]["albumIds"]) for c in lidarr.calls()
                                if c["method"] == "POST"), [[3, 4]])
