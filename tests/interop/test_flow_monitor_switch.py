"""Flow monitors on pyovs's switch, side by side with Debian's real
ovs-vswitchd (dummy datapath, pyovs's ovsdb-server under both): the real
ovs-ofctl monitor (and pyovs's) watching pyovs's switch through the same
add/mod/del-flows prints what the real tool prints watching the real
switch, in OpenFlow 1.0, 1.3, 1.4 and 1.5; a raw connection that changes
flows itself gets the same bytes from both switches (abbreviated updates,
the "own" flag, cancel); bad requests get OVS's errors and the connection
stays up."""

import os
import struct
import subprocess
import threading

import pytest

from pyovs.openflow import flow_monitor as FM
from pyovs.openflow import messages as M
from pyovs.openflow import protocols as P
from pyovs.openflow.flow import parse_flow_mod, OFPFC_ADD, OFPFC_DELETE
from pyovs.openflow.vconn import Vconn
from tests.conftest import pyovs_bin, real_bin, run, wait_for
from tests.interop.test_vswitchd import start_switch, vsctl

pytestmark = pytest.mark.interop

KINDS = ("real", "pyovs")

INITIAL = ["cookie=0x5,priority=5,in_port=1,idle_timeout=500,actions=output:2",
           "table=3,priority=7,ip,nw_src=10.0.0.1,actions=output:1"]

CHANGES = [
    ["add-flow", "br0", "priority=6,tcp,tp_dst=80,actions=output:1"],
    ["add-flow", "br0", "priority=6,tcp,tp_dst=80,actions=output:1"],
    ["mod-flows", "br0", "tcp,actions=output:2"],
    ["mod-flows", "br0", "tcp,actions=output:2"],
    ["mod-flows", "br0", "cookie=0x9,tcp,actions=output:2"],
    ["add-flow", "br0", "table=3,hard_timeout=90,idle_timeout=30,ip,actions=drop"],
    ["add-flow", "br0", "table=3,priority=9,udp,nw_dst=10.0.0.1,"
                        "actions=output:1,output:2"],
    ["--strict", "del-flows", "br0", "table=3,priority=9,udp,nw_dst=10.0.0.1"],
    ["del-flows", "br0", "ip"],
    ["add-flow", "br0", "table=200,in_port=2,actions=output:1"],
]


@pytest.fixture(scope="module")
def switches(request, tmp_path_factory):
    real_bin("ovs-vswitchd")
    base = tmp_path_factory.mktemp("qbfm")
    sws = {}
    for kind in KINDS:
        sw = start_switch(request, kind, base / kind)
        vsctl(sw, "add-br", "br0", "--", "set", "bridge", "br0",
              "datapath_type=dummy", "fail_mode=secure",
              "protocols=OpenFlow10,OpenFlow13,OpenFlow14,OpenFlow15")
        for n in (1, 2):
            vsctl(sw, "add-port", "br0", f"p{n}", "--", "set", "interface",
                  f"p{n}", "type=dummy", f"ofport_request={n}")
        sws[kind] = sw
    return sws


def ofctl(sw, *args):
    r = run([real_bin("ovs-ofctl"), *args], timeout=20, env=sw.env)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _reset(sw):
    ofctl(sw, "del-flows", "br0")
    for flow in INITIAL:
        ofctl(sw, "add-flow", "br0", flow)


