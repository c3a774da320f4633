"""`pyovs demo` is the README's first command: it must run end to end."""

import re
from pathlib import Path

from tests.conftest import pyovs_bin, run


def test_demo_runs_and_cleans_up():
    proc = run([pyovs_bin("pyovs"), "demo"], timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    # The bridge configured through the server is read back by ovsdb-client.
    assert re.search(r"^br0\s+\[[0-9a-f-]{36}, [0-9a-f-]{36}\]$", out, re.M), out
    assert "Open_vSwitch\n_Server\n" in out
    # The transaction is in the log on disk with its comment.
    assert re.search(r'^record 1: \S+ \S+ "pyovs demo: add-br br0', out, re.M), out
    workdir = re.search(r"database in (\S+)", out).group(1)
    # The server was stopped: its pidfile is gone.
    assert not list(Path(workdir).glob("*.pid"))
