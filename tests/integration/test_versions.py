"""Issue 11: the core of the suite against every qBittorrent users run.

Each Core* class runs the same core (login, discovery, categories, stop/start
or pause/resume, delete with files, recheck, set category, file priorities,
rate limits, free space) against one real qbittorrent-nox: the host's 4.5.2
(Debian 12), Debian 13's 5.1 and Debian unstable's newest (5.3.0 today).
The newer ones come from tests/qbt-versions.sh (debootstrap cache).  Then an
upgrade: one profile swept by 4.5.2, restarted as 5.x, swept again."""
import os
import re
import sqlite3
import time

import harness as H
from common import instance_section, arr_section, GENERATED_FILTERS

SEEDING = ("stalledUP", "uploading")
STOPPED_DL = ("pausedDL", "stoppedDL")


def start_instance(test_cls, name, binary):
    """A qbittorrent-nox of its own for a test class, stopped at the end."""
    inst = H.QbtInstance(name, os.path.join(H._base_tmpdir(), name), binary=binary)
    inst.start(timeout=90)
    test_cls.addClassCleanup(inst.stop)
    return inst


class CoreTests:
    """Mixed into one TestCase per qBittorrent version."""

    suite = None            # Debian suite of a newer build; None: the host's
    want_version = None     # regex app/version must match

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        binary = None
        if cls.suite is not None:
            cls.built_version, binary = H.qbt_build(cls.suite)
        cls.inst = start_instance(cls, "core-%s" % (cls.suite or "host"), binary)

    def setUp(self):
        super().setUp()
        self.q = self.inst.reset()
        self.data = os.path.join(self.tmp, "data")
        os.makedirs(self.data)
        self.arr = H.FakeArr("radarr", workdir=self.tmp)
        self.arr.start()
        self.addCleanup(self.arr.stop)
        self.v5 = int(self.q.get("app/version").lstrip("v").split(".")[0]) >= 5

    def write_config(self, qbit_extra="", seeding="", settings="", password=None,
                     radarr_extra="", more="", torrent=""):
        inst = self.q
        section = instance_section("qBit", inst, extra=qbit_extra)
        if password is not None:
            section = section.replace("Password = %s\n" % inst.password,
                                      "Password = %s\n" % password)
        self.cfg = H.write_config(self.tmp, (
            "[Settings]\nImportDelay = 1h\nIgnoreTorrentsYoungerThan = 0\n%s\n" % settings
            + section
            + arr_section("Radarr-Movies", "radarr", self.arr, extra=radarr_extra)
            + arr_section("Sonarr-TV", "sonarr") + more
            + "[Radarr-Movies.Torrent]\nStalledDelay = 600\n%s\n" % torrent
            + "[Radarr-Movies.Torrent.SeedingMode]\n%s\n" % seeding))
        # The Arr lists only its own category on its client, as a real one does.
        self.arr.scenario(qbit_clients=[{"name": "qBit", "url": inst.url,
                                         "username": inst.username,
                                         "password": inst.password,
                                         "category": "radarr"}])

    def sweep(self, *args, check=0):
        r = H.run_tool(["-c", self.cfg, "--json"] + list(args))
        if check is not None:
            self.assertEqual(r.rc, check, "exit %d\nstderr:\n%s" % (r.rc, r.stderr))
        return r

    def torrent(self, name, **kw):
        return H.make_torrent(self.data, name, **kw)

    def acts(self, r, *keep):
        return [(x["action"], x["result"]) for x in r.json()["actions"]
                if not keep or x["action"] in keep]

    def test_login_discovery_and_categories(self):
        self.write_config()
        movie = self.torrent("Core.Movie.2020", size=40000)
        uhd = self.torrent("Core.Movie.2020.2160p", size=45000)
        other = self.torrent("Core.Other.iso", size=20000)
        # Up to 5.1 category=radarr lists radarr/4k only with this option on.
        if "use_subcategories" in self.q.preferences():
            self.q.set_prefs({"use_subcategories": True})
        self.q.create_category("radarr/4k")
        self.q.add(movie, category="radarr", skip_checking=True)
        self.q.add(uhd, category="radarr/4k", skip_checking=True)
        self.q.add(other, category="linux", skip_checking=True)
        self.q.wait_state(movie.hash, SEEDING)
        r = self.sweep()
        doc = r.json()
        inst = doc["instances"][0]
        self.assertTrue(inst["reachable"], inst)
        self.assertRegex(inst["version"], self.want_version)
        self.assertEqual(inst["api_version"], self.q.get("app/webapiVersion"))
        # Exact categories: radarr/4k is not radarr's (5.2+ lists it under radarr).
        self.assertEqual([t["hash"] for t in doc["torrents"]], [movie.hash])
        self.assertEqual(inst["torrents"], 1)
        self.assertTrue({"radarr", "sonarr", "failed", "recheck"}
                        <= set(self.q.categories()))
        # MatchSubcategories: radarr owns radarr/4k, unless an Arr has it exactly.
        self.write_config(radarr_extra="MatchSubcategories = true\n")
        got = sorted((t["hash"], t["arr"]) for t in self.sweep().json()["torrents"])
        self.assertEqual(got, sorted([(movie.hash, "Radarr-Movies"),
                                      (uhd.hash, "Radarr-Movies")]))
        self.write_config(radarr_extra="MatchSubcategories = true\n",
                          more=arr_section("Radarr-4K", "radarr/4k"))
        got = sorted((t["hash"], t["arr"]) for t in self.sweep().json()["torrents"])
        self.assertEqual(got, sorted([(movie.hash, "Radarr-Movies"),
                                      (uhd.hash, "Radarr-4K")]))
        self.write_config(more=arr_section("Radarr-4K", "radarr/4k"))
        got = sorted((t["hash"], t["arr"]) for t in self.sweep().json()["torrents"])
        self.assertEqual(got, sorted([(movie.hash, "Radarr-Movies"),
                                      (uhd.hash, "Radarr-4K")]))
        # A wrong password: one clear error for the instance, exit 1.
        self.write_config(password="not-the-password")
        r = self.sweep(check=1)
        self.assertFalse(r.json()["instances"][0]["reachable"])
        self.assertRegex(r.stderr, r"qBit: auth/login: (login refused: wrong UserName "
                         r"or Password|HTTP 401: wrong UserName or Password)")
        self.assertIsNotNone(self.q.torrent(movie.hash))

    def test_failed_deletes_with_files_recheck_restores_category(self):
        self.write_config()
        bad = self.torrent("Core.Bad.Release", size=50000)
        again = self.torrent("Core.Recheck.Me", size=30000)
        self.q.add(bad, category="radarr", skip_checking=True)
        self.q.add(again, category="radarr", skip_checking=True)
        self.q.wait_state(bad.hash, SEEDING)
        self.arr.set_queue([{"downloadId": bad.hash_upper, "movieId": 9,
                             "title": bad.name}])
        self.sweep()
        self.q.post("torrents/setCategory", {"hashes": bad.hash, "category": "failed"})
        self.q.post("torrents/setCategory", {"hashes": again.hash, "category": "recheck"})
        r = self.sweep()
        got = self.acts(r)
        for want in (("blocklist", "done"), ("delete", "done"),
                     ("recheck", "done"), ("set_category", "done")):
            self.assertIn(want, got)
        # Moved out of the Arr's category, it left the queue: the grab in the
        # history is marked failed, and the Arr's own Redownload Failed
        # searches (once: none from us).
        self.assertNotIn("search", [a for a, _ in got])
        grab = [h for h in self.arr.state()["history"]
                if h["downloadId"] == bad.hash_upper and h["eventType"] == "grabbed"]
        calls = [(c["method"], c["path"]) for c in self.arr.calls()
                 if c["method"] != "GET"]
        self.assertEqual(calls, [("POST", "/api/v3/history/failed/%d" % grab[0]["id"])])
        st = self.arr.state()
        self.assertEqual([b["movieId"] for b in st["blocklist"]], [9])
        self.assertEqual([(c["name"], c["body"]["movieIds"]) for c in st["commands"]],
                         [("MoviesSearch", [9])])
        H.wait_until(lambda: self.q.torrent(bad.hash) is None, what="failed deleted")
        H.wait_until(lambda: not os.path.exists(bad.content_path), what="its files deleted")
        H.wait_until(lambda: self.q.torrent(again.hash)["category"] == "radarr",
                     what="category restored after the recheck")
        self.assertTrue(os.path.exists(again.content_path))

    def test_file_priorities_and_rate_limits(self):
        # qBitrr's generated filters; its Arr-level limits are bytes/s.
        self.write_config(seeding="UploadRateLimitPerTorrent = 102400\n",
                          torrent=GENERATED_FILTERS)
        film = self.torrent("Core.Film.2022", write_data=False, files={
            "film.mkv": 60000, "sample.mkv": 5000, "info.nfo": 300})
        seed = self.torrent("Core.Seeding.mkv", size=30000)
        self.q.add(film, category="radarr")
        self.q.add(seed, category="radarr", skip_checking=True)
        self.q.wait_state(seed.hash, SEEDING)
        r = self.sweep()
        got = self.acts(r)
        self.assertIn(("set_file_priority", "done"), got)
        self.assertIn(("set_limits", "done"), got)
        files = {f["name"]: f["priority"] for f in self.q.get("torrents/files", hash=film.hash)}
        self.assertEqual(files, {"Core.Film.2022/film.mkv": 1,
                                 "Core.Film.2022/sample.mkv": 0,
                                 "Core.Film.2022/info.nfo": 0})
        H.wait_until(lambda: self.q.torrent(seed.hash)["up_limit"] == 102400,
                     what="upload limit applied")

    def test_free_space_stops_then_starts(self):
        self.write_config(qbit_extra='FreeSpace = "1000T"')
        dl = self.torrent("Core.Big.Download.mkv", size=400000, write_data=False)
        self.q.add(dl, category="radarr")
        self.q.wait_state(dl.hash, ("stalledDL", "downloading", "metaDL"))
        r = self.sweep()
        self.assertEqual(self.acts(r, "pause", "resume"), [("pause", "done")])
        t = self.q.wait_state(dl.hash, STOPPED_DL)
        self.assertEqual(t["state"], "stoppedDL" if self.v5 else "pausedDL")
        self.assertIn(r.json()["instances"][0]["api_version"], r.stderr + r.stdout)
        self.write_config(qbit_extra='FreeSpace = "1K"')
        r = self.sweep()
        self.assertEqual(self.acts(r, "pause", "resume"), [("resume", "done")])
        H.wait_until(lambda: self.q.torrent(dl.hash)["state"] not in STOPPED_DL,
                     what="download started again")

    def test_back_in_its_category_is_the_same_torrent(self):
        # A sweep loads the rows of torrents not gone; one moved out and back
        # has its gone row read by key: the same life, its first sweep kept.
        state = os.path.join(self.tmp, "state.db")
        self.write_config(settings="StateFile = %s" % state)
        spec = self.torrent("Core.Wanders.Off.mkv", size=30000)
        self.q.add(spec, category="radarr", skip_checking=True)
        self.q.wait_state(spec.hash, SEEDING)
        t0 = int(time.time()) + 1       # first seen after it was added

        def sweep_at(t):
            r = H.run_tool(["-c", self.cfg, "-v"], env={"QBITRR_TEST_NOW": str(t)})
            self.assertEqual(r.rc, 0, r.stderr)
            db = sqlite3.connect(state)
            try:
                return r, db.execute("SELECT first_seen, gone_at FROM torrents"
                                     " WHERE hash = ?", (spec.hash,)).fetchone()
            finally:
                db.close()

        self.assertEqual(sweep_at(t0)[1], (t0, None))
        self.q.create_category("elsewhere")
        self.q.post("torrents/setCategory", {"hashes": spec.hash, "category": "elsewhere"})
        H.wait_until(lambda: self.q.torrent(spec.hash)["category"] == "elsewhere")
        self.assertEqual(sweep_at(t0 + 60)[1], (t0, t0 + 60))
        self.q.post("torrents/setCategory", {"hashes": spec.hash, "category": "radarr"})
        H.wait_until(lambda: self.q.torrent(spec.hash)["category"] == "radarr")
        r, row = sweep_at(t0 + 120)
        self.assertEqual(row, (t0, None))
        self.assertNotIn("back after it was gone", r.stderr)


