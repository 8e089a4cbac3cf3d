"""qBitrr users (issue 12): qBitrr's own config.toml, as each release
generates it, loads through the binary; keys mean what they mean to qBitrr."""
import glob
import os
import shutil
import time

import harness as H
from common import Env, instance_section, arr_section, wait_seeded

FIXTURES = os.path.join(H.REPO, "tests", "data", "qbitrr")


class QbitrrTemplatesTest(H.IntegrationTestCase):

    def test_every_qbitrr_template_passes_check_config(self):
        paths = sorted(glob.glob(os.path.join(FIXTURES, "*.toml")))
        # v3.2.9 ([QBit]), v3.3.0 .. v5.14.4 one per distinct template, and
        # the upgraded one.
        self.assertGreaterEqual(len(paths), 61)
        for p in paths:
            # A private copy: the committed file's mode would add a warning.
            copy = os.path.join(self.tmp, os.path.basename(p))
            shutil.copyfile(p, copy)
            os.chmod(copy, 0o600)
            r = H.run_tool(["-c", copy, "check-config"])
            self.assertEqual(r.rc, 0, "%s:\n%s" % (p, r.stderr))
            self.assertNotIn("error:", r.stderr, p)
            self.assertIn("[qBit]", r.stdout, p)
            self.assertIn("Category = ", r.stdout, p)


SEEDING = ("stalledUP", "uploading")
DOWNLOADING = ("stalledDL", "downloading", "metaDL")


def minimal_config(inst, arr, torrent=""):
    """qBitrr's documented "Complete Minimal Config" (docs/configuration/
    config-file.md), pointed at a test instance and fake Radarr."""
    return ('[Settings]\nCompletedDownloadFolder = "/data/downloads"\n\n'
            '[WebUI]\nHost = "0.0.0.0"\nPort = 6969\n\n'
            '[qBit]\nDisabled = false\nHost = "%s"\nUserName = "%s"\nPassword = "%s"\n\n'
            '[Radarr-Movies]\nManaged = true\nURI = "%s"\nAPIKey = "%s"\n'
            'Category = "radarr-movies"\nReSearch = true\n%s'
            % (inst.url, inst.username, inst.password, arr.url, arr.api_key, torrent))


class QbitrrDecisionsTest(Env):
    """qBitrr-shaped configs against real qbittorrent-nox: the decisions
    qBitrr would make."""
    n_instances = 1

    def test_minimal_config_filters_nothing_and_blocklists_nothing(self):
        radarr = self.fake_arr("radarr")
        a = self.qbt[0]
        self.config(minimal_config(a, radarr))
        avi = self.torrent("Old.Movie.1999", write_data=False,
                           files={"old.movie.avi": 60000})
        done = self.torrent("Not.An.Upgrade.2020", files={"movie.mkv": 40000})
        a.add(avi, category="radarr-movies")
        a.add(done, category="radarr-movies", skip_checking=True)
        a.wait_state(avi.hash, DOWNLOADING)
        a.wait_state(done.hash, SEEDING)
        radarr.set_queue([
            {"downloadId": avi.hash_upper, "movieId": 7, "status": "downloading"},
            {"downloadId": done.hash_upper, "movieId": 8, "status": "completed",
             "trackedDownloadState": "importPending", "trackedDownloadStatus": "warning",
             "statusMessages": [{"title": done.name,
                                 "messages": ["Not an upgrade for existing movie file(s)"]}]}])
        r = self.sweep("--dry-run", "--json", check=0)
        acts = [(x["name"], x["action"]) for x in r.json()["actions"]]
        for name in (avi.name, done.name):
            for verb in ("delete", "blocklist", "search", "set_file_priority"):
                self.assertNotIn((name, verb), acts, r.stderr)
        # The .avi keeps its priority after a real sweep too.
        self.sweep(check=0)
        files = a.get("torrents/files", hash=avi.hash)
        self.assertEqual([f["priority"] for f in files], [1])
        self.assertIsNotNone(a.torrent(done.hash))

    def test_regex_allowlist_keeps_mkv_and_srt(self):
        radarr = self.fake_arr("radarr")
        a = self.qbt[0]
        self.config(minimal_config(
            a, radarr, torrent='\n[Radarr-Movies.Torrent]\n'
            'FileExtensionAllowlist = ["\\\\.mkv$", "\\\\.srt$"]\n'))
        spec = self.torrent("Regex.Allow.2021", write_data=False, files={
            "movie.mkv": 60000, "movie.en.srt": 300, "movie.nfo": 200})
        a.add(spec, category="radarr-movies")
        a.wait_state(spec.hash, DOWNLOADING)
        radarr.set_queue([{"downloadId": spec.hash_upper, "movieId": 9,
                           "status": "downloading"}])
        r = self.sweep("--json", check=0)
        acts = [(x["action"], x["result"]) for x in r.json()["actions"]
                if x["hash"] == spec.hash]
        self.assertIn(("set_file_priority", "done"), acts, r.stderr)
        self.assertNotIn("delete", [x[0] for x in acts])
        files = {f["name"]: f["priority"] for f in a.get("torrents/files", hash=spec.hash)}
        self.assertEqual(files, {"Regex.Allow.2021/movie.mkv": 1,
                                 "Regex.Allow.2021/movie.en.srt": 1,
                                 "Regex.Allow.2021/movie.nfo": 0})
        self.assertIsNotNone(a.torrent(spec.hash))


