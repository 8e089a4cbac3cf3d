"""Tests of the integration harness itself (no qbitrr-sweep binary needed)."""

import http.client
import json
import os
import socket
import time
import unittest
import urllib.parse

import harness
from harness import (Blackhole, FakeArr, FaultProxy, TempDir, bdecode,
                     get_cluster, http_request, make_torrent, write_config)


class TorrentTest(unittest.TestCase):
    def test_make_torrent_offline(self):
        with TempDir() as d:
            a = make_torrent(d, "Movie.One.2020")
            self.assertEqual(len(a.hash), 40)
            self.assertEqual(a.hash, a.hash.lower())
            self.assertEqual(os.path.getsize(a.content_path), 64 * 1024)
            meta = bdecode(a.data)
            self.assertEqual(meta[b"info"][b"private"], 1)
            self.assertEqual(meta[b"announce"], b"http://127.0.0.1:9/announce")
            # deterministic
            b = make_torrent(d, "Movie.One.2020", write_data=False)
            self.assertEqual(a.hash, b.hash)
            # source changes the info hash (like mktorrent -s)
            c = make_torrent(d, "Movie.One.2020", source="TRK", write_data=False)
            self.assertNotEqual(a.hash, c.hash)
            self.assertEqual(bdecode(c.data)[b"info"][b"source"], b"TRK")
            m = make_torrent(d, "Show.S01", files={"e1.mkv": 40000,
                                                   "sub/e1.nfo": b"hello"})
            self.assertEqual(m.content_path, os.path.join(d, "Show.S01"))
            self.assertEqual(m.size, 40005)
            self.assertTrue(os.path.isfile(os.path.join(d, "Show.S01", "sub",
                                                        "e1.nfo")))
            p = write_config(d, "[x]\n")
            self.assertEqual(os.stat(p).st_mode & 0o777, 0o600)


class QbtTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = get_cluster(3)

    def setUp(self):
        self.cluster.reset()
        t = TempDir()
        self.tmp = t.path
        self.addCleanup(t.cleanup)

    def test_cluster_login(self):
        self.assertEqual(len(self.cluster), 3)
        ports = set()
        for i, q in enumerate(self.cluster):
            self.assertEqual(q.name, "qbt%d" % i)
            self.assertTrue(q.running)
            self.assertEqual(q.get("app/version"), "v4.5.2")
            self.assertEqual(q.url, "http://127.0.0.1:%d" % q.port)
            ports.add(q.port)
            # a wrong password really fails, the right one works
            st, _, body = q.request("POST", "auth/login",
                                    data={"username": q.username,
                                          "password": q.password + "x"},
                                    cookie=False)
            self.assertEqual((st, body), (200, b"Fails."))
            prefs = q.preferences()
            self.assertFalse(prefs["dht"])
            self.assertEqual(prefs["web_ui_address"], "127.0.0.1")
        self.assertEqual(len(ports), 3)

    def test_states_and_hashes(self):
        q0, q1 = self.cluster[0], self.cluster[1]
        seed = make_torrent(self.tmp, "Movie.Seed.2020")
        absent = make_torrent(self.tmp, "Movie.Absent.2021", write_data=False)
        q0.add(seed, category="radarr", tags=["a", "b"], skip_checking=True)
        q0.add(absent, category="radarr")
        t = q0.wait_state(seed.hash, ["stalledUP"], timeout=20)
        self.assertEqual(t["progress"], 1)
        self.assertEqual(t["content_path"], seed.content_path)
        self.assertEqual(t["tags"], "a, b")
        t = q0.wait_state(absent.hash, ["stalledDL"], timeout=20)
        self.assertEqual(t["progress"], 0)
        self.assertIn("radarr", q0.categories())
        # the same torrent on a second instance
        q1.add(seed, category="radarr", skip_checking=True)
        q1.wait_state(seed.hash, "stalledUP", timeout=20)
        self.assertEqual(q0.torrent(seed.hash)["hash"],
                         q1.torrent(seed.hash)["hash"])
        # a cross-seed copy with a source tag has another hash
        xs = make_torrent(self.tmp, "Movie.Seed.2020", source="OTHER",
                          write_data=False)
        self.assertNotEqual(xs.hash, seed.hash)
        q1.add(xs, skip_checking=True)
        q1.wait_state(xs.hash, "stalledUP", timeout=20)
        self.assertEqual(len(q1.torrents()), 2)
        # reset empties an instance
        q0.reset()
        self.assertEqual(q0.torrents(), [])
        self.assertEqual(q0.categories(), {})
        self.assertEqual(q0.tags(), [])

    def test_restart_keeps_port_and_state(self):
        q = self.cluster[2]
        spec = make_torrent(self.tmp, "Restart.Me")
        q.add(spec, skip_checking=True)
        q.wait_state(spec.hash, "stalledUP")
        port = q.port
        q.restart()
        self.assertEqual(q.port, port)
        self.assertIsNotNone(q.torrent(spec.hash))
        q.kill()
        self.assertFalse(q.running)
        self.cluster.reset()              # restarts killed instances
        self.assertTrue(q.running)
        self.assertEqual(q.torrents(), [])

    def test_fault_proxy(self):
        q = self.cluster[0]
        with FaultProxy(q.url) as px:
            # log in through the proxy with plain http.client (cookie relay)
            def req(method, path, body=None, sid=None):
                c = http.client.HTTPConnection("127.0.0.1", px.port, timeout=10)
                h = {}
                if body is not None:
                    h["Content-Type"] = "application/x-www-form-urlencoded"
                    body = urllib.parse.urlencode(body)
                if sid:
                    h["Cookie"] = "SID=" + sid
                h["Accept-Encoding"] = "gzip"
                c.request(method, path, body=body, headers=h)
                r = c.getresponse()
                data = r.read()
                c.close()
                return r, data
            r, data = req("POST", "/api/v2/auth/login",
                          {"username": q.username, "password": q.password})
            self.assertEqual(data, b"Ok.")
            sid = r.getheader("Set-Cookie").split(";")[0].split("=", 1)[1]
            r, data = req("GET", "/api/v2/app/version", sid=sid)
            self.assertEqual((r.status, data), (200, b"v4.5.2"))
            px.set_fault(r"/torrents/info$", "500", count=1)
            r, _ = req("GET", "/api/v2/torrents/info?filter=all", sid=sid)
            self.assertEqual(r.status, 500)
            r, data = req("GET", "/api/v2/torrents/info?filter=all", sid=sid)
            self.assertEqual(r.status, 200)      # count=1: fault cleared
            px.set_fault(r"/app/version", "ban")
            r, data = req("GET", "/api/v2/app/version", sid=sid)
            self.assertEqual(r.status, 403)
            self.assertIn(b"banned", data)
            px.set_fault(r"/torrents/categories", "garbage", count=1)
            r, data = req("GET", "/api/v2/torrents/categories", sid=sid)
            self.assertRaises(ValueError, json.loads, data)
            reqs = px.requests()
            self.assertEqual(reqs[0]["path"], "/api/v2/auth/login")
            self.assertEqual(reqs[0]["form"], {"username": q.username,
                                               "password": "***"})
            self.assertEqual(reqs[2]["query"], {"filter": "all"})
            self.assertEqual([r["status"] for r in reqs],
                             [200, 200, 500, 200, 403, 200])
            self.assertNotIn(q.password, json.dumps(reqs))
            # multipart add through the proxy via a QbtInstance pointed at it
            spec = make_torrent(self.tmp, "Via.Proxy")
            proxied = harness.QbtInstance("via-proxy", self.tmp,
                                          username=q.username,
                                          password=q.password)
            proxied.port, proxied.proc = px.port, q.proc
            px.clear()
            proxied.add(spec, category="radarr", skip_checking=True)
            add = [r for r in px.requests() if r["path"].endswith("/add")][0]
            self.assertEqual(add["form"]["category"], "radarr")
            self.assertEqual(add["form"]["torrents"]["size"], len(spec.data))
            # truncate: half the body arrives, Content-Length matches
            px.set_fault(r"/torrents/info", "truncate", count=1)
            r, data = req("GET", "/api/v2/torrents/info", sid=sid)
            self.assertEqual(r.status, 200)
            self.assertRaises(ValueError, json.loads, data)
            # hang: no answer until the client gives up
            px.set_fault(r"/app/version", "hang", count=1)
            c = http.client.HTTPConnection("127.0.0.1", px.port, timeout=0.5)
            c.request("GET", "/api/v2/app/version")
            self.assertRaises(socket.timeout, c.getresponse)
            c.close()


class FakeArrTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.arr = FakeArr("radarr", url_base="/radarr").start()

    @classmethod
    def tearDownClass(cls):
        cls.arr.stop()

    def setUp(self):
        self.arr.reset()

    def raw(self, method, path, headers=None, body=None):
        st, hdrs, data = http_request(self.arr.root_url + path, method,
                                      body=body, headers=headers)
        return st, dict((k.lower(), v) for k, v in hdrs), data

    def test_auth(self):
        a = self.arr
        k = {"X-Api-Key": a.api_key}
        self.assertEqual(self.raw("GET", "/radarr/api/v3/queue")[0], 401)
        st, _, data = self.raw("GET", "/radarr/api/v3/queue",
                               {"X-Api-Key": "wrong"})
        self.assertEqual((st, data), (401, b""))
        self.assertEqual(self.raw("GET", "/radarr/api/v3/queue", k)[0], 200)
        # an empty apikey query parameter masks a good header
        self.assertEqual(self.raw("GET", "/radarr/api/v3/queue?apikey=", k)[0],
                         401)
        self.assertEqual(self.raw("GET", "/radarr/api/v3/system/status?apikey="
                                  + a.api_key)[0], 200)
        self.assertEqual(self.raw("GET", "/radarr/api/v3/system/status",
                                  {"Authorization": "Bearer " + a.api_key})[0],
                         200)
        self.assertEqual(self.raw("GET", "/radarr/ping")[0], 200)
        # without the url base: auth first, then 307 to the prefixed URL
        self.assertEqual(self.raw("GET", "/api/v3/queue")[0], 401)
        st, h, _ = self.raw("GET", "/api/v3/queue?page=2", k)
        self.assertEqual((st, h["location"]), (307, "/radarr/api/v3/queue?page=2"))
        st, doc = a.api("GET", "system/status")
        self.assertEqual((doc["appName"], doc["urlBase"]), ("Radarr", "/radarr"))
        calls = a.calls()
        self.assertEqual([c["apiKeySource"] for c in calls],
                         ["none", "header", "header", "query", "query",
                          "bearer", "none", "none", "header", "header"])
        self.assertEqual(calls[3]["query"], {})
        self.assertEqual(calls[7]["path"], "/api/v3/queue")
        self.assertNotIn(a.api_key, json.dumps(calls))
        with open(a.record_path) as f:
            lines = [json.loads(ln) for ln in f]
        # A line is written once its answer went out: the next call's line
        # may come first.  seq is the order of arrival.
        lines.sort(key=lambda c: c["seq"])
        self.assertEqual(lines[-len(calls):], calls)
        self.assertNotIn(a.api_key, open(a.record_path).read())

    def test_queue_paging_and_delete(self):
        a = self.arr
        hashes = ["%040x" % (i + 1) for i in range(25)]
        a.set_queue([{"downloadId": h, "title": "Movie %02d" % i}
                     for i, h in enumerate(hashes)])
        st, page1 = a.api("GET", "queue")
        self.assertEqual(st, 200)
        self.assertEqual((page1["page"], page1["pageSize"],
                          page1["totalRecords"], len(page1["records"])),
                         (1, 10, 25, 10))
        st, page3 = a.api("GET", "queue", {"page": 3})
        self.assertEqual(len(page3["records"]), 5)
        st, allp = a.api("GET", "queue", {"pageSize": 100})
        recs = allp["records"]
        self.assertEqual([r["downloadId"] for r in recs],
                         [h.upper() for h in hashes])
        r0 = recs[0]
        self.assertEqual(r0["id"], harness_hash_id("trackedDownload-1-"
                                                   + hashes[0].upper()))
        self.assertEqual((r0["status"], r0["trackedDownloadState"],
                          r0["trackedDownloadStatus"], r0["protocol"]),
                         ("downloading", "downloading", "ok", "torrent"))
        st, body = a.api("DELETE", "queue/%d" % r0["id"],
                         {"removeFromClient": "false", "blocklist": "true",
                          "skipRedownload": "true"})
        self.assertEqual((st, body), (200, None))
        st, body = a.api("DELETE", "queue/%d" % r0["id"])
        self.assertEqual((st, body), (404, {"message": "NotFound"}))
        self.assertEqual(len(a.queue()), 24)
        removed = a.state()["removed"]
        self.assertEqual(removed[0]["removeFromClient"], False)
        self.assertEqual(removed[0]["blocklist"], True)
        # bulk with an unknown id fails as a whole
        st, _ = a.api("DELETE", "queue/bulk", body={"ids": [recs[1]["id"], 5]})
        self.assertEqual(st, 404)
        st, body = a.api("DELETE", "queue/bulk",
                         body={"ids": [recs[1]["id"], recs[2]["id"]]})
        self.assertEqual((st, body), (200, {}))
        self.assertEqual(len(a.queue()), 22)

    def test_commands(self):
        a = self.arr
        path = "/radarr/api/v3/command"
        k = {"X-Api-Key": a.api_key}
        st, _, _ = self.raw("POST", path, k, b'{"name":"RssSync"}')
        self.assertEqual(st, 415)
        st, _, data = self.raw("POST", path, dict(k, **{
            "Content-Type": "application/json"}), b'{"name":""}')
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(data)[0]["propertyName"], "Name")
        st, _ = a.api("POST", "command", body={"name": "NoSuchThing"})
        self.assertEqual(st, 500)
        body = {"name": "downloadedmoviesscan", "path": self.arr.workdir,
                "downloadClientId": "ABC", "importMode": "Auto"}
        st, hdrs, data = self.raw("POST", path, dict(k, **{
            "Content-Type": "application/json"}), json.dumps(body))
        self.assertEqual(st, 201)
        c1 = json.loads(data)
        self.assertEqual((c1["name"], c1["status"]),
                         ("DownloadedMoviesScan", "queued"))
        self.assertEqual(c1["body"]["importMode"], "auto")
        self.assertTrue(hdrs["location"].endswith("/radarr/api/v3/command/%d"
                                                  % c1["id"]))
        st, c2 = a.api("POST", "command", body=body)
        self.assertEqual((st, c2["id"]), (201, c1["id"]))      # de-duplicated
        st, c3 = a.api("POST", "command", body=dict(body, path="/other"))
        self.assertEqual(c3["id"], c1["id"] + 1)
        seq = [a.api("GET", "command/%d" % c1["id"])[1]["status"]
               for _ in range(3)]
        self.assertEqual(seq, ["started", "completed", "completed"])
        a.set_command_result("DownloadedMoviesScan", "failed")
        st, c4 = a.api("POST", "command", body=dict(body, path="/x"))
        a.api("GET", "command/%d" % c4["id"])
        self.assertEqual(a.api("GET", "command/%d" % c4["id"])[1]["status"],
                         "failed")
        self.assertEqual(a.api("GET", "command/99999")[0], 404)
        posts = a.calls(method="POST", path=r"/command$")
        self.assertEqual([c["status"] for c in posts],
                         [415, 400, 500, 201, 201, 201, 201])
        self.assertEqual(posts[3]["body"]["downloadClientId"], "ABC")

    def test_faults(self):
        a = self.arr
        a.set_fault("GET", r"/queue$", "503", count=1)
        self.assertEqual(a.api("GET", "queue")[0], 503)
        self.assertEqual(a.api("GET", "queue")[0], 200)
        a.set_fault("GET", r"/system/status", "truncate", count=1)
        st, doc = a.api("GET", "system/status")
        self.assertEqual(st, 200)
        self.assertIsInstance(doc, str)          # not valid JSON
        a.set_fault("*", r"/queue", "hang", count=1)
        t0 = time.monotonic()
        self.assertRaises(socket.timeout, a.api, "GET", "queue", timeout=0.5)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(a.api("GET", "queue")[0], 200)
        self.assertEqual([c.get("fault") for c in a.calls()],
                         ["503", None, "truncate", "hang", None])


