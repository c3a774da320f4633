"""Translation against Debian's real OVS 3.1: ofproto/trace as the oracle.

One real ovsdb-server + ovs-vswitchd (--enable-dummy=override) for the
session, with a dummy bridge br0 whose ports carry every VLAN mode:

    p1 (1)  trunk, all VLANs          p4 (4)  native-untagged, tag 10, trunks 20
    p2 (2)  access, tag 10            p5 (5)  native-tagged, tag 20, trunks 10
    p3 (3)  trunk, VLANs 10 and 20    p6 (6)  dot1q-tunnel, tag 30
    br0 (LOCAL, port 100) trunk       p7 (7)  dot1q-tunnel, tag 40, cvlans 10 and 11

For each pipeline of the table the same flows go into the real switch (real
ovs-ofctl) and into pyovs's classifiers (pyovs's flow parser); the same flow
is traced by both, and the "Megaflow:" and "Datapath actions:" lines are
compared.  Flooding order is the real switch's hash order, so actions are
compared as the multiset of what each output port receives (port, VLAN
stack, fields set) and, where no flooding is involved, as exact text too.
The only normalisation: recirc_id values (allocated ids).
"""

import os
import re
import signal
import subprocess

import pytest

from tests.conftest import real_bin, wait_for, REAL_VSWITCH_SCHEMA

from pyovs.odp.actions import parse_actions
from pyovs.ofproto.classifier import match_to_dicts
from pyovs.ofproto.mac_learning import MacLearning
from pyovs.ofproto.ofproto import OFProto
from pyovs.ofproto.xlate import XBridge, XPort, xlate, megaflow_match, apply_side_effects
from pyovs.openflow.flow import parse_flow_mod, OFPFC_DELETE
from pyovs.openflow.groups import parse_group
from pyovs.openflow.ports import OFPP_LOCAL

LOCAL_ODP = 100
PORTS = {
    1: dict(),
    2: dict(tag=10),
    3: dict(trunks=[10, 20]),
    4: dict(tag=10, vlan_mode="native-untagged", trunks=[20]),
    5: dict(tag=20, vlan_mode="native-tagged", trunks=[10]),
    6: dict(tag=30, vlan_mode="dot1q-tunnel"),
    7: dict(tag=40, vlan_mode="dot1q-tunnel", cvlans=[10, 11]),
}


class RealSwitch:
    def __init__(self, d):
        self.d = d
        self.env = dict(os.environ, OVS_RUNDIR=str(d), OVS_LOGDIR=str(d), OVS_DBDIR=str(d),
                        OVS_SYSCONFDIR=str(d))
        self.procs = []
        self.sock = "unix:" + str(d / "db.sock")
        self.ctl = str(d / "ovs-vswitchd.ctl")

    def _run(self, cmd, input=None, check=True):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=30,
                              input=input)
        if check and proc.returncode:
            raise AssertionError(f"{cmd}: {proc.stderr}")
        return proc

    def vsctl(self, *args):
        return self._run([real_bin("ovs-vsctl"), "--db=" + self.sock, "--timeout=20", *args])

    def appctl(self, *args, check=True):
        return self._run([real_bin("ovs-appctl"), "--timeout=20", "-t", self.ctl, *args],
                         check=check)

    def ofctl(self, *args, input=None):
        return self._run([real_bin("ovs-ofctl"), *args], input=input)


