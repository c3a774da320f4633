"""pyovs's ovs-dpctl against a running ovs-vswitchd (Debian's real one and
pyovs's, both with a dummy datapath), compared with Debian's real tools.

pyovs's ovs-dpctl runs its commands in the daemon (dpctl/* over the
control socket found through $OVS_RUNDIR/ovs-vswitchd.pid), so for each
command its output must equal what Debian's real ``ovs-appctl
dpctl/COMMAND`` prints from the same daemon, and its error lines what the
daemon says, signed "ovs-dpctl" as the real ovs-dpctl signs them.  What
ovs-dpctl decides before reaching a datapath (options, the command table,
--help, -V, list-commands) is compared with Debian's real ovs-dpctl, which
needs no datapath for it; so are the errors for an unknown datapath (the
real ovs-dpctl, with no kernel datapath here, gives the same one)."""

import os
import re
import signal
import subprocess
import sys

import pytest

from tests.conftest import REAL_VSWITCH_SCHEMA, pyovs_bin, real_bin, run, wait_for

FLOW = "in_port(1),eth(),eth_type(0x0800),ipv4(src=10.0.0.1,frag=no)"
FLOW2 = ("in_port(2),eth(src=00:00:00:00:00:02,dst=00:00:00:00:00:01),"
         "eth_type(0x0806),arp(sip=10.0.0.2,op=1)")


def dpctl_cmd():
    """pyovs's ovs-dpctl (the console script once installed)."""
    exe = pyovs_bin("ovs-dpctl")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "pyovs.cli.ovs_dpctl"]


def no_log(text):
    """TEXT without log lines."""
    return "".join(line for line in text.splitlines(True)
                   if not re.match(r"\d{4}-\d\d-\d\dT", line))


def real_dpctl(*args, env=None):
    """Debian's ovs-dpctl, without its log lines about kernel datapaths."""
    r = run([real_bin("ovs-dpctl"), *args], env=env, timeout=20)
    r.stderr = no_log(r.stderr)
    return r


def no_argv0(text):
    """glibc names the program by argv[0] as typed: drop it."""
    return "".join(line.split(": ", 1)[1] if ": " in line else line
                   for line in text.splitlines(True))


