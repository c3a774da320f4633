"""pyovs's ovs-ofctl against Debian's real ovs-vswitchd, compared with the
real ovs-ofctl: the same commands must print the same text (durations and
ages normalised) in OpenFlow 1.0 and 1.3, and flows pyovs adds must be the
flows the real tool adds.

The switch is a real ovsdb-server + ovs-vswitchd pair with a bridge on the
dummy datapath (no kernel module, no root), started once per test session.
"""

import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from tests.conftest import real_bin, wait_for, REAL_VSWITCH_SCHEMA
from tests.interop.test_ofctl_parse import CORPUS, run_pyovs

pytestmark = pytest.mark.interop

PORT_BASE = 16500


def _worker_port():
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = "".join(c for c in worker if c.isdigit()) or "0"
    return PORT_BASE + int(digits) % 100


class Switch:
    def __init__(self):
        os.makedirs("/tmp/pf", exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="sw", dir="/tmp/pf")
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir,
                        OVS_DBDIR=self.dir, OVS_SYSCONFDIR=self.dir)
        self.procs = []
        self.db = "unix:" + os.path.join(self.dir, "db.sock")
        self.mgmt = "unix:" + os.path.join(self.dir, "br0.mgmt")
        self.tcp_port = _worker_port()

    def _run(self, cmd):
        subprocess.run(cmd, check=True, env=self.env, capture_output=True,
                       timeout=30)

    def start(self):
        d = self.dir
        self._run([real_bin("ovsdb-tool"), "create", f"{d}/conf.db",
                   REAL_VSWITCH_SCHEMA])
        self.procs.append(subprocess.Popen(
            [real_bin("ovsdb-server"), f"{d}/conf.db",
             f"--remote=punix:{d}/db.sock", f"--unixctl={d}/ovsdb-server.ctl",
             f"--log-file={d}/ovsdb-server.log", "-vconsole:off"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(lambda: os.path.exists(f"{d}/db.sock"), what="ovsdb-server")
        vsctl = [real_bin("ovs-vsctl"), f"--db={self.db}", "--timeout=20"]
        # The socket can exist a moment before the server answers on it.
        wait_for(lambda: subprocess.run([*vsctl, "--no-wait", "init"],
                                        env=self.env, capture_output=True,
                                        timeout=30).returncode == 0,
                 timeout=30, what="ovsdb-server answering")
        self.procs.append(subprocess.Popen(
            [real_bin("ovs-vswitchd"), self.db, "--enable-dummy=override",
             "--disable-system", f"--unixctl={d}/vswitchd.ctl",
             f"--log-file={d}/vswitchd.log", "-vconsole:off"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self._run([*vsctl, "add-br", "br0", "--", "set", "bridge", "br0",
                   "datapath_type=dummy", "fail-mode=secure",
                   "protocols=OpenFlow10,OpenFlow12,OpenFlow13,OpenFlow14,"
                   "OpenFlow15",
                   "--", "add-port", "br0", "p1", "--", "set", "interface",
                   "p1", "type=dummy", "ofport_request=1",
                   "--", "add-port", "br0", "p2", "--", "set", "interface",
                   "p2", "type=dummy", "ofport_request=2"])
        self._run([*vsctl, "set-controller", "br0",
                   f"ptcp:{self.tcp_port}:127.0.0.1"])
        wait_for(lambda: os.path.exists(f"{d}/br0.mgmt"), what="br0.mgmt")

    def stop(self):
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def switch():
    real_bin("ovs-vswitchd")
    sw = Switch()
    try:
        sw.start()
    except BaseException:
        sw.stop()
        raise
    yield sw
    sw.stop()


def real(sw, *args, stdin=None):
    p = subprocess.run([real_bin("ovs-ofctl"), *args], capture_output=True,
                       text=True, timeout=30, env=sw.env, input=stdin)
    err = "".join(line + "\n" for line in p.stderr.splitlines() if "|" not in line)
    return p.returncode, p.stdout, err


def ours(sw, *args):
    old = os.environ.get("OVS_RUNDIR")
    os.environ["OVS_RUNDIR"] = sw.dir
    try:
        return run_pyovs(args)
    finally:
        if old is None:
            del os.environ["OVS_RUNDIR"]
        else:
            os.environ["OVS_RUNDIR"] = old


_VOLATILE = [(re.compile(r"duration=[0-9.]+s"), "duration=?s"),
             (re.compile(r"duration:[0-9.]+s"), "duration:?s"),
             (re.compile(r"idle_age=[0-9]+"), "idle_age=?"),
             (re.compile(r"hard_age=[0-9]+"), "hard_age=?")]


def normalise(result):
    rc, out, err = result
    for rx, repl in _VOLATILE:
        out = rx.sub(repl, out)
    return rc, out, err


def assert_same(sw, *args):
    r = normalise(real(sw, *args))
    o = normalise(ours(sw, *args))
    assert r == o, f"{args}:\nreal: {r}\nours: {o}"
    return r


def _accepted_flows(sw):
    """Corpus flows the real switch accepts from the real tool."""
    if not hasattr(sw, "accepted"):
        ok = []
        for flow in CORPUS:
            if run_pyovs(["parse-flow", flow])[0] != 0:
                continue
            if real(sw, "add-flow", "br0", flow)[0] == 0:
                ok.append(flow)
        real(sw, "del-flows", "br0")
        sw.accepted = ok
    return sw.accepted


VERSIONS = pytest.mark.parametrize("vers", [[], ["-O", "OpenFlow13"]],
                                   ids=["of10", "of13"])


@VERSIONS
@pytest.mark.parametrize("cmd", [
    ["show"], ["dump-desc"], ["dump-ports"], ["dump-ports", "1"],
    ["dump-aggregate"], ["probe"], ["dump-tables"], ["get-frags"],
    ["set-frags", "bogus"], ["mod-port", "p9", "up"], ["mod-port", "p1", "bogus"],
    ["packet-out", "in_port=LOCAL,actions=output:2"],
    ["queue-stats"], ["queue-stats", "p2", "0"], ["queue-stats", "p9"],
    ["dump-ports", "p9"], ["dump-ports", "p1"],
    ["dump-ports-desc"], ["dump-ports-desc", "p1"], ["dump-ports-desc", "p9"],
    ["queue-get-config"], ["queue-get-config", "1"], ["queue-get-config", "p2", "5"],
    ["queue-get-config", "LOCAL"], ["queue-get-config", "p9"],
    ["dump-ipfix-bridge"], ["dump-ipfix-flow"],
], ids=lambda c: " ".join(c))
def test_switch_info_commands(switch, vers, cmd):
    assert_same(switch, *vers, cmd[0], "br0", *cmd[1:])


def test_dump_ports_desc(switch):
    assert_same(switch, "-O", "OpenFlow13", "dump-ports-desc", "br0")


def test_version_option(switch):
    assert_same(switch, "-V")


@pytest.mark.parametrize("args", [
    ["add-flow", "br0", "in_port=p1,actions=output:p2"],
    ["add-flow", "br0", "in_port=p9,actions=output:p2"],
    ["dump-flows", "br0", "in_port=p1"],
    ["--names", "dump-flows", "br0", "in_port=p1"],
    ["del-flows", "br0", "in_port=p1"],
], ids=lambda a: " ".join(a))
def test_port_names(switch, args):
    real(switch, "del-flows", "br0")
    real(switch, "add-flow", "br0", "in_port=1,actions=output:2")
    assert_same(switch, *args)


def test_targets(switch):
    for target in ("br0", switch.mgmt, f"tcp:127.0.0.1:{switch.tcp_port}"):
        assert_same(switch, "dump-desc", target)
    assert_same(switch, "show", "nosuchbridge")


@VERSIONS
def test_flows_added_by_pyovs_equal_flows_added_by_real(switch, vers, tmp_path):
    flows = _accepted_flows(switch)
    assert len(flows) > 50
    path = tmp_path / "flows.txt"
    usable = [f for f in flows
              if not vers or run_pyovs([*vers, "parse-flow", f])[0] == 0]
    path.write_text("\n".join(usable) + "\n")
    real(switch, "del-flows", "br0")
    assert real(switch, *vers, "add-flows", "br0", str(path))[0] == 0
    by_real = real(switch, "--no-stats", "--sort", "dump-flows", "br0")
    real(switch, "del-flows", "br0")
    assert ours(switch, *vers, "add-flows", "br0", str(path))[0] == 0
    by_ours = real(switch, "--no-stats", "--sort", "dump-flows", "br0")
    assert by_real == by_ours
    assert len(by_real[1].splitlines()) > 20


@VERSIONS
@pytest.mark.parametrize("dump", [
    ["dump-flows"], ["--no-stats", "dump-flows"], ["--sort", "dump-flows"],
    ["--rsort=priority", "dump-flows"], ["--sort=in_port", "dump-flows"],
    ["--names", "dump-flows"], ["--no-names", "--no-stats", "dump-flows"],
    ["dump-flows", "TGT", "in_port=1"], ["dump-flows", "TGT", "table=3"],
    ["dump-flows", "TGT", "tcp"], ["dump-flows", "TGT", "cookie=0x5/-1"],
    ["dump-flows", "TGT", "out_port=2"], ["dump-aggregate", "TGT", "ip"],
], ids=lambda c: " ".join(c))
def test_dumps_print_as_real(switch, vers, dump):
    flows = _accepted_flows(switch)
    real(switch, "del-flows", "br0")
    real(switch, "add-flows", "br0", "-", stdin="\n".join(flows) + "\n")
    args = dump if "TGT" in dump else dump + ["TGT"]
    args = ["br0" if a == "TGT" else a for a in args]
    result = assert_same(switch, *vers, *args)
    assert result[0] == 0


@VERSIONS
def test_mod_and_del_flows(switch, vers):
    setup = "\n".join(["priority=5,in_port=1,actions=drop",
                       "priority=6,in_port=1,actions=drop",
                       "priority=7,ip,actions=output:2",
                       "table=3,cookie=0x5,tcp,actions=NORMAL",
                       "table=4,cookie=0x6,reg0=1,actions=LOCAL"]) + "\n"
    steps = [["mod-flows", "br0", "in_port=1,actions=output:2"],
             ["--strict", "mod-flows", "br0", "priority=7,ip,actions=drop"],
             ["--strict", "del-flows", "br0", "priority=5,in_port=1"],
             ["del-flows", "br0", "cookie=0x5/-1"],
             ["del-flows", "br0", "table=4"],
             ["del-flows", "br0"]]
    results = {}
    for tool in (real, ours):
        real(switch, "del-flows", "br0")
        real(switch, "add-flows", "br0", "-", stdin=setup)
        trace = []
        for step in steps:
            rc = tool(switch, *vers, *step)
            trace.append((rc, real(switch, "--no-stats", "dump-flows", "br0")))
        results[tool] = trace
    assert results[real] == results[ours]


@VERSIONS
@pytest.mark.parametrize("flow", [
    "actions=group:99",                 # no such group: the switch refuses
    "table=254,actions=drop",
    "in_port=1,actions=output:70000",
    "actions=bogus",
    "actions=meter:5",
    "table=3,actions=goto_table:2",
    "ip,actions=ct(commit,table=300)",
    "ip,actions=ct(commit,exec(set_field:1->reg0))",
])
def test_errors_as_real(switch, vers, flow):
    r = assert_same(switch, *vers, "add-flow", "br0", flow)
    assert r[0] != 0


@VERSIONS
@pytest.mark.parametrize("change,check", [
    (["set-frags", "br0", "drop"], ["get-frags", "br0"]),
    (["mod-port", "br0", "p1", "down"], ["show", "br0"]),
    (["mod-port", "br0", "2", "no-receive"], ["show", "br0"]),
], ids=lambda c: " ".join(c[:3]))
def test_state_changes_as_real(switch, vers, change, check):
    """The change made by pyovs leaves the switch as the real tool's does."""
    undo = None
    if change[0] == "set-frags":
        undo = ["set-frags", "br0", "normal"]
    elif change[0] == "mod-port":
        undo = ["mod-port", "br0", change[2],
                "up" if change[3] == "down" else "receive"]
    results = []
    for tool in (real, ours):
        rc = normalise(tool(switch, *vers, *change))
        after = normalise(real(switch, *vers, *check))
        if undo:
            real(switch, *undo)
        results.append((rc, after))
    assert results[0] == results[1]
    assert results[0][0][0] == 0


def _tx(sw, port):
    out = real(sw, "dump-ports", "br0", str(port))[1]
    m = re.search(r"tx pkts=(\d+), bytes=(\d+)", out)
    return int(m.group(1)), int(m.group(2))


@VERSIONS
def test_packet_out_sends_the_packet(switch, vers):
    arp = ("ffffffffffff00000000000108060001080006040001000000000001c0a80001"
           "000000000000c0a80002")
    for tool in (real, ours):
        before = _tx(switch, 2)
        rc = tool(switch, *vers, "packet-out", "br0",
                  f"in_port=LOCAL,packet={arp},actions=output:2")
        assert rc == (0, "", "")
        wait_for(lambda: _tx(switch, 2) == (before[0] + 1, before[1] + 42),
                 what="the packet on p2")


GROUP_STEPS = [
    ["add-group", "br0", "group_id=1,type=all,bucket=output:1,bucket=output:2"],
    ["add-group", "br0", "group_id=2,type=select,bucket=weight:10,actions=output:1,"
     "bucket=weight:20,watch_port=2,actions=mod_dl_src:00:00:00:00:00:01,output:2"],
    ["add-group", "br0", "group_id=3,type=ff,bucket=watch_port:1,output:1"],
    ["add-group", "br0", "group_id=7,type=select,bucket=output:1,"
     "bucket=weight:1,output:2,bucket=weight:0,watch_group:3,output:1"],
    ["add-group", "br0", "group_id=1,type=all,bucket=output:1"],      # exists
    ["mod-group", "br0", "group_id=3,type=ff,bucket=watch_port:2,output:2"],
    ["del-groups", "br0", "group_id=2"],
    ["add-group", "br0", "type=all,bucket=output:1"],                 # no id
]


def test_groups_as_real(switch):
    of13 = ["-O", "OpenFlow13"]
    traces = []
    for tool in (real, ours):
        real(switch, *of13, "del-groups", "br0")
        trace = [tool(switch, *of13, *step) for step in GROUP_STEPS]
        # The switch lists groups in hash order: compare them as a set.
        dump = real(switch, *of13, "dump-groups", "br0")
        trace.append((dump[0], sorted(dump[1].splitlines()), dump[2]))
        traces.append(trace)
    assert traces[0] == traces[1]
    for args in (["dump-groups", "br0"], ["dump-group-stats", "br0"],
                 ["dump-group-stats", "br0", "group_id=3"],
                 ["dump-group-features", "br0"]):
        assert_same(switch, *of13, *args)
    real(switch, *of13, "del-groups", "br0")


METER_STEPS = [
    ["add-meter", "br0", "meter=1,kbps,band=type=drop,rate=1000"],
    ["add-meter", "br0", "meter=2,pktps,burst,stats,bands=type=drop,rate=100,burst_size=10"],
    ["mod-meter", "br0", "meter=1,kbps,band=type=drop,rate=2000"],
    ["add-meter", "br0", "meter=3,kbps,band=type=dscp_remark,rate=100,prec_level=1"],
    ["add-meter", "br0", "meter=1,kbps,band=type=drop,rate=5"],        # exists
    ["add-meter", "br0", "meter=4"],                                   # no bands
    ["del-meters", "br0", "meter=2"],
]


def test_meters_as_real(switch):
    of13 = ["-O", "OpenFlow13"]
    traces = []
    for tool in (real, ours):
        real(switch, *of13, "del-meters", "br0")
        trace = [tool(switch, *of13, *step) for step in METER_STEPS]
        dump = real(switch, *of13, "dump-meters", "br0")
        trace.append((dump[0], sorted(dump[1].split("\n\n")), dump[2]))
        traces.append(trace)
    assert traces[0] == traces[1]
    real(switch, *of13, "add-meter", "br0", "meter=5,kbps,band=type=drop,rate=10")
    for args in (["dump-meters", "br0", "meter=5"], ["meter-stats", "br0", "meter=5"],
                 ["meter-features", "br0"]):
        r = assert_same(switch, *of13, *args)
        assert r[0] == 0
    assert_same(switch, "dump-meters", "br0")            # needs OpenFlow 1.3
    real(switch, *of13, "del-meters", "br0")


@VERSIONS
def test_replace_and_diff_flows_as_real(switch, vers, tmp_path):
    before = "\n".join(["priority=5,in_port=1,actions=drop",
                        "cookie=0x5,ip,actions=output:2",
                        "idle_timeout=30,tcp,actions=NORMAL",
                        "priority=9,arp,actions=NORMAL"]) + "\n"
    wanted = tmp_path / "wanted.txt"
    wanted.write_text("priority=5,in_port=1,actions=output:2\n"
                      "cookie=0x5,ip,actions=output:2\nudp,actions=LOCAL\n"
                      "priority=9,arp,actions=NORMAL\n")
    results = []
    for tool in (real, ours):
        real(switch, "del-flows", "br0")
        real(switch, "add-flows", "br0", "-", stdin=before)
        rc, out, err = tool(switch, *vers, "diff-flows", "br0", str(wanted))
        diff = (rc, sorted(out.splitlines()), err)   # OVS prints in hash order
        replaced = tool(switch, *vers, "replace-flows", "br0", str(wanted))
        after = real(switch, "--no-stats", "--sort", "dump-flows", "br0")
        again = tool(switch, *vers, "diff-flows", "br0", str(wanted))
        results.append((diff, replaced, after, again))
    assert results[0] == results[1]
    assert results[0][0][0] == 2 and results[0][3] == (0, "", "")


@pytest.mark.parametrize("args", [
    ["-F", "nxm", "dump-flows", "br0"],
    ["-F", "openflow10", "add-flow", "br0", "reg0=1,actions=drop"],
    ["-F", "OXM", "add-flow", "br0", "actions=drop"],
    ["-F", "bogus", "dump-flows", "br0"],
], ids=lambda a: " ".join(a))
def test_flow_format_option(switch, args):
    real(switch, "del-flows", "br0")
    real(switch, "add-flow", "br0", "priority=5,actions=drop")
    assert_same(switch, *args)


@pytest.mark.parametrize("flows", [
    ["priority=5,in_port=1,actions=drop", "ip,actions=NORMAL"],
    ["ip,actions=NORMAL", "actions=group:98", "actions=group:99"],   # refused
], ids=["ok", "refused"])
def test_bundle_as_real(switch, flows, tmp_path):
    path = tmp_path / "flows.txt"
    path.write_text("\n".join(flows) + "\n")
    results = []
    for tool in (real, ours):
        real(switch, "del-flows", "br0")
        rc = tool(switch, "--bundle", "add-flows", "br0", str(path))
        results.append((rc, real(switch, "--no-stats", "--sort", "dump-flows", "br0")))
    assert results[0] == results[1]


@pytest.mark.parametrize("version", ["OpenFlow12", "OpenFlow14", "OpenFlow15"])
@pytest.mark.parametrize("cmd", [["dump-flows", "br0"], ["dump-aggregate", "br0"],
                                 ["--no-stats", "--sort", "dump-flows", "br0"],
                                 ["show", "br0"], ["dump-ports", "br0"],
                                 ["dump-ports-desc", "br0"],
                                 ["queue-get-config", "br0"],
                                 ["queue-get-config", "br0", "2", "7"]],
                         ids=lambda c: " ".join(c))
def test_other_versions(switch, version, cmd):
    real(switch, "del-flows", "br0")
    real(switch, "add-flows", "br0", "-", stdin="priority=7,ip,actions=output:2\n"
         "table=3,cookie=0x9,idle_timeout=50,tcp,actions=NORMAL\n")
    if version in ("OpenFlow14", "OpenFlow15") and cmd[0] == "dump-ports":
        pytest.skip("OVS's custom port statistics (1.4+) are not printed by pyovs yet")
    r = assert_same(switch, "-O", version, *cmd)
    assert r[0] == 0
