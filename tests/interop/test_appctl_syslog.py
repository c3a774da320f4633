"""vlog's syslog datagrams (--syslog-method=udp:..., --syslog-target=...)
compared with what Debian's real ovsdb-server sends.  Ports 16020-16029."""

import re
import socket
import sys

import pytest

from tests.conftest import REAL_VSWITCH_SCHEMA, real_bin, run
from tests.interop.test_appctl import _kill_pidfile

pytestmark = pytest.mark.interop


def _receiver(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(10)
    return s


def _first_opened_log_file(sock):
    while True:
        data = sock.recv(65536)
        if b"opened log file" in data:
            return data


def _normalise(data, program, logfile):
    text = data.decode("utf-8")
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "TIME", text)
    text = text.replace(program, "PROGRAM").replace(logfile, "LOGFILE")
    # The RFC 5424 PID field: the message is logged before --detach forks.
    return re.sub(r"^(<\d+>1 TIME \S+ PROGRAM )\d+ ", r"\1PID ", text)


@pytest.mark.parametrize("option, ports", [
    ("--syslog-method=udp:127.0.0.1:%d", (16020, 16021)),
    ("--syslog-target=127.0.0.1:%d", (16022, 16023)),
])
def test_syslog_datagrams_match_real(ovs_dirs, option, ports):
    real_port, our_port = ports
    got = {}
    real_sock, our_sock = _receiver(real_port), _receiver(our_port)
    try:
        db = ovs_dirs / "conf.db"
        run([real_bin("ovsdb-tool"), "create", str(db), REAL_VSWITCH_SCHEMA], check=True)
        real_log = str(ovs_dirs / "real.log")
        r = run([real_bin("ovsdb-server"), str(db), option % real_port, "--detach",
                 "--no-chdir", "--pidfile=%s" % (ovs_dirs / "real.pid"),
                 "--unixctl=%s" % (ovs_dirs / "real.ctl"), "--log-file=%s" % real_log],
                timeout=30)
        assert r.returncode == 0, r.stderr
        got["real"] = _normalise(_first_opened_log_file(real_sock), "ovsdb-server",
                                 real_log)
        our_log = str(ovs_dirs / "ours.log")
        r = run([sys.executable, "-m", "pyovs.util.unixctl_test_daemon", option % our_port,
                 "--detach", "--no-chdir", "--pidfile=%s" % (ovs_dirs / "ours.pid"),
                 "--max-lifetime=60", "--log-file=%s" % our_log], timeout=30)
        assert r.returncode == 0, r.stderr
        got["ours"] = _normalise(_first_opened_log_file(our_sock), "test-unixctl",
                                 our_log)
    finally:
        real_sock.close()
        our_sock.close()
        _kill_pidfile(ovs_dirs / "real.pid")
        _kill_pidfile(ovs_dirs / "ours.pid")
    assert got["ours"] == got["real"]
    assert "opened log file LOGFILE" in got["ours"]
