"""Integration-test harness for qbitrr-sweep (Python 3 standard library only).

What it provides (tests import these names):

* ``BINARY`` / ``run_tool()`` - run the tool under test (sanitizer build) and
  fail the test on any AddressSanitizer / LeakSanitizer / UBSan report.
* ``TempDir``, ``write_config()`` - per-test scratch directories.
* ``make_torrent()`` - pure-Python .torrent builder (+ test data).
* ``QbtInstance`` / ``QbtCluster`` / ``get_cluster()`` - real
  qbittorrent-nox 4.5.2 instances on 127.0.0.1.
* ``FakeArr`` - runs ``fake_arr.py`` (fake Radarr/Sonarr/Lidarr) as a
  subprocess.
* ``FaultProxy`` - recording, fault-injecting reverse proxy in front of a
  qBittorrent WebUI.
* ``Blackhole`` - a socket that accepts connections and never answers.
* ``free_port()``.

Every network endpoint is on 127.0.0.1.  Every child process is registered
and killed at interpreter exit (and gets SIGKILL from the kernel via
PR_SET_PDEATHSIG if this interpreter dies without running atexit).
"""

import atexit
import base64
import ctypes
import email.parser
import email.policy
import hashlib
import http.client
import http.server
import json
import os
import random
import re
import secrets
import select
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BINARY = os.environ.get("QBITRR_SWEEP") or os.path.join(
    REPO, "build", "san", "qbitrr-sweep")
QBITTORRENT_NOX = os.environ.get("QBITTORRENT_NOX", "qbittorrent-nox")
FAKE_ARR = os.path.join(HERE, "fake_arr.py")
KEEP_TMP = bool(os.environ.get("QBITRR_KEEP_TMP"))

# Environment variables that could route traffic away from 127.0.0.1.
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "ftp_proxy",
               "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
               "FTP_PROXY", "NO_PROXY")

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "LeakSanitizer",
                     "runtime error:")

__all__ = [
    "BINARY", "REPO", "Result", "run_tool", "binary_available", "TempDir",
    "write_config", "make_torrent", "TorrentSpec", "bencode", "bdecode",
    "QbtInstance", "QbtCluster", "QbtApiError", "get_cluster", "FakeArr",
    "qbt_build",
    "FaultProxy", "Blackhole", "free_port", "wait_until", "http_request",
    "BAN_MESSAGE", "IntegrationTestCase",
]


# ---------------------------------------------------------------------------
# child-process bookkeeping
# ---------------------------------------------------------------------------

_children_lock = threading.Lock()
_children = set()          # Popen objects still to be reaped at exit
_closers = []              # callables run at exit (servers, clusters)
_base_tmp = None