class Core_4_5_2(CoreTests, H.IntegrationTestCase):
    want_version = r"^v4\.5\.2$"


class Core_5_1_trixie(CoreTests, H.IntegrationTestCase):
    suite = "trixie"
    want_version = r"^v5\.1\."


class Core_newest_sid(CoreTests, H.IntegrationTestCase):
    suite = "sid"
    want_version = r"^v[5-9]\."


class UpgradeTest(H.IntegrationTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.new_version, cls.new_binary = H.qbt_build("sid")

    def test_4_5_2_profile_restarted_as_5_keeps_stop_and_start_working(self):
        inst = H.QbtInstance("upgrade", os.path.join(self.tmp, "qbt"))
        inst.start(timeout=60)
        self.addCleanup(inst.stop)
        proxy = H.FaultProxy(inst.url)
        self.addCleanup(proxy.close)
        arr = H.FakeArr("radarr", workdir=self.tmp)
        arr.start()
        self.addCleanup(arr.stop)
        data = os.path.join(self.tmp, "data")
        dl = H.make_torrent(data, "Upgrade.Download.mkv", size=300000, write_data=False)
        inst.add(dl, category="radarr")
        inst.wait_state(dl.hash, ("stalledDL", "downloading", "metaDL"))

        def config(free):
            return H.write_config(self.tmp, (
                "[Settings]\nIgnoreTorrentsYoungerThan = 0\n\n"
                + instance_section("qBit", inst, url=proxy.url,
                                   extra='FreeSpace = "%s"' % free)
                + arr_section("Radarr-Movies", "radarr", arr)))

        def sweep(free):
            proxy.clear()
            r = H.run_tool(["-c", config(free), "--json"])
            self.assertEqual(r.rc, 0, r.stderr)
            acts = [(x["action"], x["result"]) for x in r.json()["actions"]
                    if x["action"] in ("pause", "resume")]
            calls = [q["path"].replace("/api/v2/", "") for q in proxy.requests()
                     if re.search(r"/torrents/(pause|resume|stop|start)$", q["path"])]
            return r, acts, calls

        r, acts, calls = sweep("1000T")
        self.assertEqual(acts, [("pause", "done")])
        self.assertEqual(calls, ["torrents/pause"])
        inst.wait_state(dl.hash, ("pausedDL",))

        # The same profile, port and state file, now qBittorrent 5.x.
        inst.stop()
        inst.binary = self.new_binary
        inst.start(timeout=90)
        self.assertEqual(inst.get("app/version"), "v" + self.new_version)
        inst.wait_state(dl.hash, ("stoppedDL",))     # loaded from the 4.5.2 resume data
        r, acts, calls = sweep("1K")
        self.assertEqual(acts, [("resume", "done")], r.stderr + r.stdout)
        self.assertEqual(calls, ["torrents/start"])
        H.wait_until(lambda: inst.torrent(dl.hash)["state"] not in STOPPED_DL,
                     what="started on 5.x")
        r, acts, calls = sweep("1000T")
        self.assertEqual(acts, [("pause", "done")])
        self.assertEqual(calls, ["torrents/stop"])
        inst.wait_state(dl.hash, ("stoppedDL",))
        self.assertNotIn(404, [q["status"] for q in proxy.requests()])


class VersionFloorTest(H.IntegrationTestCase):

    def test_older_than_4_3_1_is_one_clear_error_and_not_swept(self):
        inst = H.get_cluster(1)[0].reset()
        proxy = H.FaultProxy(inst.url)
        self.addCleanup(proxy.close)
        proxy.set_reply("/api/v2/app/version", 200, "v4.2.5")
        proxy.set_reply("/api/v2/app/webapiVersion", 200, "2.5.1")
        cfg = H.write_config(self.tmp, instance_section("qBit", inst, url=proxy.url)
                             + arr_section("Radarr-Movies", "radarr"))
        r = H.run_tool(["-c", cfg, "--json"])
        self.assertEqual(r.rc, 1, r.stderr)
        errs = [ln for ln in r.stderr.splitlines() if "qBit" in ln and "error" in ln.lower()]
        self.assertEqual(len(errs), 1, r.stderr)
        self.assertIn("qBittorrent 4.2.5 is older than 4.3.1, the oldest supported", errs[0])
        self.assertFalse(r.json()["instances"][0]["reachable"])
        # Nothing was changed there: not even the categories.
        self.assertEqual([q["path"] for q in proxy.requests() if q["method"] == "POST"],
                         ["/api/v2/auth/login", "/api/v2/auth/logout"])
        self.assertNotIn("radarr", inst.categories())


class LoginTest(H.IntegrationTestCase):

    def sweep_through(self, inst, proxy):
        cfg = H.write_config(self.tmp, instance_section("qBit", inst, url=proxy.url)
                             + arr_section("Radarr-Movies", "radarr"))
        return H.run_tool(["-c", cfg, "--json"])

    def test_newest_204_login_with_its_own_cookie_behind_a_cookie_setting_proxy(self):
        version, binary = H.qbt_build("sid")
        inst = start_instance(self, "login-sid", binary)
        proxy = H.FaultProxy(inst.url)
        self.addCleanup(proxy.close)
        proxy.set_fault("/auth/login$", "addcookie")
        r = self.sweep_through(inst, proxy)
        self.assertEqual(r.rc, 0, r.stderr)
        self.assertEqual(r.json()["instances"][0]["version"], "v" + version)
        reqs = proxy.requests()
        self.assertEqual([q["status"] for q in reqs if q["path"] == "/api/v2/auth/login"],
                         [204])
        # Every later call was accepted with the session (no 403, no re-login).
        self.assertEqual({q["status"] for q in reqs}, {200, 204})
        self.assertIn("radarr", inst.categories())

    def test_401_names_host_header_and_csrf(self):
        inst = H.get_cluster(1)[0].reset()
        proxy = H.FaultProxy(inst.url)
        self.addCleanup(proxy.close)
        proxy.set_fault("/auth/login$", "keephost")   # Host names the proxy's port
        r = self.sweep_through(inst, proxy)
        self.assertEqual(r.rc, 1)
        self.assertEqual([q["status"] for q in proxy.requests()], [401])
        self.assertIn("qBit: auth/login: HTTP 401", r.stderr)
        self.assertIn("Host header validation or CSRF protection", r.stderr)
