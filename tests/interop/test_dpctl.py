"""dpctl text: pyovs's datapath (dpif/netdev.py + dpif/dpctl.py) against
Debian's real ovs-vswitchd with a dummy datapath.

The real daemon runs with --enable-dummy and no database; a datapath
"dummy@paN" with dummy ports q1, q2 is made with dpctl/add-dp, so no
bridge (and no revalidator) touches its flows.  The same flows are added
to both, through the real ovs-appctl on the real daemon and through
pyovs's dpctl functions on a pyovs datapath, and show, dump-flows and the
error texts are compared.  UFIDs are normalised."""

import asyncio
import itertools
import os
import re
import signal
import subprocess
import threading

import pytest

from pyovs import netdev
from pyovs.dpif import dpctl
from pyovs.dpif.netdev import DpifNetdev
from pyovs.odp.actions import parse_actions
from pyovs.odp.keys import key_to_flow, parse_flow
from pyovs.util.unixctl import UnixctlServer
from tests.conftest import REAL_VSWITCH_SCHEMA, real_bin, run, wait_for

_dp_n = itertools.count()

FLOWS = [
    ("in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),"
     "ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=2)", "2"),
    ("in_port(2),eth(),eth_type(0x0800),ipv4(src=10.0.0.0/255.255.255.0)",
     "push_vlan(vid=5,pcp=0),1"),
    ("in_port(1),eth(),eth_type(0x0800),ipv4(proto=17,frag=no),udp(dst=53)",
     "set(udp(dst=54)),2"),
    ("in_port(1),eth(),eth_type(0x8100),vlan(vid=5),encap(eth_type(0x0800),ipv4(frag=no))",
     "pop_vlan,2"),
    ("in_port(1),eth(),eth_type(0x0800),ipv4(proto=17,frag=later)", "2"),
    ("in_port(1),eth(),eth_type(0x0800),ipv4(proto=6),tcp(),tcp_flags(0/0)", "2"),
    ("in_port(2),eth(src=00:00:00:00:00:02/ff:ff:ff:00:00:00),eth_type(0x0806),"
     "arp(sip=10.0.0.2,op=1)", "1,2"),
    ("in_port(2),packet_type(ns=0,id=0),eth(dst=00:00:00:00:00:09),eth_type(0x86dd),"
     "ipv6(src=fe80::1,proto=58,frag=no),icmpv6(type=128,code=0)", "set(eth(src=00:00:00:00:00:aa)),1"),
    ("in_port(q2),recirc_id(0x5),eth(),eth_type(0x0800),ipv4(ttl=3/0xff,frag=no)", "drop"),
    ("in_port(q2),eth(),eth_type(0x0800),ipv4(tos=0x4/0xfc,frag=no)", "1,clone(2)"),
]

BAD = [
    ("in_port(2),eth_type(0x0806)", "1"),                        # no eth()
    ("in_port(2),eth(),eth_type(0x0806)", "1"),                  # no arp()
    ("in_port(2),eth(),eth_type(0x0800),ipv4(proto=1,frag=no)", "1"),    # no icmp()
    ("in_port(1),eth(),eth_type(0x0800),ipv4(proto=17,frag=no),tcp()", "2"),
    ("in_port(1),eth(),eth_type(0x86dd),ipv6(proto=58),icmpv6(type=135,code=0)", "2"),
    ("in_port(1),eth(),eth_type(0x0800),ipv4()", "1,junk"),
    ("in_port(1),eth(),eth_type(0x0800),ipv4(proto=6),tcp_flags(syn)", "2"),
    ("in_port(1),eth(),eth_type(0x0800)", "2"),                  # no ipv4()
    ("in_port(1),eth(),eth_type(0x0800),ipv4()", "q2"),         # names only in keys
]

