"""pyovs's ovsdb-server against Debian's real OVS 3.1, side by side.

Every test runs the same thing against pyovs's server and the real
/usr/sbin/ovsdb-server (each on its own fresh database) and compares what
comes back, with UUIDs normalised.
"""

import json
import re
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import real_bin, run, wait_for
from tests.daemons.test_ovsdb_server_util import (RawClient, blank_uuids, canon,
                                                  create_db, normalize_uuids,
                                                  start_server)

pytestmark = pytest.mark.interop


@pytest.fixture
def pair(request, tmp_path):
    """(pyovs server, real server) on fresh vswitch databases."""
    real_bin("ovsdb-server")
    return (start_server(request, "pyovs", tmp_path / "pyovs"),
            start_server(request, "real", tmp_path / "real"))


# ---------------------------------------------------------------------------
# Raw JSON-RPC: replies, errors and notifications compared message by message.

SCRIPT = [
    ("list_dbs", []),
    ("get_schema", ["_Server"]),
    ("get_schema", ["nope"]),
    ("get_schema", []),
    ("frob", []),
    ("transact", []),
    ("transact", ["nope"]),
    ("transact", ["_Server", {"op": "insert", "table": "Database",
                              "row": {"model": "standalone"}}]),
    ("transact", ["_Server", {"op": "comment", "comment": "x"}]),
    ("transact", ["_Server", {"op": "select", "table": "Database",
                              "where": [["name", "==", "_Server"]]}]),
    ("transact", ["_Server", {"op": "select", "table": "Database",
                              "where": [["name", "==", "Open_vSwitch"]]}]),
    ("lock", ["a b"]),
    ("lock", ["mylock"]),
    ("lock", ["mylock"]),
    ("unlock", ["other"]),
    ("unlock", ["mylock"]),
    ("steal", [1]),
    ("echo", [1, "x"]),
    ("monitor_cancel", ["zz"]),
    ("set_db_change_aware", [True]),
    ("monitor", ["nope", "m", {}]),
    ("monitor", ["Open_vSwitch", "m", {"Bad": {}}]),
    ("monitor", ["Open_vSwitch", "m", {"Bridge": {"columns": ["nope"]}}]),
    ("monitor", ["Open_vSwitch", "m", {"Bridge": {"columns": ["name"]}}]),
    ("monitor", ["Open_vSwitch", "m", {"Bridge": {"columns": ["name"]}}]),
    ("monitor", ["Open_vSwitch", "m2", {"Bridge": {"columns": ["name", "name"]}}]),
    ("monitor", ["Open_vSwitch", "m3", {"Bridge": {"columns": ["name"],
                                                   "select": {"bogus": True}}}]),
    ("monitor", ["Open_vSwitch", "m7", {"Bridge": {"columns": "name"}}]),
    ("monitor", ["Open_vSwitch", "m9", {"Bridge": [{"columns": ["name"]},
                                                   {"columns": ["name"]}]}]),
    ("monitor", ["Open_vSwitch", "v4", {"Bridge": {"columns": ["name"], "where": []}}]),
    ("monitor_cond", ["Open_vSwitch", "v6", {"Bridge": [{"select": {"initial": 1}}]}]),
    ("monitor_cond", ["Open_vSwitch", "v7", []]),
    ("monitor_cond", ["Open_vSwitch", "v8", {"Bridge": 3}]),
    ("monitor_cond", ["Open_vSwitch", "c2", {"Bridge": {"columns": ["name"],
                                                        "where": [["name", "==", "x"]]}}]),
    ("monitor_cond_since", ["Open_vSwitch", "c3", {"Bridge": [{"columns": ["name"]}]}]),
    ("monitor_cond_since", ["Open_vSwitch", "c5", {"Bridge": [{}]}, "abc"]),
    ("monitor_cond_change", ["zz", "c6", {}]),
    ("monitor_cond_change", ["m", "m", {"Bridge": [{"where": []}]}]),
    ("monitor_cond_change", ["c2", "c9", {"Bridge": [{"where": [["name", "==", "y"]]}]}]),
    ("monitor_cond_change", ["c9", "c9", {"Bridge": [{"columns": ["name"], "where": []}]}]),
    ("monitor_cond_change", ["c9", "c9", {"Port": [{"where": []}]}]),
    ("transact", ["Open_vSwitch", {"op": "assert", "lock": "l2"}]),
    ("monitor_cancel", ["m"]),
]


