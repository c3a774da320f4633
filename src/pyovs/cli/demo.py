"""``pyovs demo``: pyovs's main job, native tunneling, shown in one command.

The demo builds the layout of OVS's userspace-tunneling howto twice over,
on one machine, out of network namespaces:

    vm1 (10.0.0.1)                                   vm2 (10.0.0.2)
      | veth                                            | veth
    hv1: br-int --vxlan0--> br-phy ==== underlay ==== br-phy <--vxlan0-- br-int :hv2
         172.31.1.1 on br-phy         (veth)          172.31.1.2 on br-phy

Each hypervisor namespace runs its own ovsdb-server and ovs-vswitchd with
the userspace ("netdev") datapath.  br-int connects the VM to a tunnel port
whose remote_ip is the other hypervisor's underlay address; that address is
reached through br-phy, a bridge whose internal interface holds the local
underlay address and whose only other port is the underlay veth.  The
switch encapsulates in userspace: translation asks the route table
(ovs/route/show) which bridge reaches the remote, the neighbor cache
(tnl/arp/show) for its MAC address, and emits tnl_push(header); packets for
the local endpoint get tnl_pop(port) (tnl/ports/show lists the listeners).

The demo proves that traffic flows (ping, then a short iperf3 run), prints
what a user wants to see, and tears everything down, also on Ctrl-C or
SIGTERM.  Everything it creates is named with a prefix (``pyovs-``) and its
state lives in one directory (/tmp/pyovs-demo), so a rerun -- after a crash
or a --keep -- first removes what an earlier run left: daemons found through
their pidfiles or still running in the namespaces, then the namespaces.

Without root, it says why and tells the same story in a `pyovs sandbox`
(dummy datapath) with ofproto/trace: the tunnel push on the way out and the
pop on the way in.  ``--db`` runs the older configuration-database story.

``--ovs-bin DIR[:DIR]`` runs the daemons and tools found there (for example
/usr/sbin:/usr/bin, Debian's real Open vSwitch) instead of pyovs's: the
demo is checked against the real switch with it.

API: main(argv); TunnelDemo(workdir, prefix, tunnel, bindirs) with .clean(),
.build(), .traffic(), .show(), .keep_message(); run_sandbox_story(bindirs);
DbDemo (--db).
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyovs import vswitch
from pyovs.cli.sandbox import alive

BIN = Path(sys.executable).parent

#: The outside tools the tunnel demo runs, and the Debian package of each.
TOOLS = {"ip": "iproute2", "ping": "iputils-ping", "iperf3": "iperf3",
         "ethtool": "ethtool"}
TUNNELS = ("vxlan", "gre", "geneve")
#: VM interface MTU: room for the largest of the tunnel headers (Geneve
#: and VXLAN add 50 bytes over IPv4) within the underlay's 1500.
VM_MTU = 1400
UNDERLAY = ("172.31.1.1", "172.31.1.2")
UNDERLAY_NET = "172.31.1.0"
OVERLAY = ("10.0.0.1", "10.0.0.2")
PLEN = 24
STOP_TIMEOUT = 5.0
DAEMONS = ("ovsdb-server", "ovs-vswitchd")




class DemoError(Exception):
    """A step failed; the message says which and why."""


def _which(name, bindirs):
    return shutil.which(name, path=os.pathsep.join(
        list(bindirs) + [os.environ.get("PATH", os.defpath), "/usr/sbin", "/sbin"]))


def missing_tools(bindirs=()):
    """'TOOL (apt-get install PACKAGE)' for each outside tool not found."""
    return [f"{tool} (apt-get install {pkg})" for tool, pkg in TOOLS.items()
            if _which(tool, bindirs) is None]


class Shell:
    """Runs commands and echoes them as a shell transcript."""

    def __init__(self, env, bindirs, quiet=False):
        self.env = env
        self.bindirs = bindirs
        self.quiet = quiet

    def say(self, text=""):
        if not self.quiet:
            print(text, flush=True)

    def run(self, argv, show=True, output=True, check=True, timeout=60, prompt="$ "):
        argv = [str(a) for a in argv]
        if show:
            self.say(prompt + " ".join(shlex.quote(a) for a in argv))
        exe = _which(argv[0], self.bindirs) or argv[0]
        try:
            proc = subprocess.run([exe] + argv[1:], env=self.env, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise DemoError(f"{argv[0]} timed out after {timeout} s") from e
        except OSError as e:
            raise DemoError(f"{argv[0]}: {e.strerror}") from e
        out = proc.stdout + proc.stderr
        if show and output and out.strip():
            self.say(out.rstrip("\n"))
        if check and proc.returncode != 0:
            msg = "" if (show and output) else ": " + out.strip()
            raise DemoError(f"'{' '.join(argv)}' failed (exit {proc.returncode}){msg}")
        return proc


def _kill(pids):
    """SIGTERM PIDS, then SIGKILL those still there after STOP_TIMEOUT."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = [p for p in pids if alive(p)]
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.02)


