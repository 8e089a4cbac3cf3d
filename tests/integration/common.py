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


def arr_section(name, category, arr=None, extra=""):
    s = "[%s]\nCategory = %s\n" % (name, category)
    if arr is not None:
        s += "URI = %s\nAPIKey = %s\n" % (arr.url, arr.api_key)
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


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def later(seconds):
    """An epoch time `seconds` from now, for QBITRR_TEST_NOW."""
    return int(time.time()) + int(seconds)