def _play(sock, script):
    c = RawClient(sock)
    out = []
    try:
        for method, params in script:
            reply, notes = c.call(method, params)
            out.append(canon(notes) + " " + canon(reply))
    finally:
        c.close()
    return out


def test_raw_jsonrpc_replies_match(pair):
    mine, real = (_play(s.sock, SCRIPT) for s in pair)
    for step, a, b in zip(SCRIPT, mine, real):
        assert a == b, step


# Monitors of all three kinds watching the same sequence of transactions.

MONITORS = [
    ("monitor", ["Open_vSwitch", "v1", {"Bridge": {"columns": [
        "name", "datapath_type", "external_ids", "ports", "fail_mode", "flood_vlans"]}}]),
    ("monitor_cond", ["Open_vSwitch", "v2", {"Bridge": [{"columns": [
        "name", "datapath_type", "external_ids", "ports", "fail_mode", "flood_vlans"]}]}]),
    ("monitor_cond_since", ["Open_vSwitch", "v3", {"Bridge": [{"columns": [
        "name", "external_ids"]}]}, "00000000-0000-0000-0000-000000000000"]),
    ("monitor_cond", ["Open_vSwitch", "v4", {"Bridge": [{"columns": ["name"],
                                                         "where": [["name", "==", "br1"]]}]}]),
    ("monitor", ["Open_vSwitch", None, {"Bridge": {"columns": ["name"], "select": {
        "initial": False, "modify": False}}}]),
    ("monitor", ["Open_vSwitch", "all", {"Open_vSwitch": {}}]),
]

TXNS = [
    [{"op": "insert", "table": "Bridge", "uuid-name": "b",
      "row": {"name": "br0", "datapath_type": "netdev",
              "external_ids": ["map", [["k", "v"]]]}},
     {"op": "insert", "table": "Open_vSwitch", "row": {"bridges": ["named-uuid", "b"]}}],
    [{"op": "update", "table": "Bridge", "where": [["name", "==", "br0"]],
      "row": {"datapath_type": "system", "external_ids": ["map", [["k", "w"], ["k2", "x"]]],
              "fail_mode": "secure", "flood_vlans": ["set", [1, 2]]}}],
    [{"op": "update", "table": "Bridge", "where": [],
      "row": {"fail_mode": "standalone", "flood_vlans": ["set", [2, 3]],
              "external_ids": ["map", [["k", "w2"]]]}}],
    [{"op": "update", "table": "Bridge", "where": [],
      "row": {"fail_mode": ["set", []], "flood_vlans": ["set", []],
              "external_ids": ["map", []]}}],
    [{"op": "insert", "table": "Bridge", "row": {"name": "br1"}, "uuid-name": "n"},
     {"op": "mutate", "table": "Open_vSwitch", "where": [],
      "mutations": [["bridges", "insert", ["set", [["named-uuid", "n"]]]]]}],
    [{"op": "comment", "comment": "nothing changes"}],
    [{"op": "mutate", "table": "Open_vSwitch", "where": [],
      "mutations": [["next_cfg", "+=", 1]]}],
    [{"op": "update", "table": "Open_vSwitch", "where": [], "row": {"bridges": ["set", []]}}],
]


