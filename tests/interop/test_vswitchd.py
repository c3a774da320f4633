"""pyovs's ovs-vswitchd driven by Debian's real ovs-vsctl, and compared
with Debian's real ovs-vswitchd (--enable-dummy=override, dummy datapath)
running the same configuration on the same kind of server (pyovs's).

What is inherently random is normalised: UUIDs, MAC addresses (the bridge's
own is random; dummy ports are numbered by a process-wide counter) and the
datapath ID (the bridge's MAC)."""

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import pyovs_bin, real_bin, run, wait_for
from tests.daemons.test_ovsdb_server_util import start_server


class Vswitchd:
    """A running ovs-vswitchd (pyovs's or the real one) on REMOTE."""

    def __init__(self, kind, directory, remote):
        self.kind = kind
        self.dir = Path(directory)
        self.remote = remote
        self.ctl = str(self.dir / "vswitchd.ctl")
        self.log = str(self.dir / "vswitchd.log")
        self.env = dict(os.environ, OVS_RUNDIR=str(self.dir),
                        OVS_LOGDIR=str(self.dir), OVS_DBDIR=str(self.dir))
        exe = pyovs_bin("ovs-vswitchd") if kind == "pyovs" else real_bin("ovs-vswitchd")
        cmd = [exe, remote, "--enable-dummy=override", "--disable-system",
               "--no-chdir", "--unixctl=" + self.ctl, "--log-file=" + self.log,
               "-vconsole:off"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=self.env)
        wait_for(lambda: os.path.exists(self.ctl) or self.proc.poll() is not None,
                 timeout=20, what="ovs-vswitchd control socket")
        assert self.proc.poll() is None, self.proc.stderr.read()

    def appctl(self, *args):
        return run([real_bin("ovs-appctl"), "-t", self.ctl, *args], timeout=20,
                   env=self.env)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.appctl("exit")
                self.proc.wait(timeout=10)
            except Exception:
                pass
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


def start_switch(request, kind, directory):
    """pyovs's ovsdb-server plus KIND's ovs-vswitchd in DIRECTORY."""
    srv = start_server(request, "pyovs", directory)
    run([real_bin("ovs-vsctl"), "--no-wait", "--db=" + srv.remote, "init"], check=True)
    sw = Vswitchd(kind, directory, srv.remote)
    request.addfinalizer(sw.stop)
    sw.srv = srv
    return sw


def vsctl(sw, *args, wait=True, check=True):
    cmd = [real_bin("ovs-vsctl"), "--db=" + sw.remote, "--timeout=20"]
    if not wait:
        cmd.append("--no-wait")
    r = run(cmd + list(args), timeout=30, env=sw.env)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def dump(sw, table, columns):
    """{name (or "_" for Open_vSwitch): {column: value}} as ovs-vsctl's
    --format=json prints them."""
    cols = columns if table == "Open_vSwitch" else ["name"] + columns
    r = vsctl(sw, "--format=json", "--columns=" + ",".join(cols), "list", table)
    j = json.loads(r.stdout)
    out = {}
    for row in j["data"]:
        d = dict(zip(j["headings"], row))
        out[d.pop("name", "_")] = d
    return out


_MAC = re.compile(r'[0-9a-f]{2}(:[0-9a-f]{2}){5}')

IFACE_COLS = ["ofport", "ofport_request", "error", "admin_state", "link_state",
              "link_resets", "link_speed", "duplex", "mtu", "ifindex",
              "mac_in_use", "statistics", "type", "status"]
BRIDGE_COLS = ["datapath_id", "datapath_version", "datapath_type", "status"]
OVS_COLS = ["cur_cfg", "next_cfg", "datapath_types", "dpdk_initialized",
            "dpdk_version", "ovs_version", "db_version", "system_type",
            "system_version"]
