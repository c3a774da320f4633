"""Helpers for the ovsdb-server tests: start pyovs's or Debian's server on a
fresh database, talk raw JSON-RPC to it, normalise UUIDs.  (No tests here.)"""

import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import REAL_VSWITCH_SCHEMA, pyovs_bin, real_bin, wait_for

REPO = Path(__file__).resolve().parents[2]
PYOVS_VSWITCH_SCHEMA = REPO / "src/pyovs/vswitch/vswitch.ovsschema"

#: Engineer D's TCP port range.
PORT_BASE = 16300


def vswitch_schema_path():
    if PYOVS_VSWITCH_SCHEMA.exists():
        return str(PYOVS_VSWITCH_SCHEMA)
    if os.path.exists(REAL_VSWITCH_SCHEMA):
        return REAL_VSWITCH_SCHEMA
    pytest.skip("no vswitch.ovsschema available")


def create_db(path, schema_path=None):
    """Create a standalone database file: one record holding the schema."""
    from pyovs.ovsdb.log import open_log
    schema_path = schema_path or vswitch_schema_path()
    with open(schema_path) as f:
        schema = json.load(f)
    log = open_log(str(path), "create")
    log.write(schema)
    log.commit()
    log.close()
    return str(path)


class Server:
    """A running ovsdb-server (pyovs's or the real one) in DIRECTORY."""

    def __init__(self, exe, directory, db_paths, extra=(), name="srv"):
        self.exe = exe
        self.dir = Path(directory)
        self.sock = str(self.dir / (name + ".sock"))
        self.ctl = str(self.dir / (name + ".ctl"))
        self.log = str(self.dir / (name + ".log"))
        self.pidfile = str(self.dir / (name + ".pid"))
        self.db_paths = list(db_paths)
        self.extra = list(extra)
        self.proc = None

    @property
    def remote(self):
        return "unix:" + self.sock

    def start(self, timeout=20):
        for p in (self.sock, self.ctl):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
        cmd = [self.exe, *self.db_paths, "--remote=punix:" + self.sock,
               "--unixctl=" + self.ctl, "--no-chdir", "--log-file=" + self.log,
               "--pidfile=" + self.pidfile, *self.extra]
        env = dict(os.environ, OVS_RUNDIR=str(self.dir), OVS_LOGDIR=str(self.dir),
                   OVS_DBDIR=str(self.dir))
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env)

        def ready():
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError("%s exited %s: %s" % (self.exe, self.proc.returncode,
                                                           err.decode(errors="replace")))
            return os.path.exists(self.sock) and os.path.exists(self.ctl)
        wait_for(ready, timeout=timeout, what="ovsdb-server socket")
        return self

    def kill(self, sig=signal.SIGTERM):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc is not None:
            for f in (self.proc.stdout, self.proc.stderr):
                if f:
                    f.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


def start_server(request, kind, directory, db_paths=None, extra=(), name="srv"):
    """Start pyovs's (KIND "pyovs") or the real (KIND "real") ovsdb-server
    with a finalizer that stops it.  Creates a vswitch DB if none given."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if db_paths is None:
        db_paths = [create_db(directory / "conf.db")]
    exe = pyovs_bin("ovsdb-server") if kind == "pyovs" else real_bin("ovsdb-server")
    srv = Server(exe, directory, db_paths, extra, name)
    request.addfinalizer(srv.kill)
    return srv.start()


class RawClient:
    """A blocking JSON-RPC client that shows exactly what the server sends."""

    def __init__(self, sock_path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        self.sock.connect(sock_path)
        self.buf = b""
        self.next_id = 0
        self._dec = json.JSONDecoder()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, obj):
        self.send_raw(json.dumps(obj).encode())

    def request(self, method, params):
        self.next_id += 1
        self.send({"method": method, "params": params, "id": self.next_id})
        return self.next_id

    def recv(self, timeout=None):
        """Next message (dict); None at EOF; raises socket.timeout."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        while True:
            text = self.buf.lstrip()
            if text:
                try:
                    s = text.decode()
                    obj, end = self._dec.raw_decode(s)
                    self.buf = s[end:].encode()
                    return obj
                except (ValueError, UnicodeDecodeError):
                    pass
            data = self.sock.recv(1 << 20)
            if not data:
                return None
            self.buf += data

    def call(self, method, params, timeout=10):
        """Send a request; return (reply, notifications received before it)."""
        rid = self.request(method, params)
        notes = []
        while True:
            msg = self.recv(timeout)
            if msg is None:
                raise EOFError("server closed the connection")
            if msg.get("id") == rid and "method" not in msg:
                return msg, notes
            notes.append(msg)

    def close(self):
        self.sock.close()


_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalize_uuids(text):
    """Replace UUIDs by <0>, <1>... in order of first appearance (the all-zero
    UUID is kept: it is a protocol constant)."""
    names = {}

    def sub(m):
        u = m.group(0)
        if u == "00000000-0000-0000-0000-000000000000":
            return u
        if u not in names:
            names[u] = "<%d>" % len(names)
        return names[u]
    return _UUID_RE.sub(sub, text)


def canon(obj):
    """OBJ as canonical JSON text with UUIDs normalised."""
    return normalize_uuids(json.dumps(obj, sort_keys=True))


def blank_uuids(text):
    return _UUID_RE.sub("<uuid>", text)
