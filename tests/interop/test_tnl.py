"""Native tunneling tables against Debian's real ovs-vswitchd 3.1.

The real switch runs in a private network namespace (prefix "pc") with a
userspace (netdev) bridge br0 carrying an IPv4 and an IPv6 address and a
veth with kernel routes.  pyovs's tables run in the same namespace in a
helper process (so they see the same kernel routes and addresses) and
answer the same ovs/route/*, tnl/neigh/* and tnl/ports/show commands;
texts must match (order aside where OVS prints in hash order).
"""
import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.conftest import needs_root, real_bin, run, wait_for

HELPER = r'''
import json, sys
from pyovs.tnl import ovs_router as R, neigh_cache as N, tnl_ports as T
use_system = sys.argv[1] == "1"
router = R.Router(None, use_system)
sr = R.SystemRoutes(router)
router.get_addrs = sr.kernel_addrs
sr.reset()
cache = N.NeighCache()
ports = T.TnlPorts()
import select
for line in sys.stdin:
    # Follow the kernel live: rtnetlink notifications trigger a re-dump.
    while select.select([sr.fileno()], [], [], 0)[0]:
        sr.run()
    req = json.loads(line)
    name, args = req[0], req[1:]
    if name == "tnl/ports/register":
        # args: [[odp, tp_port, dev, type], ...]; ip devices: route outputs.
        T.sync_ipdevs(ports, router, sr.kernel_mac, sr.kernel_addrs)
        for odp, tp, dev, type_ in args:
            ports.insert(odp, tp, dev, type_)
        out = (None, "")
    elif name.startswith("ovs/route/"):
        out = R.HANDLERS[name](router, args)
    elif name == "tnl/ports/show":
        out = T.ports_show(ports, args)
    else:
        out = N.HANDLERS[name.split("/")[-1]](cache, args, 0.0)
    print(json.dumps(out), flush=True)
'''