#: Interface counters both switches' dummy ports report (the real dummy
#: adds per-queue and "custom" counters, pyovs's dummy the error/drop ones).
COMMON_STATS = {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes"}


def normalise(state):
    text = json.dumps(state, sort_keys=True)
    text = _MAC.sub("MAC", text)
    text = re.sub(r'"[0-9a-f]{16}"', '"DPID"', text)
    state = json.loads(text)
    for row in state["Interface"].values():
        st = row.get("statistics")
        if st and st[0] == "map":
            row["statistics"] = ["map", [kv for kv in st[1] if kv[0] in COMMON_STATS]]
    return state


def snapshot(sw):
    return normalise({"Open_vSwitch": dump(sw, "Open_vSwitch", OVS_COLS),
                      "Bridge": dump(sw, "Bridge", BRIDGE_COLS),
                      "Interface": dump(sw, "Interface", IFACE_COLS)})


def scenario(sw):
    """The configuration steps both switches go through; returns what each
    step printed and the status snapshots along the way."""
    out = []

    def step(*args, wait=True):
        r = vsctl(sw, *args, wait=wait, check=False)
        out.append((args, r.returncode, r.stdout,
                    r.stderr.replace(str(sw.dir), "DIR")))

    step("add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=dummy")
    step("add-port", "br0", "p1", "--", "set", "Interface", "p1", "type=dummy")
    step("add-port", "br0", "p2", "--", "set", "Interface", "p2", "type=dummy",
         "ofport_request=7")
    step("add-port", "br0", "i1", "--", "set", "Interface", "i1", "type=internal")
    step("add-port", "br0", "bad", "--", "set", "Interface", "bad", "type=nosuch")
    out.append(snapshot(sw))
    step("del-port", "p1")
    step("add-port", "br0", "p3", "--", "set", "Interface", "p3", "type=dummy")
    step("set", "Interface", "p3", "ofport_request=20")
    step("set", "Interface", "bad", "type=dummy")
    step("add-br", "br1", "--", "set", "Bridge", "br1", "datapath_type=dummy")
    step("add-port", "br1", "q1", "--", "set", "Interface", "q1", "type=dummy",
         wait=False)
    step("set", "Open_vSwitch", ".", "external_ids:k=v")
    out.append(snapshot(sw))
    step("del-br", "br0")
    out.append(snapshot(sw))
    return out


def test_status_matches_real_vswitchd(request, tmp_path):
    """The same ovs-vsctl session against pyovs's and the real ovs-vswitchd
    prints the same, assigns the same ofports and leaves the same status
    columns (bad type -> OVS's error text, ofport -1; ofport_request;
    rotating ofport allocation; cur_cfg; datapath_version; ...)."""
    results = {}
    for kind in ("real", "pyovs"):
        sw = start_switch(request, kind, tmp_path / kind)
        results[kind] = scenario(sw)
        assert sw.alive()
    real, ours = results["real"], results["pyovs"]
    for a, b in zip(real, ours):
        assert a == b
    assert len(real) == len(ours)


def test_iface_types_are_real_ones(request, tmp_path):
    sw = start_switch(request, "pyovs", tmp_path)
    vsctl(sw, "add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=dummy")
    ours = json.loads(vsctl(sw, "--format=json", "--columns=iface_types", "list",
                            "Open_vSwitch").stdout)["data"][0][0][1]
    real = {"afxdp", "afxdp-nonpmd", "bareudp", "dummy", "dummy-internal",
            "dummy-pmd", "erspan", "geneve", "gre", "gtpu", "internal",
            "ip6erspan", "ip6gre", "lisp", "patch", "stt", "system", "tap",
            "vxlan"}
    assert {"dummy", "internal", "system", "patch"} <= set(ours) <= real


def test_bad_configs_do_not_kill_it(request, tmp_path):
    """Bridges nobody references, odd names,
    unknown types and bad options: the switch keeps running and keeps
    completing ovs-vsctl's waits."""
    sw = start_switch(request, "pyovs", tmp_path)
    vsctl(sw, "add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=dummy")
    vsctl(sw, "--", "create", "Bridge", "name=orphan")
    vsctl(sw, "--", "--id=@b", "create", "Bridge", "name=a/b",
          "--", "add", "Open_vSwitch", ".", "bridges", "@b")
    r = vsctl(sw, "add-port", "br0", "m1", "--", "set", "Interface", "m1",
              "type=dummy", "mtu_request=1", check=False)
    assert r.returncode == 0, r.stderr
    r = vsctl(sw, "add-port", "br0", "x1", "--", "set", "Interface", "x1",
              "type=patch", check=False)
    vsctl(sw, "add-port", "br0", "ok", "--", "set", "Interface", "ok", "type=dummy")
    assert vsctl(sw, "get", "Interface", "ok", "ofport").stdout.strip() != "-1"
    cur, nxt = vsctl(sw, "get", "Open_vSwitch", ".", "cur_cfg", "next_cfg").stdout.split()
    assert cur == nxt
    assert sw.alive()
    assert sw.appctl("version").returncode == 0


def test_appctl_commands(request, tmp_path):
    sw = start_switch(request, "pyovs", tmp_path)
    r = sw.appctl("version")
    assert r.stdout == "ovs-vswitchd (Open vSwitch) 3.1.0\n"
    cmds = sw.appctl("list-commands").stdout
    for name in ("exit", "bridge/reconnect", "vlog/set", "vlog/list", "version"):
        assert re.search(r"^  %s\b" % re.escape(name), cmds, re.M), name
    vsctl(sw, "add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=dummy")
    assert sw.appctl("bridge/reconnect").returncode == 0
    assert sw.appctl("bridge/reconnect", "br0").returncode == 0
    r = sw.appctl("bridge/reconnect", "nosuch")
    assert r.returncode == 2 and r.stderr.startswith("Unknown bridge")  # as the real one
    r = sw.appctl("exit", "--cleanup")
    assert r.returncode == 0
    assert sw.proc.wait(timeout=10) == 0


@pytest.mark.parametrize("kind", ["real", "pyovs"])
def test_version_text(kind, request, tmp_path):
    """`ovs-appctl version` answers as the real daemon (its version aside)."""
    sw = start_switch(request, kind, tmp_path)
    text = sw.appctl("version").stdout
    assert re.fullmatch(r"ovs-vswitchd \(Open vSwitch\) 3\.1\.\d+\n", text), text


def test_link_and_mtu_follow_the_device(request, tmp_path):
    """netdev-dummy/set-admin-state and mtu_request show in the Interface
    row as with the real switch (admin_state, link_state, link_resets, mtu;
    a refused MTU is only a log line)."""
    results = {}
    for kind in ("real", "pyovs"):
        sw = start_switch(request, kind, tmp_path / kind)
        vsctl(sw, "add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=dummy",
              "--", "add-port", "br0", "p1", "--", "set", "Interface", "p1", "type=dummy")
        seen = []
        for state in ("down", "up"):
            r = sw.appctl("netdev-dummy/set-admin-state", "p1", state)
            assert r.returncode == 0, r.stderr
            wait_for(lambda: vsctl(sw, "get", "Interface", "p1", "link_state")
                     .stdout.strip() == state, timeout=20, what="link_state " + state)
            seen.append(vsctl(sw, "get", "Interface", "p1", "admin_state",
                              "link_state", "link_resets").stdout)
        vsctl(sw, "set", "Interface", "p1", "mtu_request=2000")
        wait_for(lambda: vsctl(sw, "get", "Interface", "p1", "mtu").stdout.strip()
                 == "2000", timeout=20, what="mtu 2000")
        vsctl(sw, "set", "Interface", "p1", "mtu_request=100000")
        seen.append(vsctl(sw, "get", "Interface", "p1", "mtu", "error").stdout)
        assert sw.alive()
        results[kind] = seen
    assert results["pyovs"] == results["real"]


def test_restart_keeps_ofports_and_second_daemon_stands_by(request, tmp_path):
    """A restarted switch gives interfaces the ofports their rows show (OVS's
    iface_pick_ofport), and a second ovs-vswitchd on the same database waits
    for the "ovs_vswitchd" lock without touching anything."""
    sw = start_switch(request, "pyovs", tmp_path)
    vsctl(sw, "add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=dummy")
    for name in ("p1", "p2", "p3"):
        vsctl(sw, "add-port", "br0", name, "--", "set", "Interface", name, "type=dummy")
    vsctl(sw, "del-port", "p1")
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    other = Vswitchd("pyovs", second_dir, sw.remote)
    request.addfinalizer(other.stop)

    def stands_by():
        with open(other.log) as f:
            return "another ovs-vswitchd process is running" in f.read()
    wait_for(stands_by, timeout=20, what="the second daemon to stand by")
    sw.stop()
    assert sw.proc.returncode == 0
    # The stand-by takes over once the lock is free and keeps the numbers.
    vsctl(sw, "add-port", "br0", "p4", "--", "set", "Interface", "p4", "type=dummy")
    after = vsctl(sw, "--columns=name,ofport", "list", "Interface").stdout
    ofports = {}
    for block in after.strip().split("\n\n"):
        lines = dict((k.strip(), v.strip()) for k, v in
                     (line.split(":", 1) for line in block.splitlines()))
        ofports[lines["name"]] = int(lines["ofport"])
    assert ofports == {"br0": 65534, "p2": 2, "p3": 3, "p4": 1}


def test_detach_pidfile_and_default_target(request, tmp_path):
    """--detach --pidfile: the parent returns once the daemon is ready;
    Debian's ovs-appctl finds it by its default name (OVS_RUNDIR's pidfile)."""
    srv = start_server(request, "pyovs", tmp_path)
    env = dict(os.environ, OVS_RUNDIR=str(tmp_path), OVS_LOGDIR=str(tmp_path),
               OVS_DBDIR=str(tmp_path))
    appctl = real_bin("ovs-appctl")
    r = run([pyovs_bin("ovs-vswitchd"), srv.remote, "--detach", "--pidfile",
             "--no-chdir", "--log-file", "--mlockall", "--disable-system",
             "--enable-dummy", "-vconsole:off"], timeout=30, env=env)
    assert r.returncode == 0, r.stderr
    pid = int((tmp_path / "ovs-vswitchd.pid").read_text())

    def stop():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    request.addfinalizer(stop)
    r = run([appctl, "version"], timeout=20, env=env)
    assert r.returncode == 0 and r.stdout.startswith("ovs-vswitchd (Open vSwitch)")
    run([real_bin("ovs-vsctl"), "--db=" + srv.remote, "--timeout=20", "add-br", "br0",
         "--", "set", "Bridge", "br0", "datapath_type=dummy"], check=True, env=env)
    assert run([appctl, "exit"], timeout=20, env=env).returncode == 0
    wait_for(lambda: not os.path.exists("/proc/%d" % pid)
             or open("/proc/%d/stat" % pid).read().split()[2] == "Z",
             timeout=20, what="ovs-vswitchd exit")
    assert (tmp_path / "ovs-vswitchd.log").exists()
    wait_for(lambda: not (tmp_path / "ovs-vswitchd.pid").exists(), timeout=20,
             what="pidfile removed")


@pytest.mark.parametrize("args", [["--foo"], ["a", "b"], ["--enable-dummy=bogus"]])
def test_command_line_errors_match(args, tmp_path):
    """Bad command lines: the real one's exit status and message."""
    outs = []
    for exe in (real_bin("ovs-vswitchd"), pyovs_bin("ovs-vswitchd")):
        env = dict(os.environ, OVS_RUNDIR=str(tmp_path), OVS_LOGDIR=str(tmp_path))
        r = run([exe, *args, "-vconsole:off"], timeout=20, env=env)
        outs.append((r.returncode, r.stderr.replace(exe, "PROG")))
    assert outs[0] == outs[1]
    assert outs[0][0] == 1


@pytest.mark.parametrize("kind", ["real", "pyovs"])
def test_without_enable_dummy(kind, request, tmp_path):
    """Without --enable-dummy there is no dummy datapath type nor dummy
    interface type: the same columns and error with both switches.  The
    bridge's local port is a tap (root only), so as root the switch runs in
    a private network namespace (prefix "pd") that takes its taps along
    when it is deleted."""
    srv = start_server(request, "pyovs", tmp_path)
    env = dict(os.environ, OVS_RUNDIR=str(tmp_path), OVS_LOGDIR=str(tmp_path),
               OVS_DBDIR=str(tmp_path))
    run([real_bin("ovs-vsctl"), "--no-wait", "--db=" + srv.remote, "init"], check=True)
    exe = pyovs_bin("ovs-vswitchd") if kind == "pyovs" else real_bin("ovs-vswitchd")
    prefix = []
    if os.geteuid() == 0:
        ns = "pd-%d-nodummy-%s" % (os.getpid(), kind)
        if run(["ip", "netns", "add", ns], timeout=10).returncode != 0:
            pytest.skip("cannot create a network namespace")
        request.addfinalizer(lambda: run(["ip", "netns", "del", ns], timeout=10))
        prefix = ["ip", "netns", "exec", ns]
    ctl = str(tmp_path / "v.ctl")
    proc = subprocess.Popen(prefix + [exe, srv.remote, "--disable-system", "--no-chdir",
                                      "--unixctl=" + ctl, "-vconsole:off"], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)

    def stop():
        run([real_bin("ovs-appctl"), "-t", ctl, "exit", "--cleanup"], timeout=20)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
    request.addfinalizer(stop)
    vs = [real_bin("ovs-vsctl"), "--db=" + srv.remote, "--timeout=20"]
    # The local port is internal whatever its type says.
    run(vs + ["add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=netdev",
              "--", "set", "Interface", "br0", "type=dummy",
              "--", "add-port", "br0", "d1", "--", "set", "Interface", "d1",
              "type=dummy"], env=env)
    r = run(vs + ["get", "Open_vSwitch", ".", "datapath_types"], env=env)
    assert r.stdout.strip() == "[netdev]"
    r = run(vs + ["get", "Interface", "d1", "error", "ofport"], env=env)
    assert r.stdout.split("\n")[:2] == [
        '"could not open network device d1 (Address family not supported by protocol)"',
        "-1"]
    if prefix:
        r = run(vs + ["get", "Interface", "br0", "error", "ofport"], env=env)
        assert r.stdout.split() == ["[]", "65534"]


def test_bridge_hwaddr_and_datapath_id(request, tmp_path):
    """other_config:hwaddr sets the bridge's address and so its datapath
    ID; other_config:datapath-id overrides the ID; a multicast hwaddr is
    refused (the address stays random): as the real switch."""
    results = {}
    for kind in ("real", "pyovs"):
        sw = start_switch(request, kind, tmp_path / kind)
        vsctl(sw, "add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=dummy",
              "--", "add-port", "br0", "p1", "--", "set", "Interface", "p1", "type=dummy")
        seen = []

        def look():
            # Written with cur_cfg, so ovs-vsctl's wait covers it.
            seen.append(vsctl(sw, "get", "Interface", "br0", "mac_in_use", "--",
                              "get", "Bridge", "br0", "datapath_id").stdout)
        vsctl(sw, "set", "Bridge", "br0", "other_config:hwaddr=00:11:22:33:44:55")
        look()
        vsctl(sw, "set", "Bridge", "br0", "other_config:datapath-id=0000000000000abc")
        look()
        vsctl(sw, "remove", "Bridge", "br0", "other_config", "datapath-id")
        look()
        vsctl(sw, "set", "Bridge", "br0", "other_config:hwaddr=01:00:00:00:00:01")
        look()
        seen[-1] = _MAC.sub("MAC", re.sub(r'"[0-9a-f]{16}"', "DPID", seen[-1]))
        assert "01:00:00:00:00:01" not in seen[-1]
        results[kind] = seen
    assert results["pyovs"] == results["real"]
