"""Issue 17: state you can trust over years.  A re-added torrent starts a
new life; the sweep proves it can record before it acts; clock jumps
refuse destructive actions; a blown fuse leaves one summary."""
import os
import sqlite3
import time

import harness as H
from common import Env, instance_section, arr_section

SEEDING = ("stalledUP", "uploading")


class LifeTest(Env):
    n_instances = 1

    def setup_one(self, settings="", seeding="RemoveTorrent = 2\nMaxSeedingTime = 1h\n"):
        self.radarr = self.fake_arr("radarr")
        self.a = self.qbt[0]
        self.config("[Settings]\nIgnoreTorrentsYoungerThan = 0\nImportDelay = 0\n%s\n\n"
                    % settings
                    + instance_section("qBit", self.a)
                    + arr_section("Radarr-Movies", "radarr", self.radarr)
                    + "[Radarr-Movies.Torrent.SeedingMode]\n%s\n" % seeding)
        return self.a

    def scans(self):
        return [c["body"] for c in self.radarr.calls()
                if c["method"] == "POST" and c["body"] and c["status"] == 201
                and c["body"].get("name") == "DownloadedMoviesScan"]

    def db_exec(self, sql, params=()):
        db = sqlite3.connect(self.state)
        try:
            db.execute(sql, params)
            db.commit()
        finally:
            db.close()

    def seeded_torrent(self, name):
        spec = self.torrent(name, files={"movie.mkv": 40000})
        self.a.add(spec, category="radarr", skip_checking=True)
        self.a.wait_state(spec.hash, SEEDING)
        time.sleep(1.1)         # completion_on strictly in the past
        return spec

    def test_readded_after_delete_is_imported_and_seeds_its_full_goal(self):
        a = self.setup_one()
        spec = self.seeded_torrent("Comes.Back.2021")
        self.sweep(check=0)
        self.assertEqual(len(self.scans()), 1)
        # Its first life seeded two hours (by our record): the goal removes it.
        self.db_exec("UPDATE torrents SET seeding_since = ?", (int(time.time()) - 7200,))
        r = self.sweep("--json", check=0)
        self.assertEqual([(x["action"], x["result"]) for x in r.json()["actions"]],
                         [("delete", "done")])
        H.wait_until(lambda: a.torrent(spec.hash) is None, what="first life deleted")
        old = self.rows()[0]
        self.assertIsNotNone(old["gone_at"])
        self.assertIsNotNone(old["import_sent_at"])

        # Added again (same hash): a new life.
        time.sleep(1.1)
        spec = self.seeded_torrent("Comes.Back.2021")
        t1 = int(time.time())
        r = self.sweep("--json", "-v", now=t1, check=0)
        acts = [(x["action"], x["result"]) for x in r.json()["actions"]]
        self.assertEqual(acts, [("import", "done")], r.stderr)
        self.assertIn("back after it was gone", r.stderr)
        self.assertEqual(len(self.scans()), 2)
        row = self.rows()[0]
        self.assertIsNone(row["gone_at"])
        self.assertEqual(row["first_seen"], t1)
        self.assertEqual(row["seeding_since"], t1)
        self.assertEqual(row["import_sent_at"], t1)
        self.assertEqual(row["import_result"], "queued")
        # Half its goal: kept.
        r = self.sweep("--json", now=t1 + 1800, check=0)
        self.assertEqual([x for x in r.json()["actions"] if x["action"] == "delete"], [])
        self.assertIsNotNone(a.torrent(spec.hash))
        # Its full goal in this life: removed.
        r = self.sweep("--json", now=t1 + 3660, check=0)
        self.assertEqual([(x["action"], x["result"]) for x in r.json()["actions"]],
                         [("delete", "done")])
        H.wait_until(lambda: a.torrent(spec.hash) is None, what="second life deleted")
        # Both lives stay in the audit.
        self.assertEqual([(x["action"], x["result"])
                          for x in self.audit("hash = ?", (spec.hash,))],
                         [("import", "done"), ("delete", "done"),
                          ("import", "done"), ("delete", "done")])
        r = self.sweep("history", spec.hash[:8], check=0)
        self.assertEqual(r.stdout.count(" import "), 2)

    def test_back_in_a_managed_category_is_the_same_life(self):
        a = self.setup_one()
        spec = self.seeded_torrent("Wanders.Off.2019")
        self.sweep(check=0)
        self.assertEqual(len(self.scans()), 1)
        a.create_category("elsewhere")
        a.post("torrents/setCategory", {"hashes": spec.hash, "category": "elsewhere"})
        H.wait_until(lambda: a.torrent(spec.hash)["category"] == "elsewhere")
        self.sweep(check=0)
        self.assertIsNotNone(self.rows()[0]["gone_at"])
        a.post("torrents/setCategory", {"hashes": spec.hash, "category": "radarr"})
        H.wait_until(lambda: a.torrent(spec.hash)["category"] == "radarr")
        r = self.sweep("--json", check=0)
        self.assertEqual([x for x in r.json()["actions"] if x["action"] == "import"], [])
        self.assertEqual(len(self.scans()), 1)
        self.assertIsNone(self.rows()[0]["gone_at"])