def _pdeathsig():
    """preexec_fn: die with SIGKILL when the parent goes away."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG = 1
    except Exception:
        pass


def _spawn(argv, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("start_new_session", True)
    kw.setdefault("close_fds", True)
    if threading.current_thread() is threading.main_thread():
        # PDEATHSIG fires when the *thread* that forked exits, so only use it
        # from the main thread (which lives as long as the interpreter).
        kw.setdefault("preexec_fn", _pdeathsig)
    p = subprocess.Popen(argv, **kw)
    with _children_lock:
        _children.add(p)
    return p


def _forget(p):
    with _children_lock:
        _children.discard(p)


def _killpg(p, sig):
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            p.send_signal(sig)
        except (ProcessLookupError, OSError):
            pass


def _terminate(p, grace=10.0):
    """SIGTERM the process group, SIGKILL after `grace` seconds; reap."""
    if p.poll() is None:
        _killpg(p, signal.SIGTERM)
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            _killpg(p, signal.SIGKILL)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
    else:
        # leader gone; make sure nothing else of its group lingers
        _killpg(p, signal.SIGKILL)
    _forget(p)


def _cleanup_at_exit():
    for fn in reversed(list(_closers)):
        try:
            fn()
        except Exception:
            pass
    with _children_lock:
        procs = list(_children)
    for p in procs:
        if p.poll() is None:
            _killpg(p, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _killpg(p, signal.SIGKILL)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
        _killpg(p, signal.SIGKILL)
    if _base_tmp and not KEEP_TMP:
        shutil.rmtree(_base_tmp, ignore_errors=True)


atexit.register(_cleanup_at_exit)


def _base_tmpdir():
    """Process-wide scratch directory (qBittorrent profiles, fake Arr logs)."""
    global _base_tmp
    if _base_tmp is None:
        _base_tmp = tempfile.mkdtemp(prefix="qbitrr-it-")
    return _base_tmp


def _clean_env(extra=None):
    env = dict(os.environ)
    for k in _PROXY_VARS:
        env.pop(k, None)
    if extra:
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
    return env


def free_port():
    """A currently free TCP port on 127.0.0.1 (bound to 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout=10.0, interval=0.05, what="condition"):
    """Poll `pred()` until it returns a truthy value; return that value."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:          # keep polling, report at the end
            last_exc = e
        if time.monotonic() >= deadline:
            msg = "timed out after %.1fs waiting for %s" % (timeout, what)
            if last_exc is not None:
                msg += " (last error: %r)" % (last_exc,)
            raise AssertionError(msg)
        time.sleep(interval)


# ---------------------------------------------------------------------------
# running the tool
# ---------------------------------------------------------------------------

class Result:
    def __init__(self, args, rc, stdout, stderr, duration):
        self.args = args
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.duration = duration

    def json(self):
        try:
            return json.loads(self.stdout)
        except ValueError as e:
            raise AssertionError("stdout is not JSON (%s):\n%s\n--- stderr:\n%s"
                                 % (e, self.stdout[-4000:], self.stderr[-4000:]))

    def json_lines(self):
        """stdout parsed as JSON Lines (blank lines skipped)."""
        out = []
        for ln in self.stdout.splitlines():
            if ln.strip():
                try:
                    out.append(json.loads(ln))
                except ValueError as e:
                    raise AssertionError("stdout line is not JSON (%s): %r"
                                         % (e, ln))
        return out

    def __repr__(self):
        return "Result(rc=%r, stdout=%r, stderr=%r)" % (
            self.rc, self.stdout[:200], self.stderr[:200])


def binary_available():
    return os.path.isfile(BINARY) and os.access(BINARY, os.X_OK)


def run_tool(args, env=None, timeout=120, stdin=None, cwd=None):
    """Run BINARY with `args`; return a Result.

    `env` is merged into a copy of os.environ (a value of None removes the
    variable); proxy variables are always removed so nothing leaves
    127.0.0.1.  Raises AssertionError on sanitizer reports or on timeout.
    """
    if not binary_available():
        raise AssertionError("tool under test not found or not executable: %s "
                             "(build it with 'make build/san/qbitrr-sweep' or "
                             "set QBITRR_SWEEP)" % BINARY)
    args = [str(a) for a in args]
    e = _clean_env()
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    if env:
        for k, v in env.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = str(v)
    if isinstance(stdin, str):
        stdin = stdin.encode()
    t0 = time.monotonic()
    p = _spawn([BINARY] + args, env=e, cwd=cwd,
               stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _killpg(p, signal.SIGKILL)
        out, err = p.communicate()
        _forget(p)
        raise AssertionError("%s %s: timed out after %ss\n--- stdout:\n%s\n"
                             "--- stderr:\n%s" % (
                                 BINARY, " ".join(args), timeout,
                                 out.decode("utf-8", "replace")[-4000:],
                                 err.decode("utf-8", "replace")[-8000:]))
    finally:
        if p.poll() is None:
            _killpg(p, signal.SIGKILL)
            p.wait()
    _forget(p)
    r = Result(args, p.returncode, out.decode("utf-8", "replace"),
               err.decode("utf-8", "replace"), time.monotonic() - t0)
    for m in SANITIZER_MARKERS:
        if m in r.stderr:
            raise AssertionError("sanitizer report (%r) from %s %s (rc=%d):\n%s"
                                 % (m, BINARY, " ".join(args), r.rc, r.stderr))
    return r


# ---------------------------------------------------------------------------
# temporary directories and configs
# ---------------------------------------------------------------------------

class TempDir:
    """A fresh directory under $TMPDIR.

        with TempDir() as d: ...        # d is the path (str)
        t = TempDir(); t.path; t.cleanup()

    Kept when QBITRR_KEEP_TMP is set.
    """

    def __init__(self, prefix="qbitrr-test-"):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        self.cleanup()

    def __fspath__(self):
        return self.path

    def __str__(self):
        return self.path

    def join(self, *parts):
        return os.path.join(self.path, *parts)

    def cleanup(self):
        if self.path and not KEEP_TMP:
            shutil.rmtree(self.path, ignore_errors=True)


def write_config(dirpath, text):
    """Write `text` to DIRPATH/qbitrr.ini with mode 0600; return the path."""
    path = os.path.join(os.fspath(dirpath), "qbitrr.ini")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


class IntegrationTestCase(unittest.TestCase):
    """Optional base class: `self.tmp` is a fresh directory per test."""

    def setUp(self):
        super().setUp()
        t = TempDir()
        self.tmp = t.path
        self.addCleanup(t.cleanup)


# ---------------------------------------------------------------------------
# bencoding and torrents
# ---------------------------------------------------------------------------

def bencode(x):
    if isinstance(x, bool):
        x = int(x)
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, str):
        x = x.encode("utf-8")
    if isinstance(x, (bytes, bytearray)):
        return b"%d:%s" % (len(x), bytes(x))
    if isinstance(x, (list, tuple)):
        return b"l" + b"".join(bencode(i) for i in x) + b"e"
    if isinstance(x, dict):
        items = []
        for k, v in x.items():
            kb = k.encode("utf-8") if isinstance(k, str) else bytes(k)
            items.append((kb, v))
        items.sort(key=lambda kv: kv[0])
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError("cannot bencode %r" % type(x))


def bdecode(data):
    """Decode bencoded bytes (byte strings stay bytes)."""
    def dec(i):
        c = data[i:i + 1]
        if c == b"i":
            j = data.index(b"e", i)
            return int(data[i + 1:j]), j + 1
        if c == b"l":
            i += 1
            out = []
            while data[i:i + 1] != b"e":
                v, i = dec(i)
                out.append(v)
            return out, i + 1
        if c == b"d":
            i += 1
            out = {}
            while data[i:i + 1] != b"e":
                k, i = dec(i)
                v, i = dec(i)
                out[k] = v
            return out, i + 1
        j = data.index(b":", i)
        n = int(data[i:j])
        return data[j + 1:j + 1 + n], j + 1 + n
    v, end = dec(0)
    if end != len(data):
        raise ValueError("trailing data after bencoded value")
    return v


def _pseudo_random(seed, n):
    return random.Random("qbitrr-test:" + seed).randbytes(n)


class TorrentSpec:
    """Result of make_torrent().

    hash          lower-case hex SHA-1 of the bencoded info dict
    data          .torrent file bytes
    name          torrent name
    save_path     the root directory (qBittorrent `save_path`)
    content_path  what qBittorrent reports as `content_path`: the file for a
                  single-file torrent *or a one-file folder*, else the folder
    files         list of (relative path inside the torrent, size)
    size          total size in bytes
    info          the info dict
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    @property
    def hash_upper(self):
        return self.hash.upper()

    @property
    def magnet(self):
        return "magnet:?xt=urn:btih:%s&dn=%s" % (
            self.hash, urllib.parse.quote(self.name))

    def write(self, path):
        """Write the .torrent file to `path`; return the path."""
        with open(path, "wb") as f:
            f.write(self.data)
        return path

    def __repr__(self):
        return "TorrentSpec(%r, %s)" % (self.name, self.hash)


