"""pyovs's ovsdb-client against Debian's real one, both talking to the real
ovsdb-server: every command's stdout, stderr and exit status must match
(the program name in getopt messages and timestamps aside)."""

import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from tests.conftest import REAL_VSWITCH_SCHEMA, pyovs_bin, real_bin, run, wait_for

pytestmark = pytest.mark.interop

#: A schema with every atomic type, optional values, sets, maps and refs.
TYPES_SCHEMA = {
    "name": "T", "version": "1.2.3",
    "tables": {
        "A": {"isRoot": True, "columns": {
            "i": {"type": "integer"}, "r": {"type": "real"},
            "b": {"type": "boolean"}, "s": {"type": "string"},
            "u": {"type": {"key": "uuid", "min": 0, "max": 1}},
            "os": {"type": {"key": "string", "min": 0, "max": 1}},
            "ss": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
            "ri": {"type": {"key": "real", "min": 0, "max": "unlimited"}},
            "m": {"type": {"key": "string", "value": "integer",
                           "min": 0, "max": "unlimited"}},
            "ref": {"type": {"key": {"type": "uuid", "refTable": "B"},
                             "min": 0, "max": "unlimited"}},
            "e": {"type": {"key": "string", "value": "string", "min": 0,
                           "max": "unlimited"}, "ephemeral": True}}},
        "B": {"isRoot": True, "indexes": [["name"]], "columns": {
            "name": {"type": "string"}, "n": {"type": "integer"}}},
    },
}

TYPES_TXN = ["T",
             {"op": "insert", "table": "B", "row": {"name": "x y", "n": 3},
              "uuid-name": "b1"},
             {"op": "insert", "table": "B", "row": {"name": "zed", "n": -1}},
             {"op": "insert", "table": "A", "row": {
                 "i": -5, "r": 1.5, "b": True, "s": "br0",
                 "ss": ["set", ["true", "a,b", "1abc", "_x", "a-b.c", 'q"uote',
                                "tab\tx", "üñí", "", "Abc", "a:b", "new\nline",
                                "0c3b7d8e-6bf1-4d2b-8a3e-5f4e3c2b1a09"]],
                 "ri": ["set", [0.1, 1e20, 3, 1.0e-7, 2.5, 0.30000000000000004]],
                 "m": ["map", [["k", 1], ["a b", -2]]],
                 "ref": ["set", [["named-uuid", "b1"]]],
                 "e": ["map", [["k", "v"]]]}},
             {"op": "insert", "table": "A", "row": {
                 "r": 0.25, "s": '<&>"x', "os": "y"}}]