class TunnelDemo:
    """The two-hypervisor native tunneling layout (see the module essay)."""

    def __init__(self, workdir, prefix="pyovs-", tunnel="vxlan", bindirs=None,
                 quiet=False):
        self.dir = Path(workdir).absolute()
        self.prefix = prefix
        self.tunnel = tunnel
        self.bindirs = [str(d) for d in bindirs] if bindirs else [str(BIN)]
        self.hvs = [f"{prefix}hv1", f"{prefix}hv2"]
        self.vms = [f"{prefix}vm1", f"{prefix}vm2"]
        self.port = f"{tunnel}0"
        base = dict(os.environ)
        base["PATH"] = os.pathsep.join(self.bindirs + [base.get("PATH", os.defpath)])
        self.sh = Shell(base, self.bindirs, quiet)
        self.hv_sh = []
        for i in range(2):
            env = dict(base)
            for var in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR"):
                env[var] = str(self.hv_dir(i))
            self.hv_sh.append(Shell(env, self.bindirs, quiet))

    def hv_dir(self, i):
        return self.dir / f"hv{i + 1}"

    def say(self, text=""):
        self.sh.say(text)

    def ovs(self, i, *argv, **kw):
        """Run an OVS tool against hypervisor I's daemons."""
        return self.hv_sh[i].run(argv, prompt=f"[hv{i + 1}]$ ", **kw)

    def netns(self, ns, *argv, **kw):
        return self.sh.run(("ip", "netns", "exec", ns) + argv, **kw)

    # -- Cleaning up ------------------------------------------------------

    def _namespaces(self):
        proc = self.sh.run(["ip", "netns", "list"], show=False, check=False)
        names = {line.split()[0] for line in proc.stdout.splitlines() if line.strip()}
        return [ns for ns in self.hvs + self.vms if ns in names]

    def clean(self):
        """Remove whatever an earlier run left: daemons (by pidfile, then
        any process still in the demo's namespaces), namespaces, state."""
        from pyovs.cli.sandbox import kill_leftovers
        for i in range(2):
            if self.hv_dir(i).is_dir():
                kill_leftovers(self.hv_dir(i))
        namespaces = self._namespaces()
        for ns in namespaces:
            proc = self.sh.run(["ip", "netns", "pids", ns], show=False, check=False)
            _kill([int(p) for p in proc.stdout.split() if p.isdigit()])
        for ns in namespaces:
            self.sh.run(["ip", "netns", "del", ns], show=False, check=False)
        if self.dir.exists():
            shutil.rmtree(self.dir, ignore_errors=True)

    def stop(self):
        """Ask the daemons to exit, then clean up."""
        for i in range(2):
            for name in reversed(DAEMONS):
                if (self.hv_dir(i) / f"{name}.pid").exists():
                    self.hv_sh[i].run(["ovs-appctl", "-t", name, "exit"], show=False,
                                      check=False, timeout=10)
        deadline = time.monotonic() + STOP_TIMEOUT
        while (list(self.dir.glob("hv*/*.pid")) and time.monotonic() < deadline):
            time.sleep(0.02)
        self.clean()

    # -- Building ---------------------------------------------------------

    def build(self):
        self.say("# Namespaces: two hypervisors, one VM on each")
        for ns in self.hvs + self.vms:
            self.sh.run(["ip", "netns", "add", ns])
        self.say("\n# The underlay: a veth between the hypervisors")
        self.sh.run(["ip", "link", "add", "eth1", "netns", self.hvs[0], "type", "veth",
                     "peer", "name", "eth1", "netns", self.hvs[1]])
        for i in range(2):
            self.netns(self.hvs[i], "ip", "link", "set", "eth1", "up")
            self.netns(self.hvs[i], "ip", "link", "set", "lo", "up")
        self.say("\n# The VMs: a veth from each VM into its hypervisor")
        for i in range(2):
            vm, hv = self.vms[i], self.hvs[i]
            self.sh.run(["ip", "link", "add", "eth0", "netns", vm, "type", "veth",
                         "peer", "name", f"vm{i + 1}", "netns", hv])
            self.netns(vm, "ip", "addr", "add", f"{OVERLAY[i]}/{PLEN}", "dev", "eth0")
            self.netns(vm, "ip", "link", "set", "eth0", "mtu", str(VM_MTU), "up")
            self.netns(vm, "ip", "link", "set", "lo", "up")
            # The switch sees what the VM sends as it is: no checksum or
            # segmentation left for a NIC to do.
            self.netns(vm, "ethtool", "-K", "eth0", "tx", "off", "tso", "off",
                       output=False)
            self.netns(hv, "ip", "link", "set", f"vm{i + 1}", "up")
        for i in range(2):
            self.say(f"\n# Open vSwitch on hv{i + 1} "
                     f"([hv{i + 1}]$: OVS_RUNDIR=OVS_DBDIR=OVS_LOGDIR={self.hv_dir(i)})")
            self.start_daemons(i)
            self.configure(i)

    def start_daemons(self, i):
        d = self.hv_dir(i)
        d.mkdir(parents=True)
        schema = vswitch.schema_path()
        self.ovs(i, "ovsdb-tool", "create", d / "conf.db", schema)
        hv = ["ip", "netns", "exec", self.hvs[i]]
        self.ovs(i, *hv, _exe(self.bindirs, "ovsdb-server"), "--detach", "--no-chdir",
                 "--pidfile", "--log-file", f"--remote=punix:{d}/db.sock", output=False)
        self.ovs(i, "ovs-vsctl", "--no-wait", "init")
        self.ovs(i, *hv, _exe(self.bindirs, "ovs-vswitchd"), "--detach", "--no-chdir",
                 "--pidfile", "--log-file", output=False)

    def configure(self, i):
        me, peer = UNDERLAY[i], UNDERLAY[1 - i]
        vsctl = ("ovs-vsctl", "--timeout=30")
        self.ovs(i, *vsctl, "add-br", "br-int", "--", "set", "bridge", "br-int",
                 "datapath_type=netdev")
        self.ovs(i, *vsctl, "add-port", "br-int", f"vm{i + 1}")
        self.ovs(i, *vsctl, "add-port", "br-int", self.port, "--", "set", "interface",
                 self.port, f"type={self.tunnel}", f"options:remote_ip={peer}")
        self.ovs(i, *vsctl, "add-br", "br-phy", "--", "set", "bridge", "br-phy",
                 "datapath_type=netdev")
        self.ovs(i, *vsctl, "add-port", "br-phy", "eth1")
        self.netns(self.hvs[i], "ip", "addr", "add", f"{me}/{PLEN}", "dev", "br-phy")
        self.netns(self.hvs[i], "ip", "link", "set", "br-phy", "up")

    # -- Traffic ----------------------------------------------------------

    def traffic(self, seconds=3):
        """Ping, then iperf3; the throughput figure in bits/s (or None)."""
        self.say("\n# Traffic from vm1 to vm2 through the tunnel.  The first packets")
        self.say("# wait for the tunnel's neighbor (ARP) resolution.")
        proc = self.netns(self.vms[0], "ping", "-c", "3", "-i", "0.2", "-w", "20",
                          OVERLAY[1], check=False, timeout=30)
        if proc.returncode != 0:
            raise DemoError("vm1 cannot ping vm2 through the tunnel")
        server = subprocess.Popen(
            ["ip", "netns", "exec", self.vms[1], _which("iperf3", ()), "-s", "-1",
             "-B", OVERLAY[1]], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                probe = self.netns(self.vms[1], "ss", "-ltn", show=False, check=False)
                if ":5201" in probe.stdout:
                    break
                time.sleep(0.05)
            proc = self.netns(self.vms[0], "iperf3", "-c", OVERLAY[1], "-t",
                              str(seconds), "-f", "m", check=False, timeout=seconds + 60)
        finally:
            if server.poll() is None:
                server.terminate()
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if proc.returncode != 0:
            raise DemoError("iperf3 from vm1 to vm2 failed")
        m = re.search(r"([\d.]+) Mbits/sec\s.*receiver", proc.stdout)
        return float(m.group(1)) if m else None

    # -- Showing ----------------------------------------------------------

    def show(self):
        for i in range(2):
            self.say(f"\n# What hv{i + 1} shows")
            self.ovs(i, "ovs-vsctl", "show")
            self.ovs(i, "ovs-appctl", "tnl/ports/show")
            self.ovs(i, "ovs-appctl", "tnl/arp/show")
            self.ovs(i, "ovs-appctl", "ovs/route/show")
        self.say("\n# The tunnel megaflows in hv1's datapath: tnl_push on the way out,")
        self.say("# tnl_pop on the way in")
        proc = self.ovs(0, "ovs-appctl", "dpctl/dump-flows", output=False)
        flows = [line for line in proc.stdout.splitlines()
                 if "tnl_push" in line or "tnl_pop" in line]
        self.say("\n".join(flows) if flows else "(none: they have expired)")
        return flows

    def keep_message(self):
        d0, d1 = self.hv_dir(0), self.hv_dir(1)
        bins = os.pathsep.join(self.bindirs)
        print(f"""
The demo keeps running.  To explore it:
  export PATH={bins}:$PATH
  export OVS_RUNDIR={d0} OVS_DBDIR={d0} OVS_LOGDIR={d0}   # hv1 ({d1}: hv2)
  ovs-vsctl show
  ovs-appctl dpctl/dump-flows
  ip netns exec {self.vms[0]} ping {OVERLAY[1]}
To remove it:
  {BIN}/pyovs demo --clean""", flush=True)


def _exe(bindirs, name):
    """Full path of NAME: ip netns exec runs it outside our PATH."""
    exe = _which(name, bindirs)
    if exe is None:
        raise DemoError(f"{name}: not found in {os.pathsep.join(bindirs)}")
    return exe


def run_tunnel_demo(args, bindirs):
    demo = TunnelDemo(args.dir, prefix=args.prefix, tunnel=args.tunnel, bindirs=bindirs)
    print(f"# pyovs demo: {args.tunnel.upper() if args.tunnel != 'geneve' else 'Geneve'}"
          " tunnel between two hypervisors (network namespaces),\n"
          "# Open vSwitch's native (userspace) tunneling")
    ok = False
    try:
        demo.clean()
        demo.build()
        mbits = demo.traffic(args.seconds)
        flows = demo.show()
        print()
        if mbits is not None:
            print(f"pyovs demo: vm1 -> vm2 through {demo.port}: ping ok, "
                  f"iperf3 {mbits:g} Mbits/sec")
        if not any("tnl_push" in f for f in flows) or not any("tnl_pop" in f for f in flows):
            print("pyovs demo: the tunnel megaflows had expired before they were shown")
        ok = True
    except DemoError as e:
        print(f"pyovs demo: {e}", file=sys.stderr)
        logs = sorted(str(p) for p in demo.dir.glob("hv*/*.log"))
        if logs:
            print("pyovs demo: the daemons' logs:", file=sys.stderr)
            for log in logs:
                print(f"--- {log}", file=sys.stderr)
                print(Path(log).read_text()[-3000:], file=sys.stderr)
    finally:
        if args.keep and ok:
            demo.keep_message()
        else:
            demo.stop()
            print("pyovs demo: everything was removed.")
    return 0 if ok else 1


# -- Without root: the same story in the sandbox -------------------------------

def run_sandbox_story(bindirs, tunnel="vxlan"):
    """The tunnel layout of one hypervisor on the dummy datapath, with
    ofproto/trace showing the tnl_push and tnl_pop translations."""
    from pyovs.cli.sandbox import Sandbox, SandboxError
    work = tempfile.mkdtemp(prefix="pyovs-demo-")
    # --enable-dummy=system: tunnel ports stay tunnels (override would make
    # every netdev a dummy one).
    box = Sandbox(Path(work) / "sandbox", dummy="system", verbose=False, bindirs=bindirs)
    sh = Shell(box.env, box.bindirs)
    port = f"{tunnel}0"
    steps = [
        ("# br-int: the VM's port and the tunnel port", None),
        ("ovs-vsctl", "add-br", "br-int", "--", "set", "bridge", "br-int",
         "datapath_type=dummy", "fail-mode=secure"),
        ("ovs-vsctl", "add-port", "br-int", "vm1", "--", "set", "interface", "vm1",
         "ofport_request=1"),
        ("ovs-vsctl", "add-port", "br-int", port, "--", "set", "interface", port,
         f"type={tunnel}", f"options:remote_ip={UNDERLAY[1]}", "ofport_request=2"),
        ("ovs-ofctl", "add-flow", "br-int", "in_port=vm1,actions=output:" + port),
        ("ovs-ofctl", "add-flow", "br-int", f"in_port={port},actions=output:vm1"),
        ("# br-phy: the underlay, with the local endpoint's address", None),
        ("ovs-vsctl", "add-br", "br-phy", "--", "set", "bridge", "br-phy",
         "datapath_type=dummy", "other-config:hwaddr=aa:55:aa:55:00:01"),
        ("ovs-vsctl", "add-port", "br-phy", "eth1"),
        ("ovs-appctl", "netdev-dummy/ip4addr", "br-phy", f"{UNDERLAY[0]}/{PLEN}"),
        ("ovs-appctl", "ovs/route/add", f"{UNDERLAY_NET}/{PLEN}", "br-phy"),
        ("ovs-appctl", "tnl/arp/set", "br-phy", UNDERLAY[1], "aa:55:aa:55:00:02"),
        ("ovs-appctl", "ovs/route/show"),
        ("ovs-appctl", "tnl/arp/show"),
        ("ovs-appctl", "tnl/ports/show"),
        ("# A packet from the VM is encapsulated: tnl_push", None),
        ("ovs-appctl", "ofproto/trace", "br-int",
         "in_port=vm1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02,"
         f"ip,nw_src={OVERLAY[0]},nw_dst={OVERLAY[1]}"),
        ("# A tunnel packet for the local endpoint is decapsulated: tnl_pop", None),
        ("ovs-appctl", "ofproto/trace", "br-phy",
         f"{_pop_match(tunnel)},in_port=eth1,dl_src=aa:55:aa:55:00:02,"
         "dl_dst=aa:55:aa:55:00:01"),
    ]
    try:
        box.create()
        box.start()
        print(f"# Open vSwitch on the dummy datapath in {box.dir}")
        failed = []
        for step in steps:
            if step[1] is None:
                print("\n" + step[0])
            elif sh.run(step, check=False).returncode != 0:
                failed.append(" ".join(step[:2]))
        if failed:
            print(f"\npyovs demo: {len(failed)} steps failed: " + ", ".join(failed),
                  file=sys.stderr)
            return 1
        return 0
    except (SandboxError, DemoError, OSError) as e:
        print(f"pyovs demo: {e}", file=sys.stderr)
        return 1
    finally:
        box.stop()
        shutil.rmtree(work, ignore_errors=True)


def _pop_match(tunnel):
    """Flow fields of a tunnel packet from the remote to the local endpoint."""
    ip = f"nw_src={UNDERLAY[1]},nw_dst={UNDERLAY[0]}"
    if tunnel == "gre":
        return f"ip,nw_proto=47,{ip}"
    return f"udp,{ip},udp_dst={6081 if tunnel == 'geneve' else 4789}"


# -- The configuration-database story (--db) ----------------------------------

class DbDemo:
    """The database end to end: a database file served by ovsdb-server,
    a bridge configured the way ovs-vsctl does it, read back with
    ovsdb-client, ovs-appctl and the transaction log on disk."""

    def __init__(self, workdir):
        self.dir = Path(workdir)
        env = dict(os.environ)
        for var in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR"):
            env[var] = str(self.dir)
        self.sh = Shell(env, [str(BIN)])
        self.db = self.dir / "conf.db"
        self.sock = self.dir / "db.sock"

    def run(self, *argv, show=True):
        proc = self.sh.run([str(BIN / argv[0])] + list(argv[1:]), show=False,
                           check=False)
        if show:
            self.sh.say("$ " + " ".join(shlex.quote(str(a)) for a in argv))
            out = proc.stdout + proc.stderr
            if out:
                self.sh.say(out.rstrip("\n"))
            self.sh.say()
        if proc.returncode != 0:
            raise SystemExit(f"pyovs demo: {argv[0]} failed (exit {proc.returncode})")
        return proc.stdout

    def start(self):
        print(f"# A private Open vSwitch database in {self.dir}\n")
        self.run("ovsdb-tool", "create", self.db, vswitch.schema_path())
        self.run("ovsdb-server", self.db, f"--remote=punix:{self.sock}",
                 "--pidfile", "--detach", "--log-file")

    def configure(self):
        server = f"unix:{self.sock}"
        self.run("ovsdb-client", "list-dbs", server)
        # What `ovs-vsctl init; add-br br0; add-port br0 eth1` commits.
        txn = ["Open_vSwitch",
               {"op": "insert", "table": "Interface", "uuid-name": "if0",
                "row": {"name": "br0", "type": "internal"}},
               {"op": "insert", "table": "Interface", "uuid-name": "if1",
                "row": {"name": "eth1"}},
               {"op": "insert", "table": "Port", "uuid-name": "p0",
                "row": {"name": "br0", "interfaces": ["named-uuid", "if0"]}},
               {"op": "insert", "table": "Port", "uuid-name": "p1",
                "row": {"name": "eth1", "interfaces": ["named-uuid", "if1"]}},
               {"op": "insert", "table": "Bridge", "uuid-name": "br",
                "row": {"name": "br0",
                        "ports": ["set", [["named-uuid", "p0"], ["named-uuid", "p1"]]]}},
               {"op": "insert", "table": "Open_vSwitch",
                "row": {"bridges": ["named-uuid", "br"]}},
               {"op": "comment", "comment": "pyovs demo: add-br br0, add-port br0 eth1"}]
        self.run("ovsdb-client", "transact", server, json.dumps(txn))
        self.run("ovsdb-client", "dump", server, "Open_vSwitch", "Bridge", "name", "ports")
        self.run("ovsdb-client", "dump", server, "Open_vSwitch", "Port", "name", "interfaces")
        self.run("ovs-appctl", "-t", "ovsdb-server", "ovsdb-server/list-dbs")
        self.run("ovsdb-tool", "show-log", self.db)

    def stop(self):
        self.run("ovs-appctl", "-t", "ovsdb-server", "exit", show=False)


def run_db_demo(keep):
    workdir = tempfile.mkdtemp(prefix="pyovs-demo-")
    demo = DbDemo(workdir)
    demo.start()
    try:
        demo.configure()
    finally:
        if not keep:
            demo.stop()
    if keep:
        print("The server keeps running.  To explore it:")
        print(f"  export OVS_RUNDIR={workdir} OVS_DBDIR={workdir} OVS_LOGDIR={workdir}")
        print(f"  {BIN}/ovsdb-client dump unix:{demo.sock}")
        print(f"  /usr/bin/ovs-vsctl --db=unix:{demo.sock} --no-wait show"
              "   # Debian's real ovs-vsctl")
        print(f"To stop it:  {BIN}/ovs-appctl -t ovsdb-server exit")
    else:
        print("pyovs demo: done; everything was stopped.")
    return 0


# -- Command line ----------------------------------------------------------------

def _on_fatal_signal(signum, frame):
    raise SystemExit(128 + signum)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="pyovs demo",
        description="Native tunneling between two hypervisors (network namespaces), "
                    "each running pyovs's ovsdb-server and ovs-vswitchd: builds it, "
                    "proves traffic flows (ping, iperf3), shows the tunnel state and "
                    "megaflows, and removes it all.  Without root: the same story in "
                    "a sandbox with ofproto/trace.")
    parser.add_argument("--tunnel", choices=TUNNELS,
                        help="tunnel type (default: vxlan)")
    parser.add_argument("--keep", action="store_true",
                        help="leave it running and print how to explore and remove it")
    parser.add_argument("--clean", action="store_true",
                        help="only remove what an earlier (kept or crashed) run left")
    parser.add_argument("--sandbox", action="store_true",
                        help="the story without root: a sandbox and ofproto/trace")
    parser.add_argument("--db", action="store_true",
                        help="the configuration-database story instead")
    parser.add_argument("--seconds", type=int, default=3, metavar="N",
                        help="length of the iperf3 run (default: 3)")
    parser.add_argument("--dir", default="/tmp/pyovs-demo", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", default="pyovs-", help=argparse.SUPPRESS)
    parser.add_argument("--ovs-bin", metavar="DIR[:DIR]",
                        help="run the OVS daemons and tools found in DIRs instead of "
                             "pyovs's (/usr/sbin:/usr/bin: Debian's real OVS)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.db:
        return run_db_demo(args.keep)
    args.tunnel = args.tunnel or "vxlan"
    bindirs = args.ovs_bin.split(os.pathsep) if args.ovs_bin else None
    old = {s: signal.signal(s, _on_fatal_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        if args.sandbox:
            return run_sandbox_story(bindirs, args.tunnel)
        if os.geteuid() != 0:
            if args.clean:
                print("pyovs demo: --clean needs root", file=sys.stderr)
                return 1
            print("pyovs demo: the tunnel demo needs root (it creates network "
                  "namespaces and veth interfaces);\nshowing the same story on the "
                  "dummy datapath of a sandbox, with ofproto/trace.\n", flush=True)
            return run_sandbox_story(bindirs, args.tunnel)
        missing = missing_tools(bindirs or ())
        if missing:
            print("pyovs demo: missing tools: " + ", ".join(missing), file=sys.stderr)
            return 1
        if args.clean:
            TunnelDemo(args.dir, prefix=args.prefix, bindirs=bindirs, quiet=True).clean()
            print("pyovs demo: removed what an earlier run left.")
            return 0
        return run_tunnel_demo(args, bindirs)
    except KeyboardInterrupt:
        print("\npyovs demo: interrupted; everything was removed.", file=sys.stderr)
        return 130
    finally:
        for s, h in old.items():
            signal.signal(s, h)


if __name__ == "__main__":
    sys.exit(main())
