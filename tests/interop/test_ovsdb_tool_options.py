"""ovsdb-tool and ovsdb-client parse their command lines as GNU getopt_long
does for OVS (options after operands, unique prefixes, glibc's complaints),
compared with Debian's tools."""

import subprocess

import pytest

from tests.conftest import pyovs_bin, real_bin


@pytest.mark.parametrize("tool", ["ovsdb-tool", "ovsdb-client"])
@pytest.mark.parametrize("argv", [
    ["db-name", "/nonexistent/x.db", "-vbogus"],
    ["list-dbs", "unix:/nonexistent/x", "--bogus"],
    ["--p", "list-dbs"],
    ["--no", "list-dbs"],
    ["schema-name", "/nonexistent/s", "-x"],
])
def test_tools_parse_options_after_operands_as_ovs(tool, argv, tmp_path):
    results = []
    for exe in (real_bin(tool), pyovs_bin(tool)):
        p = subprocess.run([exe] + argv, capture_output=True, text=True,
                           timeout=30, cwd=tmp_path)
        # getopt's complaints name the program as argv[0].
        results.append((p.returncode, p.stdout, p.stderr.replace(exe, tool)))
    assert results[0] == results[1]
