#!/usr/bin/env python3
"""Fake Radarr / Sonarr / Lidarr API server for qbitrr-sweep integration tests.

    python3 fake_arr.py --kind radarr|sonarr|lidarr --port N --api-key K \
        --record FILE [--url-base /x]

Binds 127.0.0.1 only.  With --port 0 the kernel picks the port.  The first
line on stdout is always "listening on http://127.0.0.1:PORT".

Behaviour follows shared/research/arr-api.md section 5:

* auth: query `apikey` (wins even when empty), then `X-Api-Key`, then
  `Authorization: Bearer`; wrong/missing key -> 401 with an empty body.
  `/ping` is anonymous.
* URL base: requests without the base are authenticated, then answered with
  307 to the prefixed URL.
* /api, system/status, queue (paged), queue/details, queue/status,
  DELETE queue/{id}, DELETE queue/bulk, POST command, GET command[/{id}],
  history, POST history/failed/{id}, blocklist, downloadclient.  Every
  queued record gets a "grabbed" history event (its grab).

Control endpoints (no auth, not recorded, never behind the url base):

    GET  /__calls      recorded API calls (JSON list)
    GET  /__state      queue, commands, history, blocklist, removed, faults
    POST /__reset      clear calls (and truncate --record), queue, commands,
                       history, faults, scenario
    POST /__scenario   JSON object, any of:
        "queue": [records]            replace the queue (defaults filled in)
        "faults": [fault]             replace the fault list
        "add_faults": [fault]         append faults
            fault = {"method":"GET"|"*", "path":"regex", "mode":"500"|"503"|
                     "401"|"404"|"hang"|"truncate"|"cutoff", "count":N|null}
        "command_result": {"DownloadedMoviesScan": "failed"}   (merged)
        "history": [records]          replace history
        "downloadclients": [clients]  replace GET downloadclient
        "qbit_clients": [{"name","url","username","password","category"}]
                                      the Arr's qBittorrent download clients.
                                      Set, the queue is what a real Arr shows
                                      (arr-api.md section 8): a queued record
                                      (a grab) is listed once per client whose
                                      torrents in the client's category hold
                                      its downloadId, re-read at every queue
                                      call; moved out of the category, it
                                      leaves the queue.  A record's
                                      "downloadClient" names the client its
                                      grab went to (history data
                                      downloadClientName; default: the only
                                      client).  GET downloadclient describes
                                      these clients (host, port, category).
        "status": {...}               merged into GET system/status
        "import_on_scan": bool        a completed Downloaded*Scan whose
                                      downloadClientId equals (case-sensitive)
                                      a queue record's downloadId removes that
                                      download and adds an import history event
        "redownload_on_blocklist": bool (default true) blocklist=true without
                                      skipRedownload queues a search command

Every API request (everything except /__*) is recorded, both in memory and
as one JSON line appended to --record:
    {"seq","method","path" (without url base),"query":{k: v | [v...]},
     "apiKeySource":"query|header|bearer|none","body": JSON or null,
     "status": int or null (hang), ["fault": mode]}
The API key itself is never recorded (the `apikey` query parameter is left
out of "query").
"""

import argparse
import datetime
import hashlib
import http.client
import http.server
import json
import os
import re
import select
import signal
import socketserver
import sys
import threading
import time
import urllib.parse

KINDS = {
    "radarr": {"app": "Radarr", "version": "6.0.3.10276", "api": "v3",
               "port": 7878, "category_field": "movieCategory",
               "category": "radarr"},
    "sonarr": {"app": "Sonarr", "version": "4.0.19.2738", "api": "v3",
               "port": 8989, "category_field": "tvCategory",
               "category": "tv-sonarr"},
    "lidarr": {"app": "Lidarr", "version": "2.9.6.4552", "api": "v1",
               "port": 8686, "category_field": "musicCategory",
               "category": "lidarr"},
}

COMMON_COMMANDS = [
    "RefreshMonitoredDownloads", "ProcessMonitoredDownloads", "RssSync",
    "ManualImport", "CheckHealth", "Backup", "ClearBlocklist",
    "CleanUpRecycleBin", "ApplicationUpdate", "ApplicationUpdateCheck",
    "Housekeeping", "MessagingCleanup", "ResetApiKey", "RefreshMonitoredDownloads",
    "DownloadedMoviesScan", "DownloadedEpisodesScan", "DownloadedAlbumsScan",
]
KIND_COMMANDS = {
    "radarr": ["MoviesSearch", "MissingMoviesSearch",
               "CutoffUnmetMoviesSearch", "RefreshMovie", "RescanMovie",
               "RenameMovie", "RenameFiles", "ImportListSync",
               "RefreshCollections"],
    "sonarr": ["EpisodeSearch", "SeriesSearch", "SeasonSearch",
               "MissingEpisodeSearch", "CutoffUnmetEpisodeSearch",
               "RefreshSeries", "RescanSeries", "RenameSeries", "RenameFiles",
               "ImportListSync"],
    "lidarr": ["AlbumSearch", "ArtistSearch", "MissingAlbumSearch",
               "CutoffUnmetAlbumSearch", "RefreshArtist", "RefreshAlbum",
               "RescanFolders", "RenameArtist", "RenameFiles",
               "ImportListSync"],
}
SCAN_COMMAND = {"radarr": "DownloadedMoviesScan",
                "sonarr": "DownloadedEpisodesScan",
                "lidarr": "DownloadedAlbumsScan"}
SEARCH_COMMAND = {"radarr": ("MoviesSearch", "movieIds", "movieId"),
                  "sonarr": ("EpisodeSearch", "episodeIds", "episodeId"),
                  "lidarr": ("AlbumSearch", "albumIds", "albumId")}