class Env:
    def __init__(self, tmp_path, disable_system_route):
        needs_root()
        self.vswitchd = real_bin("ovs-vswitchd")
        self.ns = "pc-t" + uuid.uuid4().hex[:8]
        self.dir = tmp_path
        self.procs = []
        self.helper = None
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        self.ip("link", "set", "lo", "up")
        d = str(tmp_path)
        self.env = dict(os.environ, OVS_RUNDIR=d, OVS_LOGDIR=d, OVS_DBDIR=d)
        run([real_bin("ovsdb-tool"), "create", f"{d}/conf.db",
             "/usr/share/openvswitch/vswitch.ovsschema"], check=True)
        self.db = f"unix:{d}/db.sock"
        self.ctl = f"{d}/vswitchd.ctl"
        self._daemon([real_bin("ovsdb-server"), f"{d}/conf.db",
                      f"--remote=p{self.db}", f"--unixctl={d}/db.ctl"],
                     f"{d}/db.sock")
        extra = ["--disable-system-route"] if disable_system_route else []
        self._daemon([self.vswitchd, self.db, f"--unixctl={self.ctl}"] + extra,
                     self.ctl)
        self.vsctl("add-br", "br0", "--", "set", "bridge", "br0",
                   "datapath_type=netdev")
        self.ip("link", "set", "br0", "up")
        self.ip("addr", "add", "192.168.10.1/24", "dev", "br0")
        self.ip("-6", "addr", "add", "2001:db8::1/64", "dev", "br0", "nodad")
        self.ip("link", "add", "d0", "type", "veth", "peer", "name", "d1")
        self.ip("link", "set", "d0", "up")
        self.ip("addr", "add", "10.9.0.2/16", "dev", "d0")
        self.ip("route", "add", "20.0.0.0/8", "via", "10.9.0.1")
        self.ip("route", "add", "default", "via", "10.9.0.1")
        self.ip("route", "add", "40.0.0.0/8", "via", "10.9.0.1", "table", "100")
        self.ip("route", "add", "blackhole", "60.0.0.0/8")
        self.ip("-6", "addr", "add", "2001:db8:9::2/64", "dev", "d0", "nodad")
        self.ip("-6", "route", "add", "2001:db8:a::/48", "via", "2001:db8:9::1")
        # The real switch re-reads the kernel's routes on a change; wait
        # until it has them all.
        if not disable_system_route:
            wait_for(lambda: "2001:db8:a::/48" in self.appctl("ovs/route/show")[1],
                     what="real switch caching routes")
        self.disable = disable_system_route

    def ip(self, *args):
        subprocess.run(["ip", "-n", self.ns] + list(args), check=True,
                       capture_output=True)

    def _daemon(self, cmd, ready_path):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns] + cmd
                             + [f"--log-file={self.dir}/{os.path.basename(cmd[0])}.log"],
                             env=self.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        wait_for(lambda: os.path.exists(ready_path), what=cmd[0])

    def vsctl(self, *args):
        return run([real_bin("ovs-vsctl"), f"--db={self.db}", "--timeout=10"]
                   + list(args), check=True, env=self.env)

    def appctl(self, *args):
        r = run([real_bin("ovs-appctl"), "--timeout=10", "-t", self.ctl] + list(args),
                env=self.env)
        if r.returncode == 0:
            return None, r.stdout[:-1] if r.stdout.endswith("\n") else r.stdout
        return r.stderr.splitlines()[0], None

    def pyovs(self, *args):
        if self.helper is None:
            self.helper = subprocess.Popen(
                ["ip", "netns", "exec", self.ns, sys.executable, "-c", HELPER,
                 "0" if self.disable else "1"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
        self.helper.stdin.write(json.dumps(list(args)) + "\n")
        self.helper.stdin.flush()
        err, text = json.loads(self.helper.stdout.readline())
        # ovs-appctl prints the reply plus a newline unless it has one.
        if text is not None and text.endswith("\n"):
            text = text[:-1]
        return err, text

    def close(self):
        if self.helper:
            self.helper.stdin.close()
            try:
                self.helper.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.helper.kill()
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["ip", "netns", "del", self.ns])


@pytest.fixture(params=[False, True], ids=["system-routes", "disable-system-route"])
def env(request, tmp_path):
    e = Env(tmp_path, request.param)
    yield e
    e.close()


def _groups(show_text):
    """Route Table lines as (ordered list of prefix-length groups, each a
    set): OVS prints its classifier's subtables in order, rules inside a
    subtable in hash order."""
    groups, last = [], None
    for line in show_text.splitlines()[1:]:
        plen = line.split()[1].split("/")[1] + (":" if ":" in line.split()[1] else "")
        if plen != last:
            groups.append(set())
            last = plen
        groups[-1].add(line)
    return groups


ROUTE_SCRIPT = [
    "ovs/route/add 10.0.0.0/8 br0 192.168.10.254",
    "ovs/route/add 10.1.0.0/16 br0 pkt_mark=5",
    "ovs/route/add 10.1.0.0/16 br0 192.168.10.9 pkt_mark=5",
    "ovs/route/add 172.16.0.0/12 br0 192.168.10.254 src=192.168.10.1",
    "ovs/route/add 1.2.3.4 br0",
    "ovs/route/add 1.2.3.4/33 br0",
    "ovs/route/add 5.0.0.0/8 nodev",
    "ovs/route/add 6.0.0.0/8 br0 zz",
    "ovs/route/add 6.0.0.0/8 br0 1.1.1.1 zz",
    "ovs/route/add 192.168.10.5/25 br0",
    "ovs/route/add 30.0.0.0/255.255.0.0 d0 10.9.0.1",
    "ovs/route/add 20.0.0.0/8 br0 192.168.10.1",
    "ovs/route/add 2001:db9::/32 br0 2001:db8::fe",
    "ovs/route/add 2001:db8:1::/48 d0 pkt_mark=0x10",
    "ovs/route/add 2001:db8:9::/64 d0 pkt_mark=0x10",
    "ovs/route/lookup 192.168.10.7",
    "ovs/route/lookup 20.1.1.1",
    "ovs/route/lookup 40.1.1.1",
    "ovs/route/lookup 8.8.8.8",
    "ovs/route/lookup 10.9.0.2",
    "ovs/route/lookup 192.168.10.7/24",
    "ovs/route/lookup 3.3.3.3 pkt_mark=x",
    "ovs/route/lookup 10.1.2.3 pkt_mark=5",
    "ovs/route/lookup 10.1.2.3",
    "ovs/route/lookup 2001:db9::1",
    "ovs/route/lookup 2001:db8:9::77 pkt_mark=16",
    "ovs/route/lookup 2001:db8:a::1",
    "ovs/route/del 10.0.0.0/8",
    "ovs/route/del 10.0.0.0/8",
    "ovs/route/del 10.1.0.0/16",
    "ovs/route/del 10.1.0.0/16 mark=5",
    "ovs/route/del 10.1.0.0/16 pkt_mark=5",
    "ovs/route/del 20.0.0.0/8",
    "ovs/route/del zz",
    "ovs/route/lookup 20.1.1.1",
]


def _same_routes(env):
    """Both route tables, once the real switch has caught up with the
    kernel (it re-reads routes asynchronously, e.g. after IPv6 DAD)."""
    def same():
        real, ours = env.appctl("ovs/route/show"), env.pyovs("ovs/route/show")
        assert ours[0] is None and real[0] is None
        return _groups(ours[1]) == _groups(real[1])
    try:
        wait_for(same, timeout=5, interval=0.2, what="same routes")
    except AssertionError:
        pass
    real, ours = env.appctl("ovs/route/show"), env.pyovs("ovs/route/show")
    assert _groups(ours[1]) == _groups(real[1])
    return ours[1]


def test_route_table(env):
    _same_routes(env)
    for line in ROUTE_SCRIPT:
        args = line.split()
        assert env.pyovs(*args) == env.appctl(*args), line
    assert "User: " in _same_routes(env)


NEIGH_SCRIPT = [
    "tnl/neigh/show",
    "tnl/arp/set br0 192.168.10.2 00:11:22:33:44:55",
    "tnl/neigh/set br0 2001:db8::2 00:11:22:33:44:66",
    "tnl/neigh/set nobr ::ffff:1.2.3.4 AA:BB:CC:DD:EE:0F",
    "tnl/neigh/set br0 1.1.1 aa:bb:cc:dd:ee:ff",
    "tnl/neigh/set br0 1.1.1.1/24 aa:bb:cc:dd:ee:ff",
    "tnl/neigh/set br0 1.1.1.1 aa:bb:cc:dd:ee",
    "tnl/neigh/set br0 1.1.1.1 aabb.ccdd.eeff",
    "tnl/neigh/aging",
    "tnl/neigh/aging 0",
    "tnl/neigh/aging 3601",
    "tnl/neigh/aging x",
    "tnl/arp/aging 1200",
    "tnl/neigh/aging",
]


def test_neigh_cache(env):
    if env.disable:
        pytest.skip("independent of the route table")
    for line in NEIGH_SCRIPT:
        args = line.split()
        assert env.pyovs(*args) == env.appctl(*args), line
    for show in ("tnl/neigh/show", "tnl/arp/show"):
        (e1, real), (e2, ours) = env.appctl(show), env.pyovs(show)
        assert e1 is e2 is None
        assert real.splitlines()[:2] == ours.splitlines()[:2]
        assert sorted(real.splitlines()[2:]) == sorted(ours.splitlines()[2:])
        assert len(ours.splitlines()) == 5
    for line in ("tnl/neigh/flush", "tnl/neigh/show", "tnl/arp/flush"):
        assert env.pyovs(*line.split()) == env.appctl(*line.split()), line


def test_tnl_ports(env):
    if env.disable:
        pytest.skip("ip devices come from the system routes")
    assert env.pyovs("tnl/ports/show") == env.appctl("tnl/ports/show")
    env.vsctl("add-port", "br0", "vx0", "--", "set", "interface", "vx0", "type=vxlan",
              "options:remote_ip=20.0.0.2",
              "--", "add-port", "br0", "gre0", "--", "set", "interface", "gre0",
              "type=gre", "options:remote_ip=20.0.0.3",
              "--", "add-port", "br0", "gnv0", "--", "set", "interface", "gnv0",
              "type=geneve", "options:remote_ip=20.0.0.4",
              "--", "add-port", "br0", "vx1", "--", "set", "interface", "vx1",
              "type=vxlan", "options:remote_ip=20.0.0.5", "options:dst_port=4790",
              "--", "add-port", "br0", "vx2", "--", "set", "interface", "vx2",
              "type=vxlan", "options:remote_ip=20.0.0.6", "options:key=5")
    wait_for(lambda: "genev_sys_6081" in str(env.appctl("tnl/ports/show")),
             what="tunnel ports")
    wait_for(lambda: "ref_cnt=2" in str(env.appctl("tnl/ports/show")), what="vx2")
    # (Remote IPs routed off-bridge: a remote on br0's own subnet makes the
    # real switch recurse on its own ARP requests.)
    # Register the same datapath ports, in the order the real switch did.
    regs = []
    for line in env.appctl("tnl/ports/show")[1].splitlines()[1:]:
        dev, odp, _ = line.split()
        n = int(line.split("ref_cnt=")[1])
        type_ = {"vxlan": "vxlan", "gre": "gre", "genev": "geneve"}[dev.split("_")[0]]
        tp = int(dev.split("_")[-1]) if type_ != "gre" else 0
        regs += [[int(odp.strip("()")), tp, dev, type_]] * n
    env.pyovs("tnl/ports/register", *regs)
    assert env.pyovs("tnl/ports/show") == env.appctl("tnl/ports/show")
    (e1, real), (e2, ours) = env.appctl("tnl/ports/show", "-v"), env.pyovs("tnl/ports/show", "-v")
    assert e1 is e2 is None
    assert real.splitlines()[0] == ours.splitlines()[0] == "Listening ports:"
    assert sorted(real.splitlines()[1:]) == sorted(ours.splitlines()[1:])
    assert len(ours.splitlines()) > 8


TRACE_PORTS = [
    # ofport, interface options, build_header() arguments
    (10, ["type=vxlan", "options:remote_ip=192.168.10.2"],
     dict(tnl_type="vxlan", ip_dst="192.168.10.2")),
    (11, ["type=geneve", "options:remote_ip=192.168.10.2", "options:key=77",
          "options:csum=true"],
     dict(tnl_type="geneve", ip_dst="192.168.10.2", key=77, csum=True)),
    (12, ["type=gre", "options:remote_ip=192.168.10.2", "options:key=0x55"],
     dict(tnl_type="gre", ip_dst="192.168.10.2", key=0x55)),
    (13, ["type=vxlan", "options:remote_ip=2001:db8::2", "options:key=9",
          "options:dst_port=4790", "options:ttl=7"],
     dict(tnl_type="vxlan", ip_dst="2001:db8::2", key=9, dst_port=4790, ttl=7)),
]


def test_tnl_push_header(env):
    """The real switch's tnl_push header for each tunnel type equals the
    one pyovs builds from its own route lookup and neighbor entry."""
    if env.disable:
        pytest.skip("needs the kernel's routes")
    from pyovs.odp.actions import tnl_header_format
    from pyovs.tnl.header import build_header
    env.ip("link", "add", "u0", "type", "veth", "peer", "name", "u1")
    env.ip("link", "set", "u0", "up")
    env.vsctl("add-port", "br0", "u0")
    cmd = ["add-br", "br-int", "--", "set", "bridge", "br-int", "datapath_type=netdev"]
    for ofport, opts, _ in TRACE_PORTS:
        cmd += ["--", "add-port", "br-int", f"t{ofport}", "--", "set", "interface",
                f"t{ofport}", f"ofport_request={ofport}"] + opts
    env.vsctl(*cmd)
    mac_br0 = env.vsctl("get", "interface", "br0", "mac_in_use").stdout.strip().strip('"')
    for ip, mac in (("192.168.10.2", "00:11:22:33:44:55"), ("2001:db8::2", "00:11:22:33:44:66")):
        for side in (env.appctl, env.pyovs):
            assert side("tnl/neigh/set", "br0", ip, mac) == (None, "OK")
    for ofport, _, kw in TRACE_PORTS:
        run([real_bin("ovs-ofctl"), "add-flow", f"unix:{env.dir}/br-int.mgmt",
             f"ip,nw_dst=2.2.2.{ofport},actions=output:{ofport}"], check=True, env=env.env)
    for ofport, _, kw in TRACE_PORTS:
        flow = ("in_port=LOCAL,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,"
                f"ip,nw_src=1.1.1.1,nw_dst=2.2.2.{ofport},nw_ttl=64")

        def traced():
            err, out = env.appctl("ofproto/trace", "br-int", flow)
            return out if out and "tnl_push(" in out else None
        out = wait_for(traced, what="tnl_push in the trace")
        real = out.split("tnl_push(")[1].split(",header(")[1]
        real = "header(" + real.rsplit("),out_port(", 1)[0] + ")"
        # pyovs: route lookup for the remote, neighbor lookup for the next hop.
        err, lookup = env.pyovs("ovs/route/lookup", kw["ip_dst"])
        assert err is None
        src = lookup.split("\n")[0].split()[1]
        gw = lookup.split("\n")[1].split()[1]
        assert lookup.split("\n")[2] == "dev br0"
        nh = kw["ip_dst"] if gw in ("::", "0.0.0.0") else gw
        neigh = env.pyovs("tnl/neigh/show")[1]
        mac = next(l.split()[1] for l in neigh.splitlines()[2:] if l.split()[0] == nh)
        htype, data = build_header(eth_dst=mac, eth_src=mac_br0, ip_src=src, **kw)
        assert tnl_header_format(htype, data) == real