class Server:
    """Debian's ovsdb-server on a unix socket in a private directory."""

    def __init__(self, tmp_path):
        self.dir = tmp_path
        self.sock = str(tmp_path / "db.sock")
        self.remote = "unix:" + self.sock
        self.env = dict(os.environ, OVS_RUNDIR=str(tmp_path),
                        OVS_LOGDIR=str(tmp_path), OVS_DBDIR=str(tmp_path))
        self.proc = None

    def create(self, name, schema_path):
        db = str(self.dir / name)
        run([real_bin("ovsdb-tool"), "create", db, schema_path], check=True)
        return db

    def start(self, *dbs, tcp_port=None):
        extra = ["--remote=ptcp:%d:127.0.0.1" % tcp_port] if tcp_port else []
        self.proc = subprocess.Popen(
            [real_bin("ovsdb-server"), *dbs, *extra, "--remote=punix:" + self.sock,
             "--unixctl=" + str(self.dir / "server.ctl"), "--no-chdir",
             "--log-file=" + str(self.dir / "server.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
        wait_for(lambda: os.path.exists(self.sock), what="ovsdb-server socket")
        if tcp_port:
            wait_for(lambda: _can_connect(tcp_port), what="ovsdb-server TCP port")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def vsctl(self, *args):
        r = run([real_bin("ovs-vsctl"), "--db=" + self.remote, "--no-wait",
                 "--retry", "--timeout=20", *args], env=self.env)
        assert r.returncode == 0, r.stderr
        return r


def _tcp_port():
    """A TCP port from this suite's range (16400-16499), one per xdist
    worker, for the shared server."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return 16410 + int(re.sub(r"\D", "", worker) or 0) % 40


def _can_connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _start_server(tmp_path, tcp_port=None):
    server = Server(tmp_path)
    schema = tmp_path / "t.ovsschema"
    schema.write_text(json.dumps(TYPES_SCHEMA))
    vs = server.create("conf.db", REAL_VSWITCH_SCHEMA)
    t = server.create("t.db", str(schema))
    server.start(vs, t, tcp_port=tcp_port)
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One real server for the read-only comparisons, filled with real
    ovs-vsctl and a transaction through the real ovsdb-client."""
    srv = _start_server(tmp_path_factory.mktemp("pe-client"), tcp_port=_tcp_port())
    try:
        srv.vsctl("init", "--", "add-br", "br0", "--", "add-port", "br0", "p1",
                  "--", "set", "Interface", "p1", "type=internal",
                  "--", "set", "Bridge", "br0", "external_ids:foo=bar",
                  "other_config:x=y", "--", "add-br", "br1",
                  "--", "set", "Port", "p1", "tag=7", "trunks=1,2,3")
        run([real_bin("ovsdb-client"), "transact", srv.remote,
             json.dumps(TYPES_TXN)], check=True, env=srv.env)
        yield srv
    finally:
        srv.stop()


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _normalise(text, uuids=False):
    if uuids:
        text = _UUID.sub("<uuid>", text)
    text = text.replace(pyovs_bin("ovsdb-client"), "ovsdb-client")
    text = text.replace(REAL_PATH, "ovsdb-client")
    return re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?", "TIME", text)


REAL_PATH = "/usr/bin/ovsdb-client"


def both(server, *args, input=None):
    """Run the real and pyovs ovsdb-client with ARGS; return both results."""
    real = run([real_bin("ovsdb-client"), *args], env=server.env, input=input)
    ours = run([pyovs_bin("ovsdb-client"), *args], env=server.env, input=input)
    return real, ours


def assert_same(server, *args, uuids=False):
    real, ours = both(server, *args)
    assert (_normalise(ours.stdout, uuids), _normalise(ours.stderr),
            ours.returncode) == \
        (_normalise(real.stdout, uuids), _normalise(real.stderr), real.returncode)
    return ours


READ_ONLY = [
    ["list-dbs", "{R}"],
    ["list-dbs"],
    ["get-schema", "{R}"],
    ["get-schema", "{R}", "T"],
    ["--pretty", "get-schema", "{R}", "T"],
    ["get-schema-version", "{R}", "T"],
    ["get-schema-version"],
    ["get-schema-cksum", "{R}", "Open_vSwitch"],
    ["get-schema", "{R}", "Nope"],
    ["list-tables", "{R}"],
    ["list-tables", "{R}", "T"],
    ["list-columns", "{R}"],
    ["list-columns", "{R}", "T"],
    ["list-columns", "{R}", "Open_vSwitch", "Interface"],
    ["list-columns", "{R}", "T", "Nope"],
    ["-f", "csv", "list-columns", "{R}", "T", "A"],
    ["dump", "{R}"],
    ["dump", "{R}", "T"],
    ["dump", "{R}", "T", "A"],
    ["dump", "{R}", "T", "A", "ss", "s", "_uuid"],
    ["dump", "{R}", "T", "A", "s", "nope"],
    ["dump", "{R}", "T", "Nope"],
    ["dump", "{R}", "Open_vSwitch", "Port", "name", "tag", "trunks"],
    ["-f", "list", "dump", "{R}", "T"],
    ["-f", "csv", "dump", "{R}", "T"],
    ["-f", "json", "dump", "{R}", "T"],
    ["-f", "html", "dump", "{R}", "T"],
    ["--pretty", "-f", "json", "dump", "{R}", "T", "A"],
    ["-d", "bare", "dump", "{R}", "T"],
    ["-d", "json", "dump", "{R}", "T"],
    ["-d", "json", "-f", "html", "dump", "{R}", "T", "A", "_uuid", "i"],
    ["--bare", "dump", "{R}", "T"],
    ["--no-headings", "dump", "{R}", "T"],
    ["--no-headings", "-f", "csv", "dump", "{R}", "T", "B"],
    ["--no-headings", "-f", "list", "dump", "{R}", "T", "B"],
    ["-f", "list", "dump", "{R}", "Open_vSwitch", "Bridge"],
    ["transact", "{R}", '["T",{"op":"select","table":"B","where":[]}]'],
    ["--pretty", "transact", "{R}",
     '["T",{"op":"comment","comment":"x"},{"op":"select","table":"B",'
     '"where":[["n","==",7]]}]'],
    ["transact", "{R}", '["T",{"op":"select","table":"B","where":[]},{"op":"bogus"}]'],
    ["transact", "{R}", '["X",{"op":"select","table":"B","where":[]}]'],
    ["transact", "{R}", "[]"],
    ["transact", "{R}", "{}"],
    ["transact", "{R}", '["T"'],
    ["transact", "{R}", '["T",{"op":"select","table":"B","where":[]}] x'],
    ["query", "{R}", '["T",{"op":"insert","table":"B","row":{"n":1}}]'],
    ["query", "{R}", '["T",{"op":"select","table":"B","where":[],"columns":["n"]}]'],
    ["monitor", "{R}", "Nope"],
    ["monitor", "{R}", "Open_vSwitch", "Bridge", "name,nope"],
    ["monitor", "{R}", "Open_vSwitch", "Bridge", "name,name"],
    ["monitor-cond", "{R}", "T", "[]", "Nope"],
    ["monitor-cond", "{R}", "T", '[["nope","==","x"]]', "B"],
    ["monitor-cond", "{R}", "T", '[["name","<","x"]]', "B"],
    ["monitor-cond", "{R}", "T", '[["name","==",1]]', "B"],
    ["monitor-cond", "{R}", "T", "[]", "ALL"],
    ["monitor-cond-since", "{R}", "T", "bad-uuid", "[]", "B"],
    ["monitor-cond-since", "{R}", "T", "x", "B"],
    ["monitor-cond-since", "{R}", "T", "[]", "ALL"],
    ["--help"],
    ["help"],
    ["monitor", "{R}", "T", "B", "!bogus"],
    ["dump", "{R}", "T", "B", "name", "name"],
    ["wait", "{R}", "T", "bogus"],
    ["foo"],
    [],
    ["list-dbs", "{R}", "extra"],
    ["--timeout=0", "list-dbs"],
    ["-f", "xx", "list-dbs"],
    ["-d", "xx", "list-dbs"],
    ["--bogus"],
    ["-x"],
    ["-f"],
    ["--format"],
    ["transact", "unix:/nonexistent/pe.sock", '["T"]'],
    ["list-dbs", "unix:/nonexistent/pe.sock"],
    ["list-dbs", "{T}"],
    ["dump", "{T}", "T"],
    ["list-dbs", "unix:/nonexistent/pe.sock,{R}"],
    ["dump", "unix:/nonexistent/pe.sock,{R}", "T", "B"],
    ["dump", "unix:/nonexistent/pe.sock,{R}"],
    ["list-dbs", "unix:/nonexistent/a.sock,unix:/nonexistent/b.sock"],
    ["list-dbs", "bogus:x"],
    ["list-dbs", "tcp:127.0.0.1:16499"],
    ["list-dbs", "tcp:127.0.0.1:99999"],
    ["-V"],
]


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: " ".join(a) or "none")
def test_same_output_as_real_ovsdb_client(server, args):
    # A query that inserts reports a fresh UUID each time.
    uuids = args[:1] == ["query"]
    tcp = "tcp:127.0.0.1:%d" % _tcp_port()
    assert_same(server, *[a.replace("{R}", server.remote).replace("{T}", tcp)
                          for a in args], uuids=uuids)


def _start_monitors(server, args):
    """Start the real and pyovs monitors with ARGS; return both Popens and
    their output files, once each has printed its initial contents."""
    procs = []
    for name, binary in (("real", real_bin("ovsdb-client")),
                         ("ours", pyovs_bin("ovsdb-client"))):
        out = server.dir / ("mon-%s-%d.txt" % (name, time.monotonic_ns()))
        f = open(out, "w")
        p = subprocess.Popen([binary, *args], stdout=f, stderr=subprocess.DEVNULL,
                             env=server.env)
        f.close()
        procs.append((p, out))
    return procs


def _stop(procs):
    outs = []
    for p, out in procs:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        outs.append(out.read_text())
    return outs


@pytest.mark.parametrize("args", [
    ["monitor", "{R}", "Open_vSwitch", "Bridge", "name,ports,external_ids"],
    ["monitor", "{R}", "Open_vSwitch", "Bridge", "name,!delete",
     "external_ids,!modify"],
    ["monitor", "{R}", "Open_vSwitch", "Bridge"],
    ["monitor", "{R}", "Open_vSwitch", "ALL"],
    ["-f", "csv", "monitor", "{R}", "Open_vSwitch", "ALL"],
    ["--timestamp", "monitor", "{R}", "Open_vSwitch", "Bridge", "name"],
    ["-f", "list", "-d", "json", "monitor", "{R}", "Open_vSwitch", "Port"],
    ["--bare", "monitor", "{R}", "Open_vSwitch", "Interface", "name,type"],
    ["-f", "json", "monitor", "{R}", "Open_vSwitch", "Bridge", "name,external_ids"],
    ["-f", "html", "-d", "bare", "monitor", "{R}", "Open_vSwitch", "Bridge",
     "name,ports"],
    ["monitor-cond", "{R}", "Open_vSwitch", '[["name","==","br0"]]', "Bridge",
     "name,external_ids"],
    ["monitor-cond", "{R}", "Open_vSwitch", '[true]', "Bridge"],
    ["monitor-cond-since", "{R}", "Open_vSwitch", '[true]', "Bridge", "name"],
    ["-f", "json", "monitor-cond-since", "{R}", "Open_vSwitch",
     "00000000-0000-0000-0000-000000000000", '[["name","!=","br9"]]', "Bridge"],
], ids=lambda a: " ".join(a))
def test_monitor_same_as_real(tmp_path, args):
    """Both monitors watch the same changes made by real ovs-vsctl; their
    outputs (row order included) must be identical."""
    srv = _start_server(tmp_path)
    try:
        srv.vsctl("init", "--", "add-br", "br0", "--", "set", "Bridge", "br0",
                  "external_ids:foo=bar")
        procs = _start_monitors(srv, [a.replace("{R}", srv.remote) for a in args])
        for p, out in procs:
            wait_for(lambda: out.read_text() or p.poll() is not None,
                     what="initial contents")
        srv.vsctl("add-br", "br9")
        srv.vsctl("set", "Bridge", "br9", "external_ids:a=b", "--",
                  "set", "Bridge", "br0", "external_ids:z=1")
        srv.vsctl("del-br", "br9", "--", "remove", "Bridge", "br0",
                  "external_ids", "z")
        srv.vsctl("add-br", "brlast", "--", "set", "Bridge", "br0",
                  "external_ids:last=1")
        for p, out in procs:
            wait_for(lambda: "last" in out.read_text() or p.poll() is not None,
                     what="last update")
        # One update may print several tables; let both finish printing.
        files = [out for _, out in procs]
        try:
            wait_for(lambda: _normalise(files[0].read_text())
                     == _normalise(files[1].read_text()), timeout=5,
                     what="same output")
        except AssertionError:
            pass    # the assertion below shows the difference
        real, ours = _stop(procs)
        assert "last" in real, "real ovsdb-client did not show the last change"
        assert _normalise(ours) == _normalise(real)
    finally:
        srv.stop()


def _dump_normalised(srv, db):
    r = run([real_bin("ovsdb-client"), "dump", srv.remote, db], env=srv.env,
            check=True)
    return _normalise(r.stdout, uuids=True)


def test_backup_readable_by_real_tools_and_restore(tmp_path):
    """pyovs's backup is a database file the real ovsdb-tool reads with the
    same contents; the real and the pyovs restore of it give the same
    database."""
    srv = _start_server(tmp_path)
    try:
        run([real_bin("ovsdb-client"), "transact", srv.remote,
             json.dumps(TYPES_TXN)], check=True, env=srv.env)
        backup = tmp_path / "backup.db"
        with open(backup, "wb") as f:
            r = subprocess.run([pyovs_bin("ovsdb-client"), "backup", srv.remote, "T"],
                               stdout=f, stderr=subprocess.PIPE, env=srv.env,
                               timeout=60)
        assert r.returncode == 0, r.stderr
        select = json.dumps(["T", {"op": "select", "table": "A", "where": [],
                                   "columns": ["_uuid", "i", "r", "s", "ss", "ri",
                                               "m", "ref", "os"]},
                             {"op": "select", "table": "B", "where": []}])
        from_file = run([real_bin("ovsdb-tool"), "query", str(backup), select],
                        check=True)
        live = run([real_bin("ovsdb-client"), "query", srv.remote, select],
                   check=True, env=srv.env)

        def rows(text):
            return [sorted(json.dumps({k: v for k, v in row.items() if k != "_version"},
                                      sort_keys=True) for row in result["rows"])
                    for result in json.loads(text)]
        assert rows(from_file.stdout) == rows(live.stdout)
        # The ephemeral column is not backed up.
        assert '"e"' not in backup.read_text().split("\n", 2)[2]

        before = _dump_normalised(srv, "T")
        run([real_bin("ovsdb-client"), "transact", srv.remote,
             '["T",{"op":"delete","table":"A","where":[]}]'], check=True, env=srv.env)
        with open(backup, "rb") as f:
            r = subprocess.run([pyovs_bin("ovsdb-client"), "restore", srv.remote, "T"],
                               stdin=f, capture_output=True, env=srv.env, timeout=60)
        assert r.returncode == 0, r.stderr
        restored_by_us = _dump_normalised(srv, "T")
        with open(backup, "rb") as f:
            subprocess.run([real_bin("ovsdb-client"), "restore", srv.remote, "T"],
                           stdin=f, check=True, env=srv.env, timeout=60)
        restored_by_real = _dump_normalised(srv, "T")
        assert restored_by_us == restored_by_real
        # Rows and references survive (the ephemeral column is lost).
        assert before.replace('{k="v"}', "{}").count("x y") == restored_by_us.count("x y")
    finally:
        srv.stop()


def test_restore_refuses_other_schema(tmp_path):
    srv = _start_server(tmp_path)
    try:
        backup = tmp_path / "vs.db"
        with open(backup, "wb") as f:
            subprocess.run([real_bin("ovsdb-client"), "backup", srv.remote,
                            "Open_vSwitch"], stdout=f, check=True, env=srv.env,
                           timeout=60)
        with open(backup, "rb") as f:
            real = subprocess.run([real_bin("ovsdb-client"), "restore", srv.remote, "T"],
                                  stdin=f, capture_output=True, text=True, env=srv.env)
        with open(backup, "rb") as f:
            ours = subprocess.run([pyovs_bin("ovsdb-client"), "restore", srv.remote, "T"],
                                  stdin=f, capture_output=True, text=True, env=srv.env)
        assert real.returncode == 1
        assert (ours.returncode, _normalise(ours.stderr)) == \
            (real.returncode, _normalise(real.stderr))
    finally:
        srv.stop()


def test_lock_steal_unlock_notifications(tmp_path):
    """A pyovs lock waits behind the real client's lock and is told when it
    gets it; the real client is told when pyovs steals it."""
    srv = _start_server(tmp_path)
    procs = []
    try:
        def start(binary, *args):
            out = tmp_path / ("lock-%d.txt" % len(procs))
            with open(out, "w") as f:
                p = subprocess.Popen([binary, *args], stdout=f,
                                     stderr=subprocess.DEVNULL, env=srv.env)
            procs.append(p)
            return out

        real_out = start(real_bin("ovsdb-client"), "lock", srv.remote, "L")
        wait_for(lambda: real_out.read_text(), what="real lock reply")
        ours_out = start(pyovs_bin("ovsdb-client"), "lock", srv.remote, "L")
        wait_for(lambda: ours_out.read_text(), what="pyovs lock reply")
        assert real_out.read_text() == '{"locked":true}\n'
        assert ours_out.read_text() == '{"locked":false}\n'
        procs[0].terminate()
        procs[0].wait(10)
        wait_for(lambda: "locked\n" in ours_out.read_text()[17:], what="locked")
        assert ours_out.read_text() == '{"locked":false}\nlocked\n["L"]\n'

        real2 = start(real_bin("ovsdb-client"), "steal", srv.remote, "L")
        wait_for(lambda: "stolen" in ours_out.read_text(), what="stolen")
        assert ours_out.read_text().endswith('locked\n["L"]\nstolen\n["L"]\n')
        assert real2.read_text() == '{"locked":true}\n'
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(10)
        srv.stop()


def test_wait_and_conversion(tmp_path):
    srv = _start_server(tmp_path)
    try:
        for args in (["wait", srv.remote, "T", "added"],
                     ["wait", srv.remote, "Nope", "removed"],
                     ["wait", srv.remote, "T", "connected"]):
            real, ours = both(srv, *args)
            assert real.returncode == 0
            assert (ours.returncode, ours.stdout, _normalise(ours.stderr)) == \
                (0, real.stdout, _normalise(real.stderr))
        r = run([pyovs_bin("ovsdb-client"), "--timeout=1", "wait", srv.remote,
                 "Nope", "added"], env=srv.env)
        assert r.returncode == -signal.SIGALRM

        old = tmp_path / "t.ovsschema"
        new_schema = json.loads(old.read_text())
        new_schema["version"] = "1.3.0"
        new_schema["tables"]["B"]["columns"]["extra"] = {"type": "string"}
        new = tmp_path / "t2.ovsschema"
        new.write_text(json.dumps(new_schema))
        for schema in (old, new):
            real, ours = both(srv, "needs-conversion", srv.remote, str(schema))
            assert (ours.stdout, ours.returncode) == (real.stdout, real.returncode)
        assert real.stdout == "yes\n"
        r = run([pyovs_bin("ovsdb-client"), "convert", srv.remote, str(new)],
                env=srv.env)
        assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
        real, ours = both(srv, "get-schema", srv.remote, "T")
        assert ours.stdout == real.stdout and '"1.3.0"' in real.stdout
        real, ours = both(srv, "needs-conversion", srv.remote, str(new))
        assert ours.stdout == real.stdout == "no\n"
    finally:
        srv.stop()


def test_detached_monitor_controlled_by_real_appctl(tmp_path):
    """--detach --pidfile monitor: the parent returns once the initial
    contents are out, the child answers ovs-appctl block/unblock/exit on
    ovsdb-client.PID.ctl, and prints what the real one prints."""
    srv = _start_server(tmp_path)
    pids = []
    try:
        srv.vsctl("init", "--", "add-br", "br0")
        outs = []
        for name, binary in (("real", real_bin("ovsdb-client")),
                             ("ours", pyovs_bin("ovsdb-client"))):
            out = tmp_path / ("det-%s.txt" % name)
            pidfile = tmp_path / ("det-%s.pid" % name)
            err = tmp_path / ("det-%s.err" % name)
            # (Files, not pipes: the detached child keeps both streams.)
            with open(out, "w") as f, open(err, "w") as e:
                r = subprocess.run([binary, "--detach", "--no-chdir",
                                    "--pidfile=%s" % pidfile, "monitor", srv.remote,
                                    "Open_vSwitch", "Bridge", "name"],
                                   stdout=f, stderr=e, env=srv.env, timeout=60)
            assert r.returncode == 0, err.read_text()
            # The initial contents are printed before the parent exits.
            assert "initial br0" in out.read_text()
            pid = int(pidfile.read_text())
            pids.append(pid)
            outs.append((out, pidfile, str(tmp_path / ("ovsdb-client.%d.ctl" % pid))))

        def appctl(ctl, *args):
            return run([real_bin("ovs-appctl"), "-t", ctl, *args], env=srv.env)

        for _, _, ctl in outs:
            assert appctl(ctl, "ovsdb-client/block").returncode == 0
            r = appctl(ctl, "ovsdb-client/block")
            assert (r.returncode, r.stdout) == (0, "already blocking\n")
            assert appctl(ctl, "ovsdb-client/unblock").returncode == 0
        srv.vsctl("add-br", "brlast")
        for out, _, _ in outs:
            wait_for(lambda: "brlast" in out.read_text(), what="update")
        for _, _, ctl in outs:
            assert appctl(ctl, "exit").returncode == 0
        for out, pidfile, ctl in outs:
            wait_for(lambda: not pidfile.exists(), what="pidfile removal")
        real, ours = (o.read_text() for o, _, _ in outs)
        assert _normalise(ours) == _normalise(real)
        assert not os.path.exists(outs[1][2])
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        srv.stop()


@pytest.mark.parametrize("data", ["garbage\n", "", "OVSDB JSON 5 0000\n{}\n"])
def test_restore_rejects_bad_files_as_real_does(server, data):
    real, ours = both(server, "restore", server.remote, "T", input=data)
    assert real.returncode == 1
    assert (ours.returncode, _normalise(ours.stderr)) == \
        (real.returncode, _normalise(real.stderr))


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True,
                   timeout=60)


def test_ssl_remote_same_as_real(tmp_path):
    """ssl: remotes with -p/-c/-C against the real server's pssl: remote."""
    import shutil
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca-key.pem", "-out", "ca.pem",
             "-days", "2", "-subj", "/CN=pyovs test CA", cwd=tmp_path)
    for name in ("server", "client"):
        _openssl("req", *ec, "-keyout", name + "-key.pem", "-out", name + ".csr",
                 "-subj", "/CN=" + name, cwd=tmp_path)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey",
                 "ca-key.pem", "-CAcreateserial", "-out", name + "-cert.pem",
                 "-days", "2", cwd=tmp_path)
    srv = Server(tmp_path)
    db = srv.create("conf.db", REAL_VSWITCH_SCHEMA)
    port = _tcp_port() + 40       # 16450-: clear of the shared servers' ports
    srv.proc = subprocess.Popen(
        [real_bin("ovsdb-server"), db, "--remote=pssl:%d:127.0.0.1" % port,
         "--remote=punix:" + srv.sock, "-p", str(tmp_path / "server-key.pem"),
         "-c", str(tmp_path / "server-cert.pem"), "-C", str(tmp_path / "ca.pem"),
         "--no-chdir", "--unixctl=" + str(tmp_path / "server.ctl"),
         "--log-file=" + str(tmp_path / "server.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=srv.env)
    try:
        wait_for(lambda: _can_connect(port), what="pssl port")
        srv.vsctl("init", "--", "add-br", "br0")
        remote = "ssl:127.0.0.1:%d" % port
        keys = ["-p", str(tmp_path / "client-key.pem"), "-c",
                str(tmp_path / "client-cert.pem"), "-C", str(tmp_path / "ca.pem")]
        out = assert_same(srv, *keys, "dump", remote, "Open_vSwitch", "Bridge", "name")
        assert "br0" in out.stdout
        assert_same(srv, *keys, "transact", remote,
                    '["Open_vSwitch",{"op":"select","table":"Bridge","where":[],'
                    '"columns":["name"]}]')
        # Without keys both refuse to use the ssl: remote, in the same words.
        assert_same(srv, "list-dbs", remote)
    finally:
        srv.stop()


def test_passive_remote_waits_for_the_server(tmp_path):
    """punix:FILE: ovsdb-client listens and the real ovsdb-server connects
    to it (an active --remote), as with the real ovsdb-client."""
    srv = Server(tmp_path)
    db = srv.create("conf.db", REAL_VSWITCH_SCHEMA)
    outs = []
    for binary in (real_bin("ovsdb-client"), pyovs_bin("ovsdb-client")):
        sock = tmp_path / "listen.sock"
        client = subprocess.Popen([binary, "list-dbs", "punix:%s" % sock],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=srv.env)
        server = None
        try:
            wait_for(lambda: sock.exists(), what="listening socket")
            server = subprocess.Popen(
                [real_bin("ovsdb-server"), db, "--remote=unix:%s" % sock,
                 "--no-chdir", "--unixctl=" + str(tmp_path / "server.ctl"),
                 "--log-file=" + str(tmp_path / "server.log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=srv.env)
            out, err = client.communicate(timeout=30)
            outs.append((client.returncode, out, _normalise(err)))
        finally:
            for p in (client, server):
                if p is not None and p.poll() is None:
                    p.terminate()
                    p.wait(10)
    assert outs[0] == (0, "Open_vSwitch\n_Server\n", outs[0][2])
    assert outs[1] == outs[0]