def make_torrent(root, name, files=None, size=None, write_data=True,
                 tracker="http://127.0.0.1:9/announce", source=None,
                 private=True, piece_length=16384):
    """Build a v1 torrent (and its data under `root` when write_data).

    files: dict relpath -> bytes (or int: that many pseudo-random bytes, or
           str: utf-8) for a multi-file torrent in folder `name`; or None for
           a single-file torrent named `name` of `size` bytes (default 64 KiB
           of deterministic pseudo-random bytes).
    """
    root = os.path.abspath(os.fspath(root))
    if files is not None:
        if not files:
            raise ValueError("files must not be empty")
        entries = []
        for rel in sorted(files):
            v = files[rel]
            if isinstance(v, int):
                v = _pseudo_random(name + "/" + rel, v)
            elif isinstance(v, str):
                v = v.encode("utf-8")
            parts = [p for p in rel.replace("\\", "/").split("/") if p]
            if not parts or any(p in (".", "..") for p in parts):
                raise ValueError("bad relative path %r" % rel)
            entries.append(("/".join(parts), parts, bytes(v)))
        blob = b"".join(e[2] for e in entries)
        info = {"name": name, "piece length": piece_length,
                "files": [{"length": len(d), "path": parts}
                          for _, parts, d in entries]}
        file_list = [(rel, len(d)) for rel, _, d in entries]
    else:
        if size is None:
            size = 64 * 1024
        blob = _pseudo_random(name, size)
        info = {"name": name, "piece length": piece_length, "length": size}
        file_list = [(name, size)]
    pieces = b"".join(hashlib.sha1(blob[i:i + piece_length]).digest()
                      for i in range(0, len(blob), piece_length))
    info["pieces"] = pieces
    if private:
        info["private"] = 1
    if source is not None:
        info["source"] = source
    meta = {"info": info, "created by": "qbitrr-sweep tests",
            "creation date": 1700000000}
    if tracker:
        meta["announce"] = tracker
    data = bencode(meta)
    ihash = hashlib.sha1(bencode(info)).hexdigest()

    if files is not None:
        folder = os.path.join(root, name)
        if len(entries) == 1:
            content_path = os.path.join(folder, *entries[0][1])
        else:
            content_path = folder
    else:
        content_path = os.path.join(root, name)

    if write_data:
        os.makedirs(root, exist_ok=True)
        if files is not None:
            for _, parts, d in entries:
                p = os.path.join(root, name, *parts)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "wb") as f:
                    f.write(d)
        else:
            with open(os.path.join(root, name), "wb") as f:
                f.write(blob)

    return TorrentSpec(hash=ihash, data=data, name=name, save_path=root,
                       content_path=content_path, files=file_list,
                       size=len(blob), info=info, tracker=tracker,
                       source=source, private=private)


# ---------------------------------------------------------------------------
# small HTTP helpers (http.client: never consults proxy variables)
# ---------------------------------------------------------------------------

def _split_url(url):
    u = urllib.parse.urlsplit(url)
    host = u.hostname or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost"):
        raise ValueError("refusing non-loopback URL %r" % url)
    return host, u.port or 80, u.path.rstrip("/")


