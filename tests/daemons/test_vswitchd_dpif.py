"""pyovs's ovs-vswitchd forwarding on the dummy datapath (no root), side by
side with Debian's real ovs-vswitchd (--enable-dummy=override) given the
same configuration and the same packets (netdev-dummy/receive in the
datapath flow syntax).  The unixctl texts (dpif/show, dpctl/dump-flows,
dpif/dump-flows, fdb/show, ofproto/trace in both syntaxes) and the
OpenFlow counters must be the same; only ages and durations are
normalised."""

import re

import pytest

from pyovs.netdev import pcap
from tests.conftest import real_bin, run, wait_for
from tests.interop.test_vswitchd import start_switch, vsctl

MAC = "50:54:00:00:00:0%d"


def pkt(in_port, src, dst, icmp_type=8):
    return ("in_port(%d),eth(src=%s,dst=%s),eth_type(0x0800),"
            "ipv4(src=10.0.0.%d,dst=10.0.0.%d,proto=1,tos=0,ttl=64,frag=no),"
            "icmp(type=%d,code=0)" % (in_port, MAC % src, MAC % dst, src, dst,
                                      icmp_type))


def norm(text):
    text = re.sub(r"(?m)^(\s*\S+\s+\d+\s+\S+)\s+\d+$", r"\1  AGE", text)   # fdb ages
    text = re.sub(r"duration=[0-9.]+s", "duration=Ns", text)
    text = re.sub(r"idle_age=\d+", "idle_age=N", text)
    text = re.sub(r"used:[0-9.]+s", "used:Ns", text)
    text = re.sub(r"ufid:[0-9a-f-]+", "ufid:U", text)
    # dpif-netdev's miniflow layout, which pyovs's datapath has not
    text = re.sub(r", dp-extra-info:miniflow_bits\([0-9,]+\)", "", text)
    return text


def appctl(sw, *args):
    r = sw.appctl(*args)
    out = norm(r.stdout)
    if args[0] == "fdb/show":
        # Entries are listed least recently used first; when a datapath
        # hit refreshes one depends on when statistics are pushed.
        lines = out.splitlines(True)
        out = "".join(lines[:1] + sorted(lines[1:]))
    return r.returncode, out, r.stderr.replace(sw.ctl, "CTL")


def flows(sw):
    return sorted(line for line in appctl(sw, "dpctl/dump-flows")[1].splitlines()
                  if not line.startswith("flow-dump from"))


def setup(sw, fail_mode=None):
    vsctl(sw, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
          *(["fail_mode=" + fail_mode] if fail_mode else []))
    for n in (1, 2):
        vsctl(sw, "add-port", "br0", "p%d" % n, "--", "set", "interface", "p%d" % n,
              "type=dummy", "ofport_request=%d" % n)


def both(request, tmp_path, scenario):
    got = {}
    for kind in ("real", "pyovs"):
        sw = start_switch(request, kind, tmp_path / kind)
        got[kind] = scenario(sw)
        assert sw.alive()
        sw.stop()
    for a, b in zip(got["real"], got["pyovs"]):
        if a != b:
            print("REAL:", a, "\nPYOVS:", b)
    return got