@pytest.fixture(scope="session")
def real(tmp_path_factory):
    for name in ("ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl", "ovsdb-tool",
                 "ovs-ofctl"):
        real_bin(name)
    d = tmp_path_factory.mktemp("pb_xlate")
    sw = RealSwitch(d)
    db = str(d / "conf.db")
    sw._run([real_bin("ovsdb-tool"), "create", db, REAL_VSWITCH_SCHEMA])
    try:
        sw.procs.append(subprocess.Popen(
            [real_bin("ovsdb-server"), db, "--remote=p" + sw.sock, "--no-chdir",
             "--unixctl=" + str(d / "ovsdb-server.ctl"), "--log-file=" + str(d / "db.log")],
            env=sw.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(lambda: os.path.exists(str(d / "db.sock")), what="ovsdb-server socket")
        sw.vsctl("--no-wait", "init")
        sw.procs.append(subprocess.Popen(
            [real_bin("ovs-vswitchd"), "--enable-dummy=override", "--disable-system",
             sw.sock, "--no-chdir", "--unixctl=" + sw.ctl,
             "--log-file=" + str(d / "vswitchd.log")],
            env=sw.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(lambda: os.path.exists(sw.ctl), what="ovs-vswitchd control socket")
        args = ["add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
                "fail-mode=secure"]
        for n, cfg in PORTS.items():
            args += ["--", "add-port", "br0", f"p{n}", "--", "set", "interface", f"p{n}",
                     "type=dummy", f"ofport_request={n}"]
            for k, v in cfg.items():
                if k in ("trunks", "cvlans"):
                    v = ",".join(map(str, v))
                args += ["--", "set", "port", f"p{n}", f"{k}={v}"]
        sw.vsctl(*args)
        show = sw.appctl("dpif/show").stdout
        for n in PORTS:
            assert f"p{n} {n}/{n}:" in show, show
        assert f"br0 65534/{LOCAL_ODP}:" in show, show
        yield sw
    finally:
        for p in reversed(sw.procs):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def xports():
    ports = {n: XPort(n, n, f"p{n}", **cfg) for n, cfg in PORTS.items()}
    ports[OFPP_LOCAL] = XPort(OFPP_LOCAL, LOCAL_ODP, "br0")
    return ports


def build_ofproto(flows, groups=()):
    ofp = OFProto("br0")
    for text in groups:
        ofp.group_mod(parse_group(text), 0)
    for line in flows:
        ofp.handle_flow_mod(parse_flow_mod(line)[0], 0)
    return ofp


def build_tables(flows):
    return [t.cls for t in build_ofproto(flows).tables]


def parse_trace_flow(text):
    fm = parse_flow_mod(text, command=OFPFC_DELETE, stats=True)[0]
    return match_to_dicts(fm.match)[0]


def real_trace(real, flows, flow_text, statics=(), of13=False):
    real.ofctl("del-flows", "br0")
    if flows:
        real.ofctl(*(["-O", "OpenFlow13"] if of13 else []), "add-flows", "br0", "-",
                   input="\n".join(flows) + "\n")
    real.appctl("fdb/flush", "br0")
    for port, vlan, mac in statics:
        real.appctl("fdb/add", "br0", "br0" if port == OFPP_LOCAL else f"p{port}", str(vlan),
                    mac)
    try:
        out = real.appctl("ofproto/trace", "br0", flow_text).stdout
    finally:
        for port, vlan, mac in statics:
            real.appctl("fdb/del", "br0", str(vlan), mac)
    megaflow = re.search(r"^Megaflow: (.*)$", out, re.M).group(1)
    actions = re.search(r"^Datapath actions: (.*)$", out, re.M).group(1)
    return megaflow, actions, out


def pyovs_trace(flows, flow_text, statics=()):
    ml = MacLearning()
    for port, vlan, mac in statics:
        ml.add_static(int(mac.replace(":", ""), 16), vlan, port, now=0)
    bridge = XBridge("br0", build_tables(flows), xports(), ml)
    flow = parse_trace_flow(flow_text)
    result = xlate(bridge, flow, allow_side_effects=False)
    assert result.error is None, result.error
    return megaflow_match(flow, result.wc).format(), result.text()


def _norm_text(text):
    return re.sub(r"recirc_id=\d+", "recirc_id=X", text)


def outputs(actions, state=None, out=None):
    """What each output gets: sorted (port, VLAN stack, fields set) records."""
    if out is None:
        out = []
    vlans, sets = state if state else ([], {})
    vlans, sets = list(vlans), dict(sets)
    for name, arg in actions:
        if name == "output":
            out.append((arg, tuple(vlans), tuple(sorted(sets.items()))))
        elif name == "push_vlan":
            vlans.insert(0, arg)
        elif name == "pop_vlan":
            vlans.pop(0)
        elif name == "set":
            attr, value, mask = arg
            if not isinstance(value, dict):
                sets[(attr,)] = (value, mask)
                continue
            for f, v in value.items():
                m = None if mask is None else mask[f]
                if m is None or m:
                    sets[(attr, f)] = v if m is None else (v & m, m)
        elif name == "userspace":
            cookie = dict(arg["cookie"][1])
            cookie.pop("recirc_id", None)
            out.append(("userspace", tuple(sorted(cookie.items())), tuple(vlans),
                        tuple(sorted(sets.items()))))
        elif name == "clone":
            outputs(arg, (vlans, sets), out)
        else:
            out.append((name, repr(arg)))
    return sorted(out, key=repr)


MACS = "dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02"
TCP = f"{MACS},tcp,nw_src=1.1.1.1,nw_dst=2.2.2.2,nw_ttl=64,tp_src=1000,tp_dst=80"

# (id, flows, flow to trace, static MACs (port, vlan, mac), exact order)
CASES = [
    ("output", ["in_port=1,actions=output:2"], f"in_port=1,{TCP}", (), True),
    ("output-in-port-skipped", ["actions=output:1,output:3"], f"in_port=1,{TCP}", (), True),
    ("drop", ["in_port=1,actions=drop"], f"in_port=1,{TCP}", (), True),
    ("miss-secure", [], f"in_port=1,{TCP}", (), True),
    ("miss-other-port", ["in_port=2,actions=output:3"], f"in_port=1,{TCP}", (), True),
    ("in-port-local", ["actions=IN_PORT,LOCAL"], f"in_port=3,{TCP}", (), True),
    ("sets", ["tcp,nw_dst=2.2.2.2,actions=mod_nw_src:9.9.9.9,mod_dl_src:00:00:00:00:00:aa,"
              "output:2,dec_ttl,mod_tp_src:5,mod_tp_dst:6,output:3,mod_nw_tos:8,"
              "set_field:10.0.0.1->nw_dst,output:4"], f"in_port=1,{TCP}", (), True),
    ("set-back-restores", ["actions=mod_dl_dst:00:00:00:00:00:99,output:2,"
                           "mod_dl_dst:00:00:00:00:00:02,output:3"], f"in_port=1,{TCP}", (), True),
    ("both-macs-plain-set", ["actions=mod_dl_src:00:00:00:00:00:0a,mod_dl_dst:00:00:00:00:00:0b,"
                             "output:2"], f"in_port=1,{TCP}", (), True),
    ("load-and-set-field", ["tcp,actions=load:0x5->NXM_OF_TCP_DST[],"
                            "set_field:0xc0->nw_ttl,set_field:00:00:00:00:00:07->eth_dst,"
                            "output:2"], f"in_port=1,{TCP}", (), True),
    ("mod-ecn-tos", ["ip,actions=mod_nw_ecn:2,output:2,mod_nw_tos:16,output:3"],
     f"in_port=1,{TCP}", (), True),
    ("mod-tp-udp", ["actions=mod_tp_dst:53,output:2"],
     f"in_port=1,{MACS},udp,nw_src=1.1.1.1,nw_dst=2.2.2.2,udp_src=7,udp_dst=9", (), True),
    ("mod-nw-on-arp-ignored", ["actions=mod_nw_src:9.9.9.9,output:2"],
     f"in_port=1,{MACS},arp,arp_spa=1.1.1.1,arp_tpa=2.2.2.2,arp_op=1", (), True),
    ("vlan-push", ["actions=mod_vlan_vid:7,output:2,mod_vlan_pcp:5,output:3"],
     f"in_port=1,{TCP}", (), True),
    ("vlan-modify", ["actions=mod_vlan_vid:7,output:2"],
     f"in_port=1,dl_vlan=5,dl_vlan_pcp=2,{TCP}", (), True),
    ("vlan-strip", ["actions=output:2,strip_vlan,output:3"],
     f"in_port=1,dl_vlan=5,{TCP}", (), True),
    ("vlan-push-pop", ["actions=push_vlan:0x8100,mod_vlan_vid:5,output:2,"
                       "pop_vlan,output:3"], f"in_port=1,{TCP}", (), True),
    ("dec-ttl", ["actions=dec_ttl,output:2"], f"in_port=1,{TCP}", (), True),
    ("dec-ttl-exception", ["actions=output:3,dec_ttl,output:2"],
     f"in_port=1,{MACS},tcp,nw_ttl=1", (), True),
    ("dec-ttl-non-ip", ["actions=dec_ttl,output:2"], f"in_port=1,{MACS},arp", (), True),
    ("controller", ["in_port=1,actions=output:2,CONTROLLER:100"], f"in_port=1,{TCP}", (), True),
    ("controller-reasons", ["priority=0,actions=controller(reason=no_match,id=3),"
                            "controller"], f"in_port=1,{TCP}", (), True),
    ("resubmit", ["table=0,in_port=1,actions=resubmit(,1),output:4",
                  "table=1,tcp,tp_dst=80,actions=mod_tp_dst:8080,output:2",
                  "table=1,priority=0,actions=output:3"], f"in_port=1,{TCP}", (), True),
    ("resubmit-port", ["table=0,in_port=1,actions=resubmit:2,output:4",
                       "table=0,in_port=2,actions=output:3,output:1"], f"in_port=1,{TCP}", (),
     True),
    ("resubmit-miss-continues", ["actions=resubmit(,5),output:2"], f"in_port=1,{TCP}", (),
     True),
    ("goto-table", ["table=0,actions=mod_nw_dst:3.3.3.3,goto_table:2",
                    "table=2,ip,nw_dst=3.3.3.3,actions=output:3"], f"in_port=1,{TCP}", (), True),
    ("registers", ["table=0,ip,actions=load:0x7->NXM_NX_REG0[0..3],"
                   "move:NXM_OF_IP_SRC[0..7]->NXM_NX_REG1[0..7],resubmit(,1)",
                   "table=1,reg0=7,reg1=1,actions=output:2",
                   "table=1,priority=1,actions=output:3"], f"in_port=1,{TCP}", (), True),
    ("note-and-exit", ["actions=note:01.02,output:2,exit,output:3"], f"in_port=1,{TCP}", (),
     True),
    ("clone-reversible", ["actions=clone(mod_dl_src:00:00:00:00:00:aa,output:2),output:3"],
     f"in_port=1,{TCP}", (), True),
    ("clone-vlan", ["actions=clone(mod_vlan_vid:9,output:2),output:3"], f"in_port=1,{TCP}", (),
     True),
    ("clone-nested-sets", ["actions=clone(mod_nw_dst:5.5.5.5,clone(mod_tp_dst:7,output:2),"
                           "output:4),output:3"], f"in_port=1,{TCP}", (), True),
    ("exit-in-resubmit", ["table=0,actions=resubmit(,1),output:3",
                          "table=1,actions=output:2,exit,output:4"], f"in_port=1,{TCP}", (), True),
    ("cookies-through-resubmits", ["table=0,actions=resubmit(,1)",
                                   "table=1,cookie=0x55,actions=resubmit(,2),output:2",
                                   "table=2,cookie=0x66,actions=controller:200"],
     f"in_port=1,{TCP}", (), True),
    ("ipv6-sets", ["ipv6,actions=set_field:2001:db8::1->ipv6_dst,dec_ttl,mod_nw_tos:4,output:2"],
     f"in_port=1,{MACS},tcp6,ipv6_src=2001:db8::2,ipv6_dst=2001:db8::3,nw_ttl=9,tcp_dst=80",
     (), True),
    ("icmp-type-code", ["icmp,actions=mod_tp_src:3,mod_tp_dst:1,output:2"],
     f"in_port=1,{MACS},icmp,nw_src=1.1.1.1,nw_dst=2.2.2.2,icmp_type=8,icmp_code=0", (), True),
    ("later-fragment", ["ip,actions=mod_tp_dst:99,mod_nw_ttl:5,output:2"],
     f"in_port=1,{MACS},udp,nw_src=1.1.1.1,nw_dst=2.2.2.2,nw_frag=later", (), True),
    ("arp-sets", ["arp,actions=set_field:9.9.9.9->arp_spa,output:2,"
                  "set_field:00:00:00:00:00:09->arp_sha,load:2->NXM_OF_ARP_OP[],output:3"],
     f"in_port=1,{MACS},arp,arp_op=1,arp_spa=1.1.1.1,arp_tpa=2.2.2.2", (), True),
    ("nd-sets", ["icmp6,icmp_type=135,icmp_code=0,actions=set_field:2001::9->nd_target,"
                 "output:2,set_field:00:00:00:00:00:09->nd_sll,output:3"],
     f"in_port=1,{MACS},icmp6,icmpv6_type=135,icmpv6_code=0,nd_target=2001::1,"
     "nd_sll=00:00:00:00:00:01", (), True),
    ("pkt-mark", ["actions=set_field:5->pkt_mark,output:2,output:3"], f"in_port=1,{TCP}", (),
     True),
    ("clone-exit", ["actions=clone(output:2,exit,output:4),output:3"], f"in_port=1,{TCP}", (),
     True),
    ("clone-controller-resubmit", ["table=0,tcp,actions=clone(mod_tp_dst:1,controller:50,"
                                   "resubmit(,1)),output:3",
                                   "table=1,ip,actions=mod_nw_ttl:3,output:2"],
     f"in_port=1,{TCP}", (), True),
    ("vlan-then-normal", ["actions=mod_vlan_vid:20,NORMAL"], f"in_port=1,{TCP}", (), False),
    ("strip-then-normal", ["actions=strip_vlan,NORMAL"], f"in_port=3,dl_vlan=10,{TCP}", (),
     False),
    ("local-to-local", ["actions=output:LOCAL,output:1"], f"in_port=LOCAL,{TCP}", (), True),
    ("in-port-after-resubmit", ["table=0,actions=resubmit(2,1)",
                                "table=1,in_port=2,actions=IN_PORT,output:1"],
     f"in_port=1,{TCP}", (), True),
    ("action-set", ["table=0,actions=output:2,write_actions("
                    "set_field:00:00:00:00:00:0a->eth_src,output:3),goto_table:1",
                    "table=1,ip,actions=write_actions(output:4,set_field:5->nw_ttl)"],
     f"in_port=1,{TCP}", (), True),
    ("action-set-clear", ["table=0,actions=write_actions(output:3),goto_table:1",
                          "table=1,actions=output:2,clear_actions,write_actions(output:5)"],
     f"in_port=1,{TCP}", (), True),
    ("action-set-controller", ["table=0,actions=write_actions(CONTROLLER:80)"],
     f"in_port=1,{TCP}", (), True),
    ("action-set-goto-miss", ["table=0,actions=write_actions(output:3),goto_table:1"],
     f"in_port=1,{TCP}", (), True),
    ("classifier-megaflow", ["priority=10,tcp,tp_dst=22,actions=drop",
                             "priority=5,ip,nw_src=10.0.0.0/8,actions=output:2",
                             "priority=1,actions=output:3"], f"in_port=1,{TCP}", (), True),
    ("flood", ["actions=FLOOD"], f"in_port=1,{TCP}", (), False),
    ("all", ["actions=ALL"], f"in_port=4,{TCP}", (), False),
    ("normal-flood-untagged", ["actions=NORMAL"], f"in_port=1,{TCP}", (), False),
    ("normal-flood-access", ["actions=NORMAL"], f"in_port=2,{TCP}", (), False),
    ("normal-flood-trunk", ["actions=NORMAL"], f"in_port=3,dl_vlan=10,{TCP}", (), False),
    ("normal-trunk-vlan0-dropped", ["actions=NORMAL"], f"in_port=3,{TCP}", (), True),
    ("normal-access-tagged-dropped", ["actions=NORMAL"], f"in_port=2,dl_vlan=10,{TCP}", (), True),
    ("normal-native-untagged", ["actions=NORMAL"], f"in_port=4,{TCP}", (), False),
    ("normal-native-untagged-trunk", ["actions=NORMAL"], f"in_port=4,dl_vlan=20,{TCP}", (),
     False),
    ("normal-native-tagged", ["actions=NORMAL"], f"in_port=5,{TCP}", (), False),
    ("normal-native-tagged-tagged", ["actions=NORMAL"], f"in_port=5,dl_vlan=10,{TCP}", (),
     False),
    ("normal-pcp-kept", ["actions=NORMAL"], f"in_port=1,dl_vlan=20,dl_vlan_pcp=3,{TCP}", (),
     False),
    ("normal-from-local", ["actions=NORMAL"], f"in_port=LOCAL,{TCP}", (), False),
    ("normal-learned-local", ["actions=NORMAL"], f"in_port=2,{TCP}",
     ((OFPP_LOCAL, 10, "00:00:00:00:00:02"),), True),
    ("dot1q-in-untagged", ["actions=NORMAL"], f"in_port=6,{TCP}", (), False),
    ("dot1q-in-tagged", ["actions=NORMAL"], f"in_port=6,dl_vlan=10,dl_vlan_pcp=2,{TCP}", (),
     False),
    ("dot1q-cvlan-allowed", ["actions=NORMAL"], f"in_port=7,dl_vlan=11,{TCP}", (), False),
    ("dot1q-cvlan-refused", ["actions=NORMAL"], f"in_port=7,dl_vlan=12,{TCP}", (), True),
    ("dot1q-out", ["actions=NORMAL"], f"in_port=1,dl_vlan=30,{TCP}", (), False),
    ("dot1q-learned", ["actions=NORMAL"], f"in_port=6,dl_vlan=5,{TCP}",
     ((3, 30, "00:00:00:00:00:02"),), True),
    ("priority-tagged-trunk", ["actions=NORMAL"], f"in_port=1,dl_vlan=0,dl_vlan_pcp=3,{TCP}", (),
     False),
    ("push-on-tagged", ["dl_vlan=5,actions=push_vlan:0x88a8,mod_vlan_vid:9,output:2,pop_vlan,"
                        "output:3"], f"in_port=1,dl_vlan=5,{TCP}", (), True),
    ("normal-reserved-dst", ["actions=NORMAL"],
     "in_port=1,dl_src=00:00:00:00:00:01,dl_dst=01:80:c2:00:00:00,tcp", (), True),
    ("normal-learned-access", ["actions=NORMAL"], f"in_port=1,dl_vlan=10,{TCP}",
     ((2, 10, "00:00:00:00:00:02"),), True),
    ("normal-learned-trunk", ["actions=NORMAL"], f"in_port=2,{TCP}",
     ((3, 10, "00:00:00:00:00:02"),), True),
    ("normal-learned-native", ["actions=NORMAL"], f"in_port=3,dl_vlan=10,dl_vlan_pcp=4,{TCP}",
     ((4, 10, "00:00:00:00:00:02"),), True),
    ("normal-learned-in-port", ["actions=NORMAL"], f"in_port=3,dl_vlan=20,{TCP}",
     ((3, 20, "00:00:00:00:00:02"),), True),
    ("normal-learned-other-vlan", ["actions=NORMAL"], f"in_port=1,{TCP}",
     ((3, 20, "00:00:00:00:00:02"),), False),
    ("normal-grat-arp", ["actions=NORMAL"],
     "in_port=1,dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1,"
     "arp_spa=1.1.1.1,arp_tpa=1.1.1.1", (), False),
    ("normal-after-sets", ["actions=mod_dl_src:00:00:00:00:00:0c,NORMAL"], f"in_port=2,{TCP}",
     ((3, 10, "00:00:00:00:00:02"),), True),
]


# Cases whose flows need OpenFlow 1.3 (push_vlan, instructions) from ovs-ofctl.
OF13 = {"vlan-push-pop", "push-on-tagged", "action-set", "action-set-clear",
        "action-set-goto-miss", "action-set-controller"}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_xlate_matches_real_trace(real, case):
    _, flows, flow_text, statics, exact = case
    megaflow, actions, out = real_trace(real, flows, flow_text, statics, case[0] in OF13)
    mine_mf, mine_actions = pyovs_trace(flows, flow_text, statics)
    if not megaflow.startswith("recirc_id=0,eth,"):
        # OVS prints pkt_mark (and other metadata) before recirc_id.
        items = [i for i in megaflow.split(",") if i not in ("recirc_id=0", "eth")]
        assert sorted(mine_mf.split(",")) == sorted(items), out
        megaflow = "recirc_id=0,eth," + mine_mf
    # pyovs's match printer writes an ICMP type/code masked to its 8 bits
    # as the plain value; OVS as value/0xff.
    megaflow = re.sub(r"(icmp_type|icmp_code)=0x([0-9a-f]+)/0xff",
                      lambda m: f"{m.group(1)}={int(m.group(2), 16)}", megaflow)
    assert mine_mf == megaflow[len("recirc_id=0,eth,"):], out
    tci = parse_trace_flow(flow_text).get("vlan_tci", 0)
    start = ([(0x8100, tci)] if tci else [], {})
    assert (outputs(parse_actions(mine_actions), start)
            == outputs(parse_actions(actions), start)), out
    if exact:
        assert _norm_text(mine_actions) == _norm_text(actions), out


def _hexmac(n):
    return "00:00:00:00:00:%02x" % n


# (ingress port, source MAC, VLAN or None) frames fed through NORMAL.
# Every frame is a new datapath flow (a repeated one would hit its megaflow
# and be learned only when a revalidator gets to it).
FRAMES = [(1, 1, None), (2, 2, None), (3, 3, 20), (4, 4, None), (5, 5, 10), (1, 2, None),
          (3, 1, 10), (2, 0x100, None), (4, 6, 20), (5, 1, 10)]


def _wait_learned(real, port, mac, vlan):
    """The real switch learns in its upcall handlers: wait until it has."""
    row = "%5s  %4d  %s" % (port, vlan, mac)
    wait_for(lambda: real.appctl("fdb/show", "br0").stdout.splitlines()[-1].startswith(row),
             what=f"{mac} learned on port {port}")


def test_normal_learning_matches_real_fdb(real):
    """The same frames through NORMAL: the same fdb/show (ages aside) and stats."""
    real.ofctl("del-flows", "br0")
    real.ofctl("add-flow", "br0", "actions=NORMAL")
    real.appctl("fdb/flush", "br0")
    real.appctl("fdb/stats-clear", "br0")
    ml = MacLearning()
    bridge = XBridge("br0", build_tables(["actions=NORMAL"]), xports(), ml)
    for now, (port, src, vlan) in enumerate(FRAMES):
        # 0x100 sets the group bit of the first octet: a multicast source.
        mac = "01:00:00:00:00:00" if src == 0x100 else _hexmac(src)
        odp = f"in_port({port}),eth(src={mac},dst=00:00:00:00:00:ee),"
        ip = "ipv4(src=1.1.1.1,dst=2.2.2.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)"
        if vlan is None:
            odp += "eth_type(0x0800)," + ip
        else:
            odp += f"eth_type(0x8100),vlan(vid={vlan},pcp=0),encap(eth_type(0x0800),{ip})"
        real.appctl("netdev-dummy/receive", f"p{port}", odp)
        if src != 0x100:
            learned_vlan = {2: 10, 4: 10}.get(port, 0) if vlan is None else vlan
            _wait_learned(real, port, mac, learned_vlan)
        flow = {"in_port": port, "dl_src": int(mac.replace(":", ""), 16), "dl_dst": 0xee,
                "dl_type": 0x0800, "nw_proto": 17, "nw_ttl": 64,
                "vlan_tci": 0 if vlan is None else vlan | 0x1000}
        apply_side_effects(xlate(bridge, flow, now), ml, now)

    def ages_out(text):
        return re.sub(r"(?m)^(.{31}) *\d+$", r"\1 N", text)
    real_show = real.appctl("fdb/show", "br0").stdout
    assert ages_out(ml.format_show(len(FRAMES))) == ages_out(real_show)
    assert ml.format_stats("br0") == real.appctl("fdb/stats-show", "br0").stdout
    real.appctl("fdb/flush", "br0")


def _receive(real, port, mac):
    real.appctl("netdev-dummy/receive", f"p{port}",
                f"in_port({port}),eth(src={mac},dst=00:00:00:00:00:ee),eth_type(0x0800),"
                "ipv4(src=1.1.1.1,dst=2.2.2.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)")


def test_fair_eviction_matches_real_fdb(real):
    """mac-table-size=10 and twelve sources: OVS evicts from the busiest port."""
    real.ofctl("del-flows", "br0")
    real.ofctl("add-flow", "br0", "actions=NORMAL")
    real.vsctl("set", "bridge", "br0", "other_config:mac-table-size=10")
    try:
        wait_for(lambda: "/10\n" in real.appctl("fdb/stats-show", "br0").stdout,
                 what="mac-table-size applied")
        real.appctl("fdb/flush", "br0")
        real.appctl("fdb/stats-clear", "br0")
        ml = MacLearning(max_entries=10)
        # Port 4 puts untagged frames on its native VLAN 10.
        frames = [(1, i) for i in range(1, 7)] + [(4, i) for i in range(7, 10)] + \
                 [(1, 10), (4, 11), (4, 12), (1, 13)]
        for now, (port, n) in enumerate(frames):
            vlan = 10 if port == 4 else 0
            _receive(real, port, _hexmac(n))
            _wait_learned(real, port, _hexmac(n), vlan)
            ml.learn(n, vlan, port, now)
        ages_out = lambda text: re.sub(r"(?m)^(.{31}) *\d+$", r"\1 N", text)  # noqa: E731
        assert ages_out(ml.format_show(len(frames))) == \
            ages_out(real.appctl("fdb/show", "br0").stdout)
        assert ml.format_stats("br0") == real.appctl("fdb/stats-show", "br0").stdout
        assert ml.total_evicted > 1
    finally:
        real.vsctl("remove", "bridge", "br0", "other_config", "mac-table-size")
        real.appctl("fdb/flush", "br0")


@pytest.mark.parametrize("flows", [["actions=FLOOD"], ["actions=NORMAL"], ["actions=ALL"],
                                   ["actions=output:3,output:5"]])
def test_port_config_no_flood_no_fwd_matches_real(real, flows):
    """ovs-ofctl mod-port no-flood / no-forward, as XPort's no_flood / no_fwd."""
    real.ofctl("mod-port", "br0", "p3", "no-flood")
    real.ofctl("mod-port", "br0", "p5", "no-forward")
    try:
        flow_text = f"in_port=1,dl_vlan=10,{TCP}"
        megaflow, actions, out = real_trace(real, flows, flow_text)
    finally:
        real.ofctl("mod-port", "br0", "p3", "flood")
        real.ofctl("mod-port", "br0", "p5", "forward")
    ports = xports()
    ports[3].no_flood = True
    ports[5].no_fwd = True
    bridge = XBridge("br0", build_tables(flows), ports, MacLearning())
    flow = parse_trace_flow(flow_text)
    result = xlate(bridge, flow, allow_side_effects=False)
    assert megaflow_match(flow, result.wc).format() == megaflow[len("recirc_id=0,eth,"):], out
    start = ([(0x8100, flow["vlan_tci"])], {})
    assert outputs(result.actions, start) == outputs(parse_actions(actions), start), out


GROUP_CASES = [
    ("all", ["group_id=1,type=all,bucket=output:2,bucket=mod_dl_src:00:00:00:00:00:0a,output:3,"
             "bucket=output:4,mod_vlan_vid:7"],
     ["actions=group:1,output:5"]),
    ("indirect", ["group_id=2,type=indirect,bucket=mod_nw_dst:9.9.9.9,output:3"],
     ["tcp,actions=group:2,set_field:8->tcp_dst,output:4"]),
    ("controller-in-bucket", ["group_id=6,type=all,bucket=output:2,bucket=CONTROLLER:64"],
     ["actions=group:6"]),
    ("nested", ["group_id=3,type=indirect,bucket=output:2",
                "group_id=4,type=all,bucket=group:3,bucket=output:3"],
     ["actions=group:4"]),
]


@pytest.mark.parametrize("case", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_groups_match_real_trace(real, case):
    _, groups, flows = case
    real.ofctl("-O", "OpenFlow13", "del-groups", "br0")
    real.ofctl("del-flows", "br0")
    for g in groups:
        real.ofctl("-O", "OpenFlow13", "add-group", "br0", g)
    try:
        megaflow, actions, out = real_trace(real, flows, f"in_port=1,{TCP}", of13=True)
    finally:
        real.ofctl("-O", "OpenFlow13", "del-groups", "br0")
    ofp = build_ofproto(flows, groups)
    bridge = XBridge("br0", [t.cls for t in ofp.tables], xports(), MacLearning(),
                     groups=ofp.groups)
    flow = parse_trace_flow(f"in_port=1,{TCP}")
    result = xlate(bridge, flow, allow_side_effects=False)
    assert result.error is None
    assert megaflow_match(flow, result.wc).format() == megaflow[len("recirc_id=0,eth,"):], out
    assert _norm_text(result.text()) == _norm_text(actions), out


@pytest.mark.parametrize("p2_up", [True, False], ids=["p2-up", "p2-down"])
def test_fast_failover_group_matches_real_trace(real, p2_up):
    groups = ["group_id=5,type=ff,bucket=watch_port:2,output:2,"
              "bucket=watch_port:3,mod_dl_dst:00:00:00:00:00:33,output:3"]
    flows = ["actions=group:5,output:4"]
    real.ofctl("-O", "OpenFlow13", "del-groups", "br0")
    real.ofctl("del-flows", "br0")
    for g in groups:
        real.ofctl("-O", "OpenFlow13", "add-group", "br0", g)
    if not p2_up:
        real.appctl("netdev-dummy/set-admin-state", "p2", "down")
    try:
        if not p2_up:
            wait_for(lambda: "LINK_DOWN" in real.ofctl("show", "br0").stdout,
                     what="p2 link down")
        megaflow, actions, out = real_trace(real, flows, f"in_port=1,{TCP}", of13=True)
    finally:
        real.appctl("netdev-dummy/set-admin-state", "p2", "up")
        real.ofctl("-O", "OpenFlow13", "del-groups", "br0")
    ofp = build_ofproto(flows, groups)
    ports = xports()
    ports[2].live = p2_up
    bridge = XBridge("br0", [t.cls for t in ofp.tables], ports, MacLearning(),
                     groups=ofp.groups)
    flow = parse_trace_flow(f"in_port=1,{TCP}")
    result = xlate(bridge, flow, allow_side_effects=False)
    assert megaflow_match(flow, result.wc).format() == megaflow[len("recirc_id=0,eth,"):], out
    assert result.text() == actions, out


LEARN_FLOW = ("table=0,actions=learn(table=1,hard_timeout=60,priority=7,cookie=0x9,"
              "NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
              "load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15],load:0x3->NXM_NX_REG1[4..7],"
              "output:NXM_OF_IN_PORT[]),output:2")


def test_learn_matches_real(real):
    """learn(): the same megaflow and actions as the real trace, and the same
    learned flow in table 1 once a real packet went through."""
    flow_text = f"in_port=1,dl_vlan=5,{TCP}"
    megaflow, actions, out = real_trace(real, [LEARN_FLOW], flow_text)
    ofp = build_ofproto([LEARN_FLOW])
    bridge = XBridge("br0", [t.cls for t in ofp.tables], xports(), MacLearning())
    flow = parse_trace_flow(flow_text)
    result = xlate(bridge, flow, allow_side_effects=False)
    assert megaflow_match(flow, result.wc).format() == megaflow[len("recirc_id=0,eth,"):], out
    assert result.text() == actions and result.flow_mods == []
    # A packet through the real switch learns; so does pyovs's translation.
    real.ofctl("del-flows", "br0")
    real.ofctl("add-flow", "br0", LEARN_FLOW)
    real.appctl("netdev-dummy/receive", "p1",
                "in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),"
                "eth_type(0x8100),vlan(vid=5,pcp=0),encap(eth_type(0x0800),"
                "ipv4(src=1.1.1.1,dst=2.2.2.2,proto=6,tos=0,ttl=64,frag=no),"
                "tcp(src=1000,dst=80))")
    dump = wait_for(lambda: [ln for ln in real.ofctl("dump-flows", "br0", "table=1")
                             .stdout.splitlines()[1:] if "table=1" in ln],
                    what="the learned flow")
    (fm,) = xlate(bridge, flow).flow_mods
    ofp.handle_flow_mod(fm, 0)
    (rule,) = ofp.tables[1].rules()
    assert fm.new_cookie == 9 and fm.hard_timeout == 60
    mine = rule.match.format(rule.priority) + " actions=" + \
        ",".join(a.format() for a in rule.actions)
    theirs = re.sub(r"^.*idle_age=\d+, ", "", dump[0]).strip()
    assert mine == theirs, dump
    real.ofctl("del-flows", "br0")
