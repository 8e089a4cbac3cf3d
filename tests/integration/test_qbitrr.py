"""qBitrr users (issue 12): qBitrr's own config.toml, as each release
generates it, loads through the binary; keys mean what they mean to qBitrr."""
import glob
import os
import shutil

import harness as H
from common import Env

FIXTURES = os.path.join(H.REPO, "tests", "data", "qbitrr")


class QbitrrTemplatesTest(H.IntegrationTestCase):

    def test_every_qbitrr_template_passes_check_config(self):
        paths = sorted(glob.glob(os.path.join(FIXTURES, "*.toml")))
        # v3.3.0 .. v5.14.4, one per distinct template, plus the upgraded one.
        self.assertGreaterEqual(len(paths), 60)
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