def _normal_scenario(sw):
    setup(sw)
    vsctl(sw, "set", "bridge", "br0", "other_config:mac-table-size=50")
    vsctl(sw, "set", "interface", "p2", "options:tx_pcap=%s/p2.pcap" % sw.dir)
    out = [appctl(sw, "netdev-dummy/receive", "p1", pkt(1, 1, 2))]
    wait_for(lambda: len(flows(sw)) == 1, what="first megaflow")
    out.append(appctl(sw, "netdev-dummy/receive", "p2", pkt(2, 2, 1, 0)))
    # The first flow floods until MAC learning revalidates it.
    wait_for(lambda: len(flows(sw)) == 2 and all(
        f.endswith(("actions:1", "actions:2")) for f in flows(sw)),
        what="revalidated megaflows")
    out.append(appctl(sw, "netdev-dummy/receive", "p1", pkt(1, 1, 2)))
    wait_for(lambda: "packets:1," in "".join(flows(sw)), what="a datapath hit")
    ofctl = [real_bin("ovs-ofctl"), "dump-flows", "br0"]
    wait_for(lambda: "n_packets=3," in run(ofctl, env=sw.env).stdout,
             what="OpenFlow counters")
    out.append(norm(run(ofctl + ["--no-names"], env=sw.env).stdout))
    out.append(flows(sw))
    for cmd in (("dpif/show",), ("dpif/dump-dps",), ("fdb/show", "br0"),
                ("fdb/stats-show", "br0"),
                ("dpif/dump-flows", "br0"), ("dpif/dump-flows", "-m", "br0"),
                ("ofproto/trace", "br0", "in_port=p1,dl_dst=%s" % (MAC % 2)),
                ("ofproto/trace", "ovs-dummy", pkt(1, 1, 2)),
                ("ofproto/trace", pkt(2, 2, 1)),
                ("ofproto/trace", "ovs-dummy", pkt(1, 1, 2), "-generate"),
                ("ofproto/trace", "ovs-dummy", "in_port(9),eth()"),
                ("ofproto/trace", "nobr", "in_port=1"),
                ("fdb/show", "nobr"), ("dpif/dump-flows", "nobr"),
                ("bridge/dump-flows", "br0"), ("bridge/dump-flows", "nobr"),
                ("fdb/add", "br0", "p1", "0", "50:54:00:00:00:aa"),
                ("fdb/add", "br0", "p2", "5000", "50:54:00:00:00:ab"),
                ("fdb/add", "br0", "nop", "0", "50:54:00:00:00:ab"),
                ("fdb/add", "nobr", "p1", "0", "50:54:00:00:00:ab"),
                ("fdb/add", "br0", "p1", "0", "zz"),
                ("fdb/del", "br0", "x", "50:54:00:00:00:aa"),
                ("fdb/del", "br0", "0", "50:54:00:00:00:aa"),
                ("fdb/del", "br0", "0", "50:54:00:00:00:aa"),
                ("fdb/stats-show", "br0"),
                ("fdb/flush", "br0"), ("fdb/show", "br0")):
        if cmd[0] == "fdb/flush":
            run([real_bin("ovs-ofctl"), "mod-port", "br0", "p1", "no-receive"],
                env=sw.env, check=True)
            out.append(appctl(sw, "ofproto/trace", "br0", "in_port=p1,dl_dst=%s" % (MAC % 2)))
            run([real_bin("ovs-ofctl"), "mod-port", "br0", "p1", "receive"],
                env=sw.env, check=True)
        r = appctl(sw, *cmd)
        if cmd[0] == "bridge/dump-flows":
            # (the real switch's hidden table 254 of internal flows)
            r = (r[0], "".join(line for line in r[1].splitlines(True)
                               if not line.startswith("table_id=254,")), r[2])
        out.append((cmd, r))
    sent = list(pcap.read_pcap(str(sw.dir / "p2.pcap")))
    out.append(len(sent))
    return out


def test_normal_switching_matches_real(request, tmp_path):
    got = both(request, tmp_path, _normal_scenario)
    assert got["pyovs"] == got["real"]
    assert got["pyovs"][-1] == 2          # p2 sent the two frames to it
    assert "-> forwarding to learned port" in str(got["pyovs"])


def _openflow_scenario(sw):
    setup(sw, "secure")
    ofctl = [real_bin("ovs-ofctl")]
    for flow in ("in_port=1,actions=output:2", "in_port=2,actions=output:1",
                 "priority=5,icmp,actions=drop"):
        assert run(ofctl + ["add-flow", "br0", flow], env=sw.env).returncode == 0
    out = []
    for _ in range(3):
        appctl(sw, "netdev-dummy/receive", "p1", pkt(1, 1, 2))
    appctl(sw, "netdev-dummy/receive", "p2",
           "in_port(2),eth(src=%s,dst=%s),eth_type(0x0806),arp(sip=10.0.0.2,"
           "tip=10.0.0.1,op=1,sha=%s,tha=00:00:00:00:00:00)" % (MAC % 2, MAC % 1, MAC % 2))
    wait_for(lambda: "n_packets=3," in run(ofctl + ["dump-flows", "br0"], env=sw.env).stdout
             and "n_packets=1," in run(ofctl + ["dump-flows", "br0"], env=sw.env).stdout,
             what="OpenFlow counters")
    out.append(norm(run(ofctl + ["dump-flows", "br0"], env=sw.env).stdout))
    out.append(flows(sw))
    # A flow change revalidates: the ICMP megaflow did not look at nw_proto,
    # so it goes; the next packet from p1 is dropped.
    run(ofctl + ["add-flow", "br0", "priority=50000,icmp,actions=drop"], env=sw.env)
    wait_for(lambda: not any("in_port(1)" in f for f in flows(sw)),
             what="revalidation")
    out.append(flows(sw))
    appctl(sw, "netdev-dummy/receive", "p1", pkt(1, 1, 2))
    wait_for(lambda: any(f.endswith("actions:drop") for f in flows(sw)),
             what="a drop megaflow")
    out.append(flows(sw))
    out.append(appctl(sw, "ofproto/trace", "ovs-dummy", pkt(1, 1, 2)))
    out.append(appctl(sw, "revalidator/wait"))
    out.append(appctl(sw, "revalidator/purge"))
    out.append(flows(sw))
    r = appctl(sw, "bridge/dump-flows", "--offload-stats", "br0")
    # (listed in classifier order, which is OVS's hash order: sorted here)
    out.append(sorted(line for line in r[1].splitlines() if "table_id=254," not in line))
    return out