EVENT_TYPES = {
    "radarr": {1: "grabbed", 3: "downloadFolderImported", 4: "downloadFailed",
               6: "movieFileDeleted", 8: "movieFileRenamed",
               9: "downloadIgnored"},
    "sonarr": {1: "grabbed", 2: "seriesFolderImported",
               3: "downloadFolderImported", 4: "downloadFailed",
               5: "episodeFileDeleted", 6: "episodeFileRenamed",
               7: "downloadIgnored"},
    "lidarr": {1: "grabbed", 2: "artistFolderImported",
               3: "trackFileImported", 4: "downloadFailed",
               5: "trackFileDeleted", 6: "trackFileRenamed",
               7: "albumImportIncomplete", 8: "downloadImported",
               9: "trackFileRetagged", 10: "downloadIgnored"},
}
IMPORT_EVENT = {"radarr": "downloadFolderImported",
                "sonarr": "downloadFolderImported",
                "lidarr": "downloadImported"}
UNKNOWN_FILTER = {"radarr": "includeUnknownMovieItems",
                  "sonarr": "includeUnknownSeriesItems",
                  "lidarr": "includeUnknownArtistItems"}
FAULT_MODES = ("500", "503", "401", "404", "hang", "truncate", "cutoff")


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def hash_int31(s):
    """NzbDrone HashConverter.GetHashInt31: SHA-1, first 4 bytes LE, & 0x7fffffff."""
    h = hashlib.sha1(s.encode("utf-8")).digest()
    v = int.from_bytes(h[:4], "little") & 0x7FFFFFFF
    return v or 1


def parse_bool(v, default):
    if v is None:
        return default
    if isinstance(v, list):
        v = v[-1]
    v = str(v).strip().lower()
    if v == "true":
        return True
    if v == "false":
        return False
    return None     # invalid


