"""Issue 2, the spine: discovery on every instance in parallel, state keyed
by (hash, instance), categories everywhere, failures isolated per instance,
--json, status, check-config, dry run."""
import glob
import json
import os
import sqlite3
import time

import harness as H
from common import Env, instance_section, arr_section, file_bytes

SEEDING = ("stalledUP", "uploading")


class SpineTest(Env):

    def three_instances(self, extra_qbit2=""):
        radarr = self.fake_arr("radarr")
        a, b, c = self.qbt
        self.config(
            "[Settings]\nImportDelay = 1h\n\n"
            + instance_section("qBit", a)
            + instance_section("qBit-Seedbox", b)
            + instance_section("qBit-NAS", c, extra=extra_qbit2)
            + arr_section("Radarr-Movies", "radarr", radarr)
            + arr_section("Sonarr-TV", "sonarr")
            + arr_section("Lidarr-Music", "lidarr"))
        movie = self.torrent("Movie.One.2020", size=80000)
        show = self.torrent("Show.S01", files={"e01.mkv": 60000, "e02.mkv": 60000})
        album = self.torrent("Album.2019", files={"01.flac": 30000})
        other = self.torrent("Linux.ISO", size=20000)
        a.add(movie, category="radarr", skip_checking=True)
        b.add(movie, category="radarr", skip_checking=True)   # same hash, 2 instances
        b.add(show, category="sonarr", skip_checking=True)
        c.add(album, category="lidarr", skip_checking=True)
        c.add(other, category="linux", skip_checking=True)     # not managed
        for inst, spec in ((a, movie), (b, movie), (b, show), (c, album)):
            inst.wait_state(spec.hash, SEEDING)
        return movie, show, album, other

    def test_discovers_every_instance_and_records_hash_instance_rows(self):
        movie, show, album, other = self.three_instances()
        r = self.sweep("--json", check=0)
        doc = r.json()
        self.assertEqual([i["name"] for i in doc["instances"]],
                         ["qBit", "qBit-Seedbox", "qBit-NAS"])
        self.assertTrue(all(i["reachable"] for i in doc["instances"]))
        self.assertEqual({i["version"] for i in doc["instances"]}, {"v4.5.2"})
        found = sorted((t["hash"], t["instance"]) for t in doc["torrents"])
        self.assertEqual(found, sorted([
            (movie.hash, "qBit"), (movie.hash, "qBit-Seedbox"),
            (show.hash, "qBit-Seedbox"), (album.hash, "qBit-NAS")]))
        self.assertNotIn(other.hash, [t["hash"] for t in doc["torrents"]])
        rows = self.rows()
        self.assertEqual(sorted((r["hash"], r["instance"]) for r in rows), found)
        arrs = {(r["hash"], r["instance"]): r["arr"] for r in rows}
        self.assertEqual(arrs[(show.hash, "qBit-Seedbox")], "Sonarr-TV")
        self.assertEqual(arrs[(album.hash, "qBit-NAS")], "Lidarr-Music")
        db = sqlite3.connect(self.state)
        self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 2)
        self.assertEqual(db.execute("PRAGMA journal_mode").fetchone()[0], "wal")
        names = [r[0] for r in db.execute(
            "SELECT name FROM instances ORDER BY name")]
        db.close()
        self.assertEqual(names, ["qBit", "qBit-NAS", "qBit-Seedbox"])

    def test_categories_are_created_on_every_instance(self):
        self.three_instances()
        self.sweep(check=0)
        for inst in self.qbt:
            cats = inst.categories()
            for c in ("radarr", "sonarr", "lidarr", "failed", "recheck"):
                self.assertIn(c, cats, "%s lacks %s" % (inst.name, c))
        # Second run: nothing left to create.
        r = self.sweep("--json", check=0)
        self.assertEqual([a for a in r.json()["actions"]
                          if a["action"] == "create_category"], [])

    def test_second_sweep_changes_only_last_seen(self):
        self.three_instances()
        self.sweep(check=0)
        before = self.rows()
        seen_before = {(t["hash"], t["instance"]): t["last_seen"] for t in
                       self.sweep("status", "--json", check=0).json()["torrents"]}
        time.sleep(1.1)
        r = self.sweep("--json", check=0)
        self.assertEqual(r.json()["actions"], [])
        # No torrent row is rewritten: only the instances' sweep times move,
        # and every live row's last sighting follows from them.
        self.assertEqual(self.rows(), before)
        self.assertEqual(r.json()["stats"]["rows_written"], 3)
        seen_after = {(t["hash"], t["instance"]): t["last_seen"] for t in
                      self.sweep("status", "--json", check=0).json()["torrents"]}
        self.assertEqual(set(seen_after), set(seen_before))
        for k in seen_before:
            self.assertGreater(seen_after[k], seen_before[k])

    def test_stopped_instance_leaves_rows_untouched_others_swept(self):
        movie, show, album, other = self.three_instances()
        self.sweep(check=0)
        seedbox_before = self.rows("instance = 'qBit-Seedbox'")
        self.qbt[1].stop()
        time.sleep(1.1)
        r = self.sweep("--json", check=1)
        doc = r.json()
        by_name = {i["name"]: i for i in doc["instances"]}
        self.assertFalse(by_name["qBit-Seedbox"]["reachable"])
        self.assertIn("auth/login", by_name["qBit-Seedbox"]["error"])
        self.assertTrue(by_name["qBit"]["reachable"])
        self.assertTrue(by_name["qBit-NAS"]["reachable"])
        self.assertIn("qBit-Seedbox: auth/login:", r.stderr)
        self.assertEqual(self.rows("instance = 'qBit-Seedbox'"), seedbox_before)
        # The reachable ones were swept (their last success moved); the
        # stopped one keeps its last success and records the error.
        db = sqlite3.connect(self.state)
        inst = {n: (s, e) for n, s, e in db.execute(
            "SELECT name, last_success, last_error FROM instances")}
        db.close()
        self.assertGreater(inst["qBit"][0], inst["qBit-Seedbox"][0])
        self.assertGreater(inst["qBit-NAS"][0], inst["qBit-Seedbox"][0])
        self.assertIn("auth/login", inst["qBit-Seedbox"][1])

    def test_torrent_gone_from_reachable_instance_is_marked_not_deleted(self):
        movie, show, album, other = self.three_instances()
        self.sweep(check=0)
        self.qbt[1].post("torrents/delete", {"hashes": show.hash, "deleteFiles": "false"})
        H.wait_until(lambda: self.qbt[1].torrent(show.hash) is None)
        self.sweep(check=0)
        row = self.rows("hash = ? AND instance = 'qBit-Seedbox'", (show.hash,))
        self.assertEqual(len(row), 1)
        self.assertIsNotNone(row[0]["gone_at"])
        self.assertIsNone(self.rows("hash = ? AND instance = 'qBit'",
                                    (movie.hash,))[0]["gone_at"])

    def test_wrong_password_is_an_error_for_that_instance_only(self):
        a, b, c = self.qbt
        self.config(instance_section("qBit", a)
                    + "[qBit-Bad]\nHost = %s\nUserName = admin\nPassword = wrong-pass\n\n"
                    % b.url
                    + arr_section("Radarr-Movies", "radarr"))
        movie = self.torrent("Movie.Two", size=30000)
        a.add(movie, category="radarr", skip_checking=True)
        r = self.sweep("--json", check=1)
        self.assertIn("qBit-Bad: auth/login: login refused: wrong UserName or Password",
                      r.stderr)
        self.assertNotIn("wrong-pass", r.stderr + r.stdout)
        doc = r.json()
        self.assertEqual([t["instance"] for t in doc["torrents"]], ["qBit"])
        by = {i["name"]: i for i in doc["instances"]}
        self.assertTrue(by["qBit"]["reachable"])
        self.assertFalse(by["qBit-Bad"]["reachable"])

    def test_json_document_shape(self):
        self.three_instances()
        doc = self.sweep("--json", check=0).json()
        self.assertEqual(set(doc) >= {"dry_run", "started", "duration_ms",
                                      "instances", "torrents", "actions"}, True)
        self.assertIs(doc["dry_run"], False)
        self.assertRegex(doc["started"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIsInstance(doc["duration_ms"], int)
        for i in doc["instances"]:
            self.assertEqual(set(i) >= {"name", "url", "reachable", "version",
                                        "api_version", "torrents", "error"}, True)
        for t in doc["torrents"]:
            self.assertEqual(set(t) >= {"hash", "instance", "name", "category",
                                        "arr", "state", "progress"}, True)
            self.assertRegex(t["hash"], r"^[0-9a-f]{40}$")
        vocab = {"create_category", "import", "delete", "blocklist", "search",
                 "recheck", "set_category", "pause", "resume",
                 "set_file_priority", "add_tag", "remove_tag", "set_limits",
                 "verify_import"}
        self.assertTrue(doc["actions"])
        for a in doc["actions"]:
            self.assertEqual(set(a) >= {"instance", "hash", "name", "action",
                                        "reason", "result", "error"}, True)
            self.assertIn(a["action"], vocab)
            self.assertIn(a["result"], {"done", "planned", "failed"})
        for inst in self.qbt:
            self.assertNotIn(inst.password, json.dumps(doc))

    def test_dry_run_changes_nothing_anywhere(self):
        a = self.qbt[0]
        proxy = H.FaultProxy(a.url)
        self.addCleanup(proxy.close)
        radarr = self.fake_arr("radarr")
        self.config("[Settings]\nImportDelay = 0\n\n"
                    + instance_section("qBit", a, url=proxy.url)
                    + arr_section("Radarr-Movies", "radarr", radarr))
        movie = self.torrent("Movie.Three", size=30000)
        a.add(movie, category="radarr", skip_checking=True)
        a.wait_state(movie.hash, SEEDING)
        time.sleep(1)
        r = self.sweep("--dry-run", "--json", check=0)
        doc = r.json()
        self.assertTrue(doc["dry_run"])
        planned = {(x["action"], x["result"]) for x in doc["actions"]}
        self.assertIn(("create_category", "planned"), planned)
        self.assertIn(("import", "planned"), planned)
        self.assertFalse(os.path.exists(self.state), "dry run created the state file")
        self.assertEqual(glob.glob(self.state + "*"), [])
        mutating = [q for q in proxy.requests()
                    if q["method"] == "POST" and q["path"] != "/api/v2/auth/login"]
        self.assertEqual(mutating, [])
        self.assertEqual([c for c in radarr.calls() if c["method"] != "GET"], [])
        self.assertNotIn("sonarr", a.categories())
        # With a state file present: its bytes do not change.
        self.sweep(check=0)
        before = file_bytes(self.state)
        self.sweep("--dry-run", check=0)
        self.assertEqual(file_bytes(self.state), before)

    def test_single_instance_config_works_unchanged(self):
        a = self.qbt[0]
        self.config('[qBit]\nHost = "127.0.0.1"\nPort = %d\nUserName = "%s"\n'
                    'Password = "%s"\n\n[Radarr-Movies]\nCategory = "radarr"\n'
                    % (a.port, a.username, a.password))
        movie = self.torrent("Movie.Four", size=30000)
        a.add(movie, category="radarr", skip_checking=True)
        self.sweep(check=0)
        rows = self.rows()
        self.assertEqual([(r["hash"], r["instance"]) for r in rows],
                         [(movie.hash, "qBit")])

    def test_status_lists_instances_and_rows_without_writing(self):
        movie, show, album, other = self.three_instances()
        r = self.sweep("status", check=0)
        self.assertFalse(os.path.exists(self.state))
        self.assertIn("qBit-Seedbox", r.stdout)
        self.assertIn("radarr:1 sonarr:1", r.stdout)
        self.assertIn("v4.5.2", r.stdout)
        self.sweep(check=0)
        before = file_bytes(self.state)
        r = self.sweep("status", "--json", check=0)
        doc = r.json()
        self.assertEqual(len(doc["torrents"]), 4)
        self.assertEqual({i["api_version"] for i in doc["instances"]}, {"2.8.19"})
        self.assertEqual(file_bytes(self.state), before)

    def test_state_file_defaults_beside_the_config(self):
        a = self.qbt[0]
        self.config(instance_section("qBit", a) + arr_section("Radarr-Movies", "radarr"))
        self.sweep(check=0)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "qbitrr.db")))
        other = os.path.join(self.tmp, "elsewhere.db")
        self.sweep("-s", other, check=0)
        self.assertTrue(os.path.exists(other))


