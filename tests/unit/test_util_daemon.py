"""pyovs.util.daemon and dirs: options as OVS daemons read them, defaults."""

import argparse

import pytest

from pyovs.util import daemon, dirs, vlog


@pytest.fixture
def parser():
    p = argparse.ArgumentParser(prog="test-daemon")
    p.add_argument("databases", nargs="*")
    daemon.add_daemon_options(p)
    return p


@pytest.fixture(autouse=True)
def restore():
    state = dict(daemon._state)
    levels = {name: list(lv) for name, lv in vlog._modules.items()}
    vstate = dict(vlog._state)
    yield
    daemon._state.update(state)
    for name, lv in levels.items():
        vlog._modules[name][:] = lv
    if vlog._state["log_file"] not in (None, vstate["log_file"]):
        vlog._state["log_file"].close()
    vlog._state.update(vstate)


@pytest.mark.parametrize("argv, dbs, pidfile, log_file, verbose", [
    # Optional arguments must be attached, as with getopt_long.
    (["--pidfile", "conf.db"], ["conf.db"], "", None, None),
    (["--pidfile=/x.pid", "a", "b"], ["a", "b"], "/x.pid", None, None),
    (["-v", "--log-file", "db"], ["db"], None, "", [""]),
    (["-vjsonrpc:dbg", "--verbose=console:off"], [], None, None,
     ["jsonrpc:dbg", "console:off"]),
    (["--", "-v"], ["-v"], None, None, None),
    (["--pid", "conf.db", "--log-f"], ["conf.db"], "", "", None),
])
def test_optional_arguments_attach(parser, argv, dbs, pidfile, log_file, verbose):
    args = parser.parse_args(argv)
    assert (args.databases, args.pidfile, args.log_file, args.verbose) == \
        (dbs, pidfile, log_file, verbose)


def test_version(parser, capsys):
    with pytest.raises(SystemExit) as e:
        parser.parse_args(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out == "test-daemon (Open vSwitch) 3.1.0\n"


def test_apply_defaults_from_rundir_and_logdir(parser, ovs_dirs):
    args = parser.parse_args(["--pidfile", "--log-file", "-vconsole:off",
                              "--unixctl=my.ctl", "--detach", "--no-chdir"])
    daemon.apply_daemon_options(args, "test-daemon")
    assert daemon.pidfile_name() == str(ovs_dirs / "test-daemon.pid")
    assert vlog.log_file_name() == str(ovs_dirs / "test-daemon.log")
    assert "|vlog|INFO|opened log file" in (ovs_dirs / "test-daemon.log").read_text()
    assert vlog.get_level("vlog", "console") == "OFF"
    assert daemon.unixctl_path() == "my.ctl" and daemon.is_detached()
    args = parser.parse_args(["--pidfile=rel.pid"])
    daemon.apply_daemon_options(args, "test-daemon")
    assert daemon.pidfile_name() == str(ovs_dirs / "rel.pid")


def test_dirs_defaults_are_debians(monkeypatch):
    for var in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_PKGDATADIR"):
        monkeypatch.delenv(var, raising=False)
    assert (dirs.rundir(), dirs.logdir(), dirs.dbdir(), dirs.pkgdatadir()) == \
        ("/var/run/openvswitch", "/var/log/openvswitch", "/etc/openvswitch",
         "/usr/share/openvswitch")
    monkeypatch.setenv("OVS_DBDIR", "/tmp/x")
    assert daemon.dbdir() == "/tmp/x"


def test_read_pidfile_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        daemon.read_pidfile(str(tmp_path / "none.pid"))
    (tmp_path / "unlocked.pid").write_text("1\n")
    with pytest.raises(ProcessLookupError):
        daemon.read_pidfile(str(tmp_path / "unlocked.pid"))
