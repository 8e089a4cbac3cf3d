#!/usr/bin/env python3
"""A fast fake qBittorrent 4.5.2 WebUI API for the benchmark (stdlib only).

Serves one instance on 127.0.0.1 with N generated torrents whose
`torrents/info` entries carry every key of qBittorrent 4.5.2 (see
shared/research/qbittorrent-lab.md section 5) and weigh about 1.1 KB of JSON
each, like the real server's.  The full list and every per-category list are
serialised and gzipped once at start-up, so serving them costs the server
little: what a client measures is its own cost plus the emulated one.

Emulated server cost (optional, --serialise-ms-per-1k X): qBittorrent builds
the JSON of every torrent a `torrents/info` (or `sync/maindata`) call returns
before answering (lab section 7: 10,000 torrents take 1.3-2.9 s even with
limit=100, while a category filter matching nothing answers in 3.5 ms).  The
fake server waits X ms per 1,000 torrents *selected by the filters* (before
limit/offset), holding one lock, because qBittorrent's WebUI runs in its main
thread and answers one request at a time.  --latency-ms L is added to every
request outside that lock (a network round trip).

Endpoints (all under /api/v2/): auth/login (Ok. + SID cookie; any other
request without the cookie gets 403 Forbidden), auth/logout, app/version,
app/webapiVersion, torrents/categories, torrents/info (category=, hashes=,
filter=, tag=, limit=, offset=), torrents/files, torrents/trackers,
torrents/properties, sync/maindata, and the actions (createCategory 200/409,
delete, recheck, pause/resume, stop/start, setCategory, filePrio,
setDownloadLimit/setUploadLimit, tags...) answering 200 without changing the
torrents, so every run of a benchmark sees the same lists.

Control (not counted): GET /__stats -> JSON counts per endpoint (requests,
wire bytes sent = body as sent, gzipped or not, raw bytes = uncompressed body,
emulated server milliseconds); POST /__reset zeroes them.

    fake_qbit.py --port 0 --torrents 10000 --managed-fraction 0.2 \
        --serialise-ms-per-1k 130 --latency-ms 0 --seed 1

prints "listening on http://127.0.0.1:PORT" as its first line.
"""

import argparse
import gzip
import hashlib
import http.server
import json
import random
import secrets
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

WORDS = """alpha amber arrow autumn beacon binary black blue bridge broken
canyon captain carbon castle cipher city cloud cold crimson crown dark dawn
dead deep desert distant dragon dream dust echo edge electric empire end
eternal falcon fire first forest forgotten frozen galaxy garden ghost glass
gold green harbor heart hidden hollow horizon hunter ice iron island jade
journey king last legend light lion lost lunar machine midnight mirror moon
mountain night north ocean orbit origin paper phantom planet quiet rain
red river rogue royal ruby saint secret shadow signal silent silver sky
snow solar spirit star steel stone storm summer sun thunder tide tiger
time tower twilight valley velvet wild winter wolf world zero""".split()
GROUPS = ["SPARKS", "NTb", "FLUX", "CMRG", "EDITH", "TEPES", "GGEZ", "playWEB",
          "KOGi", "BLUTONiUM", "FGT", "ION10", "SiGMA", "DON", "HiFi"]
QUALITIES = ["1080p", "2160p", "720p", "1080p.WEB", "2160p.WEB", "BluRay"]
UNMANAGED = [("long-term-seed", 0.80), ("linux-isos", 0.10), ("", 0.10)]
TRACKERS = ["https://tr.example.org/", "https://t.example.net/",
            "udp://tr.example.com:1337"]
TAGS = ["", "", "", "", "cross-seed", "permaseed", "movie, permaseed", "tv", "4k"]


def _title(rnd, n):
    return ".".join(rnd.choice(WORDS).capitalize() for _ in range(n))


class Torrent:
    __slots__ = ("hash", "category", "info", "json", "files")