class Switch:
    """KIND's ovsdb-server and ovs-vswitchd (dummy datapath, --pidfile) in
    DIRECTORY; bridge br0 with dummy ports p1 (ofport 1) and p2 (2)."""

    def __init__(self, kind, directory):
        self.kind, self.dir = kind, str(directory)
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir,
                        OVS_DBDIR=self.dir)
        tool = pyovs_bin if kind == "pyovs" else real_bin
        db, self.sock = os.path.join(self.dir, "conf.db"), os.path.join(self.dir, "db.sock")
        run([tool("ovsdb-tool"), "create", db, REAL_VSWITCH_SCHEMA], check=True)
        self.procs = []
        self._spawn(tool("ovsdb-server"), db, "--remote=punix:" + self.sock,
                    "--unixctl=" + os.path.join(self.dir, "db.ctl"))
        wait_for(lambda: os.path.exists(self.sock), timeout=60, what="ovsdb-server")
        self.vsctl("--no-wait", "init")
        self.vswitchd = self._spawn(tool("ovs-vswitchd"), "unix:" + self.sock,
                                    "--enable-dummy=override", "--disable-system",
                                    "--pidfile")
        pidfile = os.path.join(self.dir, "ovs-vswitchd.pid")
        wait_for(lambda: os.path.exists(pidfile) or self.vswitchd.poll() is not None,
                 timeout=60, what="ovs-vswitchd pidfile")
        assert self.vswitchd.poll() is None, self.log("ovs-vswitchd")
        self.ctl = os.path.join(self.dir, "ovs-vswitchd.%d.ctl" % self.vswitchd.pid)
        wait_for(lambda: os.path.exists(self.ctl), timeout=60, what="control socket")
        self.vsctl("add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=dummy",
                   "--", "add-port", "br0", "p1", "--", "set", "Interface", "p1",
                   "type=dummy", "ofport_request=1",
                   "--", "add-port", "br0", "p2", "--", "set", "Interface", "p2",
                   "type=dummy", "ofport_request=2")

    def _spawn(self, *cmd):
        p = subprocess.Popen([*cmd, "--no-chdir", "-vconsole:off",
                              "--log-file=%s/%s.log" % (self.dir, os.path.basename(cmd[0]))],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=self.env)
        self.procs.append(p)
        return p

    def log(self, program):
        """The tail of PROGRAM's log, for failure messages."""
        try:
            with open(os.path.join(self.dir, program + ".log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def vsctl(self, *args):
        r = run([real_bin("ovs-vsctl"), "--db=unix:" + self.sock, "--timeout=60", *args],
                env=self.env, timeout=90)
        assert r.returncode == 0, r.stderr + self.log("ovs-vswitchd")
        return r

    def appctl(self, *args):
        return run([real_bin("ovs-appctl"), "-t", self.ctl, "--timeout=60", *args],
                   env=self.env, timeout=90)

    def dpctl(self, *args):
        return run(dpctl_cmd() + list(args), env=self.env, timeout=90)

    def has(self, command):
        return ("dpctl/" + command + " ") in self.appctl("list-commands").stdout

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture(scope="module", params=["real", "pyovs"])
def switch(request, tmp_path_factory):
    sw = Switch(request.param, tmp_path_factory.mktemp("pb-dpctl-" + request.param))
    request.addfinalizer(sw.stop)
    if not sw.has("show"):
        pytest.skip("%s ovs-vswitchd has no dpctl/* commands" % request.param)
    return sw


@pytest.fixture(scope="module")
def dp(switch):
    """A datapath without a bridge for flow commands, made with ovs-dpctl
    add-dp (a bridge's revalidators delete flows put into its datapath)."""
    if not switch.has("add-dp"):
        pytest.skip("%s ovs-vswitchd has no dpctl/add-dp" % switch.kind)
    r = switch.dpctl("add-dp", "dummy@pbdp", "q1,type=dummy", "q2,type=dummy")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    return "dummy@pbdp"


def same_as_appctl(sw, *args, flags=()):
    """ovs-dpctl [FLAGS] ARGS against ovs-appctl dpctl/ARGS [FLAGS]: the
    daemon's lines, those it signed on stderr re-signed "ovs-dpctl", the
    others on stdout; exit status 1 for an error reply."""
    mine = sw.dpctl(*flags, *args)
    ref = sw.appctl("dpctl/" + args[0], *flags, *args[1:])
    text = ref.stdout if ref.returncode == 0 else ref.stderr.replace(
        "ovs-appctl: %s: server returned an error\n" % sw.ctl, "")
    lines = text.splitlines(True)
    out = "".join(x for x in lines if not x.startswith("ovs-vswitchd: "))
    err = "".join("ovs-dpctl: " + x[14:] for x in lines if x.startswith("ovs-vswitchd: "))
    if ref.returncode and not err:      # not the command's own text (unixctl's)
        out, err = "", "ovs-dpctl: " + text
    assert (mine.returncode, mine.stdout, mine.stderr) == (
        0 if ref.returncode == 0 else 1, out, err)
    return mine


def _used(text):
    return re.sub(r"used:[\d.]+s", "used:X", text)


def test_show_and_dump_dps(switch):
    r = same_as_appctl(switch, "show")
    assert "port 1: p1" in r.stdout and "port 2: p2" in r.stdout
    same_as_appctl(switch, "show", flags=["-s"])
    r = same_as_appctl(switch, "dump-dps")
    assert r.stdout.strip() == "dummy@ovs-dummy"
    same_as_appctl(switch, "show", "dummy@ovs-dummy")


def test_flow_commands(switch, dp):
    r = switch.dpctl("add-flow", dp, FLOW, "2")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert switch.dpctl("add-flow", dp, FLOW2, "1").returncode == 0
    for flags in ([], ["-m"], ["--names"], ["-m", "--no-names"]):
        mine = switch.dpctl(*flags, "dump-flows", dp)
        ref = switch.appctl("dpctl/dump-flows", *flags, dp)
        assert mine.returncode == ref.returncode == 0
        assert _used(mine.stdout) == _used(ref.stdout)
        assert re.search(r"actions:q?2\b", mine.stdout)
    ufid = re.search(r"ufid:([-0-9a-f]+)", switch.dpctl("-m", "dump-flows", dp).stdout)[1]
    r = same_as_appctl(switch, "get-flow", dp, "ufid:" + ufid)
    assert "actions:" in r.stdout
    # The same flow again: the daemon's EEXIST, under ovs-dpctl's name.
    same_as_appctl(switch, "add-flow", dp, FLOW, "2")
    r = switch.dpctl("del-flow", dp, FLOW)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert switch.dpctl("del-flows", dp).returncode == 0
    assert switch.dpctl("dump-flows", dp).stdout == ""


def test_flow_errors(switch):
    """Errors the daemon gives, re-signed (bridge datapath, one of them
    named, as the real daemon has two datapaths once add-dp ran)."""
    dp = "dummy@ovs-dummy"
    same_as_appctl(switch, "del-flow", dp, FLOW)            # no such flow: ENOENT
    same_as_appctl(switch, "mod-flow", dp, FLOW, "1")
    same_as_appctl(switch, "add-flow", dp, "in_port(1),eth_type(0x0806)", "1")
    same_as_appctl(switch, "add-flow", dp, FLOW, "junk")
    same_as_appctl(switch, "get-flow", dp, "ufid:nonsense")
    same_as_appctl(switch, "get-flow", dp, "ufid:9263b78f-81e5-4395-bfbb-4cdf1f1a1791")


def test_mod_flow_options(switch, dp):
    """Options travel in front of the arguments, where the daemon parses
    them (and counts them against the command's 3 arguments at most, so
    with a datapath name OVS's own dpctl/mod-flow refuses them too)."""
    same_as_appctl(switch, "mod-flow", dp, FLOW, "1")            # no such flow
    same_as_appctl(switch, "mod-flow", dp, FLOW, "1", flags=["--may-create"])
    same_as_appctl(switch, "mod-flow", FLOW, "1", flags=["--may-create"])
    switch.dpctl("del-flows", dp)


def test_del_flows_of_empty_datapath(switch):
    r = switch.dpctl("del-flows", "dummy@ovs-dummy")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


@pytest.mark.parametrize("flags", [["--clear"], ["--may-create"], ["-s"], ["-m", "-m"],
                                   ["-sm"], ["--names"], ["--no-names", "-m"]])
def test_options_any_command_takes(switch, flags):
    """OVS's dpctl/* handler takes every option in front of any command's
    arguments (dump-flows ignores --clear and --may-create)."""
    r = same_as_appctl(switch, "dump-flows", "dummy@ovs-dummy", flags=flags)
    assert (r.returncode, r.stderr) == (0, "")


@pytest.mark.parametrize("command", ["dump-flows", "show", "del-flows"])
@pytest.mark.parametrize("flag", ["--bogus", "-x", "-mz"])
def test_unrecognized_option(switch, command, flag):
    """An unknown option in front of a command is refused by the handler,
    with OVS's text, whatever the command."""
    r = switch.appctl("dpctl/" + command, flag)
    bad = flag if flag.startswith("--") else "-" + flag.lstrip("-m")[0]
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == "Unrecognized option " + bad


def test_unknown_datapath_as_real_dpctl(switch):
    """The real ovs-dpctl (no kernel datapaths here) says the same."""
    for args in (["dump-flows", "nosuch"], ["dump-flows", "system@nosuch"]):
        mine, real = switch.dpctl(*args), real_dpctl(*args)
        assert (mine.returncode, mine.stdout, mine.stderr) == (1, "", real.stderr)
        assert real.returncode == 1


@pytest.mark.parametrize("args", [
    [], ["bogus"], ["add-dp"], ["del-dp", "a", "b"], ["add-flow", "x"],
    ["add-flow", "a", "b", "c", "d"], ["dump-flows", "1", "2", "3", "4", "5", "6", "7"],
    ["get-flow"], ["cache-set-size", "a"], ["--read-only", "add-flow", "a", "b"],
    ["--read-only", "del-flows"], ["-t", "abc", "show"], ["--timeout=0", "show"],
    ["--help"], ["-V"], ["-o"], ["list-commands"], ["help"],
])
def test_local_checks_as_real_dpctl(switch, args):
    mine, real = switch.dpctl(*args), real_dpctl(*args, env=switch.env)
    assert (mine.returncode, mine.stdout, mine.stderr) == (
        real.returncode, real.stdout, real.stderr)


@pytest.mark.parametrize("args", [["--bogus"], ["-x"], ["-t"]])
def test_bad_options_as_real_dpctl(args):
    mine = run(dpctl_cmd() + args, timeout=20)
    real = real_dpctl(*args)
    assert (mine.returncode, mine.stdout) == (real.returncode, real.stdout) == (1, "")
    assert no_argv0(mine.stderr) == no_argv0(real.stderr)


def test_add_flows_file(switch, tmp_path):
    """A relative FILE is read by the daemon from its absolute path; a bad
    line is the daemon's signed complaint, on stderr."""
    if not switch.has("add-flows"):
        r = switch.dpctl("add-flows", "flows.txt")
        assert (r.returncode, r.stdout) == (1, "")
        assert "'add-flows' command not supported by ovs-vswitchd" in r.stderr
        return
    (tmp_path / "flows.txt").write_text("junk\n")
    mine = subprocess.run(dpctl_cmd() + ["add-flows", "dummy@ovs-dummy", "flows.txt"],
                          env=switch.env, timeout=90, cwd=str(tmp_path),
                          capture_output=True, text=True)
    ref = switch.appctl("dpctl/add-flows", "dummy@ovs-dummy", str(tmp_path / "flows.txt"))
    assert ref.stdout.startswith("ovs-vswitchd: ")
    assert (mine.returncode, mine.stdout, mine.stderr) == (
        0, "", "ovs-dpctl: " + ref.stdout[len("ovs-vswitchd: "):])


def test_command_the_daemon_lacks(switch):
    if switch.has("ct-get-maxconns"):
        same_as_appctl(switch, "ct-get-maxconns")
    else:
        r = switch.dpctl("ct-get-maxconns")
        assert (r.returncode, r.stdout) == (1, "")
        assert r.stderr == ("ovs-dpctl: 'ct-get-maxconns' command not supported "
                            "by ovs-vswitchd\n")


def test_no_daemon(tmp_path):
    env = dict(os.environ, OVS_RUNDIR=str(tmp_path))
    r = run(dpctl_cmd() + ["show"], env=env, timeout=20)
    assert r.returncode == 1 and r.stdout == ""
    assert no_log(r.stderr) == ('ovs-dpctl: cannot read pidfile "%s/ovs-vswitchd.pid" '
                        "(No such file or directory)\n" % tmp_path)


PARSE_ACTIONS = [
    "1,2", "drop", "push_vlan(vid=5,pcp=0),3", "pop_vlan,set(eth(src=00:01:02:03:04:05,"
    "dst=00:00:00:00:00:01)),1", "set(ipv4(src=1.2.3.4))",
    "set(ipv4(src=1.2.3.4/255.255.255.0))", "set(tcp(src=1))", "userspace(pid=1)",
    "clone(1),2", "sample(sample=50.0%,actions(1))", "trunc(100),1",
    "check_pkt_len(size=200,gt(1),le(2))", "tnl_pop(4)", "junk", "1,junk", "",
    "set(tunnel(tun_id=0x1,dst=1.1.1.1))", "set(tunnel(dst=1.1.1.1))",
    "set(tunnel(tun_id=0x1,dst=1.1.1.1,flags(df)))", "set(tunnel(dst=1.1.1.1,flags(df|csum)))",
]


@pytest.mark.parametrize("actions", PARSE_ACTIONS)
def test_parse_actions_as_real_dpctl(actions):
    """parse-actions runs in ovs-dpctl itself, as in OVS: the same text."""
    mine = run(dpctl_cmd() + ["parse-actions", actions, "2"], timeout=20)
    real = real_dpctl("parse-actions", actions, "2")
    assert (mine.returncode, mine.stdout, mine.stderr) == (
        real.returncode, real.stdout, real.stderr)