class HitAndRunTest(Env):
    """A torrent on a Hit-and-Run tracker stays until the tracker's minimum,
    as qBitrr keeps it; explain says why."""
    n_instances = 1

    def write(self, hnr_days, hnr_ratio):
        self.config(
            "[Settings]\nImportDelay = 0\nIgnoreTorrentsYoungerThan = 0\n\n"
            + instance_section("qBit", self.a)
            + "[[qBit.Trackers]]\nName = \"PrivateHD\"\n"
            "URI = \"https://privatehd.example/announce\"\nPriority = 10\n"
            "HitAndRunMode = \"and\"\nMinSeedRatio = %s\nMinSeedingTimeDays = %s\n\n"
            % (hnr_ratio, hnr_days)
            + arr_section("Radarr-Movies", "radarr", self.radarr)
            + "[Radarr-Movies.Torrent.SeedingMode]\nRemoveTorrent = 2\nMaxSeedingTime = 2\n")

    def test_hit_and_run_torrent_stays_until_its_minimum(self):
        self.radarr = self.fake_arr("radarr")
        self.a = a = self.qbt[0]
        self.write(7, 1.0)
        hnr = self.torrent("Private.Movie.2021", files={"movie.mkv": 40000},
                           tracker="http://tracker.privatehd.example/announce")
        public = self.torrent("Public.Movie.2021", files={"movie.mkv": 30000},
                              tracker="http://tracker.public.example/announce")
        for s in (hnr, public):
            a.add(s, category="radarr", skip_checking=True)
            a.wait_state(s.hash, SEEDING)
        H.wait_until(lambda: time.time() >= a.torrent(hnr.hash)["completion_on"] + 1.1,
                     what="completion in the past")
        self.sweep(check=0)                         # imports both
        wait_seeded(a, hnr, 2)
        wait_seeded(a, public, 2)
        r = self.sweep("--json", check=0)
        dels = [(x["name"], x["result"]) for x in r.json()["actions"] if x["action"] == "delete"]
        self.assertEqual(dels, [(public.name, "done")], r.stderr)
        self.assertIsNotNone(a.torrent(hnr.hash))
        r = self.sweep("explain", hnr.hash[:10], check=0)
        self.assertIn("tracker: PrivateHD", r.stdout)
        self.assertIn("Hit-and-Run on PrivateHD (mode and): ratio 0.00 < MinSeedRatio 1.00",
                      r.stdout)
        self.assertIn("MinSeedingTimeDays 7", r.stdout)
        # Its minimum met (3 s of seeding, ratio not required): removed.
        self.write(0.00003, 0)
        wait_seeded(a, hnr, 3)
        r = self.sweep("--json", check=0)
        dels = [(x["name"], x["result"]) for x in r.json()["actions"] if x["action"] == "delete"]
        self.assertEqual(dels, [(hnr.name, "done")], r.stderr)
        H.wait_until(lambda: a.torrent(hnr.hash) is None, what="HnR torrent removed")
