"""Every pyovs executable's --help is Debian's Open vSwitch 3.1's, line for
line.  Both run with the same OVS_RUNDIR/OVS_LOGDIR/OVS_DBDIR, so the
default paths they print are the same; nothing else is normalised."""

import os

import pytest

from tests.conftest import REAL, VENV_BIN, run

EXECUTABLES = sorted(REAL)


@pytest.mark.interop
@pytest.mark.parametrize("name", EXECUTABLES)
def test_help_is_ovs(name, tmp_path):
    real = REAL[name]
    if not os.path.exists(real):
        pytest.skip(f"{real} not installed")
    ours = VENV_BIN / name
    if not ours.exists():
        pytest.skip(f"pyovs has no {name} yet")
    env = dict(os.environ)
    for var in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR"):
        env[var] = str(tmp_path / var.lower())
    want = run([real, "--help"], env=env)
    got = run([str(ours), "--help"], env=env)
    assert (got.returncode, got.stderr) == (want.returncode, want.stderr)
    assert got.stdout.splitlines() == want.stdout.splitlines()
    assert got.stdout == want.stdout