def _multipart(fields, files):
    boundary = "----qbitrrtest" + secrets.token_hex(12)
    out = []
    for k, v in fields:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                    % (boundary, k)).encode())
        out.append(v.encode() if isinstance(v, str) else bytes(v))
        out.append(b"\r\n")
    for k, fname, content, ctype in files:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; "
                    "filename=\"%s\"\r\nContent-Type: %s\r\n\r\n"
                    % (boundary, k, fname, ctype)).encode())
        out.append(content)
        out.append(b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return b"".join(out), "multipart/form-data; boundary=" + boundary


def http_request(url, method="GET", body=None, headers=None, timeout=10):
    """Minimal loopback HTTP request: returns (status, headers_list, body)."""
    host, port, _ = _split_url(url)
    u = urllib.parse.urlsplit(url)
    target = (u.path or "/") + ("?" + u.query if u.query else "")
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = dict(headers or {})
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        c.request(method, target, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, r.getheaders(), data
    finally:
        c.close()


# ---------------------------------------------------------------------------
# qBittorrent
# ---------------------------------------------------------------------------

class QbtApiError(Exception):
    def __init__(self, method, path, status, body):
        self.method, self.path, self.status, self.body = method, path, status, body
        super().__init__("%s /api/v2/%s -> %d %r" % (method, path, status,
                                                     body[:300]))


def _pbkdf2_conf_value(password):
    salt = os.urandom(16)
    dk = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 100000, dklen=64)
    return "@ByteArray(%s:%s)" % (base64.b64encode(salt).decode(),
                                  base64.b64encode(dk).decode())


_CONF_TEMPLATE = """\
[LegalNotice]
Accepted=true

[BitTorrent]
Session\\Port=0
Session\\Interface=lo
Session\\InterfaceName=lo
Session\\InterfaceAddress=127.0.0.1
Session\\DHTEnabled=false
Session\\PeXEnabled=false
Session\\LSDEnabled=false
Session\\AddTrackersEnabled=false
Session\\AnonymousModeEnabled=false
Session\\QueueingSystemEnabled=false
Session\\MultiConnectionsPerIp=true
Session\\MaxActiveCheckingTorrents=100
Session\\StopTrackerTimeout=0
Session\\DefaultSavePath={downloads}
Session\\TempPathEnabled=false
Session\\AddTorrentPaused=false

[Network]
PortForwardingEnabled=false

[Preferences]
Connection\\ResolvePeerCountries=false
General\\Locale=en
WebUI\\Enabled=true
WebUI\\Address=127.0.0.1
WebUI\\Port={port}
WebUI\\UseUPnP=false
WebUI\\Username={username}
WebUI\\Password_PBKDF2="{pwhash}"
WebUI\\LocalHostAuth=true
WebUI\\CSRFProtection=true
WebUI\\HostHeaderValidation=true
WebUI\\ServerDomains=*
WebUI\\MaxAuthenticationFailCount={max_auth_fail}
WebUI\\BanDuration=3600
WebUI\\SessionTimeout={session_timeout}
"""


class QbtInstance:
    """One real qbittorrent-nox process with its own profile under `workdir`."""

    def __init__(self, name, workdir, username="admin", password=None,
                 max_auth_fail=0, session_timeout=3600, binary=None):
        self.name = name
        # qbittorrent-nox, or the launcher of a newer Debian build
        # (tests/qbt-versions.sh); may change between restarts (upgrade).
        self.binary = binary or QBITTORRENT_NOX
        self.workdir = os.path.abspath(os.fspath(workdir))
        self.username = username
        self.password = password if password is not None else \
            secrets.token_urlsafe(12)
        self.max_auth_fail = max_auth_fail
        self.session_timeout = session_timeout
        self.profile = os.path.join(self.workdir, "profile")
        self.home = os.path.join(self.workdir, "home")
        self.downloads = os.path.join(self.workdir, "downloads")
        self.conf_path = os.path.join(self.profile, "qBittorrent", "config",
                                      "qBittorrent.conf")
        self.log_path = os.path.join(self.profile, "qBittorrent", "data",
                                     "logs", "qbittorrent.log")
        self.stdout_path = os.path.join(self.workdir, "stdout.log")
        self.port = None
        self.proc = None
        self._sid = None
        self._lock = threading.RLock()
        self._saved_prefs = {}       # key -> original value (for reset)
        self._orig_password = self.password

    # -- process control ---------------------------------------------------

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _write_conf(self):
        os.makedirs(os.path.dirname(self.conf_path), exist_ok=True)
        for d in (self.home, self.downloads):
            os.makedirs(d, exist_ok=True)
        text = _CONF_TEMPLATE.format(
            downloads=self.downloads, port=self.port, username=self.username,
            pwhash=_pbkdf2_conf_value(self.password),
            max_auth_fail=int(self.max_auth_fail),
            session_timeout=int(self.session_timeout))
        with open(self.conf_path, "w") as f:
            f.write(text)

    def _launch(self):
        """Start the process (no waiting).  Writes the conf on first start."""
        if self.running:
            return
        if self.port is None or not os.path.exists(self.conf_path):
            if self.port is None:
                self.port = free_port()
            self._write_conf()
        env = _clean_env({
            "HOME": self.home,
            "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
            "XDG_DATA_HOME": os.path.join(self.home, ".local", "share"),
            "XDG_CACHE_HOME": os.path.join(self.home, ".cache"),
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        })
        self._sid = None
        self._out = open(self.stdout_path, "ab")
        try:
            self.proc = _spawn([self.binary, "--profile=" + self.profile],
                               env=env, cwd=self.workdir,
                               stdout=self._out, stderr=subprocess.STDOUT)
        finally:
            self._out.close()
        self._started_at = time.monotonic()

    def _probe(self):
        """True once the WebUI answers HTTP (any status)."""
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                c.request("GET", "/api/v2/app/version")
                r = c.getresponse()
                r.read()
                return r.status in (200, 403)
            finally:
                c.close()
        except OSError:
            return False

    def _wait_ready(self, timeout):
        """Wait for the WebUI.  Returns True, or False if the process died of
        a WebUI bind failure (caller may retry on another port)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                _forget(self.proc)
                tail = self.log_tail()
                if "Unable to bind" in tail or "already in use" in tail:
                    return False
                raise RuntimeError("%s: qbittorrent-nox exited rc=%s during "
                                   "start-up:\n%s" % (self.name,
                                                      self.proc.returncode, tail))
            if self._probe():
                return True
            if time.monotonic() >= deadline:
                tail = self.log_tail()
                self.kill()
                raise RuntimeError("%s: WebUI on port %s not up after %ss:\n%s"
                                   % (self.name, self.port, timeout, tail))
            time.sleep(0.02)

    def start(self, timeout=20):
        """Start (if not running) and wait until the WebUI answers."""
        with self._lock:
            if self.running:
                return self
            fresh = self.port is None
            deadline = time.monotonic() + timeout
            for attempt in range(20):
                self._launch()
                if self._wait_ready(max(1.0, deadline - time.monotonic())):
                    return self
                if time.monotonic() >= deadline:
                    break
                if fresh:
                    # lost a port race on first start: pick another port
                    self.port = free_port()
                    self._write_conf()
                else:
                    time.sleep(0.2)  # same port requested: wait for it
            raise RuntimeError("%s: could not bind WebUI port %s:\n%s"
                               % (self.name, self.port, self.log_tail()))

    def stop(self, grace=10.0):
        """SIGTERM and wait; SIGKILL after `grace` seconds."""
        with self._lock:
            if self.proc is not None:
                _terminate(self.proc, grace)
            self._sid = None

    def kill(self):
        with self._lock:
            if self.proc is not None:
                _killpg(self.proc, signal.SIGKILL)
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    pass
                _forget(self.proc)
            self._sid = None

    def restart(self, timeout=20):
        self.stop()
        return self.start(timeout=timeout)

    def log_tail(self, n=40):
        out = []
        for p in (self.stdout_path, self.log_path):
            try:
                with open(p, "rb") as f:
                    lines = f.read().decode("utf-8", "replace").splitlines()
                out.append("== %s\n%s" % (p, "\n".join(lines[-n:])))
            except OSError:
                pass
        return "\n".join(out)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- HTTP --------------------------------------------------------------

    def request(self, method, path, params=None, data=None, files=None,
                headers=None, cookie=True, timeout=30):
        """Raw request to /api/v2/<path>.  Returns (status, headers, bytes).
        No automatic login."""
        target = "/api/v2/" + path.lstrip("/")
        if params:
            target += "?" + urllib.parse.urlencode(params, doseq=True)
        hdrs = dict(headers or {})
        body = None
        if files:
            fields = [(k, str(v)) for k, v in (data or {}).items()]
            body, ctype = _multipart(fields, files)
            hdrs["Content-Type"] = ctype
        elif data is not None:
            if isinstance(data, (bytes, str)):
                body = data.encode() if isinstance(data, str) else data
            else:
                body = urllib.parse.urlencode(data, doseq=True).encode()
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if cookie and self._sid:
            hdrs["Cookie"] = self._sid
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, target, body=body, headers=hdrs)
            r = c.getresponse()
            rb = r.read()
            return r.status, r.getheaders(), rb
        finally:
            c.close()

    def login(self):
        with self._lock:
            st, hdrs, body = self.request(
                "POST", "auth/login",
                data={"username": self.username, "password": self.password},
                cookie=False)
            text = body.decode("utf-8", "replace")
            # 4.x-5.1: 200 "Ok."; 5.2+: 204 and no body.
            if not ((st == 200 and text.strip() == "Ok.") or
                    (st == 204 and not text)):
                raise QbtApiError("POST", "auth/login", st, text)
            # The cookie is SID up to 4.5, QBT_SID_<port> on 5.2+.
            for k, v in hdrs:
                if k.lower() == "set-cookie":
                    m = re.match(r"\s*([^=;\s]+=[^;]*)", v)
                    if m:
                        self._sid = m.group(1)
            if not self._sid:
                raise QbtApiError("POST", "auth/login", st,
                                  "no session cookie in reply")
            return self._sid

    @property
    def sid(self):
        if not self._sid:
            self.login()
        return self._sid

    def _call(self, method, path, params=None, data=None, files=None,
              timeout=30):
        if not self.running:
            raise RuntimeError("%s is not running" % self.name)
        if not self._sid:
            self.login()
        for attempt in range(2):
            st, hdrs, body = self.request(method, path, params=params,
                                          data=data, files=files,
                                          timeout=timeout)
            if st == 403 and attempt == 0 and b"banned" not in body:
                self.login()
                continue
            break
        if st >= 400:
            raise QbtApiError(method, path, st,
                              body.decode("utf-8", "replace"))
        ctype = ""
        for k, v in hdrs:
            if k.lower() == "content-type":
                ctype = v
        return st, ctype, body

    def get(self, path, **params):
        """GET /api/v2/<path>; JSON replies parsed, others returned as text."""
        st, ctype, body = self._call("GET", path, params=params or None)
        text = body.decode("utf-8", "replace")
        if "json" in ctype:
            return json.loads(text) if text else None
        return text

    def post(self, path, data=None, files=None):
        """POST (form-urlencoded, or multipart with files=[(field, filename,
        bytes, content_type)]); returns the reply text."""
        st, ctype, body = self._call("POST", path, data=data or {}, files=files)
        return body.decode("utf-8", "replace")

    # -- conveniences ------------------------------------------------------

    def add(self, spec, category=None, tags=None, paused=False,
            skip_checking=False, save_path=None, **extra):
        """Add a TorrentSpec; returns its hash.  Raises QbtApiError if
        qBittorrent answers `Fails.` (e.g. already present)."""
        data = {"savepath": save_path if save_path is not None
                else spec.save_path,
                "paused": "true" if paused else "false",
                "stopped": "true" if paused else "false",     # 5.x name
                "skip_checking": "true" if skip_checking else "false"}
        if category is not None:
            data["category"] = category
        if tags:
            data["tags"] = tags if isinstance(tags, str) else ",".join(tags)
        data.update({k: str(v) for k, v in extra.items()})
        text = self.post("torrents/add", data=data, files=[
            ("torrents", spec.name + ".torrent", spec.data,
             "application/x-bittorrent")])
        # 5.3 answers JSON ({"added_torrent_ids": [...], "failure_count": 0, ...}).
        ok = text.strip() == "Ok."
        if not ok and text.lstrip().startswith("{"):
            doc = json.loads(text)
            ok = not doc.get("failure_count") and (
                doc.get("added_torrent_ids") or doc.get("pending_count"))
        if not ok:
            raise QbtApiError("POST", "torrents/add", 200, text)
        # the add is asynchronous; wait until the torrent is listed
        wait_until(lambda: self.torrent(spec.hash) is not None, timeout=10,
                   interval=0.05, what="%s listed on %s" % (spec.hash,
                                                           self.name))
        return spec.hash

    def torrents(self, **params):
        return self.get("torrents/info", **params)

    def torrent(self, hash):
        lst = self.torrents(hashes=hash.lower())
        return lst[0] if lst else None

    def free_space(self):
        """free_space_on_disk as this instance reports it now (None before its
        first measurement: qBittorrent measures on a timer after start)."""
        st = (self.get("sync/maindata") or {}).get("server_state") or {}
        v = st.get("free_space_on_disk")
        return v if isinstance(v, int) and v > 0 else None

    def wait_free_space(self, timeout=60):
        """Wait until the instance has measured its free disk space."""
        return wait_until(self.free_space, timeout=timeout, interval=0.2,
                          what="qBittorrent on port %d to measure its free space"
                          % self.port)

    def wait_completed(self, hash, timeout=30):
        """Wait until qBittorrent has stamped the torrent's completion_on and
        the clock has reached it: what an import decision reads."""
        def done():
            t = self.torrent(hash)
            return t and t.get("completion_on", 0) > 0 and \
                time.time() >= t["completion_on"] + 1
        return wait_until(done, timeout=timeout, interval=0.1,
                          what="completion_on of %s on port %d" % (hash, self.port))

    def wait_state(self, hash, states, timeout=30, interval=0.1):
        if isinstance(states, str):
            states = (states,)
        states = tuple(states)
        deadline = time.monotonic() + timeout
        last = None
        while True:
            t = self.torrent(hash)
            last = t["state"] if t else None
            if t and t["state"] in states:
                return t
            if time.monotonic() >= deadline:
                raise AssertionError(
                    "%s: torrent %s not in %s after %ss (last state: %r)"
                    % (self.name, hash, "|".join(states), timeout, last))
            time.sleep(interval)

    def categories(self):
        return self.get("torrents/categories")

    def tags(self):
        return self.get("torrents/tags")

    def create_category(self, name, save_path=""):
        return self.post("torrents/createCategory",
                         {"category": name, "savePath": save_path})

    def preferences(self):
        return self.get("app/preferences")

    def set_prefs(self, prefs):
        """app/setPreferences; the previous values are restored by reset()."""
        prefs = dict(prefs)
        missing = [k for k in prefs if k not in self._saved_prefs
                   and k != "web_ui_password"]
        if missing:
            cur = self.preferences()
            for k in missing:
                if k in cur:
                    self._saved_prefs[k] = cur[k]
        self.post("app/setPreferences", {"json": json.dumps(prefs)})
        if "web_ui_password" in prefs:
            self.password = prefs["web_ui_password"]
        if "web_ui_username" in prefs:
            self._saved_prefs.setdefault("web_ui_username", self.username)
            self.username = prefs["web_ui_username"]

    def reset(self):
        """Delete every torrent (keeping files), category and tag; restore
        prefs changed with set_prefs(); start the instance if needed."""
        with self._lock:
            if not self.running:
                self.start()
            restore = {}
            if self.password != self._orig_password:
                restore["web_ui_password"] = self._orig_password
            restore.update(self._saved_prefs)
            if restore:
                self.post("app/setPreferences", {"json": json.dumps(restore)})
                self.password = self._orig_password
                if "web_ui_username" in restore:
                    self.username = restore["web_ui_username"]
                self._saved_prefs = {}
                self._sid = None
            hashes = [t["hash"] for t in self.torrents()]
            if hashes:
                self.post("torrents/delete", {"hashes": "|".join(hashes),
                                              "deleteFiles": "false"})
                wait_until(lambda: not self.torrents(), timeout=15,
                           what="%s empty" % self.name)
            cats = list(self.categories() or {})
            if cats:
                self.post("torrents/removeCategories",
                          {"categories": "\n".join(cats)})
            tags = self.tags() or []
            if tags:
                self.post("torrents/deleteTags", {"tags": ",".join(tags)})
            return self

    def __repr__(self):
        return "QbtInstance(%r, port=%r, running=%r)" % (
            self.name, self.port, self.running)


_QBT_VERSIONS = os.path.join(REPO, "tests", "qbt-versions.sh")
_qbt_builds = {}


def qbt_build(suite):
    """(version, launcher) of qbittorrent-nox from Debian `suite` (trixie,
    sid, ...), from the cache of tests/qbt-versions.sh.  run-tests.sh builds
    a missing cache before the suite enters its network namespace; here a
    missing one is built too when the archive is reachable, and otherwise is
    an error, never a skip."""
    if suite not in _qbt_builds:
        p = subprocess.run(["sh", _QBT_VERSIONS, "ensure", suite],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=1800)
        fields = p.stdout.split()
        if p.returncode != 0 or len(fields) != 3 or fields[0] != suite:
            raise RuntimeError("qbittorrent-nox from Debian %s unavailable "
                               "(tests/qbt-versions.sh ensure %s, rc %d):\n%s"
                               % (suite, suite, p.returncode, p.stderr))
        _qbt_builds[suite] = (fields[1], fields[2])
    return _qbt_builds[suite]


class QbtCluster:
    """n qbittorrent-nox instances named qbt0..qbt{n-1}."""

    def __init__(self, n=3, workdir=None):
        self.workdir = workdir or os.path.join(_base_tmpdir(), "cluster")
        self.instances = []
        self._grow(n)
        _closers.append(self.stop)

    def _grow(self, n):
        new = []
        for i in range(len(self.instances), n):
            inst = QbtInstance("qbt%d" % i, os.path.join(self.workdir,
                                                         "qbt%d" % i))
            self.instances.append(inst)
            new.append(inst)
        self._start_all(new)

    @staticmethod
    def _start_all(insts, timeout=30):
        # launch everything first, then wait: start-ups overlap
        for inst in insts:
            if not inst.running:
                inst._launch()
        for inst in insts:
            ok = inst._wait_ready(timeout)
            if not ok:               # port race: retry this one alone
                inst.port = None
                inst.start(timeout=timeout)

    def __getitem__(self, i):
        return self.instances[i]

    def __len__(self):
        return len(self.instances)

    def __iter__(self):
        return iter(self.instances)

    def reset(self):
        self._start_all([i for i in self.instances if not i.running])
        for inst in self.instances:
            inst.reset()
        return self

    def stop(self):
        for inst in self.instances:
            if inst.proc is not None and inst.proc.poll() is None:
                _killpg(inst.proc, signal.SIGTERM)
        for inst in self.instances:
            inst.stop()


_cluster = None
_cluster_lock = threading.Lock()


def get_cluster(n=3):
    """Process-wide cluster of (at least) n running instances."""
    global _cluster
    with _cluster_lock:
        if _cluster is None:
            _cluster = QbtCluster(n)
        elif len(_cluster) < n:
            _cluster._grow(n)
        return _cluster


# ---------------------------------------------------------------------------
# fake Arr
# ---------------------------------------------------------------------------

class FakeArr:
    """fake_arr.py running as a subprocess on a free loopback port."""

    def __init__(self, kind="radarr", api_key=None, url_base="",
                 workdir=None):
        if kind not in ("radarr", "sonarr", "lidarr"):
            raise ValueError("kind must be radarr, sonarr or lidarr")
        self.kind = kind
        self.api_key = api_key if api_key is not None else secrets.token_hex(16)
        ub = (url_base or "").strip().strip("/")
        self.url_base = "/" + ub if ub else ""
        self.workdir = workdir or tempfile.mkdtemp(prefix="fakearr-%s-" % kind,
                                                   dir=_base_tmpdir())
        self.record_path = os.path.join(self.workdir, "calls.jsonl")
        self.log_path = os.path.join(self.workdir, "fake_arr.log")
        self.port = None
        self.proc = None
        self.api_prefix = "/api/v1" if kind == "lidarr" else "/api/v3"

    @property
    def root_url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def url(self):
        return self.root_url + self.url_base

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=15):
        if self.running:
            return self
        argv = [sys.executable, FAKE_ARR, "--kind", self.kind, "--port", "0",
                "--api-key", self.api_key, "--record", self.record_path]
        if self.url_base:
            argv += ["--url-base", self.url_base]
        log = open(self.log_path, "ab")
        try:
            self.proc = _spawn(argv, stdout=subprocess.PIPE, stderr=log,
                               env=_clean_env())
        finally:
            log.close()
        # first stdout line: "listening on http://127.0.0.1:PORT"
        deadline = time.monotonic() + timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("fake_arr did not start:\n" + self._log())
            r, _, _ = select.select([fd], [], [], min(left, 0.5))
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    self.stop()
                    raise RuntimeError("fake_arr exited:\n" + self._log())
                buf += chunk
        m = re.search(rb"127\.0\.0\.1:(\d+)", buf)
        if not m:
            self.stop()
            raise RuntimeError("fake_arr: unexpected banner %r" % buf)
        self.port = int(m.group(1))
        _closers.append(self.stop)
        return self

    def _log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None:
            _terminate(self.proc, grace=5)
            if self.proc.stdout:
                self.proc.stdout.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _control(self, method, path, body=None):
        st, _, data = http_request(self.root_url + path, method, body=body,
                                   timeout=10)
        if st >= 400:
            raise RuntimeError("fake_arr %s %s -> %d %r" % (method, path, st,
                                                            data[:300]))
        return json.loads(data) if data else None

    # -- control API -------------------------------------------------------

    def calls(self, method=None, path=None):
        """Recorded API calls; optionally filtered by method and a path regex
        (re.search on the path without the url base)."""
        out = self._control("GET", "/__calls")
        if method:
            out = [c for c in out if c["method"] == method.upper()]
        if path:
            out = [c for c in out if re.search(path, c["path"])]
        return out

    def reset(self):
        self._control("POST", "/__reset")

    def scenario(self, **kw):
        """POST /__scenario with the given keys (queue, faults, add_faults,
        command_result, history, downloadclients, status, import_on_scan)."""
        return self._control("POST", "/__scenario", kw)

    def set_queue(self, records):
        return self.scenario(queue=list(records))

    def queue(self):
        return self._control("GET", "/__state")["queue"]

    def state(self):
        """Full internal state: queue, commands, history, blocklist, removed,
        faults."""
        return self._control("GET", "/__state")

    def commands(self):
        return self.state()["commands"]

    def set_fault(self, method, path_regex, mode, count=None):
        """mode: "500", "503", "401", "404", "hang", "truncate" (also
        "cutoff": full Content-Length announced, half sent, then close)."""
        return self.scenario(add_faults=[{"method": method, "path": path_regex,
                                          "mode": str(mode), "count": count}])

    def clear_faults(self):
        return self.scenario(faults=[])

    def set_command_result(self, name, result):
        return self.scenario(command_result={name: result})

    def api(self, method, path, params=None, body=None, key=True, timeout=10):
        """Call the fake's API (recorded like any client call).  `path` is
        relative to the API prefix, e.g. "queue".  Returns (status, parsed
        JSON or text or None)."""
        target = self.url + self.api_prefix + "/" + path.lstrip("/")
        if params:
            target += "?" + urllib.parse.urlencode(params, doseq=True)
        headers = {"X-Api-Key": self.api_key} if key else {}
        st, _, data = http_request(target, method, body=body, headers=headers,
                                   timeout=timeout)
        try:
            return st, json.loads(data) if data else None
        except ValueError:
            return st, data.decode("utf-8", "replace")


# ---------------------------------------------------------------------------
# fault-injecting reverse proxy
# ---------------------------------------------------------------------------

BAN_MESSAGE = (b"Your IP address has been banned after too many failed "
               b"authentication attempts.")

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection",
               "transfer-encoding", "te", "trailer", "upgrade", "expect"}


def _simple_query(qs):
    out = {}
    for k, v in urllib.parse.parse_qsl(qs, keep_blank_values=True):
        if k in out:
            if not isinstance(out[k], list):
                out[k] = [out[k]]
            out[k].append(v)
        else:
            out[k] = v
    return out


def _parse_form(ctype, body):
    ctype = ctype or ""
    if not body:
        return {}
    if ctype.startswith("application/x-www-form-urlencoded"):
        return _simple_query(body.decode("utf-8", "replace"))
    if ctype.startswith("multipart/form-data"):
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
        out = {}
        if not msg.is_multipart():
            return out
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name is None:
                continue
            payload = part.get_payload(decode=True) or b""
            fname = part.get_filename()
            if fname is not None:
                val = {"filename": fname, "size": len(payload),
                       "sha1": hashlib.sha1(payload).hexdigest()}
            else:
                val = payload.decode("utf-8", "replace")
            if name in out:
                if not isinstance(out[name], list):
                    out[name] = [out[name]]
                out[name].append(val)
            else:
                out[name] = val
        return out
    return {}


def _hang_until_closed(sock, stop_event, limit=3600):
    """Keep a client connection open without answering until the client
    disconnects, the server stops, or `limit` seconds pass."""
    deadline = time.monotonic() + limit
    while not stop_event.is_set() and time.monotonic() < deadline:
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


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "qbitrr-fault-proxy"
    # Headers and body go out in two writes: with Nagle on, the body waits
    # for the client's delayed ACK (40 ms a request), which no real server does.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def _read_body(self):
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
            return b"".join(chunks), True
        n = int(self.headers.get("Content-Length") or 0)
        return (self.rfile.read(n) if n else b""), False

    def _send(self, status, body, ctype="text/plain; charset=UTF-8",
              extra=None, close=False):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra or []:
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _handle(self):
        proxy = self.server.proxy
        body, was_chunked = self._read_body()
        u = urllib.parse.urlsplit(self.path)
        form = _parse_form(self.headers.get("Content-Type"), body)
        if "password" in form:
            form["password"] = "***"
        rec = {"method": self.command, "path": u.path,
               "query": _simple_query(u.query), "form": form,
               "time": time.time()}
        fault = proxy._take_fault(u.path)
        rec["fault"] = fault
        proxy._record(rec)

        if fault == "hang":
            rec["status"] = None
            self.close_connection = True
            _hang_until_closed(self.connection, proxy._stop)
            return
        if fault == "500":
            rec["status"] = 500
            return self._send(500, b"Internal Server Error")
        if fault == "403":
            rec["status"] = 403
            return self._send(403, b"Forbidden")
        if fault == "ban":
            rec["status"] = 403
            return self._send(403, BAN_MESSAGE)
        if fault == "garbage":
            rec["status"] = 200
            return self._send(200, b'{"not": json', "application/json")
        if fault in ("endless", "drip"):
            # 200 and a JSON array that never ends (until the client leaves)
            rec["status"] = 200
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.close_connection = True
            self.end_headers()
            item = b'{"hash":"' + b"0" * 40 + b'","name":"endless","state":"uploading"},'
            chunk = b"[" + item * (65536 // len(item))
            deadline = time.monotonic() + 600
            try:
                while not proxy._stop.is_set() and time.monotonic() < deadline:
                    if fault == "drip":
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.2)
                    else:
                        self.wfile.write(chunk)
                        chunk = item * (65536 // len(item))
                    proxy.sent_bytes += 1 if fault == "drip" else len(chunk)
            except OSError:
                pass
            return
        if fault == "gzipbomb":
            rec["status"] = 200
            return self._send(200, gzip_bomb(), "application/json",
                              extra=[("Content-Encoding", "gzip")])
        reply = proxy._replies.get(u.path) if fault == "reply" else None
        if reply is not None:
            rec["status"] = reply[0]
            self.send_response(reply[0])
            for k, v in reply[2]:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(reply[1])))
            self.end_headers()
            self.wfile.write(reply[1])
            return
        if callable(fault):
            rec["fault"] = "rewrite"

        # forward
        try:
            c = http.client.HTTPConnection(proxy.up_host, proxy.up_port,
                                           timeout=proxy.upstream_timeout)
            c.putrequest(self.command, self.path, skip_host=True,
                         skip_accept_encoding=True)
            there = "%s:%d" % (proxy.up_host, proxy.up_port)
            for k, v in self.headers.items():
                kl = k.lower()
                if kl in _HOP_BY_HOP:
                    continue
                if kl == "host" and fault != "keephost":
                    # qBittorrent 4.5 rejects a Host whose port differs from
                    # its own (401 even with ServerDomains=*)
                    v = there
                elif kl in ("origin", "referer"):
                    v = re.sub(r"^(https?://)(127\.0\.0\.1|localhost):%d(?=/|$)"
                               % proxy.port, lambda m: m.group(1) + there, v)
                if k.lower() == "content-length" and was_chunked:
                    continue
                c.putheader(k, v)
            if body or self.command in ("POST", "PUT", "PATCH"):
                if was_chunked or "Content-Length" not in self.headers:
                    c.putheader("Content-Length", str(len(body)))
            c.endheaders(body if body else None)
            r = c.getresponse()
            rbody = r.read()
            rheaders = r.getheaders()
            status, reason = r.status, r.reason
            c.close()
        except Exception as e:
            rec["status"] = 502
            rec["error"] = repr(e)
            return self._send(502, ("proxy: upstream error %r" % e).encode(),
                              close=True)
        rec["status"] = status
        close = False
        if callable(fault):
            # rewrite the plain body; it is sent on uncompressed
            if any(k.lower() == "content-encoding" and "gzip" in v.lower()
                   for k, v in rheaders):
                import gzip
                rbody = gzip.decompress(rbody)
                rheaders = [(k, v) for k, v in rheaders
                            if k.lower() != "content-encoding"]
            rbody = fault(rbody)
        if fault in ("truncate", "cutoff"):
            full = len(rbody)
            rbody = rbody[:full // 2]
            close = True
        self.send_response(status, reason)
        if fault == "addcookie":
            # a proxy in front setting its own cookie before the server's
            self.send_header("Set-Cookie", "proxy_affinity=p1; Path=/")
        for k, v in rheaders:
            kl = k.lower()
            if kl in _HOP_BY_HOP or kl == "content-length":
                continue
            self.send_header(k, v)
        if fault == "cutoff":
            self.send_header("Content-Length", str(full))
        else:
            self.send_header("Content-Length", str(len(rbody)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(rbody)

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def send_response(self, code, message=None):
        # like the base class, but without the extra Server/Date headers
        self.log_request(code)
        self.send_response_only(code, message)


class _ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def handle_error(self, request, client_address):
        # a client hanging up on an endless answer is expected, not news
        if isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


_GZIP_BOMB = []


def gzip_bomb(size=1 << 30):
    """A gzip body of `size` bytes of JSON-ish filler (1 GiB by default),
    about 1 MB on the wire; made once."""
    if not _GZIP_BOMB:
        import zlib
        z = zlib.compressobj(9, zlib.DEFLATED, 31)
        block = b"[" + b" " * ((1 << 20) - 1)
        parts = [z.compress(block)]
        block = b" " * (1 << 20)
        for _ in range(size // len(block) - 1):
            parts.append(z.compress(block))
        parts.append(z.flush())
        _GZIP_BOMB.append(b"".join(parts))
    return _GZIP_BOMB[0]


class FaultProxy:
    """Reverse proxy on a free loopback port in front of `upstream_url`.

    Relays bytes untouched (cookies, multipart, gzip) except that the Host
    header (and an Origin/Referer naming the proxy itself) is rewritten to
    the upstream host:port, as qBittorrent rejects a foreign Host port.
    Records every request
    as {"method","path","query","form", + "status","fault","time"} with
    form["password"] masked as "***".
    """

    MODES = ("500", "403", "ban", "truncate", "cutoff", "garbage", "hang",
             "endless", "drip", "gzipbomb", "reply", "addcookie", "keephost")

    def __init__(self, upstream_url, upstream_timeout=60):
        self.up_host, self.up_port, _ = _split_url(upstream_url)
        self.upstream_timeout = upstream_timeout
        self._lock = threading.Lock()
        self._requests = []
        self._faults = []
        self._replies = {}       # path -> (status, body, headers) for "reply"
        self._stop = threading.Event()
        self.sent_bytes = 0     # by the endless/drip modes
        self.server = _ThreadingServer(("127.0.0.1", 0), _ProxyHandler)
        self.server.proxy = self
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name="FaultProxy:%d" % self.port,
                                        daemon=True)
        self._thread.start()
        _closers.append(self.close)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def _record(self, rec):
        with self._lock:
            self._requests.append(rec)

    def _take_fault(self, path):
        with self._lock:
            for f in self._faults:
                if f["regex"].search(path):
                    mode = f["mode"]
                    if f["count"] is not None:
                        f["count"] -= 1
                        if f["count"] <= 0:
                            self._faults.remove(f)
                    return mode
        return None

    def requests(self):
        with self._lock:
            return [dict(r) for r in self._requests]

    def clear(self):
        """Forget recorded requests and remove all faults."""
        with self._lock:
            self._requests = []
            self._faults = []
            self._replies = {}

    def set_reply(self, path, status, body=b"", headers=()):
        """Answer `path` (exact) with this instead of forwarding."""
        if isinstance(body, str):
            body = body.encode()
        with self._lock:
            self._replies[path] = (int(status), body, list(headers))
        self.set_fault("^%s$" % re.escape(path), "reply")

    def set_fault(self, path_regex, mode, count=None):
        mode = str(mode)
        if mode not in self.MODES:
            raise ValueError("unknown fault mode %r" % mode)
        with self._lock:
            self._faults.append({"regex": re.compile(path_regex),
                                 "mode": mode, "count": count})

    def clear_faults(self):
        with self._lock:
            self._faults = []

    def set_rewrite(self, path_regex, fn, count=None):
        """Forward, then replace the upstream body with fn(body)."""
        with self._lock:
            self._faults.append({"regex": re.compile(path_regex),
                                 "mode": fn, "count": count})

    def close(self):
        if self._stop.is_set():
            return
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    stop = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------
# black hole
# ---------------------------------------------------------------------------

class Blackhole:
    """Accepts TCP connections on 127.0.0.1 and never answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._conns = []
        self._stop = threading.Event()
        self.accepted = 0
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name="Blackhole:%d" % self.port)
        self._thread.start()
        _closers.append(self.close)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def _loop(self):
        while not self._stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            self._conns.append(c)     # hold it open, never read or write

    def close(self):
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(2)
        for c in self._conns:
            try:
                c.close()
            except OSError:
                pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