#: Accepted although the ports do not exist.
ODD = [("in_port(9),eth(),eth_type(0x0800),ipv4()", "1"),
       ("in_port(1),eth(),eth_type(0x0800),ipv4()", "9")]


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """Debian's ovs-vswitchd (dummy datapaths, no database)."""
    d = tmp_path_factory.mktemp("padpctl")
    ctl = str(d / "vswitchd.ctl")
    env = dict(os.environ, OVS_RUNDIR=str(d), OVS_LOGDIR=str(d), OVS_DBDIR=str(d))
    # ovs-vswitchd registers dpctl/* once it has read the database.
    run([real_bin("ovsdb-tool"), "create", str(d / "conf.db"), REAL_VSWITCH_SCHEMA],
        check=True)
    db = subprocess.Popen(
        [real_bin("ovsdb-server"), str(d / "conf.db"), "--remote=punix:" + str(d / "db.sock"),
         "--unixctl=" + str(d / "db.ctl"), "--no-chdir", "-vconsole:off"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=env)
    wait_for(lambda: os.path.exists(d / "db.sock") or db.poll() is not None, what="db")
    proc = subprocess.Popen(
        [real_bin("ovs-vswitchd"), "unix:" + str(d / "db.sock"), "--enable-dummy",
         "--disable-system", "--no-chdir", "--unixctl=" + ctl,
         "--log-file=" + str(d / "vswitchd.log"), "-vconsole:off"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=env)
    try:
        wait_for(lambda: os.path.exists(ctl) or proc.poll() is not None, what="real ctl")
        assert proc.poll() is None

        def appctl(*args):
            return run([real_bin("ovs-appctl"), "-t", ctl, "--timeout=10", *args])
        wait_for(lambda: "dpctl/add-dp" in appctl("list-commands").stdout,
                 what="dpctl commands")
        yield appctl
    finally:
        for p in (proc, db):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture
def pair(real):
    """(real appctl, dp name, pyovs datapath) with ports q1, q2 in both."""
    name = "pa%d" % next(_dp_n)
    r = real("dpctl/add-dp", "dummy@" + name, "q1,type=dummy", "q2,type=dummy")
    assert r.returncode == 0, r.stderr
    devs = [netdev.open("%sq%d" % (name, i), "dummy") for i in (1, 2)]
    dp = DpifNetdev(name, "dummy")
    for i, dev in enumerate(devs, 1):
        dp.add_port(dev, i)
        dp.ports[i].name = "q%d" % i     # the names the real one has
    yield real, name, dp
    real("dpctl/del-dp", "dummy@" + name)
    dp.close()
    for dev in devs:
        dev.close()


def ours(fn, dp, *args):
    try:
        return 0, fn([dp], list(args)), ""
    except dpctl.DpctlError as e:
        return 2, "", str(e)


def theirs(real, *args):
    r = real(*args)
    err = r.stderr
    if r.returncode:
        lines = err.splitlines(True)
        assert lines[-1].endswith(": server returned an error\n")
        err = "".join(lines[:-1])
    return r.returncode, r.stdout, err


def sorted_lines(result):
    rc, out, err = result
    return rc, sorted(out.splitlines()), err


def _norm(text):
    return re.sub(r"ufid:[0-9a-f-]{36}", "ufid:U", text)


def test_show_empty(pair):
    real, name, dp = pair
    for args in (["dummy@" + name], ["-s", "dummy@" + name]):
        assert ours(dpctl.show, dp, *args) == theirs(real, "dpctl/show", *args)


def test_real_appctl_reads_pyovs_dpctl(pair, tmp_path):
    """The commands registered on a pyovs unixctl server, read by the real
    ovs-appctl, answer as the real daemon does (list-commands too)."""
    real, name, dp = pair
    full = "dummy@" + name
    key, actions = FLOWS[0]
    theirs(real, "dpctl/add-flow", full, key, actions)
    dpctl.add_flow([dp], [full, key, actions])
    path = str(tmp_path / "pyovs.ctl")
    loop = asyncio.new_event_loop()
    server = UnixctlServer(path, program="ovs-vswitchd", version="x")
    dpctl.register_unixctl_commands(server, lambda: [dp])
    loop.run_until_complete(server.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        def mine(*args):
            return theirs(lambda *a: run([real_bin("ovs-appctl"), "-t", path,
                                          "--timeout=10", *a]), *args)
        for args in (["dpctl/show", full], ["dpctl/dump-flows", full],
                     ["dpctl/add-flow", full, key, actions],
                     ["dpctl/del-flow", full, FLOWS[1][0]]):
            assert mine(*args) == theirs(real, *args), args
        listed = {line.split()[0]: line for line in mine("list-commands")[1].splitlines()
                  if line.startswith("  dpctl/")}
        real_listed = {line.split()[0]: line
                       for line in theirs(real, "list-commands")[1].splitlines()
                       if line.startswith("  dpctl/")}
        assert listed and all(real_listed[n] == line for n, line in listed.items())
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_add_flows_dump_alike(pair):
    real, name, dp = pair
    full = "dummy@" + name
    for key, actions in FLOWS:
        assert ours(dpctl.add_flow, dp, full, key, actions) == \
            theirs(real, "dpctl/add-flow", full, key, actions), key
    for args in ([full], ["--names", full]):
        # (OVS dumps in hash order: compare the lines as sets)
        assert sorted_lines(ours(dpctl.dump_flows, dp, *args)) == \
            sorted_lines(theirs(real, "dpctl/dump-flows", *args))
    assert ours(dpctl.show, dp, full) == theirs(real, "dpctl/show", full)


@pytest.mark.parametrize("key,actions", BAD)
def test_bad_flows_refused_alike(pair, key, actions):
    real, name, dp = pair
    full = "dummy@" + name
    mine = ours(dpctl.add_flow, dp, full, key, actions)
    assert mine[0] == 2
    assert mine == theirs(real, "dpctl/add-flow", full, key, actions)


@pytest.mark.parametrize("key,actions", ODD)
def test_odd_flows_taken_alike(pair, key, actions):
    real, name, dp = pair
    full = "dummy@" + name
    assert ours(dpctl.add_flow, dp, full, key, actions) == \
        theirs(real, "dpctl/add-flow", full, key, actions) == (0, "", "")
    assert ours(dpctl.dump_flows, dp, full) == theirs(real, "dpctl/dump-flows", full)


def test_mod_del_errors_alike(pair):
    real, name, dp = pair
    full = "dummy@" + name
    key, actions = FLOWS[2]
    for cmd, fn, args in (
            ("dpctl/mod-flow", dpctl.mod_flow, [full, key, "1"]),
            ("dpctl/del-flow", dpctl.del_flow, [full, key]),
            ("dpctl/add-flow", dpctl.add_flow, [full, key, actions]),
            ("dpctl/add-flow", dpctl.add_flow, [full, key, actions]),
            ("dpctl/mod-flow", dpctl.mod_flow, [full, key, "1"]),
            ("dpctl/dump-flows", dpctl.dump_flows, [full]),
            ("dpctl/del-flow", dpctl.del_flow, [full, key]),
            ("dpctl/dump-flows", dpctl.dump_flows, [full]),
            ("dpctl/dump-flows", dpctl.dump_flows, ["dummy@nosuch"]),
            ("dpctl/add-flow", dpctl.add_flow, ["nosuch", key, "1"]),
            ("dpctl/show", dpctl.show, ["dummy@nosuch"]),
            ("dpctl/show", dpctl.show, ["nosuch"]),
            ("dpctl/get-flow", dpctl.get_flow,
             [full, "ufid:0e3f5dee-12ce-4b73-9fb7-a188c805192f"])):
        assert ours(fn, dp, *args) == theirs(real, cmd, *args), (cmd, args)


def test_dump_verbose_alike_but_extra_info(pair):
    real, name, dp = pair
    full = "dummy@" + name
    for key, actions in FLOWS[:3]:
        ours(dpctl.add_flow, dp, full, key, actions)
        theirs(real, "dpctl/add-flow", full, key, actions)
    mine = _norm(ours(dpctl.dump_flows, dp, "-m", full)[1]).splitlines()
    real_lines = _norm(theirs(real, "dpctl/dump-flows", "-m", full)[1]).splitlines()
    # pyovs does not print OVS's dp-extra-info:miniflow_bits(...)
    assert sorted(mine) == sorted(re.sub(r", dp-extra-info:.*$", "", line)
                                  for line in real_lines)


@pytest.fixture
def bridge(real, tmp_path):
    """A bridge br-pa (NORMAL, dummy datapath) on the real daemon with
    dummy ports pp1, pp2 as odp ports 1 and 2... whatever numbers the
    datapath gives them; returns a function mapping names to odp ports."""
    ctl_dir = os.path.dirname(real("version").args[2])
    vsctl = [real_bin("ovs-vsctl"), "--db=unix:" + os.path.join(ctl_dir, "db.sock"),
             "--timeout=10"]
    r = run(vsctl + ["add-br", "br-pa", "--", "set", "bridge", "br-pa", "datapath_type=dummy",
                     "--", "add-port", "br-pa", "pp1", "--", "set", "interface", "pp1",
                     "type=dummy", "--", "add-port", "br-pa", "pp2", "--", "set",
                     "interface", "pp2", "type=dummy"])
    assert r.returncode == 0, r.stderr
    yield
    run(vsctl + ["del-br", "br-pa"])


def _odp_ports(real):
    out = theirs(real, "dpctl/show", "dummy@ovs-dummy")[1]
    return {m.group(2): int(m.group(1)) for m in re.finditer(r"port (\d+): (\S+)", out)}


def test_megaflow_stats_alike(real, bridge):
    """Packets through the real bridge (NORMAL) and through pyovs's datapath
    answering its upcall with the megaflow the real one installed: the same
    packets, bytes and TCP flags (the packet that missed is not counted)."""
    from pyovs.packet import build
    ports = _odp_ports(real)
    A, B = "00:00:00:00:00:0a", "00:00:00:00:00:0b"
    frames = [build.tcp_packet(A, B, "10.1.0.1", "10.1.0.2", 7, 8, flags=f, payload=b"p" * n)
              for f, n in ((0x02, 0), (0x02, 0), (0x10, 10), (0x18, 100), (0x11, 0),
                           (0x04 | 0x20 | 0x40 | 0x80, 3))]

    def real_receive(frame):
        r = real("netdev-dummy/receive", "pp1", frame.hex())
        assert r.returncode == 0, r.stderr

    real_receive(frames[0])
    wait_for(lambda: "packets" in real("dpctl/dump-flows", "dummy@ovs-dummy").stdout,
             what="the real megaflow")
    line, = [ln for ln in real("dpctl/dump-flows", "-m", "dummy@ovs-dummy").stdout.splitlines()
             if "in_port(pp1)" in ln]
    key_text = re.match(r"ufid:\S+ (.*), packets:", line).group(1)
    actions_text = line.split("actions:")[1].split(", dp-extra-info")[0]
    names = {no: name for name, no in ports.items()}
    attrs = parse_flow(key_text, names)
    _, mask = key_to_flow(attrs)
    actions = parse_actions(actions_text, names)

    dp = DpifNetdev("ovs-dummy", "dummy", upcall=lambda flow, pkt: (actions, mask))
    devs = {}
    for name, no in sorted(ports.items(), key=lambda i: i[1]):
        if no:
            devs[name] = netdev.open("pa-st-%s" % name, "dummy")
            dp.add_port(devs[name], no)
            dp.ports[no].name = name
    try:
        for frame in frames:
            dp.receive(ports["pp1"], [frame])
        for frame in frames[1:]:
            real_receive(frame)

        def real_line():
            out = real("dpctl/dump-flows", "dummy@ovs-dummy").stdout
            lines = [ln for ln in out.splitlines() if "in_port(%d)" % ports["pp1"] in ln]
            return lines[0] if lines and "packets:%d," % (len(frames) - 1) in lines[0] else None
        theirs_line = wait_for(real_line, what="the real stats")
        mine_line, = ours(dpctl.dump_flows, dp, "dummy@ovs-dummy")[1].splitlines()[1:]
        used = re.compile(r"used:[0-9.]+s")
        assert used.sub("used:T", mine_line) == used.sub("used:T", theirs_line)
        assert "flags:SFPRU.EC" in mine_line
    finally:
        dp.close()
        for dev in devs.values():
            dev.close()


_L3 = {"0x0800": ["ipv4(proto=6,frag=no)", "ipv4(proto=17,frag=no)", "ipv4(proto=1,frag=no)",
                  "ipv4(proto=17,frag=later)", "ipv4(src=1.2.3.4/255.0.0.0)", "ipv4(proto=6)"],
       "0x86dd": ["ipv6(proto=58,frag=no)", "ipv6(proto=6,frag=no)", "ipv6(proto=17)"],
       "0x0806": ["arp(op=1)", "arp()"],
       "0x8100": ["vlan(vid=5),encap(eth_type(0x0800),ipv4(frag=no))", "vlan(vid=5)",
                  "vlan(vid=5),encap()"]}
_L4 = ["tcp()", "udp(dst=1)", "icmp(type=8,code=0)", "icmpv6(type=135,code=0)",
       "icmpv6(type=128,code=0)", "nd()", "tcp_flags(syn)", "sctp()"]


def _random_key(rng):
    attrs = ["in_port(%d)" % rng.choice((1, 2))]
    # (always eth(): without it OVS takes the key as an L3 packet type, which
    # pyovs's Ethernet-only datapath refuses; see dpif/dpctl.py)
    attrs.append("eth()" if rng.random() < 0.7 else "eth(src=00:00:00:00:00:01)")
    if rng.random() < 0.1:
        attrs.insert(0, "recirc_id(%d)" % rng.randint(0, 3))
    et = rng.choice(sorted(_L3))
    if rng.random() < 0.92:
        attrs.append("eth_type(%s)" % et)
    if rng.random() < 0.85:
        attrs.append(rng.choice(_L3[et] if rng.random() < 0.85 else _L3[rng.choice(sorted(_L3))]))
    for _ in range(rng.choice((0, 1, 1, 2))):
        a = rng.choice(_L4)
        if a not in attrs:
            attrs.append(a)
    return ",".join(attrs)


def test_random_keys_accepted_alike(pair):
    """Keys built like real ones with random mistakes: pyovs's datapath takes
    exactly the ones the real one takes, and dumps them alike."""
    import random
    real, name, dp = pair
    full = "dummy@" + name
    rng = random.Random(20261124)
    n_ok = 0
    for _ in range(150):
        key = _random_key(rng)
        mine = ours(dpctl.add_flow, dp, full, key, "1")
        assert mine == theirs(real, "dpctl/add-flow", full, key, "1"), key
        if mine[0] == 0:
            n_ok += 1
            assert ours(dpctl.dump_flows, dp, full) == theirs(real, "dpctl/dump-flows", full), key
            assert ours(dpctl.del_flows, dp, full) == theirs(real, "dpctl/del-flows", full)
    assert 10 <= n_ok <= 140            # both kinds are in the sample


class _Sink:
    """A port that drops what it is sent (the bridge's local port)."""
    type = "dummy-internal"

    def __init__(self, name):
        self.name = name

    def send_batch(self, pkts):
        pass

    def fileno(self):
        return None


def test_normal_megaflows_alike(real, bridge):
    """The same frames through the real bridge (NORMAL) and through pyovs's
    datapath with NORMAL as ofproto/xlate.py translates it: the same
    megaflows, actions and counters, before and after the destination is
    learned (revalidation fixes the flooding flow in both)."""
    from pyovs.dpif.learning import NormalSwitch
    from pyovs.packet import build
    ports = _odp_ports(real)
    dp = DpifNetdev("ovs-dummy", "dummy")
    devs = []
    for name in ("pp1", "pp2"):
        devs.append(netdev.open("pa-nm-%s" % name, "dummy"))
        dp.add_port(devs[-1], ports[name])
        dp.ports[ports[name]].name = name
    dp.add_port(_Sink("br-pa"), ports["br-pa"])
    NormalSwitch(dp)
    A, B = "00:00:00:00:00:1a", "00:00:00:00:00:1b"
    ab = build.udp_packet(A, B, "10.2.0.1", "10.2.0.2", 5, 6, b"x" * 30)
    ba = build.udp_packet(B, A, "10.2.0.2", "10.2.0.1", 6, 5, b"y" * 30)
    used = re.compile(r"used:[0-9.]+s")

    def norm(line):
        # OVS floods in hash order: compare a list of plain outputs sorted.
        line = used.sub("used:T", line)
        head, _, acts = line.partition("actions:")
        if re.fullmatch(r"\d+(,\d+)*", acts):
            acts = ",".join(sorted(acts.split(","), key=int))
        return head + "actions:" + acts

    def ab_lines(text):
        return sorted(norm(ln) for ln in text.splitlines()[1:] if "src=%s" % A in ln
                      or "src=%s" % B in ln)

    def dumps():
        return (ab_lines(ours(dpctl.dump_flows, dp, "dummy@ovs-dummy")[1]),
                ab_lines(real("dpctl/dump-flows", "dummy@ovs-dummy").stdout))

    # The real switch installs no megaflow for a frame that comes too soon
    # after the bridge: warm it up (and pyovs alike) with another MAC.
    warm = build.udp_packet("00:00:00:00:00:1c", "ff:ff:ff:ff:ff:ff", "10.2.0.3",
                            "10.2.0.255", 1, 1)
    dp.receive(ports["pp1"], [warm])

    def warmed():
        real("netdev-dummy/receive", "pp1", warm.hex())
        return "00:00:00:00:00:1c" in real("dpctl/dump-flows", "dummy@ovs-dummy").stdout
    wait_for(warmed, interval=0.1, what="the real bridge to install megaflows")
    try:
        try:
            for port, frame in (("pp1", ab), ("pp2", ba), ("pp1", ab), ("pp1", ab)):
                dp.receive(ports[port], [frame])
                assert real("netdev-dummy/receive", port, frame.hex()).returncode == 0
                wait_for(lambda: dumps()[0] == dumps()[1], timeout=10,
                         what="the same megaflows after a frame on %s" % port)
        except AssertionError:
            mine, theirs_ = dumps()
            assert mine == theirs_
            raise
        mine, _ = dumps()
        assert len(mine) == 2 and any("packets:2," in ln and "actions:%d" % ports["pp2"] in ln
                                      for ln in mine)
    finally:
        dp.close()
        for dev in devs:
            dev.close()