def _watch(sw, tool, args, n_events):
    """TOOL's monitor with ARGS on SW through CHANGES: (stdout, stderr),
    once N_EVENTS updates were printed (all there are if None: the last
    change's sentinel flow then ends the wait)."""
    _reset(sw)
    exe = real_bin("ovs-ofctl") if tool == "real" else pyovs_bin("ovs-ofctl")
    p = subprocess.Popen([exe, *args], env=sw.env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    err = []
    reader = threading.Thread(target=lambda: err.extend(p.stderr), daemon=True)
    reader.start()
    try:
        first = p.stdout.readline()         # the request's reply: set up
        assert "FLOW_MONITOR reply" in first, first + "".join(err)
        for change in CHANGES:
            ofctl(sw, *change)
        wait_for(lambda: "table=200" in "".join(err) if n_events is None
                 else sum("event=" in x for x in err) >= n_events,
                 timeout=15, what="flow updates")
    finally:
        p.terminate()
        p.wait(10)
        rest = p.stdout.read()
        reader.join(5)
    return first + rest, "".join(x for x in err if "|" not in x)


@pytest.mark.parametrize("args", [
    ["watch:"],
    ["-O", "OpenFlow13", "watch:"],
    ["-O", "OpenFlow14", "watch:"],
    ["-O", "OpenFlow15", "watch:", "watch:table=200,!initial"],
    ["watch:!initial,!actions,tcp", "watch:table=200"],
    ["-O", "OpenFlow13", "watch:out_port=1,!delete", "watch:table=200"],
    ["-O", "OpenFlow14", "watch:table=3,!modify", "watch:table=200,!initial"],
    ["watch:!add,!modify,ip", "watch:table=200,!delete"],
], ids=lambda a: " ".join(a))
def test_monitor_as_real_switch(switches, args):
    cmd = [*args[:2 if args[0] == "-O" else 0], "monitor", "br0",
           *args[2 if args[0] == "-O" else 0:]]
    expected = _watch(switches["real"], "real", cmd, None)
    n = expected[1].count("event=")
    assert n >= 2 and "FLOW_MONITOR reply" in expected[1]
    for tool in ("real", "pyovs"):
        got = _watch(switches["pyovs"], tool, cmd, n)
        assert got == expected, tool


# --- a connection's own changes, byte for byte ---------------------------------

def _protocol(version):
    return P.OF10_STD if version == M.OFP10 else P.from_versions({version})


def _flow_mod(version, text, command, xid):
    fm = parse_flow_mod(text, command)[0]
    return M.encode_flow_mod(fm, _protocol(version), xid)


def _until_barrier(v, xid):
    out = []
    v.send(M.encode_simple(v.version, "OFPT_BARRIER_REQUEST", xid))
    while True:
        msg = v.recv()
        if M.parse_header(msg).xid == xid and msg[1] in (19, 21) \
                and len(msg) == 8:
            return out
        out.append(msg.hex())


def _own_transcript(sw, version, spec):
    os.environ["OVS_RUNDIR"] = str(sw.dir)
    _reset(sw)
    v = Vconn.open("br0", {version}, 10)
    try:
        req = FM.parse_watch(spec)
        req.id = 7
        v.send(FM.encode_flow_monitor_request(version, 50, req))
        out = [v.recv().hex()]
        v.send(_flow_mod(version, "priority=6,tcp,actions=output:1", OFPFC_ADD, 51))
        out += _until_barrier(v, 52)
        ofctl(sw, "add-flow", "br0", "priority=8,udp,tp_src=53,actions=output:2")
        out += _until_barrier(v, 53)
        v.send(_flow_mod(version, "ip", OFPFC_DELETE, 54))     # two flows
        out += _until_barrier(v, 55)
        # cancel, then nothing more
        if version < M.OFP14:
            exp, sub = ((FM.NX_VENDOR_ID, FM.NXT_FLOW_MONITOR_CANCEL)
                        if version == M.OFP10 else
                        (FM.ONF_EXPERIMENTER_ID, FM.ONFT_FLOW_MONITOR_CANCEL))
            v.send(struct.pack("!BBHIIII", version, 4, 20, 56, exp, sub, 7))
        else:
            req.command = FM.OFPFMC14_DELETE
            v.send(FM.encode_flow_monitor_request(version, 56, req))
        out += _until_barrier(v, 57)
        ofctl(sw, "add-flow", "br0", "priority=8,udp,tp_src=53,actions=output:2")
        out += _until_barrier(v, 58)
        return out
    finally:
        v.close()


@pytest.mark.parametrize("version", [M.OFP10, M.OFP13, M.OFP14])
@pytest.mark.parametrize("spec", ["", "!own", "!own,!actions,tcp"])
def test_own_changes_bytes_as_real_switch(switches, version, spec):
    got = {k: _own_transcript(switches[k], version, spec) for k in KINDS}
    assert got["pyovs"] == got["real"]
    # the connection's own flow_mods were reported, abbreviated with !own
    text = "".join(_print(bytes.fromhex(m)) for m in got["pyovs"][1:])
    assert text.count("event=") >= 2
    assert ("event=ABBREV xid=0x33" in text) == ("!own" in spec)


# --- errors ------------------------------------------------------------------

def _print(msg):
    r = run([real_bin("ovs-ofctl"), "ofp-print", msg.hex()], timeout=20)
    return r.stdout


@pytest.mark.parametrize("version", [M.OFP10, M.OFP13, M.OFP14, M.OFP15])
def test_errors_and_connection_stays_up(switches, version):
    sw = switches["pyovs"]
    os.environ["OVS_RUNDIR"] = str(sw.dir)
    v = Vconn.open("br0", {version}, 10)
    try:
        req = FM.FlowMonitorRequest(id=3)
        v.send(FM.encode_flow_monitor_request(version, 60, req))
        assert "FLOW_MONITOR reply" in _print(v.recv())
        v.send(FM.encode_flow_monitor_request(version, 61, req))
        err = v.recv()
        assert M.parse_header(err).xid == 61
        assert "OFPMOFC_MONITOR_EXISTS" in _print(err)
        bad = FM.FlowMonitorRequest(id=4, flags=FM.NXFMF_INITIAL)
        v.send(FM.encode_flow_monitor_request(version, 62, bad))
        assert "OFPMOFC_BAD_FLAGS" in _print(v.recv())
        if version >= M.OFP14:
            gone = FM.FlowMonitorRequest(id=5, command=FM.OFPFMC14_DELETE)
            v.send(FM.encode_flow_monitor_request(version, 63, gone))
            assert "OFPMOFC_UNKNOWN_MONITOR" in _print(v.recv())
        # truncated request: a length error, and still answering
        msg = FM.encode_flow_monitor_request(version, 64, req)[:-4]
        msg = msg[:2] + struct.pack("!H", len(msg)) + msg[4:]
        v.send(msg)
        assert "OFPT_ERROR" in _print(v.recv())
        v.send(M.encode_simple(version, "OFPT_ECHO_REQUEST", 65))
        assert M.parse_header(v.recv()).xid == 65
    finally:
        v.close()


@pytest.mark.parametrize("version", [M.OFP10, M.OFP13])
def test_cancel_unknown_as_real_switch(switches, version):
    got = {}
    for kind in KINDS:
        os.environ["OVS_RUNDIR"] = str(switches[kind].dir)
        v = Vconn.open("br0", {version}, 10)
        exp, sub = ((FM.NX_VENDOR_ID, FM.NXT_FLOW_MONITOR_CANCEL)
                    if version == M.OFP10 else
                    (FM.ONF_EXPERIMENTER_ID, FM.ONFT_FLOW_MONITOR_CANCEL))
        v.send(struct.pack("!BBHIIII", version, 4, 20, 70, exp, sub, 77))
        got[kind] = v.recv()
        v.close()
    assert got["pyovs"] == got["real"]
    assert "OFPMOFC_UNKNOWN_MONITOR" in _print(got["pyovs"])


def test_group_and_meter_deletes_as_real_switch(switches):
    """Flows that go with their group or meter are reported deleted with
    reason group_delete / meter_delete."""
    got = {}
    o13 = ["-O", "OpenFlow13"]
    for kind, tool in (("real", "real"), ("pyovs", "real"), ("pyovs", "pyovs"),
                       ("real", "pyovs")):
        sw = switches[kind]
        ofctl(sw, *o13, "del-flows", "br0")
        ofctl(sw, *o13, "add-meter", "br0", "meter=1,pktps,band=type=drop,rate=10")
        ofctl(sw, *o13, "add-group", "br0", "group_id=5,type=all,bucket=output:1")
        ofctl(sw, *o13, "add-flow", "br0", "ip,actions=meter:1,output:2")
        ofctl(sw, *o13, "add-flow", "br0", "tcp,actions=group:5")
        exe = real_bin("ovs-ofctl") if tool == "real" else pyovs_bin("ovs-ofctl")
        p = subprocess.Popen([exe, *o13, "monitor", "br0", "watch:!initial"],
                             env=sw.env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        err = []
        reader = threading.Thread(target=lambda: err.extend(p.stderr),
                                  daemon=True)
        reader.start()
        try:
            assert "FLOW_MONITOR reply" in p.stdout.readline()
            ofctl(sw, *o13, "del-meters", "br0")
            ofctl(sw, *o13, "del-groups", "br0")
            wait_for(lambda: sum("event=" in x for x in err) >= 2, timeout=15,
                     what="flow updates")
        finally:
            p.terminate()
            p.wait(10)
            reader.join(5)
        got[kind, tool] = "".join(x for x in err if "|" not in x)
    expected = got.pop(("real", "real"))
    assert "reason=meter_delete" in expected and "reason=group_delete" in expected
    for key, value in got.items():
        assert value == expected, key


N_PAUSE = 6000      # flows enough to fill the socket and 128 kB behind it


def _paused_transcript(sw, tmp, opts):
    """The real ovs-ofctl monitoring SW, blocked (ofctl/block) while N_PAUSE
    flows are added, one deleted and one modified, then unblocked: the
    lines it printed."""
    ofctl(sw, "del-flows", "br0")
    ctl, log_path = f"{tmp}/ofctl.ctl", f"{tmp}/monitor.log"
    with open(f"{tmp}/flows", "w") as f:
        for i in range(N_PAUSE):
            f.write(f"priority=5,tcp,tp_src={i},actions=output:1\n")
    log = open(log_path, "w")
    p = subprocess.Popen([real_bin("ovs-ofctl"), *opts, "monitor", "br0",
                          "watch:!initial", f"--unixctl={ctl}"],
                         env=sw.env, stdout=subprocess.DEVNULL, stderr=log)
    appctl = [real_bin("ovs-appctl"), "-t", ctl]
    try:
        wait_for(lambda: os.path.exists(ctl), what="ovs-ofctl's control socket")
        wait_for(lambda: run(appctl + ["ofctl/block"]).returncode == 0,
                 what="ofctl/block")
        ofctl(sw, "add-flows", "br0", f"{tmp}/flows")
        ofctl(sw, "del-flows", "br0", "tcp,tp_src=1")
        ofctl(sw, "mod-flows", "br0", "tcp,tp_src=2,actions=output:2")
        assert run(appctl + ["ofctl/unblock"]).returncode == 0
        wait_for(lambda: "RESUMED" in open(log_path).read(), timeout=30,
                 what="RESUMED")
    finally:
        p.terminate()
        p.wait(10)
        log.close()
    return [x for x in open(log_path).read().splitlines() if "|" not in x]


@pytest.mark.parametrize("opts", [[], ["-O", "OpenFlow14"]],
                         ids=["of10", "of14"])
def test_pause_and_resume_as_real_switch(switches, tmp_path, opts):
    for kind in KINDS:
        lines = _paused_transcript(switches[kind], tmp_path, opts)
        assert sum("PAUSED" in x for x in lines) == 1, kind
        assert "RESUMED" in lines[-1], kind
        # each flow heard of once added: before the pause or when resumed
        added = [x for x in lines if x.startswith(" event=ADDED")]
        assert len(added) == len(set(added)) == N_PAUSE, kind
        # what it knew of before the pause: deleted, and the modified one
        # then too (or added already modified, if it came later)
        assert sum("event=DELETED" in x for x in lines) == 1, kind
        assert any("tp_src=2 actions=output:2" in x for x in lines), kind