def test_openflow_flows_match_real(request, tmp_path):
    got = both(request, tmp_path, _openflow_scenario)
    assert got["pyovs"] == got["real"]
    assert "actions:2" in str(got["pyovs"][1])


def _patch_scenario(sw):
    setup(sw)
    vsctl(sw, "add-br", "br1", "--", "set", "bridge", "br1", "datapath_type=dummy",
          "--", "add-port", "br1", "p3", "--", "set", "interface", "p3", "type=dummy",
          "--", "add-port", "br0", "patch0", "--", "set", "interface", "patch0",
          "type=patch", "options:peer=patch1", "ofport_request=3",
          "--", "add-port", "br1", "patch1", "--", "set", "interface", "patch1",
          "type=patch", "options:peer=patch0", "ofport_request=2")
    appctl(sw, "netdev-dummy/receive", "p3", pkt(3, 3, 1))
    wait_for(lambda: len(flows(sw)) == 1, what="first megaflow")
    appctl(sw, "netdev-dummy/receive", "p1", pkt(1, 1, 3, 0))
    wait_for(lambda: len(flows(sw)) == 2 and all(
        f.endswith(("actions:1", "actions:3")) for f in flows(sw)),
        what="megaflows across the patch")
    out = [flows(sw)]
    for cmd in (("dpif/show",), ("fdb/show", "br0"), ("fdb/show", "br1"),
                ("ofproto/trace", "ovs-dummy", pkt(1, 1, 3, 0))):
        out.append((cmd, appctl(sw, *cmd)))
    return out


def test_patch_ports_match_real(request, tmp_path):
    got = both(request, tmp_path, _patch_scenario)
    assert got["pyovs"] == got["real"]
    assert 'bridge("br1")' in str(got["pyovs"][-1])


def _truncated_scenario(sw):
    setup(sw)
    appctl(sw, "netdev-dummy/receive", "p2", pkt(2, 2, 1, 0))
    wait_for(lambda: len(flows(sw)) == 1, what="p2's MAC learned")
    # IPv4 and IPv6 frames cut inside their headers.
    for frame in ("505400000002505400000001080045000054",
                  "5054000000025054000000010800",
                  "50540000000250540000000186dd6000"):
        appctl(sw, "netdev-dummy/receive", "p1", frame)
    wait_for(lambda: len(flows(sw)) == 3, what="megaflows of truncated frames")
    return [appctl(sw, "netdev-dummy/receive", "p1", "50540000000250540000"), flows(sw)]


def test_truncated_packets_match_real(request, tmp_path):
    got = both(request, tmp_path, _truncated_scenario)
    assert got["pyovs"] == got["real"]
    assert got["pyovs"][0][0] != 0      # shorter than an Ethernet header: refused
    assert "bytes:14" in str(got["pyovs"][1])


def test_coverage(request, tmp_path):
    sw = start_switch(request, "pyovs", tmp_path)
    setup(sw)
    appctl(sw, "netdev-dummy/receive", "p1", pkt(1, 1, 2))
    wait_for(lambda: flows(sw), what="a megaflow")
    r = appctl(sw, "coverage/read-counter", "xlate_actions")
    assert r[0] == 0 and int(r[1]) >= 1
    assert appctl(sw, "coverage/read-counter", "nosuch")[2].startswith("No such counter")
    cov = appctl(sw, "coverage/show")[1]
    assert re.search(r"(?m)^xlate_actions\s+[0-9.]+/sec\s+[0-9.]+/sec\s+[0-9.]+/sec"
                     r"\s+total: [1-9]", cov), cov
    assert cov.startswith("Event coverage, avg rate over last: 5 seconds, last minute,"
                          " last hour,  hash=")
    assert re.search(r"(?m)^\d+ events never hit$", cov)