def generate(n, managed_fraction, managed_cats, seed, now, downloading_fraction=0.0):
    """n deterministic torrents; a share `managed_fraction` spread evenly over
    managed_cats, the rest over UNMANAGED."""
    rnd = random.Random("fake-qbit:%s" % seed)
    passkey = hashlib.md5(("pk%s" % seed).encode()).hexdigest()[:16]
    n_managed = int(round(n * managed_fraction))
    out = []
    for i in range(n):
        t = Torrent()
        if i < n_managed:
            cat = managed_cats[i % len(managed_cats)]
        else:
            r, acc = rnd.random(), 0.0
            cat = UNMANAGED[-1][0]
            for c, p in UNMANAGED:
                acc += p
                if r < acc:
                    cat = c
                    break
        h = hashlib.sha1(("%s:%d" % (seed, i)).encode()).hexdigest()
        year = rnd.randint(1960, 2025)
        if "sonarr" in cat or cat == "tv":
            name = "%s.S%02dE%02d.%s-%s" % (_title(rnd, rnd.randint(1, 2)), rnd.randint(1, 12),
                                           rnd.randint(1, 24), rnd.choice(QUALITIES),
                                           rnd.choice(GROUPS))
        elif cat == "linux-isos":
            name = "%s-%d.%d-live-amd64.iso" % (rnd.choice(["debian", "ubuntu", "fedora", "arch"]),
                                                rnd.randint(8, 24), rnd.randint(0, 10))
        else:
            name = "%s.%d.%s-%s" % (_title(rnd, rnd.randint(1, 2)), year,
                                    rnd.choice(QUALITIES), rnd.choice(GROUPS))
        save_path = "/data/%s" % (cat or "other")
        nfiles = rnd.choice([1, 1, 1, 2, 3])
        size = rnd.randint(200, 60000) * 1048576 + rnd.randint(0, 1048575)
        if nfiles == 1:
            files = [(name + ".mkv" if not name.endswith(".iso") else name, size)]
            content_path = "%s/%s" % (save_path, files[0][0])
        else:
            main = size - 1000 * (nfiles - 1)
            files = [("%s/%s.mkv" % (name, name.lower()), main)]
            files += [("%s/%s" % (name, x), 1000) for x in ("sample.nfo", "extras/trailer.mkv")[:nfiles - 1]]
            content_path = "%s/%s" % (save_path, name)
        tracker = rnd.choice(TRACKERS)
        tracker_url = tracker + passkey if tracker.startswith("https") else tracker
        added = now - rnd.randint(86400, 3 * 365 * 86400)
        downloading = i < n_managed and rnd.random() < downloading_fraction
        if downloading:
            progress = round(rnd.random() * 0.9, 4)
            done = int(size * progress)
            state, completion, left = rnd.choice(["downloading", "stalledDL"]), 0, size - done
            dlspeed = rnd.randint(0, 5000000) if state == "downloading" else 0
            eta = rnd.randint(60, 86400)
        else:
            progress, done, left = 1, size, 0
            completion = added + rnd.randint(60, 7200)
            state = rnd.choice(["stalledUP"] * 8 + ["uploading", "pausedUP"])
            dlspeed, eta = 0, 8640000
        uploaded = 0 if rnd.random() < 0.3 else int(size * rnd.random() * rnd.choice([0.1, 0.5, 1, 3, 10]))
        upspeed = rnd.randint(1000, 3000000) if state == "uploading" else 0
        seeding_time = max(0, now - completion) if completion else 0
        dn = urllib.parse.quote(name, safe="")
        info = {
            "added_on": added, "amount_left": left, "auto_tmm": False,
            "availability": -1 if not downloading else round(rnd.random() * 3, 3),
            "category": cat, "completed": done, "completion_on": completion,
            "content_path": content_path, "dl_limit": 0, "dlspeed": dlspeed,
            "download_path": "", "downloaded": done, "downloaded_session": 0, "eta": eta,
            "f_l_piece_prio": False, "force_start": False, "hash": h,
            "infohash_v1": h, "infohash_v2": "",
            "last_activity": now - rnd.randint(0, 30 * 86400),
            "magnet_uri": "magnet:?xt=urn:btih:%s&dn=%s&tr=%s" % (
                h, dn, urllib.parse.quote(tracker_url, safe="")),
            "max_ratio": -1, "max_seeding_time": -1, "name": name,
            "num_complete": rnd.choice([0, 0, 1, 2, 5, 12, 40]), "num_incomplete": rnd.choice([0, 0, 0, 1, 3]),
            "num_leechs": 0 if state != "uploading" else rnd.randint(1, 5),
            "num_seeds": 0 if not downloading else rnd.randint(0, 30),
            "priority": 0, "progress": progress,
            "ratio": round(uploaded / size, 6) if size else 0, "ratio_limit": -2,
            "save_path": save_path, "seeding_time": seeding_time,
            "seeding_time_limit": -2, "seen_complete": completion or 0,
            "seq_dl": False, "size": size, "state": state, "super_seeding": False,
            "tags": rnd.choice(TAGS), "time_active": seeding_time + rnd.randint(0, 3600),
            "total_size": size, "tracker": tracker_url if rnd.random() < 0.7 else "",
            "trackers_count": 1, "up_limit": 0, "uploaded": uploaded,
            "uploaded_session": 0 if state != "uploading" else int(uploaded * rnd.random() * 0.1),
            "upspeed": upspeed,
        }
        t.hash, t.category, t.info, t.files = h, cat, info, files
        t.json = json.dumps(info, sort_keys=True, separators=(",", ":"))
        out.append(t)
    return out


