"""Shared fixtures for the tool's integration tests: a config over the real
qbittorrent-nox cluster, fake Arrs, torrents in categories, and readers for
the state file."""
import os
import sqlite3
import time

import harness as H


def instance_section(name, inst, url=None, extra=""):
    """An INI section for a QbtInstance (or a proxy in front of it)."""
    host = url or inst.url
    return ("[%s]\nHost = %s\nUserName = %s\nPassword = %s\n%s\n"
            % (name, host, inst.username, inst.password, extra))


# What qBitrr writes into a generated [<Arr>] section for these two keys
# (absent, both mean "off" to qBitrr and here).
GENERATED_ERROR_CODES = {
    "Radarr": "movie", "Sonarr": "episode", "Lidarr": "track"}


# The file filters of a [<Arr>.Torrent] section as qBitrr 5.14 generates
# them for Radarr and Sonarr (absent, qBitrr filters nothing).
GENERATED_FILTERS = (
    'FolderExclusionRegex = ["\\\\bextras?\\\\b", "\\\\bfeaturettes?\\\\b", '
    '"\\\\bsamples?\\\\b", "\\\\bscreens?\\\\b", "\\\\bnc(ed|op)?(\\\\\\\\d+)?\\\\b"]\n'
    'FileNameExclusionRegex = ["\\\\bncop\\\\\\\\d+?\\\\b", "\\\\bnced\\\\\\\\d+?\\\\b", '
    '"\\\\bsample\\\\b", "brarbg.com\\\\b", "\\\\btrailer\\\\b", "music video", '
    '"comandotorrents.com"]\n'
    'FileExtensionAllowlist = [".mp4", ".mkv", ".sub", ".ass", ".srt", ".!qB", ".parts"]\n')


def arr_section(name, category, arr=None, extra=""):
    """An Arr section with ReSearch and ArrErrorCodesToBlocklist as qBitrr
    generates them (unless extra sets them)."""
    s = "[%s]\nCategory = %s\n" % (name, category)
    if arr is not None:
        s += "URI = %s\nAPIKey = %s\n" % (arr.url, arr.api_key)
    head = extra.split("\n[", 1)[0]
    if "ReSearch" not in head:
        s += "ReSearch = true\n"
    kind = GENERATED_ERROR_CODES.get(name.split("-")[0].split(".")[0])
    if kind and "ArrErrorCodesToBlocklist" not in head:
        s += ('ArrErrorCodesToBlocklist = ["Not a preferred word upgrade for '
              'existing %s file(s)", "Not an upgrade for existing %s file(s)", '
              '"Unable to determine if file is a sample"]\n' % (kind, kind))
    return s + extra + "\n"


class Env(H.IntegrationTestCase):
    """A test with the shared cluster reset, a temp dir and helpers."""

    n_instances = 3

    def setUp(self):
        super().setUp()
        self.cluster = H.get_cluster(self.n_instances).reset()
        self.qbt = [self.cluster[i] for i in range(self.n_instances)]
        self.data = os.path.join(self.tmp, "data")
        os.makedirs(self.data, exist_ok=True)
        self.state = os.path.join(self.tmp, "qbitrr.db")
        self.arrs = []

    def fake_arr(self, kind="radarr"):
        arr = H.FakeArr(kind, workdir=self.tmp)
        arr.start()
        self.addCleanup(arr.stop)
        self.arrs.append(arr)
        return arr

    def torrent(self, name, write_data=True, **kw):
        return H.make_torrent(self.data, name, write_data=write_data, **kw)

    def config(self, text):
        self.cfg = H.write_config(self.tmp, text)
        self.follow_categories(text)
        return self.cfg

    def follow_categories(self, text):
        """Make every fake Arr of the config behave like a real one: its
        download clients are the config's instances (at their real address,
        behind any proxy), and its queue lists only what sits in its
        category there (arr-api.md section 8)."""
        secs, cur = {}, None
        for ln in text.splitlines():
            ln = ln.strip()
            if ln.startswith("[") and ln.endswith("]"):
                cur = secs.setdefault(ln[1:-1].strip(), {})
            elif cur is not None and "=" in ln and not ln.startswith(("#", ";")):
                k, v = ln.split("=", 1)
                cur[k.strip()] = v.strip().strip('"')
        clients = []
        for name, kv in secs.items():
            if not name.startswith("qBit") or "." in name or "Host" not in kv:
                continue
            url = kv["Host"]
            for inst in self.cluster:
                if inst.password == kv.get("Password"):
                    url = inst.url
            clients.append({"name": name, "url": url,
                            "username": kv.get("UserName", ""),
                            "password": kv.get("Password", "")})
        for arr in self.arrs:
            for name, kv in secs.items():
                if kv.get("URI") == arr.url and "Category" in kv:
                    arr.scenario(qbit_clients=[dict(c, category=kv["Category"])
                                               for c in clients])

    def sweep(self, *args, env=None, now=None, check=None):
        env = dict(env or {})
        if now is not None:
            env["QBITRR_TEST_NOW"] = str(int(now))
        r = H.run_tool(["-c", self.cfg] + list(args), env=env)
        if check is not None:
            self.assertEqual(r.rc, check, "exit %d\nstdout:\n%s\nstderr:\n%s"
                             % (r.rc, r.stdout, r.stderr))
        return r

    def rows(self, where="1=1", params=()):
        db = sqlite3.connect(self.state)
        db.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in db.execute(
                "SELECT * FROM torrents WHERE %s ORDER BY instance, hash"
                % where, params)]
        finally:
            db.close()

    def audit(self, where="1=1", params=()):
        db = sqlite3.connect(self.state)
        db.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in db.execute(
                "SELECT * FROM actions WHERE %s ORDER BY id" % where, params)]
        finally:
            db.close()

    def wait_listed(self, inst, spec, states, timeout=30):
        return inst.wait_state(spec.hash, states, timeout=timeout)


def wait_seeded(inst, spec, seconds, timeout=30):
    """Wait until qBittorrent's own seeding_time of spec (the seeding clock,
    as in qBitrr) is at least `seconds`.  qBittorrent brings an idle
    seeder's seeding_time up to date only when its state changes (and in
    whole seconds), so once it has been complete that long, each poll
    pauses and resumes it, a few seconds apart; it is left seeding."""
    done_at = inst.torrent(spec.hash)["completion_on"]
    H.wait_until(lambda: time.time() >= done_at + seconds + 1, timeout=timeout,
                 what="%s complete for %d s" % (spec.name, seconds))

    def pred():
        try:
            inst.post("torrents/pause", {"hashes": spec.hash})
            verbs = ("torrents/resume",)
        except H.QbtApiError:       # qBittorrent 5: stop/start
            inst.post("torrents/stop", {"hashes": spec.hash})
            verbs = ("torrents/start",)
        seeded = H.wait_until(
            lambda: inst.torrent(spec.hash)["state"] in ("pausedUP", "stoppedUP") and
            inst.torrent(spec.hash), what="%s paused" % spec.name)["seeding_time"]
        inst.post(verbs[0], {"hashes": spec.hash})
        return seeded >= seconds
    H.wait_until(pred, timeout=timeout, interval=2.5,
                 what="seeding_time of %s reaching %d s" % (spec.name, seconds))
    inst.wait_state(spec.hash, ("stalledUP", "uploading", "queuedUP"))


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def later(seconds):
    """An epoch time `seconds` from now, for QBITRR_TEST_NOW."""
    return int(time.time()) + int(seconds)