def harness_hash_id(s):
    import hashlib
    return int.from_bytes(hashlib.sha1(s.encode()).digest()[:4],
                          "little") & 0x7FFFFFFF


class RunToolTest(unittest.TestCase):
    """run_tool() against a stand-in shell script."""

    def setUp(self):
        t = TempDir()
        self.addCleanup(t.cleanup)
        self.script = os.path.join(t.path, "fake-tool")
        with open(self.script, "w") as f:
            f.write('#!/bin/sh\n'
                    'printf \'{"args":"%s","asan":"%s","proxy":"%s"}\' '
                    '"$*" "$ASAN_OPTIONS" "$http_proxy"\n'
                    '[ -n "$SAY" ] && echo "$SAY" >&2\n'
                    'read -r line && echo "stdin=$line" >&2\n'
                    'exit ${RC:-0}\n')
        os.chmod(self.script, 0o755)
        old = harness.BINARY
        harness.BINARY = self.script
        self.addCleanup(setattr, harness, "BINARY", old)

    def test_run_tool(self):
        os.environ["http_proxy"] = "http://192.0.2.1:3128"
        self.addCleanup(os.environ.pop, "http_proxy", None)
        r = harness.run_tool(["--dry-run", "x"], env={"RC": 3}, stdin="hi\n")
        self.assertEqual(r.rc, 3)
        self.assertEqual(r.json(), {"args": "--dry-run x", "proxy": "",
                                    "asan": "detect_leaks=1:abort_on_error=0"})
        self.assertIn("stdin=hi", r.stderr)
        for msg in ("==1==ERROR: AddressSanitizer: heap-use-after-free",
                    "src/x.c:3:5: runtime error: signed integer overflow"):
            with self.assertRaises(AssertionError) as cm:
                harness.run_tool([], env={"SAY": msg})
            self.assertIn(msg, str(cm.exception))


class BlackholeTest(unittest.TestCase):
    def test_connect_then_timeout(self):
        with Blackhole() as bh:
            u = urllib.parse.urlsplit(bh.url)
            self.assertEqual(u.hostname, "127.0.0.1")
            t0 = time.monotonic()
            s = socket.create_connection(("127.0.0.1", bh.port), timeout=2)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(0.5)
            self.assertRaises(socket.timeout, s.recv, 1)
            s.close()
            self.assertLess(time.monotonic() - t0, 3)


if __name__ == "__main__":
    unittest.main()