def drop_none(x):
    if isinstance(x, dict):
        return {k: drop_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [drop_none(v) for v in x]
    return x


def lower_first(s):
    return s[:1].lower() + s[1:] if s else s


class State:
    def __init__(self, kind, url_base, record_path):
        self.kind = kind
        self.k = KINDS[kind]
        self.url_base = url_base
        self.record_path = None
        self.lock = threading.RLock()
        self.started = now_iso()
        self.reset()
        self.record_path = record_path

    def reset(self):
        with self.lock:
            if self.record_path:
                open(self.record_path, "w").close()     # seq restarts at 1
            self.calls = []
            self.seq = 0
            self.queue = []
            self.faults = []
            self.commands = []
            # by id, and by name and body (the last one; the Arr dedups
            # against queued and started ones): a long run (the soak)
            # posts hundreds of thousands of commands
            self.command_by_id = {}
            self.active_commands = {}
            self.next_command_id = 1
            self.command_result = {}
            self.history = []
            self.next_history_id = 1
            self.blocklist = []
            self.removed = []
            self.downloadclients = None
            self.qbit_clients = None
            self.grabs = []          # the queue as set; the live one is derived
            self.status_extra = {}
            self.import_on_scan = False
            self.redownload_on_blocklist = True

    # -- scenario ----------------------------------------------------------

    def fill_record(self, rec, index):
        r = dict(rec)
        unknown = bool(r.pop("unknown", False))
        client_id = r.pop("downloadClientId", 1)
        if r.get("downloadId"):
            r["downloadId"] = str(r["downloadId"]).upper()
        r.setdefault("title", r.get("downloadId") or "Release %d" % (index + 1))
        r.setdefault("status", "downloading")
        r.setdefault("trackedDownloadState", "downloading")
        r.setdefault("trackedDownloadStatus", "ok")
        r.setdefault("statusMessages", [])
        r.setdefault("downloadClient", "qBittorrent")
        r.setdefault("protocol", "torrent")
        r.setdefault("added", now_iso())
        r.setdefault("size", 0)
        r.setdefault("sizeleft", 0)
        if not unknown:
            if self.kind == "radarr":
                r.setdefault("movieId", index + 1)
            elif self.kind == "sonarr":
                r.setdefault("seriesId", 1)
                r.setdefault("episodeId", index + 1)
                r.setdefault("seasonNumber", 1)
                r.setdefault("episodeHasFile", False)
            else:
                r.setdefault("artistId", 1)
                r.setdefault("albumId", index + 1)
        if "id" not in r:
            base = "trackedDownload-%s-%s" % (client_id,
                                              r.get("downloadId") or r["title"])
            if self.kind == "sonarr":
                base += "-ep%s" % (r.get("episodeId") or 0)
            elif self.kind == "lidarr":
                base += "-album%s" % (r.get("albumId") or 0)
            r["id"] = hash_int31(base)
        r["_unknown"] = unknown
        if "downloadClient" in rec:
            r["_client"] = rec["downloadClient"]
        if "id" in rec:
            r["_fixed_id"] = True
        return r

    def set_queue(self, records):
        out = []
        for rec in records:
            if self.kind == "sonarr" and "episodeIds" in rec and \
                    "episodeId" not in rec:
                for ep in rec["episodeIds"]:
                    r = dict(rec)
                    del r["episodeIds"]
                    r["episodeId"] = ep
                    out.append(self.fill_record(r, len(out)))
            else:
                out.append(self.fill_record(rec, len(out)))
        self.grabs = out
        self.queue = list(out)
        # Every download in the queue was grabbed: its grab is in the history.
        only = (self.qbit_clients[0].name if self.qbit_clients and
                len(self.qbit_clients) == 1 else "")
        for r in out:
            did = r.get("downloadId")
            if did and not any(h.get("downloadId") == did and
                               h.get("eventType") == "grabbed" for h in self.history):
                self.add_history(dict(self._media(r), downloadId=did,
                                      eventType="grabbed",
                                      sourceTitle=r.get("title"),
                                      data={"downloadClient": "QBittorrent",
                                            "downloadClientName":
                                            r.get("_client") or only}))

    def _media(self, rec):
        keys = {"radarr": ("movieId",),
                "sonarr": ("seriesId", "episodeId"),
                "lidarr": ("artistId", "albumId")}[self.kind]
        return {k: rec[k] for k in keys if rec.get(k) is not None}

    def refresh_queue(self):
        """With qbit_clients: rebuild the queue from the clients' categories,
        as a real Arr's download monitoring does every minute."""
        if self.qbit_clients is None:
            return
        present = {c.name: c.hashes() for c in self.qbit_clients}
        live = []
        for g in self.grabs:
            did = (g.get("downloadId") or "").upper()
            for c in self.qbit_clients:
                if c.name in g.get("_gone_from", ()):
                    continue
                if did and did in present[c.name]:
                    r = dict(g)
                    r["downloadClient"] = c.name
                    base = "trackedDownload-%d-%s" % (c.id, did)
                    if self.kind == "sonarr":
                        base += "-ep%s" % (r.get("episodeId") or 0)
                    elif self.kind == "lidarr":
                        base += "-album%s" % (r.get("albumId") or 0)
                    if "_fixed_id" not in g:
                        r["id"] = hash_int31(base)
                    live.append(r)
        self.queue = live

    def apply_scenario(self, sc):
        with self.lock:
            if "qbit_clients" in sc:
                self.qbit_clients = [QbtPeek(i + 1, c) for i, c in
                                     enumerate(sc["qbit_clients"] or [])] or None
            if "queue" in sc:
                self.set_queue(sc["queue"] or [])
            if "faults" in sc:
                self.faults = []
                self.add_faults(sc["faults"] or [])
            if "add_faults" in sc:
                self.add_faults(sc["add_faults"] or [])
            if "command_result" in sc:
                for k, v in (sc["command_result"] or {}).items():
                    self.command_result[k.lower()] = v
            if "history" in sc:
                self.history = []
                for h in sc["history"] or []:
                    self.add_history(h)
            if "downloadclients" in sc:
                self.downloadclients = sc["downloadclients"]
            if "status" in sc:
                self.status_extra.update(sc["status"] or {})
            if "import_on_scan" in sc:
                self.import_on_scan = bool(sc["import_on_scan"])
            if "redownload_on_blocklist" in sc:
                self.redownload_on_blocklist = bool(sc["redownload_on_blocklist"])

    def add_faults(self, faults):
        for f in faults:
            mode = str(f.get("mode"))
            if mode not in FAULT_MODES:
                raise ValueError("unknown fault mode %r" % mode)
            re.compile(f.get("path") or "")
            self.faults.append({"method": (f.get("method") or "*").upper(),
                                "path": f.get("path") or "",
                                "mode": mode, "count": f.get("count")})

    def take_fault(self, method, path):
        with self.lock:
            for f in self.faults:
                if f["method"] not in ("*", "ANY", method):
                    continue
                if not re.search(f["path"], path):
                    continue
                if f["count"] is not None:
                    f["count"] -= 1
                    if f["count"] <= 0:
                        self.faults.remove(f)
                return f["mode"]
        return None

    def add_history(self, h):
        h = dict(h)
        if h.get("downloadId"):
            h["downloadId"] = str(h["downloadId"]).upper()
        et = h.get("eventType", "grabbed")
        if isinstance(et, int):
            et = EVENT_TYPES[self.kind].get(et, "unknown")
        h["eventType"] = et
        h.setdefault("date", now_iso())
        h.setdefault("sourceTitle", h.get("downloadId") or "")
        h.setdefault("data", {})
        if "id" not in h:
            h["id"] = self.next_history_id
        self.next_history_id = max(self.next_history_id, h["id"]) + 1
        self.history.append(h)
        return h

    def reserve(self, rec):
        """Take the call's place in the log on arrival, so the order is the
        order requests came in, whatever order their handlers finish."""
        with self.lock:
            self.seq += 1
            rec["seq"] = self.seq
            self.calls.append(rec)

    def record(self, rec):
        with self.lock:
            if self.record_path:
                with open(self.record_path, "a") as f:
                    f.write(json.dumps(rec) + "\n")

    def public_record(self, r):
        return {k: v for k, v in r.items() if not k.startswith("_")}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Kestrel"
    sys_version = ""
    # Headers and body go out in two writes: with Nagle on, the body waits
    # for the client's delayed ACK (40 ms a request), which no real server does.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        if os.environ.get("FAKE_ARR_DEBUG"):
            sys.stderr.write("fake_arr: " + (fmt % args) + "\n")

    @property
    def st(self):
        return self.server.state

    # -- low level ---------------------------------------------------------

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send(self, status, body=None, ctype="application/json; charset=utf-8",
             headers=None, raw_json=False):
        """Send a reply.  `body`: bytes, or a JSON-able object, or None (empty).
        Applies the pending 'truncate'/'cutoff' fault."""
        if body is None:
            data = b""
        elif isinstance(body, (bytes, bytearray)):
            data = bytes(body)
        else:
            data = json.dumps(body if raw_json else drop_none(body)).encode()
        announce = len(data)
        fault = getattr(self, "_fault", None)
        if fault in ("truncate", "cutoff") and data:
            data = data[:len(data) // 2]
            if fault == "truncate":
                announce = len(data)
            self.close_connection = True
        self.send_response(status)
        if data or body is not None:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(announce))
        if self._is_api:
            self.send_header("X-Application-Version", self.st.k["version"])
        for k, v in headers or []:
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        # The call's status is in the log before the client can read the reply.
        self._status = status
        if getattr(self, "_rec", None) is not None:
            self._rec["status"] = status
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, status, obj, headers=None):
        self.send(status, obj, headers=headers, raw_json=not self._is_api)

    # -- dispatch ----------------------------------------------------------

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def dispatch(self):
        self._is_api = False
        self._status = None
        self._fault = None
        self._rec = None        # the log entry of an API call, once reserved
        u = urllib.parse.urlsplit(self.path)
        raw_path = urllib.parse.unquote(u.path)
        body_bytes = self.read_body()

        if raw_path.startswith("/__"):
            return self.control(raw_path, body_bytes)

        self._is_api = True
        st = self.st
        query_pairs = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
        query = {}
        for k, v in query_pairs:
            query.setdefault(k, []).append(v)

        # url base
        base = st.url_base
        has_base = True
        path = raw_path
        if base:
            if raw_path.lower() == base.lower() or \
                    raw_path.lower().startswith(base.lower() + "/"):
                path = raw_path[len(base):] or "/"
            else:
                has_base = False

        # api key source (query wins even when empty)
        key = None
        source = "none"
        qkey = None
        for k in query:
            if k.lower() == "apikey":
                qkey = k
        if qkey is not None:
            key, source = query[qkey][-1], "query"
        elif self.headers.get("X-Api-Key") is not None:
            key, source = self.headers.get("X-Api-Key"), "header"
        else:
            auth = self.headers.get("Authorization") or ""
            if auth.lower().startswith("bearer "):
                key, source = auth[7:].strip(), "bearer"

        rec_query = {}
        for k, vs in query.items():
            if k.lower() == "apikey":
                continue
            rec_query[k] = vs[0] if len(vs) == 1 else list(vs)
        body_json = None
        if body_bytes:
            try:
                body_json = json.loads(body_bytes)
            except ValueError:
                body_json = None
        rec = {"seq": 0, "method": self.command, "path": path,
               "query": rec_query, "apiKeySource": source, "body": body_json,
               "status": None}
        if body_bytes and body_json is None:
            rec["rawBody"] = body_bytes.decode("utf-8", "replace")[:4096]

        st.reserve(rec)
        self._rec = rec
        try:
            fault = st.take_fault(self.command, path)
            if fault:
                rec["fault"] = fault
            if fault == "hang":
                st.record(rec)
                self.close_connection = True
                self.hang()
                return
            if fault in ("500", "503", "401", "404"):
                self.send_fault(int(fault))
            else:
                self._fault = fault
                self.route(path, has_base, key, query, body_bytes, body_json,
                           u.query)
        except Exception as e:      # an unexpected bug -> 500 like ASP.NET
            import traceback
            traceback.print_exc()
            if self._status is None:
                self.send_json(500, {"message": str(e),
                                     "description": repr(e)})
        rec["status"] = self._status
        st.record(rec)

    def hang(self):
        sock = self.connection
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline and not self.server.stopping:
            try:
                r, _, _ = select.select([sock], [], [], 0.25)
            except (OSError, ValueError):
                return
            if r:
                try:
                    if not sock.recv(4096):
                        return
                except OSError:
                    return

    def send_fault(self, code):
        if code == 500:
            self.send_json(500, {"message": "Injected fault",
                                 "description": "FakeArr: injected 500"})
        elif code == 503:
            self.send_json(503, {"errorMessage": "%s is starting up, please "
                                 "try again later" % self.st.k["app"]})
        elif code == 401:
            self.send(401)
        else:
            self.send_json(404, {"message": "NotFound"})

    # -- control -----------------------------------------------------------

    def control(self, path, body):
        st = self.st
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return self.send_json(400, {"error": "invalid JSON"})
        if path == "/__calls" and self.command == "GET":
            with st.lock:
                return self.send_json(200, list(st.calls))
        if path == "/__state" and self.command == "GET":
            with st.lock:
                return self.send_json(200, {
                    "queue": [st.public_record(r) for r in st.queue],
                    "commands": [self.public_command(c) for c in st.commands],
                    "history": st.history,
                    "blocklist": st.blocklist, "removed": st.removed,
                    "faults": st.faults, "command_result": st.command_result,
                })
        if path == "/__reset" and self.command == "POST":
            st.reset()
            return self.send_json(200, {"ok": True})
        if path == "/__scenario" and self.command == "POST":
            if not isinstance(data, dict):
                return self.send_json(400, {"error": "expected an object"})
            try:
                st.apply_scenario(data)
            except (ValueError, TypeError, re.error) as e:
                return self.send_json(400, {"error": str(e)})
            return self.send_json(200, {"ok": True})
        return self.send_json(404, {"error": "unknown control endpoint"})

    # -- API ---------------------------------------------------------------

    def route(self, path, has_base, key, query, body_bytes, body_json, rawq):
        st = self.st
        lp = path.lower().rstrip("/") or "/"
        is_ping = lp == "/ping"
        if not is_ping:
            if key is None or key != self.server.api_key:
                return self.send(401)
        if not has_base:
            loc = st.url_base + path + ("?" + rawq if rawq else "")
            return self.send(307, None, headers=[("Location", loc)])
        if is_ping:
            if self.command not in ("GET", "HEAD"):
                return self.send(405)
            return self.send_json(200, {"status": "OK"})

        accept = self.headers.get("Accept")
        if accept and not any(x in accept.lower() for x in
                              ("json", "*/*", "application/*")):
            return self.send(406)

        if lp == "/api":
            if self.command != "GET":
                return self.send(405)
            return self.send_json(200, {"current": st.k["api"],
                                        "deprecated": []})
        prefix = "/api/" + st.k["api"]
        if not (lp == prefix or lp.startswith(prefix + "/")):
            return self.send(404)
        sub = lp[len(prefix):].strip("/")
        m = self.command

        def allow(*methods):
            if m not in methods:
                self.send(405)
                return False
            return True

        if sub == "system/status":
            return allow("GET") and self.system_status()
        if sub == "queue":
            return allow("GET") and self.queue_get(query)
        if sub == "queue/details":
            return allow("GET") and self.queue_details(query)
        if sub == "queue/status":
            return allow("GET") and self.queue_status()
        if sub == "queue/bulk":
            return allow("DELETE") and self.queue_bulk(query, body_json,
                                                       body_bytes)
        mm = re.fullmatch(r"queue/(-?\d+)", sub)
        if mm:
            return allow("DELETE") and self.queue_delete(int(mm.group(1)),
                                                         query)
        if sub == "command":
            if m == "GET":
                with st.lock:
                    return self.send_json(200, [self.public_command(c)
                                                for c in st.commands])
            return allow("POST") and self.command_post(body_json, body_bytes)
        mm = re.fullmatch(r"command/(-?\d+)", sub)
        if mm:
            if m == "DELETE":
                return self.command_cancel(int(mm.group(1)))
            return allow("GET") and self.command_get(int(mm.group(1)))
        if sub == "history":
            return allow("GET") and self.history_get(query)
        mm = re.fullmatch(r"history/failed/(-?\d+)", sub)
        if mm:
            return allow("POST") and self.history_failed(int(mm.group(1)))
        if sub == "blocklist":
            return allow("GET") and self.blocklist_get(query)
        if sub == "downloadclient":
            return allow("GET") and self.downloadclient_get()
        mm = re.fullmatch(r"downloadclient/(\d+)", sub)
        if mm:
            for c in self.downloadclients():
                if c["id"] == int(mm.group(1)):
                    return allow("GET") and self.send_json(200, c)
            return self.send_json(404, {"message": "NotFound"})
        return self.send(404)

    # system/status
    def system_status(self):
        st = self.st
        k = st.k
        doc = {"appName": k["app"], "instanceName": k["app"],
               "version": k["version"], "buildTime": "2025-01-01T00:00:00Z",
               "isDebug": False, "isProduction": True, "isAdmin": False,
               "isUserInteractive": False, "startupPath": "/app/bin",
               "appData": "/config", "osName": "debian", "osVersion": "12",
               "isNetCore": True, "isLinux": True, "isOsx": False,
               "isWindows": False, "isDocker": False, "mode": "console",
               "branch": "master", "authentication": "forms",
               "databaseType": "sqLite", "databaseVersion": "3.40.1",
               "migrationVersion": 240, "urlBase": st.url_base,
               "runtimeVersion": "8.0.12", "runtimeName": ".NET",
               "startTime": st.started, "packageUpdateMechanism": "builtIn"}
        doc.update(st.status_extra)
        return self.send_json(200, doc)

    # queue
    def _media_filter(self, records, query):
        kind = self.st.kind
        fields = {"radarr": [("movieIds", "movieId")],
                  "sonarr": [("seriesIds", "seriesId")],
                  "lidarr": [("artistIds", "artistId")]}[kind]
        for qname, field in fields:
            ids = [int(x) for x in query.get(qname, []) if x.lstrip("-").isdigit()]
            if ids:
                records = [r for r in records if r.get(field) in ids]
        for qname in ("protocol", "status"):
            vals = [v.lower() for v in query.get(qname, [])]
            if vals:
                records = [r for r in records
                           if str(r.get(qname, "")).lower() in vals]
        return records

    def queue_get(self, query):
        st = self.st

        def qint(name, default):
            try:
                v = int(query.get(name, [str(default)])[-1])
            except ValueError:
                return default
            return v if v > 0 else default

        page = qint("page", 1)
        page_size = qint("pageSize", 10)
        sort_key = query.get("sortKey", ["timeleft"])[-1] or "timeleft"
        sort_dir = query.get("sortDirection", ["ascending"])[-1] or "ascending"
        inc_unknown = parse_bool(query.get(UNKNOWN_FILTER[st.kind]), False)
        with st.lock:
            st.refresh_queue()
            recs = [r for r in st.queue if inc_unknown or not r["_unknown"]]
            recs = self._media_filter(recs, query)
            kl = sort_key.lower().split(".")[-1]

            def skey(r):
                for k, v in r.items():
                    if k.lower() == kl and v is not None:
                        return (1, str(v).lower() if isinstance(v, str) else v)
                return (0, 0)
            if any(skey(r)[0] for r in recs):
                try:
                    recs = sorted(recs, key=skey)
                except TypeError:
                    pass
            if sort_dir.lower() in ("descending", "desc"):
                recs = list(reversed(recs))
            total = len(recs)
            start = (page - 1) * page_size
            out = [st.public_record(r) for r in recs[start:start + page_size]]
        return self.send_json(200, {"page": page, "pageSize": page_size,
                                    "sortKey": sort_key,
                                    "sortDirection": sort_dir,
                                    "totalRecords": total, "records": out})

    def queue_details(self, query):
        st = self.st
        with st.lock:
            recs = list(st.queue)
            single = {"radarr": ("movieId", None), "sonarr": ("seriesId",
                      "episodeIds"), "lidarr": ("artistId", "albumIds")}[st.kind]
            v = query.get(single[0])
            if v and v[-1].lstrip("-").isdigit():
                recs = [r for r in recs if r.get(single[0]) == int(v[-1])]
            if single[1]:
                ids = [int(x) for x in query.get(single[1], []) if x.isdigit()]
                field = single[1][:-1]
                if ids:
                    recs = [r for r in recs if r.get(field) in ids]
            out = [st.public_record(r) for r in recs]
        return self.send_json(200, out)

    def queue_status(self):
        st = self.st
        with st.lock:
            known = [r for r in st.queue if not r["_unknown"]]
            unknown = [r for r in st.queue if r["_unknown"]]

            def cnt(rs, s):
                return any(r.get("trackedDownloadStatus") == s for r in rs)
            doc = {"totalCount": len(st.queue), "count": len(known),
                   "unknownCount": len(unknown), "errors": cnt(known, "error"),
                   "warnings": cnt(known, "warning"),
                   "unknownErrors": cnt(unknown, "error"),
                   "unknownWarnings": cnt(unknown, "warning")}
        return self.send_json(200, doc)

    def _flags(self, query):
        flags = {}
        for name, default in (("removeFromClient", True), ("blocklist", False),
                              ("skipRedownload", False),
                              ("changeCategory", False)):
            v = None
            for k in query:
                if k.lower() == name.lower():
                    v = query[k]
            b = parse_bool(v, default)
            if b is None:
                return None
            flags[name] = b
        return flags

    def _remove(self, rec, flags):
        """Remove a tracked download (all its records) and do the side effects."""
        st = self.st
        did = rec.get("downloadId")
        if did:
            gone = [r for r in st.queue if r.get("downloadId") == did and
                    r.get("downloadClient") == rec.get("downloadClient")]
        else:
            gone = [rec]
        st.queue = [r for r in st.queue if r not in gone]
        # The grab stays for the download's other clients, if any.
        client = rec.get("downloadClient")
        for g in st.grabs:
            if did and g.get("downloadId") == did:
                g.setdefault("_gone_from", []).append(client)
        entry = dict(flags)
        entry.update({"id": rec["id"], "downloadId": did,
                      "title": rec.get("title"), "time": now_iso()})
        st.removed.append(entry)
        media = self._media_ids(rec)
        if flags["blocklist"]:
            st.blocklist.append(dict(media, id=len(st.blocklist) + 1,
                                     sourceTitle=rec.get("title"),
                                     date=now_iso(), protocol="torrent",
                                     message="Manually marked as failed"))
            st.add_history(dict(media, downloadId=did,
                                eventType="downloadFailed",
                                sourceTitle=rec.get("title"),
                                data={"message": "Manually marked as failed"}))
            if not flags["skipRedownload"] and st.redownload_on_blocklist:
                name, field, single = SEARCH_COMMAND[st.kind]
                ids = sorted({r.get(single) for r in gone
                              if r.get(single) is not None})
                self._new_command(name, {field: ids}, trigger="automatic")
        elif not flags["removeFromClient"] and not flags["changeCategory"]:
            st.add_history(dict(media, downloadId=did,
                                eventType="downloadIgnored",
                                sourceTitle=rec.get("title")))

    def _media_ids(self, rec):
        keys = {"radarr": ("movieId",),
                "sonarr": ("seriesId", "episodeId"),
                "lidarr": ("artistId", "albumId")}[self.st.kind]
        return {k: rec[k] for k in keys if rec.get(k) is not None}

    def queue_delete(self, qid, query):
        st = self.st
        if qid <= 0:
            return self.send_json(400, {"message": "BadRequest: %d is not a "
                                        "valid ID" % qid,
                                        "content": "%d is not a valid ID" % qid})
        flags = self._flags(query)
        if flags is None:
            return self.send_json(400, {"type": "https://tools.ietf.org/html/"
                                        "rfc9110#section-15.5.1",
                                        "title": "One or more validation "
                                        "errors occurred.", "status": 400})
        with st.lock:
            st.refresh_queue()
            rec = next((r for r in st.queue if r["id"] == qid), None)
            if rec is None:
                return self.send_json(404, {"message": "NotFound"})
            self._remove(rec, flags)
        return self.send(200)

    def queue_bulk(self, query, body, body_bytes):
        st = self.st
        if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
            return self.send_json(400, {"type": "https://tools.ietf.org/html/"
                                        "rfc9110#section-15.5.1",
                                        "title": "One or more validation "
                                        "errors occurred.", "status": 400})
        flags = self._flags(query)
        if flags is None:
            return self.send(400)
        with st.lock:
            st.refresh_queue()
            recs = []
            for i in body["ids"]:
                rec = next((r for r in st.queue if r["id"] == i), None)
                if rec is None:
                    return self.send_json(404, {"message": "NotFound"})
                recs.append(rec)
            seen = set()
            for rec in recs:
                did = rec.get("downloadId") or ("id:%d" % rec["id"])
                if did in seen:
                    continue
                seen.add(did)
                if rec in st.queue:
                    self._remove(rec, flags)
        return self.send_json(200, {})

    # commands
    def known_commands(self):
        st = self.st
        names = COMMON_COMMANDS + KIND_COMMANDS[st.kind]
        # scans of the other apps are not known to this one
        names = [n for n in names if not (n in SCAN_COMMAND.values() and
                                          n != SCAN_COMMAND[st.kind])]
        return {n.lower(): n for n in names}

    def _new_command(self, name, props, trigger="manual"):
        st = self.st
        body = {}
        for k, v in props.items():
            if k.lower() == "name":
                continue
            body[lower_first(k)] = v
        body.update({"sendUpdatesToClient": True, "updateScheduledTask": True,
                     "completionMessage": "Completed",
                     "requiresDiskAccess": name.startswith("Downloaded"),
                     "isExclusive": False, "isLongRunning": False,
                     "name": name, "trigger": trigger,
                     "suppressMessages": False})
        cmp_keys = {k: v for k, v in body.items()
                    if k not in ("trigger", "sendUpdatesToClient",
                                 "updateScheduledTask", "completionMessage",
                                 "requiresDiskAccess", "isExclusive",
                                 "isLongRunning", "suppressMessages")}
        key = json.dumps([name, cmp_keys], sort_keys=True, default=str)
        c = st.active_commands.get(key)
        if c is not None and c["status"] in ("queued", "started"):
            return c, False
        words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
        c = {"id": st.next_command_id, "name": name, "commandName": words,
             "body": body, "priority": "normal", "status": "queued",
             "result": "unknown", "queued": now_iso(), "trigger": trigger,
             "sendUpdatesToClient": True, "updateScheduledTask": True,
             "_cmp": cmp_keys}
        st.next_command_id += 1
        st.commands.append(c)
        st.command_by_id[c["id"]] = c
        st.active_commands[key] = c
        return c, True

    def public_command(self, c):
        return {k: v for k, v in c.items() if not k.startswith("_")}

    def command_post(self, body, body_bytes):
        st = self.st
        ctype = (self.headers.get("Content-Type") or "").split(";")[0]
        ctype = ctype.strip().lower()
        if not (ctype == "application/json" or ctype == "text/json" or
                (ctype.startswith("application/") and ctype.endswith("+json"))):
            return self.send_json(415, {
                "type": "https://tools.ietf.org/html/rfc9110#section-15.5.16",
                "title": "Unsupported Media Type", "status": 415})
        if body is None or not isinstance(body, dict):
            return self.send_json(400, {
                "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
                "title": "One or more validation errors occurred.",
                "status": 400, "errors": {"$": ["The JSON value could not be "
                                                 "converted."]}})
        name = None
        for k, v in body.items():
            if k.lower() == "name":
                name = v
        if name is None or not isinstance(name, str) or not name.strip():
            return self.send_json(400, [{
                "propertyName": "Name", "errorMessage": "'Name' must not be empty.",
                "attemptedValue": name if name is not None else "",
                "severity": "error", "errorCode": "NotEmptyValidator",
                "formattedMessagePlaceholderValues": {
                    "propertyName": "Name",
                    "propertyValue": name if name is not None else ""}}])
        canon = self.known_commands().get(name.strip().lower())
        if canon is None:
            return self.send_json(500, {
                "message": "Sequence contains no matching element",
                "description": "System.InvalidOperationException: Sequence "
                               "contains no matching element"})
        props = {k: v for k, v in body.items() if k.lower() != "name"}
        for k in list(props):
            if k.lower() == "importmode":
                v = props.pop(k)
                modes = {"auto": "auto", "move": "move", "copy": "copy",
                         "0": "auto", "1": "move", "2": "copy"}
                mv = modes.get(str(v).lower())
                if mv is None:
                    return self.send_json(500, {
                        "message": "The JSON value could not be converted to "
                                   "NzbDrone.Core.MediaFiles.ImportMode",
                        "description": "System.Text.Json.JsonException"})
                props["importMode"] = mv
        with st.lock:
            c, _new = self._new_command(canon, props)
            loc = "http://%s%s/api/%s/command/%d" % (
                self.headers.get("Host") or "127.0.0.1", st.url_base,
                st.k["api"], c["id"])
            return self.send_json(201, self.public_command(c),
                                  headers=[("Location", loc)])

    def command_get(self, cid):
        st = self.st
        with st.lock:
            c = st.command_by_id.get(cid)
            if c is None:
                return self.send_json(404, {
                    "type": "https://tools.ietf.org/html/rfc9110#section-15.5.5",
                    "title": "Not Found", "status": 404,
                    "traceId": "00-%032x-%016x-00" % (cid, cid)})
            if c["status"] == "queued":
                c["status"] = "started"
                c["started"] = now_iso()
                c["stateChangeTime"] = c["started"]
            elif c["status"] == "started":
                self._finish(c)
            return self.send_json(200, self.public_command(c))

    def _finish(self, c):
        st = self.st
        want = st.command_result.get(c["name"].lower(), "completed")
        body = c["body"]
        result = "successful"
        status = want if want in ("completed", "failed", "aborted",
                                  "cancelled", "orphaned") else "completed"
        if want == "unsuccessful":
            result = "unsuccessful"   # completed, nothing imported
        if c["name"] == SCAN_COMMAND[st.kind] and status == "completed":
            path = body.get("path")
            if path is not None and path == "":
                status = "failed"
            elif path is not None and not os.path.exists(path):
                result = "unsuccessful"
            elif st.import_on_scan and body.get("downloadClientId"):
                did = body["downloadClientId"]
                recs = [r for r in st.queue if r.get("downloadId") == did]
                if recs:
                    st.queue = [r for r in st.queue if r.get("downloadId") != did]
                    for r in recs:
                        st.add_history(dict(self._media_ids(r), downloadId=did,
                                            eventType=IMPORT_EVENT[st.kind],
                                            sourceTitle=r.get("title")))
        if status != "completed":
            result = "unsuccessful"
            c["exception"] = "FakeArr: scenario result %s" % status
            c["message"] = "Failed"
        else:
            c["message"] = "Completed" if result == "successful" else \
                "No files found are eligible for import"
        c["status"] = status
        c["result"] = result
        c["ended"] = now_iso()
        c["stateChangeTime"] = c["ended"]
        c["duration"] = "00:00:00.0100000"

    def command_cancel(self, cid):
        st = self.st
        with st.lock:
            c = st.command_by_id.get(cid)
            if c is None:
                return self.send_json(404, {"message": "NotFound"})
            if c["status"] in ("queued", "started"):
                c["status"] = "cancelled"
        return self.send(200)

    # history / blocklist / downloadclient
    def history_get(self, query):
        st = self.st
        try:
            page = max(1, int(query.get("page", ["1"])[-1]))
            page_size = max(1, int(query.get("pageSize", ["10"])[-1]))
        except ValueError:
            page, page_size = 1, 10
        with st.lock:
            recs = list(st.history)
            if "downloadId" in query:
                did = query["downloadId"][-1]
                recs = [h for h in recs if h.get("downloadId") == did]
            if "eventType" in query:
                names = set()
                for v in query["eventType"]:
                    if v.lstrip("-").isdigit():
                        names.add(EVENT_TYPES[st.kind].get(int(v)))
                    else:
                        names.add(v[:1].lower() + v[1:])
                recs = [h for h in recs if h.get("eventType") in names]
            for qname, field in (("movieIds", "movieId"),
                                 ("seriesIds", "seriesId"),
                                 ("artistIds", "artistId"),
                                 ("episodeId", "episodeId"),
                                 ("albumId", "albumId")):
                ids = [int(x) for x in query.get(qname, []) if x.isdigit()]
                if ids:
                    recs = [h for h in recs if h.get(field) in ids]
            recs.sort(key=lambda h: (h.get("date", ""), h["id"]), reverse=True)
            total = len(recs)
            out = recs[(page - 1) * page_size:page * page_size]
        return self.send_json(200, {"page": page, "pageSize": page_size,
                                    "sortKey": "date",
                                    "sortDirection": "descending",
                                    "totalRecords": total, "records": out})

    def history_failed(self, hid):
        """FailedDownloadService.MarkAsFailed: blocklist the grab, add a
        downloadFailed event; the Arr's "Redownload Failed" (on by default)
        searches again by itself."""
        st = self.st
        with st.lock:
            h = next((x for x in st.history if x["id"] == hid), None)
            if h is None:
                return self.send_json(404, {"message": "NotFound"})
            media = {k: h[k] for k in ("movieId", "seriesId", "episodeId",
                                       "artistId", "albumId") if k in h}
            did = h.get("downloadId")
            st.blocklist.append(dict(media, id=len(st.blocklist) + 1,
                                     sourceTitle=h.get("sourceTitle"),
                                     date=now_iso(), protocol="torrent",
                                     message="Manually marked as failed"))
            st.add_history(dict(media, downloadId=did, eventType="downloadFailed",
                                sourceTitle=h.get("sourceTitle"),
                                data={"message": "Manually marked as failed"}))
            st.removed.append({"history": hid, "downloadId": did,
                               "blocklist": True, "time": now_iso()})
            st.grabs = [g for g in st.grabs if g.get("downloadId") != did]
            st.queue = [r for r in st.queue if r.get("downloadId") != did]
            if st.redownload_on_blocklist:
                name, field, single = SEARCH_COMMAND[st.kind]
                if media.get(single) is not None:
                    self._new_command(name, {field: [media[single]]},
                                      trigger="automatic")
        return self.send_json(200, {})

    def blocklist_get(self, query):
        st = self.st
        with st.lock:
            recs = list(st.blocklist)
        return self.send_json(200, {"page": 1, "pageSize": max(10, len(recs)),
                                    "sortKey": "date",
                                    "sortDirection": "descending",
                                    "totalRecords": len(recs), "records": recs})

    def downloadclients(self):
        st = self.st
        if st.downloadclients is not None:
            return st.downloadclients
        k = st.k
        if st.qbit_clients is not None:
            return [c.resource(k["category_field"]) for c in st.qbit_clients]
        fields = [{"name": "host", "value": "127.0.0.1"},
                  {"name": "port", "value": 8080},
                  {"name": "useSsl", "value": False},
                  {"name": "urlBase", "value": ""},
                  {"name": "username", "value": "admin"},
                  {"name": "password", "value": "********"},
                  {"name": k["category_field"], "value": k["category"]},
                  {"name": "initialState", "value": 0},
                  {"name": "sequentialOrder", "value": False},
                  {"name": "firstAndLast", "value": False}]
        return [{"id": 1, "name": "qBittorrent", "enable": True,
                 "protocol": "torrent", "priority": 1,
                 "removeCompletedDownloads": True,
                 "removeFailedDownloads": True, "fields": fields,
                 "implementationName": "qBittorrent",
                 "implementation": "QBittorrent",
                 "configContract": "QBittorrentSettings",
                 "infoLink": "https://wiki.servarr.com/", "tags": []}]

    def downloadclient_get(self):
        return self.send_json(200, self.downloadclients())