@pytest.mark.parametrize("kind", ["pyovs"])
def test_detach_is_silent(request, tmp_path, kind):
    """--detach -vconsole:off: nothing on stderr, as the real daemon."""
    from tests.conftest import pyovs_bin
    from tests.daemons.test_ovsdb_server_util import start_server
    srv = start_server(request, "pyovs", tmp_path)
    env = dict(__import__("os").environ, OVS_RUNDIR=str(tmp_path),
               OVS_LOGDIR=str(tmp_path), OVS_DBDIR=str(tmp_path))
    ctl = str(tmp_path / "vsd.ctl")
    r = run([pyovs_bin("ovs-vswitchd"), srv.remote, "--detach", "--no-chdir",
             "--pidfile=%s/vsd.pid" % tmp_path, "--unixctl=" + ctl, "-vconsole:off"],
            env=env, timeout=30)

    def stop():
        run([real_bin("ovs-appctl"), "-t", ctl, "exit"], env=env, timeout=20)
    request.addfinalizer(stop)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert run([real_bin("ovs-appctl"), "-t", ctl, "version"], env=env).returncode == 0


def _controller(version):
    """A controller listening on a free port of this suite's range
    (16000-16099; other runs may hold some)."""
    import random
    from tests.interop.test_vswitchd_openflow import Controller
    for port in random.sample(range(16000, 16100), 100):
        try:
            return Controller(port), port
        except OSError:
            continue
    pytest.skip("no free port in 16000-16099")


def _controller_scenario(sw, version):
    from pyovs.openflow import async_msgs as A
    from pyovs.openflow import messages as M
    setup(sw, "secure")
    ctl, port = _controller(version)
    try:
        vsctl(sw, "set-controller", "br0", "tcp:127.0.0.1:%d" % port)
        ctl.sock, _ = ctl.ls.accept()
        ctl.sock.settimeout(20)
        ctl.sock.sendall(M.encode_hello([version], 1))
        ctl.recv(M.OFPT_HELLO)
        ctl.sock.sendall(M.encode_simple(version, M.OFPT_FEATURES_REQUEST, 7))
        ctl.recv(M.OFPT_FEATURES_REPLY)
        out = []
        if version >= 4:    # OpenFlow 1.3: a miss drops; a table-miss flow sends
            proto = ["-O", "OpenFlow13"]
            run([real_bin("ovs-ofctl")] + proto + ["add-flow", "br0",
                "priority=0,actions=CONTROLLER:65535"], env=sw.env, check=True)
        run([real_bin("ovs-ofctl"), "add-flow", "br0",
             "priority=10,in_port=2,actions=mod_nw_tos:4,controller,output:1"],
            env=sw.env, check=True)
        for in_port, frame in ((1, pkt(1, 1, 2)), (2, pkt(2, 2, 1))):
            appctl(sw, "netdev-dummy/receive", "p%d" % in_port, frame)
            pin = A.decode_packet_in(ctl.recv(M.OFPT_PACKET_IN))
            out.append((pin.reason, pin.in_port, pin.table_id, pin.cookie,
                        pin.data.hex()))
        return out
    finally:
        ctl.close()


@pytest.mark.parametrize("version", [1, 4])
def test_packet_ins_match_real(request, tmp_path, version):
    got = {}
    for kind in ("real", "pyovs"):
        sw = start_switch(request, kind, tmp_path / kind)
        got[kind] = _controller_scenario(sw, version)
        sw.stop()
    assert got["pyovs"] == got["real"]
    assert len(got["pyovs"]) == 2 and got["pyovs"][0][4] != got["pyovs"][1][4]


def _learn_scenario(sw):
    setup(sw, "secure")
    ofctl = [real_bin("ovs-ofctl")]
    for flow in ("table=0,actions=learn(table=1,hard_timeout=60,"
                 "NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),"
                 "resubmit(,1)",
                 "table=1,priority=0,actions=flood"):
        assert run(ofctl + ["add-flow", "br0", flow], env=sw.env).returncode == 0
    appctl(sw, "netdev-dummy/receive", "p1", pkt(1, 1, 2))
    wait_for(lambda: "dl_dst=%s" % (MAC % 1) in run(
        ofctl + ["dump-flows", "br0", "table=1"], env=sw.env).stdout, what="learned flow")
    appctl(sw, "netdev-dummy/receive", "p2", pkt(2, 2, 1, 0))
    wait_for(lambda: len(flows(sw)) == 2, what="two megaflows")
    text = run(ofctl + ["--no-stats", "dump-flows", "br0", "table=1"], env=sw.env).stdout
    return [norm(text), flows(sw)]


def test_learn_action_matches_real(request, tmp_path):
    got = both(request, tmp_path, _learn_scenario)
    assert got["pyovs"] == got["real"]
    assert "actions=output:1" in got["pyovs"][0]