def json_list(torrents):
    return ("[" + ",".join(t.json for t in torrents) + "]").encode()


class Payload:
    """A response body, raw and (lazily) gzipped, with its emulated cost."""
    __slots__ = ("raw", "gz", "count")

    def __init__(self, raw, count, precompress=False):
        self.raw, self.count, self.gz = raw, count, None
        if precompress:
            self.gzipped()

    def gzipped(self):
        if self.gz is None:
            self.gz = gzip.compress(self.raw, compresslevel=6, mtime=0)
        return self.gz


class State:
    def __init__(self, args):
        self.args = args
        self.now = int(args.now or time.time())
        self.managed = [c for c in args.managed_categories.split(",") if c]
        self.torrents = generate(args.torrents, args.managed_fraction, self.managed,
                                 args.seed, self.now, args.downloading_fraction)
        self.by_hash = {t.hash: t for t in self.torrents}
        self.categories = {}
        for c in self.managed + [c for c, _ in UNMANAGED if c] + ["failed", "recheck"]:
            self.categories[c] = {"name": c, "savePath": ""}
        self.by_cat = {}
        for t in self.torrents:
            self.by_cat.setdefault(t.category, []).append(t)
        # Pre-serialised (and pre-compressed) lists: all, and one per category.
        self.lists = {None: Payload(json_list(self.torrents), len(self.torrents), True)}
        for c in set(self.categories) | set(self.by_cat):
            lst = self.by_cat.get(c, [])
            self.lists[c] = Payload(json_list(lst), len(lst), True)
        self.maindata = None
        self.sids = set()
        self.lock = threading.Lock()        # statistics
        self.api_lock = threading.Lock()    # the WebUI's single thread
        self.stats = {}
        self.started = time.time()

    def count(self, endpoint, wire, raw, server_ms):
        with self.lock:
            s = self.stats.setdefault(endpoint, {"requests": 0, "wire_bytes": 0,
                                                 "raw_bytes": 0, "server_ms": 0.0})
            s["requests"] += 1
            s["wire_bytes"] += wire
            s["raw_bytes"] += raw
            s["server_ms"] += server_ms

    def snapshot(self):
        with self.lock:
            per = {k: dict(v) for k, v in self.stats.items()}
        tot = {"requests": 0, "wire_bytes": 0, "raw_bytes": 0, "server_ms": 0.0}
        for v in per.values():
            for k in tot:
                tot[k] += v[k]
        return {"endpoints": per, "total": tot, "torrents": len(self.torrents),
                "managed": sum(len(self.by_cat.get(c, [])) for c in self.managed)}

    def get_maindata(self):
        if self.maindata is None:
            tor = {}
            for t in self.torrents:
                d = dict(t.info)
                del d["hash"]
                tor[t.hash] = d
            doc = {"categories": self.categories, "full_update": True, "rid": 1,
                   "server_state": {"connection_status": "connected", "dht_nodes": 0,
                                    "free_space_on_disk": self.args.free_space,
                                    "refresh_interval": 1500},
                   "tags": ["4k", "cross-seed", "movie", "permaseed", "tv"],
                   "torrents": tor, "trackers": {}}
            self.maindata = Payload(json.dumps(doc, separators=(",", ":")).encode(),
                                    len(self.torrents))
        return self.maindata