class ConfigTest(H.IntegrationTestCase):

    def test_design_examples_parse(self):
        here = os.path.dirname(os.path.abspath(__file__))
        paths = sorted(glob.glob(os.path.join(here, "..", "data", "configs",
                                              "design-*.ini")))
        self.assertGreaterEqual(len(paths), 5)
        for p in paths:
            r = H.run_tool(["-c", p, "check-config"])
            self.assertEqual(r.rc, 0, "%s: %s" % (p, r.stderr))
            self.assertIn("[qBit", r.stdout)

    def test_check_config_errors_name_file_line_and_key(self):
        path = H.write_config(self.tmp, "[qBit]\nHost = localhost\nPort = eighty\n\n"
                              "[Radarr-Movies]\nCategory = radarr\n\n"
                              "[Radarr-Movies.Torrent.SeedingMode]\nRemoveTorrent = 7\n")
        r = H.run_tool(["-c", path, "check-config"])
        self.assertEqual(r.rc, 78)
        self.assertIn("%s:3:" % path, r.stderr)
        self.assertIn("Port", r.stderr)
        self.assertIn("%s:9:" % path, r.stderr)
        self.assertIn("RemoveTorrent", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_check_config_masks_secrets_and_never_opens_state(self):
        path = H.write_config(self.tmp, "[qBit]\nHost = localhost\nPassword = hunter2secret\n\n"
                              "[Radarr-Movies]\nCategory = radarr\nURI = http://127.0.0.1:1\n"
                              "APIKey = 0123456789abcdef\n")
        r = H.run_tool(["-c", path, "-vvv", "check-config"])
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertNotIn("hunter2secret", r.stdout + r.stderr)
        self.assertNotIn("0123456789abcdef", r.stdout + r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "qbitrr.db")))

    def test_bad_command_line_exits_64(self):
        self.assertEqual(H.run_tool(["--no-such-option"]).rc, 64)
        self.assertEqual(H.run_tool(["frobnicate"]).rc, 64)

    def test_an_option_the_command_does_not_take_exits_64(self):
        path = H.write_config(self.tmp, "[qBit]\nHost = 127.0.0.1\nPort = 1\n")
        for args, option in ((["history", "--dry-run"], "--dry-run"),
                             (["explain", "--since", "2d"], "--since"),
                             (["check-config", "-s", "x.db"], "--state"),
                             (["sweep", "--html", "x.html"], "--html"),
                             (["status", "--instance", "qBit"], "--instance")):
            r = H.run_tool(["-c", path] + args)
            self.assertEqual(r.rc, 64, (args, r.stderr))
            self.assertIn("%s: the %s command does not take" % (option, args[0]),
                          r.stderr)
        # The same options where they belong are taken.
        self.assertEqual(H.run_tool(["-c", path, "check-config"]).rc, 0)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x.db")))

    def test_missing_config_exits_78_naming_the_file(self):
        r = H.run_tool(["-c", os.path.join(self.tmp, "nope.ini")])
        self.assertEqual(r.rc, 78)
        self.assertIn("nope.ini", r.stderr)