def _rows_unordered(obj):
    """Row-keyed objects (keys are UUIDs) as sorted lists of their values,
    since which row comes first depends on the UUIDs."""
    if isinstance(obj, dict):
        if obj and all(_is_uuid(k) for k in obj):
            return sorted(blank_uuids(json.dumps(_rows_unordered(v), sort_keys=True))
                          for v in obj.values())
        return {k: _rows_unordered(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rows_unordered(x) for x in obj]
    return obj


def _is_uuid(s):
    return blank_uuids(s) == "<uuid>"


def _monitor_session(sock):
    watcher, writer = RawClient(sock), RawClient(sock)
    out = []
    try:
        for method, params in MONITORS:
            reply, notes = watcher.call(method, params)
            out.append(blank_uuids(json.dumps(_rows_unordered([notes, reply]),
                                              sort_keys=True)))
        for ops in TXNS:
            reply, _ = writer.call("transact", ["Open_vSwitch"] + ops)
            # The reply comes after the updates have been queued: an echo
            # round trip on the watcher collects them.
            _, notes = watcher.call("echo", [])
            notes.sort(key=lambda n: json.dumps(n["params"][0]))
            out.append(blank_uuids(json.dumps(_rows_unordered([notes, reply]),
                                              sort_keys=True)))
        _, notes = watcher.call("monitor_cond_change", [
            "v4", "v4b", {"Bridge": [{"where": [["name", "==", "br0"]]}]}])
        out.append(blank_uuids(json.dumps(_rows_unordered(notes), sort_keys=True)))
        _, notes = watcher.call("monitor_cond_change", ["v2", "v2", {"Bridge": [{"where": [False]}]}])
        out.append(blank_uuids(json.dumps(_rows_unordered(notes), sort_keys=True)))
    finally:
        watcher.close()
        writer.close()
    return out


def test_monitor_updates_match(pair):
    mine, real = (_monitor_session(s.sock) for s in pair)
    assert len(mine) == len(real)
    for a, b in zip(mine, real):
        assert a == b


# ---------------------------------------------------------------------------
# Debian's ovsdb-client and ovs-vsctl against both servers.

def _both(pair, argv_fn, normalise=normalize_uuids):
    outs = []
    for srv in pair:
        r = run(argv_fn(srv), timeout=30)
        outs.append((r.returncode, normalise(r.stdout), normalise(r.stderr)))
    return outs


def _client_argv(client, srv, args):
    i = 0
    while args[i].startswith("--"):
        i += 1
    return [client, *args[:i], args[i], srv.remote, *args[i + 1:]]


def test_ovsdb_client_commands_match(pair):
    client = real_bin("ovsdb-client")
    vsctl = real_bin("ovs-vsctl")
    for srv in pair:
        run([vsctl, "--no-wait", "--db=" + srv.remote, "init", "--", "add-br", "br0",
             "--", "set", "Bridge", "br0", "external_ids:a=b"], check=True)
    sorted_lines = lambda t: "\n".join(sorted(blank_uuids(t).splitlines()))
    for args, norm in [
        (["list-dbs"], normalize_uuids),
        (["get-schema", "Open_vSwitch"], normalize_uuids),
        (["get-schema-version", "Open_vSwitch"], normalize_uuids),
        (["list-tables", "Open_vSwitch"], normalize_uuids),
        (["list-columns", "Open_vSwitch", "Bridge"], normalize_uuids),
        (["transact", '["Open_vSwitch",{"op":"select","table":"Bridge","where":[],'
                      '"columns":["name","external_ids"]}]'], normalize_uuids),
        (["transact", '["Open_vSwitch",{"op":"bogus"}]'], normalize_uuids),
        (["query", '["Open_vSwitch",{"op":"select","table":"Bridge","where":[],'
                   '"columns":["name"]}]'], normalize_uuids),
        (["dump", "Open_vSwitch"], sorted_lines),
        (["dump", "Open_vSwitch", "Bridge", "name", "external_ids"], sorted_lines),
        (["--format=json", "dump", "_Server"], blank_uuids),
        (["list-dbs", "--no-such"], normalize_uuids),
        (["get-schema", "Nope"], normalize_uuids),
    ]:
        a, b = _both(pair, lambda s: _client_argv(client, s, args), norm)
        assert a == b, args


def _monitor_output(client, srv, vsctl, args):
    out_path = srv.dir / "monitor.out"
    with open(out_path, "w") as out:
        # (stderr only carries "terminating with signal 15" and a timestamp)
        proc = subprocess.Popen([client, *args[:1], srv.remote, *args[1:]],
                                stdout=out, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: out_path.read_text().count("\n") >= 3, what="initial dump")
        run([vsctl, "--no-wait", "--db=" + srv.remote, "add-br", "br1"], check=True)
        wait_for(lambda: "br1" in out_path.read_text(), what="update")
        run([vsctl, "--no-wait", "--db=" + srv.remote, "del-br", "br0"], check=True)
        wait_for(lambda: out_path.read_text().count("delete") >= 1, what="delete")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return blank_uuids(out_path.read_text())


@pytest.mark.parametrize("method", ["monitor", "monitor-cond"])
def test_ovsdb_client_monitor_matches(pair, method):
    client = real_bin("ovsdb-client")
    vsctl = real_bin("ovs-vsctl")
    outs = []
    for srv in pair:
        run([vsctl, "--no-wait", "--db=" + srv.remote, "init", "--", "add-br", "br0"],
            check=True)
        args = [method, "Open_vSwitch"]
        if method == "monitor-cond":
            args.append('[["name","!=","nope"]]')
        args += ["Bridge", "name,fail_mode"]
        outs.append(_monitor_output(client, srv, vsctl, args))
    assert outs[0] == outs[1]


VSCTL_STEPS = [
    ["init"],
    ["add-br", "br0"],
    ["add-port", "br0", "p1"],
    ["add-port", "br0", "p2", "--", "set", "Interface", "p2", "type=internal"],
    ["set", "Bridge", "br0", "other-config:hwaddr=00:11:22:33:44:55", "fail_mode=secure"],
    ["get", "Bridge", "br0", "fail_mode", "other_config"],
    ["--columns=name,type", "list", "Interface"],
    ["list-br"],
    ["list-ports", "br0"],
    ["show"],
    ["add-br", "br0"],
    ["del-port", "br0", "p1"],
    ["--columns=name,ports", "list", "Bridge"],
    ["del-br", "br0"],
    ["show"],
]


def test_ovs_vsctl_sequence_matches(pair):
    vsctl = real_bin("ovs-vsctl")
    results = []
    for srv in pair:
        outs = []
        for step in VSCTL_STEPS:
            r = run([vsctl, "--no-wait", "--db=" + srv.remote, "--timeout=20", *step])
            text = blank_uuids(r.stdout + r.stderr)
            if "list" in step or "show" in step:
                # Rows and set elements come in UUID order: compare lines.
                text = "\n".join(sorted(text.splitlines()))
            outs.append((step, r.returncode, text))
        results.append(outs)
    for a, b in zip(*results):
        assert a == b


# ---------------------------------------------------------------------------
# The official Python IDL (PyPI "ovs" 3.1.2) against pyovs's server.

IDL_SCRIPT = r'''
import sys, time
import ovs.db.idl, ovs.poller, ovs.db.schema
import ovs.json
remote, schema_path = sys.argv[1], sys.argv[2]
helper = ovs.db.idl.SchemaHelper(schema_path)
helper.register_all()
idl = ovs.db.idl.Idl(remote, helper)

def spin(cond, what, timeout=15):
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            print("TIMEOUT " + what); sys.exit(1)
        idl.run()
        poller = ovs.poller.Poller(); idl.wait(poller); poller.timer_wait(100); poller.block()

seqno = idl.change_seqno
spin(lambda: idl.change_seqno != seqno and idl.has_ever_connected(), "initial sync")
print("initial", sorted(r.name for r in idl.tables["Bridge"].rows.values()))
txn = ovs.db.idl.Transaction(idl)
ovsrow = next(iter(idl.tables["Open_vSwitch"].rows.values()))
br = txn.insert(idl.tables["Bridge"])
br.name = "idl-br"
ovsrow.addvalue("bridges", br.uuid)
ovsrow.increment("next_cfg")
status = None
def commit():
    global status
    status = txn.commit()
    return status not in (ovs.db.idl.Transaction.INCOMPLETE,)
spin(commit, "commit")
print("commit", status, txn.get_increment_new_value())
spin(lambda: any(r.name == "idl-br" for r in idl.tables["Bridge"].rows.values()), "own change")
print("after", sorted(r.name for r in idl.tables["Bridge"].rows.values()))
seqno = idl.change_seqno
print("READY", flush=True)
sys.stdin.readline()
spin(lambda: any(r.name == "ext-br" for r in idl.tables["Bridge"].rows.values()), "external change")
print("external", sorted(r.name for r in idl.tables["Bridge"].rows.values()))
idl.close()
'''


def test_official_python_idl(pair, tmp_path):
    pytest.importorskip("ovs.db.idl")
    vsctl = real_bin("ovs-vsctl")
    script = tmp_path / "idl.py"
    script.write_text(IDL_SCRIPT)
    from tests.daemons.test_ovsdb_server_util import vswitch_schema_path
    outputs = []
    for srv in pair:
        run([vsctl, "--no-wait", "--db=" + srv.remote, "init", "--", "add-br", "br0"],
            check=True)
        proc = subprocess.Popen([sys.executable, str(script), srv.remote,
                                 vswitch_schema_path()], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            lines = []
            while True:
                line = proc.stdout.readline()
                assert line, "".join(lines)
                lines.append(line)
                if line.startswith("READY"):
                    break
            run([vsctl, "--no-wait", "--db=" + srv.remote, "add-br", "ext-br"], check=True)
            out, _ = proc.communicate("\n", timeout=30)
            lines.append(out)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, "".join(lines)
        outputs.append("".join(lines))
    assert outputs[0] == outputs[1]
    assert "commit success 1" in outputs[0]


# ---------------------------------------------------------------------------
# Crash safety: the real server reads what pyovs's wrote after kill -9.

def test_real_server_serves_file_after_kill_9(request, tmp_path):
    real_bin("ovsdb-server")
    srv = start_server(request, "pyovs", tmp_path / "py")
    c = RawClient(srv.sock)
    c.call("transact", ["Open_vSwitch", {"op": "insert", "table": "Open_vSwitch", "row": {}}])
    n = 120
    for i in range(1, n + 1):
        c.send({"method": "transact", "id": i, "params": [
            "Open_vSwitch", {"op": "mutate", "table": "Open_vSwitch", "where": [],
                             "mutations": [["next_cfg", "+=", 1]]}]})
    acked = 0
    while acked < n // 2:
        acked = c.recv(timeout=10)["id"]
    os.kill(srv.proc.pid, signal.SIGKILL)
    srv.proc.wait(timeout=10)
    c.close()
    real = start_server(request, "real", tmp_path / "py", db_paths=srv.db_paths, name="real")
    c = RawClient(real.sock)
    reply, _ = c.call("transact", ["Open_vSwitch", {"op": "select", "table": "Open_vSwitch",
                                                    "where": [], "columns": ["next_cfg"]}])
    c.close()
    assert reply["result"][0]["rows"][0]["next_cfg"] >= acked


def test_compacted_file_is_read_by_real_tools(request, tmp_path):
    """ovsdb-server/compact rewrites the file as schema + one snapshot; the
    real ovsdb-tool and ovsdb-server read it back with the same contents."""
    tool = real_bin("ovsdb-tool")
    vsctl = real_bin("ovs-vsctl")
    srv = start_server(request, "pyovs", tmp_path / "py")
    for step in (["init"], ["add-br", "br0"], ["add-port", "br0", "p1"],
                 ["set", "Bridge", "br0", "fail_mode=secure"]):
        run([vsctl, "--no-wait", "--db=" + srv.remote, *step], check=True)
    before = run([vsctl, "--no-wait", "--db=" + srv.remote, "show"], check=True).stdout
    from pyovs.util.unixctl import unixctl_transact
    assert unixctl_transact(srv.ctl, "ovsdb-server/compact", [], timeout=10) == (None, "")
    srv.kill()
    db = srv.db_paths[0]
    log = run([tool, "show-log", db], check=True).stdout
    assert log.count("record ") == 2, log
    real = start_server(request, "real", tmp_path / "py", db_paths=[db], name="real")
    after = run([vsctl, "--no-wait", "--db=" + real.remote, "show"], check=True).stdout
    assert after == before


def test_unixctl_commands_match_real(pair, tmp_path):
    """The real ovs-appctl gets the same answers from both servers."""
    appctl = real_bin("ovs-appctl")
    other = tmp_path / "other.ovsschema"
    other.write_text(json.dumps({"name": "Other", "version": "1.0.0", "tables": {
        "T": {"columns": {"x": {"type": "integer"}}, "isRoot": True}}}))
    dbs = [create_db(tmp_path / ("other-%d.db" % i), str(other)) for i in range(2)]
    dup = [create_db(tmp_path / ("dup-%d.db" % i)) for i in range(2)]
    outs = []
    for i, srv in enumerate(pair):
        steps = [
            ["ovsdb-server/list-dbs"],
            ["ovsdb-server/list-remotes"],
            ["ovsdb-server/add-remote", "db:x,y,z"],
            ["ovsdb-server/add-remote", "db:Open_vSwitch,Bridge,zz"],
            ["ovsdb-server/add-remote", "db:Open_vSwitch,Open_vSwitch,manager_options"],
            ["ovsdb-server/list-remotes"],
            ["ovsdb-server/remove-remote", "nothere"],
            ["ovsdb-server/remove-remote", "db:Open_vSwitch,Open_vSwitch,manager_options"],
            ["ovsdb-server/compact", "nodb"],
            ["ovsdb-server/compact", "_Server"],
            ["ovsdb-server/compact", "a", "b"],
            ["ovsdb-server/compact", "Open_vSwitch"],
            ["ovsdb-server/remove-db", "nodb"],
            ["ovsdb-server/remove-db", "_Server"],
            ["ovsdb-server/add-db", dbs[i]],
            ["ovsdb-server/add-db", dup[i]],
            ["ovsdb-server/add-db", str(tmp_path / "missing.db")],
            ["ovsdb-server/list-dbs"],
            ["ovsdb-server/remove-db", "Other"],
            ["ovsdb-server/list-dbs"],
            ["ovsdb-server/reconnect"],
        ]
        res = []
        for step in steps:
            r = run([appctl, "-t", srv.ctl, *step], timeout=30)
            text = (r.stdout + r.stderr).replace(srv.ctl, "CTL").replace(srv.sock, "SOCK")
            res.append((step[0], r.returncode, text.replace(str(srv.dir), "DIR")))
        outs.append(res)
    for a, b in zip(*outs):
        assert a == b


def test_real_vswitchd_against_pyovs_server(request, tmp_path):
    """Debian's ovs-vswitchd (dummy datapath) runs on pyovs's server: it
    takes its lock, monitors, writes status back, and ovs-vsctl's wait for
    the switch to catch up (no --no-wait) completes."""
    vswitchd = real_bin("ovs-vswitchd")
    vsctl = real_bin("ovs-vsctl")
    appctl = real_bin("ovs-appctl")
    srv = start_server(request, "pyovs", tmp_path)
    env = dict(os.environ, OVS_RUNDIR=str(tmp_path), OVS_LOGDIR=str(tmp_path),
               OVS_DBDIR=str(tmp_path))
    run([vsctl, "--no-wait", "--db=" + srv.remote, "init"], check=True)
    pidfile = tmp_path / "ovs-vswitchd.pid"
    r = subprocess.run([vswitchd, srv.remote, "--enable-dummy=override", "--disable-system",
                        "--pidfile=%s" % pidfile, "--detach", "--no-chdir",
                        "--log-file=%s" % (tmp_path / "vswitchd.log"), "-vconsole:off"],
                       env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr

    def stop():
        try:
            pid = int(pidfile.read_text())
        except (OSError, ValueError):
            return
        subprocess.run([appctl, "-t", str(pidfile).replace(".pid", ".%d.ctl" % pid), "exit"],
                       env=env, capture_output=True, timeout=10)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    request.addfinalizer(stop)
    vs = [vsctl, "--db=" + srv.remote, "--timeout=20"]
    run(vs + ["add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=dummy"],
        check=True, env=env)
    run(vs + ["add-port", "br0", "p1", "--", "set", "Interface", "p1", "type=dummy"],
        check=True, env=env)
    r = run(vs + ["get", "Interface", "p1", "ofport", "admin_state"], check=True, env=env)
    assert r.stdout.split() == ["1", "up"]
    r = run(vs + ["get", "Open_vSwitch", ".", "next_cfg", "cur_cfg"], check=True, env=env)
    a, b = r.stdout.split()
    assert a == b


def test_manager_status_matches(request, tmp_path):
    """With --remote=db:Open_vSwitch,Open_vSwitch,manager_options both
    servers listen on the Manager targets and report is_connected/status."""
    import socket as socketmod
    from tests.daemons.test_ovsdb_server_util import PORT_BASE
    vsctl = real_bin("ovs-vsctl")
    real_bin("ovsdb-server")
    outs = []
    for i, kind in enumerate(("pyovs", "real")):
        port = PORT_BASE + 10 + i
        srv = start_server(request, kind, tmp_path / kind,
                           extra=["--remote=db:Open_vSwitch,Open_vSwitch,manager_options"])
        vs = [vsctl, "--no-wait", "--db=" + srv.remote]
        run(vs + ["init"], check=True)
        run(vs + ["set-manager", "ptcp:%d:127.0.0.1" % port,
                  "punix:%s" % (tmp_path / kind / "m.sock")], check=True)
        s = wait_for(lambda: _try_connect(socketmod, port), what="Manager listener")
        try:
            def reported():
                out = run(vs + ["--columns=is_connected,status", "list", "Manager"]).stdout
                return out if "true" in out and "bound_port" in out else None
            text = wait_for(reported, timeout=15, what="Manager status")
        finally:
            s.close()
        outs.append(sorted(text.replace(str(port), "PORT").splitlines()))
    assert outs[0] == outs[1]


def _try_connect(socketmod, port):
    try:
        return socketmod.create_connection(("127.0.0.1", port), timeout=1)
    except OSError:
        return None


def _last_record(request, directory, kind, flag):
    srv = start_server(request, kind, directory, extra=flag)
    c = RawClient(srv.sock)
    c.call("transact", ["Open_vSwitch", {"op": "insert", "table": "Open_vSwitch",
                                         "row": {"external_ids": ["map", [["a", "1"]]]}}])
    c.call("transact", ["Open_vSwitch", {"op": "mutate", "table": "Open_vSwitch", "where": [],
                                         "mutations": [["external_ids", "insert",
                                                        ["map", [["b", "2"]]]],
                                                       ["next_cfg", "+=", 1]]}])
    c.close()
    srv.kill()
    with open(srv.db_paths[0], "rb") as f:
        record = json.loads(f.read().splitlines()[-1])
    del record["_date"]
    return blank_uuids(json.dumps(record, sort_keys=True))


@pytest.mark.parametrize("flag", [[], ["--disable-file-column-diff"]])
def test_file_records_match_real(request, tmp_path, flag):
    """The record a modifying transaction leaves in the file is the one the
    real server writes: changed set/map columns as diffs ("_is_diff"), or
    whole with --disable-file-column-diff."""
    real_bin("ovsdb-server")
    mine = _last_record(request, tmp_path / "py", "pyovs", flag)
    real = _last_record(request, tmp_path / "real", "real", flag)
    assert mine == real
    assert ('"_is_diff": true' in mine) == (not flag)


def test_inactivity_probe_from_manager_row(request, tmp_path):
    """A silent TCP client of a Manager target with inactivity_probe=300 ms
    gets an "echo" probe, then is disconnected and the server says why:
    the same on both servers."""
    from tests.daemons.test_ovsdb_server_util import PORT_BASE
    vsctl = real_bin("ovs-vsctl")
    real_bin("ovsdb-server")
    seen = []
    for i, kind in enumerate(("pyovs", "real")):
        port = PORT_BASE + 20 + i
        srv = start_server(request, kind, tmp_path / kind,
                           extra=["--remote=db:Open_vSwitch,Open_vSwitch,manager_options"])
        vs = [vsctl, "--no-wait", "--db=" + srv.remote]
        run(vs + ["init", "--", "--id=@m", "create", "Manager",
                  'target="ptcp:%d:127.0.0.1"' % port, "inactivity_probe=300", "--",
                  "set", "Open_vSwitch", ".", "manager_options=@m"], check=True)
        import socket as socketmod
        s = wait_for(lambda: _try_connect(socketmod, port), what="Manager listener")
        s.settimeout(10)
        c = RawClient.__new__(RawClient)
        c.sock, c.buf, c.next_id, c._dec = s, b"", 0, json.JSONDecoder()
        try:
            probe = c.recv(timeout=10)
            end = c.recv(timeout=10)
        finally:
            s.close()
        with open(srv.log) as f:
            logged = [line.split("|", 1)[1].split(": ", 1)[1] for line in f
                      if "inactivity probe" in line]
        # The seconds are counted from the probe to when the server looked
        # again: at least the interval, more on a loaded machine.
        waited = [float(re.search(r"after ([\d.]+) seconds", x).group(1)) for x in logged]
        assert all(1 <= w < 5 for w in waited), logged
        logged = [re.sub(r"after [\d.]+ seconds", "after 1 seconds", x) for x in logged]
        seen.append((probe, end, logged))
    assert seen[0] == seen[1]
    # OVS raises probe intervals below 1 s to 1 s.
    assert seen[0] == ({"id": "echo", "method": "echo", "params": []}, None,
                       ["no response to inactivity probe after 1 seconds, disconnecting\n"])