class QbtPeek:
    """A real qBittorrent download client, as the Arr's QBittorrentProxyV2
    sees it: the torrents of its category (exact match)."""

    def __init__(self, cid, c):
        self.id = cid
        self.name = c["name"]
        u = urllib.parse.urlsplit(c["url"])
        self.host = u.hostname
        self.port = u.port or (443 if u.scheme == "https" else 80)
        self.username = c.get("username") or ""
        self.password = c.get("password") or ""
        self.category = c["category"]
        self.cookie = None
        self.last = set()        # kept while the client cannot be read

    def _req(self, method, path, body=None):
        hdrs = {}
        if body is not None:
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookie:
            hdrs["Cookie"] = self.cookie
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            return r.status, r.getheaders(), r.read()
        finally:
            conn.close()

    def _login(self):
        st, hdrs, body = self._req("POST", "/api/v2/auth/login", urllib.parse.urlencode(
            {"username": self.username, "password": self.password}))
        if not ((st == 200 and body.strip() == b"Ok.") or st == 204):
            raise OSError("login: HTTP %d" % st)
        cookies = [v.split(";")[0].strip() for k, v in hdrs if k.lower() == "set-cookie"]
        self.cookie = "; ".join(c for c in cookies if "=" in c)

    def hashes(self):
        path = "/api/v2/torrents/info?" + urllib.parse.urlencode(
            {"category": self.category})
        try:
            for attempt in range(2):
                if self.cookie is None:
                    self._login()
                st, _, body = self._req("GET", path)
                if st == 403 and attempt == 0:
                    self.cookie = None
                    continue
                break
            if st != 200:
                raise OSError("torrents/info: HTTP %d" % st)
            self.last = {t["hash"].upper() for t in json.loads(body)
                         if t.get("category") == self.category}
        except (OSError, ValueError):
            pass
        return self.last

    def resource(self, category_field):
        fields = [{"name": "host", "value": self.host},
                  {"name": "port", "value": self.port},
                  {"name": "useSsl", "value": False},
                  {"name": "urlBase", "value": ""},
                  {"name": "username", "value": self.username},
                  {"name": "password", "value": "********"},
                  {"name": category_field, "value": self.category}]
        return {"id": self.id, "name": self.name, "enable": True,
                "protocol": "torrent", "priority": 1,
                "removeCompletedDownloads": True, "removeFailedDownloads": True,
                "fields": fields, "implementationName": "qBittorrent",
                "implementation": "QBittorrent",
                "configContract": "QBittorrentSettings", "tags": []}


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    stopping = False


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", choices=sorted(KINDS), default="radarr")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--record", default=None)
    ap.add_argument("--url-base", default="")
    a = ap.parse_args(argv)
    ub = a.url_base.strip().strip("/")
    url_base = "/" + ub if ub else ""
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.api_key = a.api_key
    srv.state = State(a.kind, url_base, a.record)
    if a.record:
        open(a.record, "a").close()

    def on_term(signum, frame):
        srv.stopping = True
        threading.Thread(target=srv.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    port = srv.server_address[1]
    sys.stdout.write("listening on http://127.0.0.1:%d%s\n" % (port, url_base))
    sys.stdout.flush()
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.stopping = True
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