class RequestBudgetTest(Env):

    def test_steady_state_sweep_costs_login_versions_categories_and_one_list_per_category(self):
        a = self.qbt[0]
        proxy = H.FaultProxy(a.url)
        self.addCleanup(proxy.close)
        self.config(instance_section("qBit", a, url=proxy.url)
                    + arr_section("Radarr-Movies", "radarr")
                    + arr_section("Sonarr-TV", "sonarr"))
        for i in range(5):
            a.add(self.torrent("Budget.%d.mkv" % i, size=20000 + i), category="radarr",
                  skip_checking=True)
        self.sweep(check=0)
        first = [q["path"] for q in proxy.requests()]
        self.assertIn("/api/v2/app/webapiVersion", first)
        proxy.clear()
        r = self.sweep("--json", check=0)
        paths = sorted(q["path"].replace("/api/v2/", "") for q in proxy.requests())
        # The versions are read in every session (an upgrade between two runs
        # renames endpoints), in the same round trip as the lists.
        # ... and the session ends: none is left behind on the server.
        self.assertEqual(paths, ["app/version", "app/webapiVersion", "auth/login",
                                 "auth/logout", "torrents/categories"]
                         + ["torrents/info"] * 4)      # radarr, sonarr, failed, recheck
        self.assertEqual(proxy.requests()[-1]["path"], "/api/v2/auth/logout")
        cats = sorted(q["query"].get("category") for q in proxy.requests()
                      if q["path"].endswith("torrents/info"))
        self.assertEqual(cats, ["failed", "radarr", "recheck", "sonarr"])
        doc = r.json()
        self.assertEqual(doc["instances"][0]["version"], "v4.5.2")
        self.assertEqual(doc["stats"]["requests"], 8)

    def test_300_arr_sections_list_every_category_and_failed_recheck(self):
        # The list once had a fixed room of 256: failed and recheck, added
        # last, were never listed past 254 Arrs.
        a = self.qbt[0]
        proxy = H.FaultProxy(a.url)
        self.addCleanup(proxy.close)
        self.config("".join(arr_section("Radarr-M%03d" % i, "movies%03d" % i)
                            for i in range(300))
                    + instance_section("qBit", a, url=proxy.url))
        failed = self.torrent("Failed.Movie.mkv", size=20000)
        last = self.torrent("Last.Arr.Movie.mkv", size=21000)
        a.add(failed, category="failed", skip_checking=True)
        a.add(last, category="movies299", skip_checking=True)
        r = self.sweep("--dry-run", "--json", check=0)
        cats = [q["query"].get("category") for q in proxy.requests()
                if q["path"].endswith("torrents/info")]
        self.assertEqual(sorted(cats), sorted(["movies%03d" % i for i in range(300)]
                                              + ["failed", "recheck"]))
        seen = {t["name"] for t in r.json()["torrents"]}
        self.assertEqual(seen, {"Failed.Movie.mkv", "Last.Arr.Movie.mkv"})


class RegexSafetyTest(H.IntegrationTestCase):

    def test_python_syntax_pcre2_cannot_honour_is_refused(self):
        # Python's (?a) (ASCII classes) has no PCRE2 spelling: refused,
        # naming file, line and key.  Back-references are Python and load
        # (matching is bounded by PCRE2's match limit).
        path = H.write_config(self.tmp, '[qBit]\nHost = localhost\n\n[Radarr-M]\n'
                              'Category = radarr\n\n[Radarr-M.Torrent]\n'
                              'FileNameExclusionRegex = ["(a+)\\\\1", "(?a)\\\\w+"]\n')
        r = H.run_tool(["-c", path, "check-config"])
        self.assertEqual(r.rc, 78)
        self.assertIn("%s:8: [Radarr-M.Torrent] FileNameExclusionRegex:" % path, r.stderr)
        self.assertIn("(?a)", r.stderr)
        self.assertNotIn("(a+)", r.stderr)
