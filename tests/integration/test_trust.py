"""Issue 6: deletions users can trust: the shared-data guard, the
mass-deletion fuse, explain and history."""
import json
import os
import time

import harness as H
from common import Env, instance_section, arr_section, wait_seeded

SEEDING = ("stalledUP", "uploading")


class TrustTest(Env):

    def setup(self, settings="", seeding="", torrent=""):
        self.radarr = self.fake_arr("radarr")
        a, b = self.qbt[0], self.qbt[1]
        self.config("[Settings]\nImportDelay = 0\nIgnoreTorrentsYoungerThan = 0\n%s\n\n" % settings
                    + instance_section("qBit", a)
                    + instance_section("qBit-Seedbox", b)
                    + arr_section("Radarr-Movies", "radarr", self.radarr)
                    + "[Radarr-Movies.Torrent]\nStalledDelay = 15\n%s\n" % torrent
                    + "[Radarr-Movies.Torrent.SeedingMode]\n%s\n" % seeding)
        return a, b

    def test_cross_seed_keeps_files_when_the_other_torrent_uses_them(self):
        a, b = self.setup(seeding="RemoveTorrent = 2\nMaxSeedingTime = 2\n")
        spec = self.torrent("Cross.Seeded.2020", files={"movie.mkv": 80000, "movie.srt": 200})
        cross = H.make_torrent(self.data, "Cross.Seeded.2020",
                               files={"movie.mkv": 80000, "movie.srt": 200},
                               source="OTHER-TRACKER")
        self.assertNotEqual(spec.hash, cross.hash)
        a.add(spec, category="radarr", skip_checking=True)
        a.add(cross, category="cross-seed", skip_checking=True)   # unmanaged category
        a.wait_state(spec.hash, SEEDING)
        a.wait_state(cross.hash, SEEDING)
        t0 = int(time.time()) + 2
        self.sweep(now=t0, check=0)                 # import
        wait_seeded(a, spec, 2)
        r = self.sweep("--json", now=t0 + 2 * 3600, check=0)
        dels = [x for x in r.json()["actions"] if x["action"] == "delete"]
        self.assertEqual(len(dels), 1)
        self.assertEqual(dels[0]["result"], "done")
        self.assertIn("files kept: shared with %s Cross.Seeded.2020" % cross.hash[:8],
                      dels[0]["detail"])
        H.wait_until(lambda: a.torrent(spec.hash) is None)
        self.assertTrue(os.path.exists(os.path.join(spec.content_path, "movie.mkv")))
        self.assertIn(a.torrent(cross.hash)["state"], SEEDING + ("checkingUP",))
        line = [l for l in r.stderr.splitlines() if " delete " in l][0]
        for part in ("qBit:", spec.hash[:8], "Cross.Seeded.2020", "seeding-goal",
                     "MaxSeedingTime 2 s", "files kept: shared with"):
            self.assertIn(part, line)

    def test_nested_content_counts_as_shared_sibling_prefix_does_not(self):
        a, b = self.setup(seeding="RemoveTorrent = 2\nMaxSeedingTime = 2\n")
        pack = self.torrent("Show.S01", files={"E01.mkv": 30000, "E02.mkv": 30000})
        sibling = self.torrent("Show.S01.Extras", files={"x.mkv": 20000})
        a.add(pack, category="radarr", skip_checking=True)
        a.add(sibling, category="other", skip_checking=True)
        a.wait_state(pack.hash, SEEDING)
        t0 = int(time.time()) + 2
        self.sweep(now=t0, check=0)
        wait_seeded(a, pack, 2)
        r = self.sweep("--json", now=t0 + 2 * 3600, check=0)
        dels = [x for x in r.json()["actions"] if x["action"] == "delete"]
        self.assertEqual([(d["result"], d["detail"]) for d in dels], [("done", "files deleted")])
        H.wait_until(lambda: not os.path.exists(pack.content_path))
        self.assertTrue(os.path.exists(sibling.content_path))

    def test_fuse_holds_all_deletions_on_one_instance_other_instance_swept(self):
        a, b = self.setup(settings="MaxDeletionsPerRun = 2",
                          seeding="RemoveTorrent = 2\nMaxSeedingTime = 2\n")
        many = [self.torrent("Old.Movie.%d.mkv" % i, size=20000 + i) for i in range(3)]
        one = self.torrent("Seedbox.Movie.mkv", size=25000)
        for s in many:
            a.add(s, category="radarr", skip_checking=True)
        b.add(one, category="radarr", skip_checking=True)
        for s in many:
            a.wait_state(s.hash, SEEDING)
        b.wait_state(one.hash, SEEDING)
        t0 = int(time.time()) + 2
        self.sweep(now=t0, check=0)
        for s in many:
            wait_seeded(a, s, 2)
        wait_seeded(b, one, 2)
        r = self.sweep("--json", now=t0 + 2 * 3600, check=1)
        acts = [(x["instance"], x["action"], x["result"]) for x in r.json()["actions"]]
        self.assertEqual(sorted(x for x in acts if x[1] == "delete"),
                         [("qBit", "delete", "held")] * 3 + [("qBit-Seedbox", "delete", "done")])
        self.assertIn("qBit: 3 deletions, blocklists and re-searches decided > MaxDeletionsPerRun 2: none performed "
                      "on this instance (seeding-goal 3)", r.stderr)
        for s in many:
            self.assertIsNotNone(a.torrent(s.hash))
        H.wait_until(lambda: b.torrent(one.hash) is None)
        # Still due next run; a per-instance limit lets them go.
        self.config(open(self.cfg).read().replace(
            "[qBit]\n", "[qBit]\nMaxDeletionsPerRun = 5\n", 1))
        r = self.sweep("--json", now=t0 + 2 * 3600 + 60, check=0)
        self.assertEqual(sorted(x["result"] for x in r.json()["actions"] if x["action"] == "delete"),
                         ["done"] * 3)

    def test_explain_names_rule_clock_and_delay_and_changes_nothing(self):
        a, b = self.setup()
        spec = self.torrent("Explain.Me.2021.mkv", size=50000, write_data=False)
        a.add(spec, category="radarr")
        a.wait_state(spec.hash, ("stalledDL",))
        t0 = int(time.time())
        self.sweep(now=t0, check=0)
        before = open(self.state, "rb").read()
        calls = len(self.radarr.calls())
        r = self.sweep("explain", spec.hash[:10], now=t0 + 14 * 60, check=0)
        self.assertIn(spec.hash, r.stdout)
        self.assertRegex(r.stdout, r"stalled: yes, since \d\d:\d\d \(14 min\) < StalledDelay 15 min")
        self.assertIn("due in 1 min", r.stdout)
        self.assertIn("ignored: no", r.stdout)
        self.assertIn("failed-category: no", r.stdout)
        r = self.sweep("explain", "Explain.Me", "--json", now=t0 + 16 * 60, check=0)
        doc = r.json()
        self.assertEqual(len(doc), 1)
        self.assertEqual(doc[0]["instance"], "qBit")
        self.assertEqual(doc[0]["rule"], "stalled")
        self.assertIn("delete", [x["action"] for x in doc[0]["actions"]])
        self.assertEqual(open(self.state, "rb").read(), before)
        self.assertEqual([c for c in self.radarr.calls()[calls:] if c["method"] != "GET"], [])
        self.assertIsNotNone(a.torrent(spec.hash))
        r = self.sweep("explain", "no-such-torrent")
        self.assertEqual(r.rc, 1)

    def test_history_shows_a_deletion_after_the_torrent_is_gone(self):
        a, b = self.setup()
        spec = self.torrent("Gone.Movie.mkv", size=40000, write_data=False)
        a.add(spec, category="radarr")
        a.wait_state(spec.hash, ("stalledDL",))
        self.radarr.set_queue([{"downloadId": spec.hash_upper, "movieId": 9}])
        t0 = int(time.time())
        self.sweep(now=t0, check=0)
        self.sweep(now=t0 + 20 * 60, check=0)
        H.wait_until(lambda: a.torrent(spec.hash) is None)
        self.sweep(now=t0 + 21 * 60, check=0)
        r = self.sweep("history", check=0)
        lines = [l for l in r.stdout.splitlines() if spec.hash[:8] in l]
        self.assertEqual([l.split()[4] for l in lines], ["search", "delete", "blocklist"])
        self.assertIn("Gone.Movie.mkv", lines[1])
        self.assertIn("StalledDelay 15 min", lines[1])
        r = self.sweep("history", "--json", "--instance", "qBit", spec.hash[:8], check=0)
        doc = r.json()
        self.assertEqual([d["action"] for d in doc], ["search", "delete", "blocklist"])
        self.assertEqual({d["result"] for d in doc}, {"done"})
        r = self.sweep("history", "--json", "--instance", "qBit-Seedbox", check=0)
        self.assertEqual([d for d in r.json() if d["hash"] == spec.hash], [])
        self.assertEqual(self.sweep("history", "--since", "bogus").rc, 64)