def accepts_gzip(header):
    for part in (header or "").split(","):
        bits = [b.strip() for b in part.split(";")]
        if bits[0].lower() in ("gzip", "*"):
            q = 1.0
            for b in bits[1:]:
                if b.startswith("q="):
                    try:
                        q = float(b[2:])
                    except ValueError:
                        q = 0.0
            if q > 0:
                return True
    return False


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "qBittorrent-fake"
    sys_version = ""
    # Headers and body go out in two writes: with Nagle on, the body waits
    # for the client's delayed ACK (40 ms a request), which no real server does.
    disable_nagle_algorithm = True
    st = None           # State, set in main()

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        # Headers and body leave in one segment, and nothing waits for
        # Nagle + delayed ACK (40 ms per answer on loopback otherwise).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # -- helpers -----------------------------------------------------------

    def _form(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        ctype = self.headers.get("Content-Type", "")
        if "multipart" in ctype:
            return {}
        return {k: v[-1] for k, v in urllib.parse.parse_qs(
            body.decode("utf-8", "replace"), keep_blank_values=True).items()}

    def _send(self, status, body, ctype="text/plain; charset=UTF-8", endpoint=None,
              server_ms=0.0, headers=(), payload=None):
        gz = accepts_gzip(self.headers.get("Accept-Encoding"))
        if payload is not None:
            raw = payload.raw
            data = payload.gzipped() if gz else raw
        else:
            raw = body if isinstance(body, bytes) else body.encode()
            data = raw
            if gz and len(raw) > 256:
                data = gzip.compress(raw, compresslevel=6, mtime=0)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        if data is not raw:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        for k, v in headers:
            self.send_header(k, v)
        self._headers_buffer.append(b"\r\n")
        head = b"".join(self._headers_buffer)
        self._headers_buffer = []
        if self.command == "HEAD":
            self.wfile.write(head)
        elif len(data) < 65536:
            self.wfile.write(head + data)
        else:
            self.wfile.write(head)
            self.wfile.write(data)
        if endpoint is not None:
            self.st.count(endpoint, len(data), len(raw), server_ms)

    def _json(self, obj, endpoint, server_ms=0.0):
        self._send(200, json.dumps(obj, separators=(",", ":")),
                   "application/json", endpoint, server_ms)

    def _serialise_cost(self, n):
        """Emulated cost of building the JSON of n torrents (one at a time)."""
        ms = self.st.args.serialise_ms_per_1k * n / 1000.0
        if ms > 0:
            if self.st.args.serial:
                with self.st.api_lock:
                    time.sleep(ms / 1000.0)
            else:
                time.sleep(ms / 1000.0)
        return ms

    def _logged_in(self):
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == "SID" and v in self.st.sids:
                return True
        return False

    # -- dispatch ----------------------------------------------------------

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def _handle(self, method):
        u = urllib.parse.urlsplit(self.path)
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(u.query, keep_blank_values=True).items()}
        form = self._form() if method == "POST" else {}
        if u.path == "/__stats":
            return self._send(200, json.dumps(self.st.snapshot()), "application/json")
        if u.path == "/__reset":
            with self.st.lock:
                self.st.stats = {}
            return self._send(200, "ok")
        if not u.path.startswith("/api/v2/"):
            return self._send(404, "Not Found", endpoint="other")
        ep = u.path[len("/api/v2/"):]
        if self.st.args.latency_ms > 0:
            time.sleep(self.st.args.latency_ms / 1000.0)
        params = dict(q)
        params.update(form)
        if ep == "auth/login":
            if (params.get("username") == self.st.args.username and
                    params.get("password") == self.st.args.password):
                sid = secrets.token_urlsafe(24)
                self.st.sids.add(sid)
                return self._send(200, "Ok.", endpoint=ep, headers=[
                    ("Set-Cookie", "SID=%s; HttpOnly; SameSite=Strict; path=/" % sid)])
            return self._send(200, "Fails.", endpoint=ep)
        if not self._logged_in():
            return self._send(403, "Forbidden", endpoint=ep)
        fn = getattr(self, "ep_" + ep.replace("/", "_"), None)
        if fn is not None:
            return fn(ep, params)
        if ep.startswith("torrents/") and method == "POST":
            return self._send(200, "", endpoint=ep)
        if ep == "auth/logout":
            return self._send(200, "", endpoint=ep)
        return self._send(404 if method == "GET" else 405, "Not Found", endpoint=ep)

    # -- endpoints ---------------------------------------------------------

    def ep_app_version(self, ep, p):
        self._send(200, "v4.5.2", endpoint=ep)

    def ep_app_webapiVersion(self, ep, p):
        self._send(200, "2.8.19", endpoint=ep)

    def ep_torrents_categories(self, ep, p):
        self._json(self.st.categories, ep)

    def ep_torrents_createCategory(self, ep, p):
        c = p.get("category", "")
        if not c or c in self.st.categories:
            return self._send(409, "Unable to create category", endpoint=ep)
        self.st.categories[c] = {"name": c, "savePath": p.get("savePath", "")}
        self.st.lists.setdefault(c, Payload(b"[]", 0))
        self._send(200, "", endpoint=ep)

    def ep_torrents_info(self, ep, p):
        cat = p.get("category")
        simple = set(p) <= {"category"}
        if simple and cat in self.st.lists:
            pl = self.st.lists[cat]
        elif simple:
            pl = Payload(b"[]", 0)
        else:
            lst = self.st.torrents if cat is None else self.st.by_cat.get(cat, [])
            if "hashes" in p and p["hashes"] != "all":
                want = set(h.lower() for h in p["hashes"].split("|"))
                lst = [t for t in lst if t.hash in want]
            if p.get("tag"):
                lst = [t for t in lst if p["tag"] in t.info["tags"].split(", ")]
            f = p.get("filter", "all")
            if f in ("completed", "seeding"):
                lst = [t for t in lst if t.info["progress"] == 1]
            elif f == "downloading":
                lst = [t for t in lst if t.info["progress"] < 1]
            n = len(lst)
            off = int(p.get("offset") or 0)
            lim = int(p.get("limit") or 0)
            lst = lst[off:off + lim] if lim > 0 else lst[off:]
            pl = Payload(json_list(lst), n)
        ms = self._serialise_cost(pl.count)
        self._send(200, None, "application/json", ep, ms, payload=pl)

    def ep_sync_maindata(self, ep, p):
        pl = self.st.get_maindata()
        ms = self._serialise_cost(pl.count)
        self._send(200, None, "application/json", ep, ms, payload=pl)

    def _torrent(self, ep, p):
        h = (p.get("hash") or "").lower()
        if not h:
            self._send(400, "Bad Request", endpoint=ep)
            return None
        t = self.st.by_hash.get(h)
        if t is None:
            self._send(404, "Not Found", endpoint=ep)
        return t

    def ep_torrents_files(self, ep, p):
        t = self._torrent(ep, p)
        if t is None:
            return
        out, piece = [], 0
        for i, (name, size) in enumerate(t.files):
            pieces = max(1, size // 4194304)
            e = {"availability": -1, "index": i, "name": name,
                 "piece_range": [piece, piece + pieces - 1], "priority": 1,
                 "progress": t.info["progress"], "size": size}
            if i == 0:
                e["is_seed"] = t.info["progress"] == 1
            out.append(e)
            piece += pieces
        self._json(out, ep)

    def ep_torrents_trackers(self, ep, p):
        t = self._torrent(ep, p)
        if t is None:
            return
        pseudo = [{"msg": "This torrent is private", "num_downloaded": 0, "num_leeches": 0,
                   "num_peers": 0, "num_seeds": 0, "status": 0, "tier": -1, "url": u}
                  for u in ("** [DHT] **", "** [PeX] **", "** [LSD] **")]
        url = t.info["tracker"] or TRACKERS[0]
        pseudo.append({"msg": "", "num_downloaded": 10, "num_leeches": 1, "num_peers": 2,
                       "num_seeds": 1, "status": 2, "tier": 0, "url": url})
        self._json(pseudo, ep)

    def ep_torrents_properties(self, ep, p):
        t = self._torrent(ep, p)
        if t is None:
            return
        i = t.info
        self._json({"addition_date": i["added_on"], "comment": "", "completion_date":
                    i["completion_on"] or -1, "hash": t.hash, "name": i["name"],
                    "save_path": i["save_path"], "share_ratio": i["ratio"],
                    "total_size": i["total_size"], "seeding_time": i["seeding_time"]}, ep)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--torrents", type=int, default=100)
    ap.add_argument("--managed-fraction", type=float, default=0.2,
                    help="share of torrents in the managed categories")
    ap.add_argument("--managed-categories", default="radarr,sonarr")
    ap.add_argument("--downloading-fraction", type=float, default=0.0,
                    help="share of the managed torrents still downloading")
    ap.add_argument("--latency-ms", type=float, default=0.0,
                    help="added to every API request")
    ap.add_argument("--serialise-ms-per-1k", type=float, default=0.0,
                    help="emulated cost of serialising 1,000 listed torrents")
    ap.add_argument("--parallel-api", dest="serial", action="store_false",
                    help="let the emulated serialisations overlap (qBittorrent does not)")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--now", type=int, default=0)
    ap.add_argument("--free-space", type=int, default=500 * 1024 ** 3)
    ap.add_argument("--username", default="admin")
    ap.add_argument("--password", default="adminadmin")
    args = ap.parse_args(argv)
    Handler.st = State(args)
    srv = Server(("127.0.0.1", args.port), Handler)
    print("listening on http://127.0.0.1:%d" % srv.server_address[1], flush=True)
    all_ = Handler.st.lists[None]
    print("torrents %d, full list %d bytes, gzip %d bytes (%.1f %%)" % (
        all_.count, len(all_.raw), len(all_.gz), 100.0 * len(all_.gz) / max(1, len(all_.raw))),
        flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
