"""Database files written by pyovs and by the real Open vSwitch, compared.

The same transactions (rows inserted with explicit UUIDs, so both sides
produce the same rows) are committed by Debian's ovsdb-tool into one file
and by pyovs's into another.  The files must hold the same records, byte for
byte apart from "_date"; each tool must read the other's file exactly as its
own (query, show-log); compaction and conversion must agree; and the real
ovsdb-server must serve a file written by pyovs.
"""

import json
import re
import shutil

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.conftest import REAL_VSWITCH_SCHEMA, pyovs_bin, real_bin, run, wait_for
from tests.interop.test_ovsdb_tool import TEST_SCHEMA

pytestmark = pytest.mark.interop

R1 = "11111111-0000-4000-8000-000000000001"
R2 = "11111111-0000-4000-8000-000000000002"
K1 = "22222222-0000-4000-8000-000000000001"
K2 = "22222222-0000-4000-8000-000000000002"

TRANSACTIONS = [
    ["Test",
     {"op": "insert", "table": "Kid", "uuid": K1,
      "row": {"n": 1, "tags": ["map", [["a", "b"]]]}},
     {"op": "insert", "table": "Root", "uuid": R1,
      "row": {"name": "one", "i": 7, "r": 2.5, "b": True, "u": ["uuid", K1],
              "s": ["set", ["x", "y"]], "m": ["map", [["k", 1], ["l", 2]]],
              "kids": ["uuid", K1], "eph": 3, "opt": "a"}},
     {"op": "comment", "comment": "first"}],
    ["Test",
     {"op": "insert", "table": "Root", "uuid": R2, "row": {"name": "two"}},
     {"op": "insert", "table": "Kid", "uuid": K2, "row": {"n": 2}},
     {"op": "mutate", "table": "Root", "where": [["_uuid", "==", ["uuid", R2]]],
      "mutations": [["kids", "insert", ["uuid", K2]]]}],
    ["Test",
     {"op": "mutate", "table": "Root", "where": [["name", "==", "one"]],
      "mutations": [["s", "delete", "x"], ["s", "insert", "z"],
                    ["m", "delete", ["set", ["k"]]],
                    ["m", "insert", ["map", [["n", 3]]]], ["i", "+=", 1]]},
     {"op": "update", "table": "Root", "where": [["name", "==", "two"]],
      "row": {"r": 0.1, "opt": "c", "eph": 9}}],
    ["Test",
     {"op": "update", "table": "Root", "where": [], "row": {"eph": 1}}],
    ["Test",
     {"op": "update", "table": "Root", "where": [["name", "==", "one"]],
      "row": {"kids": ["set", []], "m": ["map", [["n", 4]]], "b": False}},
     {"op": "update", "table": "Kid", "where": [["n", "==", 2]],
      "row": {"tags": ["map", [["p", "q"], ["r", "s"]]]}}],
    ["Test",
     {"op": "delete", "table": "Root", "where": [["name", "==", "two"]]},
     {"op": "comment", "comment": "bye"}],
    ["Test",
     {"op": "insert", "table": "Root", "uuid": "11111111-0000-4000-8000-00000000000f",
      "row": {"name": "bad"}},
     {"op": "abort"}],
]


def in_dir(cmd, cwd):
    import os
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return run(cmd)
    finally:
        os.chdir(old)


def tool(which, *args, cwd):
    exe = real_bin("ovsdb-tool") if which == "real" else pyovs_bin("ovsdb-tool")
    return in_dir([exe, *args], cwd)


def wait_listening(path):
    """Waits until something accepts connections on Unix socket PATH (the
    file appears at bind(), before listen())."""
    import socket

    def accepts():
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(str(path))
                return True
            except OSError:
                return False
    wait_for(accepts, what="a listener on %s" % path)


_DATE = re.compile(rb'"_date":[0-9]+')


def records_without_dates(path):
    """The record bodies of PATH, "_date" zeroed (headers dropped, since
    their SHA-1 covers the date)."""
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    return [_DATE.sub(b'"_date":0', body) for body in lines[1::2]]


@pytest.fixture(scope="module")
def dbs(tmp_path_factory):
    d = tmp_path_factory.mktemp("pc-transact")
    (d / "test.ovsschema").write_text(json.dumps(TEST_SCHEMA, indent=2))
    outputs = {}
    for which in ("real", "pyovs"):
        db = "%s.db" % which
        r = tool(which, "create", db, "test.ovsschema", cwd=d)
        assert r.returncode == 0, r.stderr
        outputs[which] = []
        for t in TRANSACTIONS:
            r = tool(which, "transact", db, json.dumps(t), cwd=d)
            assert r.returncode == 0, r.stderr
            outputs[which].append(r.stdout)
    return d, outputs


def test_transact_results_match(dbs):
    d, outputs = dbs
    assert outputs["pyovs"] == outputs["real"]


def test_files_match_byte_for_byte_apart_from_dates(dbs):
    d, _ = dbs
    assert records_without_dates(d / "pyovs.db") == records_without_dates(d / "real.db")


@pytest.mark.parametrize("reader", ["real", "pyovs"])
@pytest.mark.parametrize("args", [
    ["-mm", "show-log", "DB"],
    ["query", "DB", json.dumps(["Test",
                          {"op": "select", "table": "Root", "where": [],
                           "columns": ["_uuid", "name", "i", "r", "b", "u", "s",
                                       "m", "kids", "eph", "opt"]},
                          {"op": "select", "table": "Kid", "where": [],
                           "columns": ["_uuid", "n", "tags"]}])],
    ["db-cksum", "DB"],
    ["needs-conversion", "DB", "test.ovsschema"],
])
def test_each_tool_reads_the_other_files(dbs, reader, args):
    d, _ = dbs
    out = {}
    for writer in ("real", "pyovs"):
        a = [x if x != "DB" else "%s.db" % writer for x in args]
        r = tool(reader, *a, cwd=d)
        assert r.returncode == 0, r.stderr
        out[writer] = re.sub(r"record (\d+): \S+ \S+", r"record \1: <date>",
                             r.stdout)
    assert out["pyovs"] == out["real"]


@pytest.mark.parametrize("op", ["compact", "convert"])
def test_compact_and_convert_agree(dbs, op, tmp_path):
    d, _ = dbs
    results = {}
    for which in ("real", "pyovs"):
        src = tmp_path / ("%s.db" % which)
        shutil.copy(d / "real.db", src)
        if op == "compact":
            r = tool(which, "compact", src.name, cwd=tmp_path)
        else:
            schema = dict(TEST_SCHEMA, version="1.3.0")
            schema["tables"] = dict(schema["tables"])
            root = dict(schema["tables"]["Root"])
            root["columns"] = {k: v for k, v in root["columns"].items() if k != "r"}
            root["columns"]["extra"] = {"type": {"key": "integer", "min": 0, "max": 1}}
            schema["tables"]["Root"] = root
            (tmp_path / "new.ovsschema").write_text(json.dumps(schema))
            r = tool(which, "convert", src.name, "new.ovsschema",
                     "%s.out" % which, cwd=tmp_path)
            src = tmp_path / ("%s.out" % which)
        assert r.returncode == 0, r.stderr
        results[which] = records_without_dates(src)
    assert results["pyovs"] == results["real"]


def test_real_server_serves_pyovs_file(dbs, tmp_path):
    d, _ = dbs
    shutil.copy(d / "pyovs.db", tmp_path / "conf.db")
    sock = str(tmp_path / "db.sock")
    server = real_bin("ovsdb-server")
    import subprocess
    p = subprocess.Popen([server, "--remote=punix:" + sock,
                          "--unixctl=" + str(tmp_path / "ctl"),
                          "--no-chdir", "-vconsole:off", str(tmp_path / "conf.db")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(tmp_path / "db.sock")
        client = real_bin("ovsdb-client")
        r = run([client, "transact", "unix:" + sock, json.dumps(
            ["Test", {"op": "insert", "table": "Root",
                      "row": {"name": "from-server", "s": ["set", ["q"]]}},
             {"op": "mutate", "table": "Root", "where": [["name", "==", "one"]],
              "mutations": [["s", "insert", "w"]]}])])
        assert r.returncode == 0 and "error" not in r.stdout, r.stdout + r.stderr
        r = run([client, "dump", "unix:" + sock, "Test", "Root", "name", "s"])
        assert "from-server" in r.stdout
    finally:
        p.terminate()
        p.wait(timeout=10)
    # pyovs reads what the real server appended, as the real tool does.
    real = tool("real", "-mm", "show-log", "conf.db", cwd=tmp_path)
    ours = tool("pyovs", "-mm", "show-log", "conf.db", cwd=tmp_path)
    assert real.returncode == 0
    assert (ours.returncode, ours.stdout, ours.stderr) == (0, real.stdout, real.stderr)
    q = json.dumps(["Test", {"op": "select", "table": "Root", "where": [],
                             "columns": ["name", "s", "i"]}])
    def rows(which):
        out = json.loads(tool(which, "query", "conf.db", q, cwd=tmp_path).stdout)
        # (Row order follows OVS's hash table; only the set of rows matters.)
        return sorted(json.dumps(r, sort_keys=True) for r in out[0]["rows"])
    assert rows("pyovs") == rows("real")


def test_vswitch_database_round_trip(tmp_path):
    t = json.dumps(["Open_vSwitch",
                    {"op": "insert", "table": "Open_vSwitch",
                     "uuid": "33333333-0000-4000-8000-000000000001",
                     "row": {"bridges": ["uuid", "33333333-0000-4000-8000-000000000002"],
                             "external_ids": ["map", [["system-id", "x"]]]}},
                    {"op": "insert", "table": "Bridge",
                     "uuid": "33333333-0000-4000-8000-000000000002",
                     "row": {"name": "br0", "fail_mode": "secure",
                             "other_config": ["map", [["a", "1"]]]}}])
    for which in ("real", "pyovs"):
        assert tool(which, "create", which + ".db", REAL_VSWITCH_SCHEMA,
                    cwd=tmp_path).returncode == 0
        r = tool(which, "transact", which + ".db", t, cwd=tmp_path)
        assert r.returncode == 0 and "error" not in r.stdout, r.stdout
    assert records_without_dates(tmp_path / "pyovs.db") == \
        records_without_dates(tmp_path / "real.db")


def both(args, tmp_path, setup):
    """Runs ARGS with each tool in its own copy of the scene SETUP builds;
    returns {which: (status, stdout, stderr, files left)}."""
    out = {}
    for which in ("real", "pyovs"):
        d = tmp_path / which
        d.mkdir()
        setup(d)
        r = tool(which, *args, cwd=d)
        files = sorted(p.name for p in d.iterdir())
        stdout = re.sub(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "<uuid>", r.stdout)
        out[which] = (r.returncode, stdout, r.stderr, files)
    return out


def scene(d):
    (d / "test.ovsschema").write_text(json.dumps(TEST_SCHEMA))
    bad = json.loads(json.dumps(TEST_SCHEMA))
    bad["tables"]["Root"]["columns"]["name"] = {"type": "integer"}
    (d / "int-name.ovsschema").write_text(json.dumps(bad))
    bad = json.loads(json.dumps(TEST_SCHEMA))
    bad["tables"]["Root"]["columns"]["s"] = {"type": {"key": "string", "min": 0, "max": 1}}
    (d / "small-set.ovsschema").write_text(json.dumps(bad))
    assert tool("real", "create", "t.db", "test.ovsschema", cwd=d).returncode == 0
    for t in TRANSACTIONS[:3]:
        assert tool("real", "transact", "t.db", json.dumps(t), cwd=d).returncode == 0


@pytest.mark.parametrize("args", [
    ["create", "t.db", "test.ovsschema"],
    ["create", "new.db", "missing.ovsschema"],
    ["create", "new.db", "t.db"],
    ["create", "new.db", "test.ovsschema"],
    ["transact", "missing.db", "[]"],
    ["transact", "t.db", "["],
    ["transact", "t.db", json.dumps(["Test", {"op": "delete", "table": "Root", "where": []}])],
    ["transact", "t.db", json.dumps(["Test", {"op": "insert", "table": "Root",
                                              "row": {"opt": "bad"}}])],
    ["compact", "missing.db"],
    ["compact", "t.db", "copy.db"],
    ["compact", "t.db"],
    ["convert", "t.db", "missing.ovsschema"],
    ["convert", "t.db", "int-name.ovsschema"],
    ["convert", "t.db", "small-set.ovsschema", "out.db"],
    ["convert", "missing.db", "test.ovsschema"],
    ["needs-conversion", "missing.db", "test.ovsschema"],
    ["needs-conversion", "t.db", "missing.ovsschema"],
], ids=lambda a: " ".join(a)[:60])
def test_writes_and_their_errors_same_as_real(tmp_path, args):
    out = both(args, tmp_path, scene)
    assert out["pyovs"] == out["real"]
    # Whatever was written reads back the same with the real tool.
    for name in ("t.db", "new.db", "copy.db", "out.db"):
        if (tmp_path / "real" / name).exists():
            shows = [tool("real", "-mm", "show-log", name, cwd=tmp_path / w).stdout
                     for w in ("real", "pyovs")]
            dated = [re.sub(r"record (\d+): \S+ \S+", r"record \1:", s) for s in shows]
            assert dated[0] == dated[1]


@pytest.fixture
def served(tmp_path):
    """A real ovsdb-server holding t.db (and so its lock)."""
    import subprocess
    scene(tmp_path)
    p = subprocess.Popen([real_bin("ovsdb-server"), "--no-chdir",
                          "--remote=punix:" + str(tmp_path / "db.sock"),
                          "--unixctl=" + str(tmp_path / "ctl"),
                          "-vconsole:off", "t.db"], cwd=tmp_path,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(tmp_path / "db.sock")
        yield tmp_path
    finally:
        p.terminate()
        p.wait(timeout=10)


_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|\d+\|", re.M)


@pytest.mark.parametrize("args", [
    ["transact", "t.db", '["Test"]'],
    ["compact", "t.db"],
    ["query", "t.db", '["Test"]'],
])
def test_lock_held_by_real_server(served, args):
    real = tool("real", *args, cwd=served)
    ours = tool("pyovs", *args, cwd=served)
    assert (ours.returncode, ours.stdout, _STAMP.sub("", ours.stderr)) == \
        (real.returncode, real.stdout, _STAMP.sub("", real.stderr))


@pytest.mark.parametrize("server", ["real", "pyovs"])
def test_servers_write_the_same_records(tmp_path, server):
    """The records the real ovsdb-server (and pyovs's, through this storage)
    append for a transaction are those pyovs's ovsdb-tool appends for it."""
    import subprocess
    (tmp_path / "test.ovsschema").write_text(json.dumps(TEST_SCHEMA))
    for which in ("real", "pyovs"):
        assert tool("real", "create", which + ".db", "test.ovsschema",
                    cwd=tmp_path).returncode == 0
    sock = str(tmp_path / "db.sock")
    exe = real_bin("ovsdb-server") if server == "real" else pyovs_bin("ovsdb-server")
    p = subprocess.Popen([exe, "--no-chdir",
                          "--remote=punix:" + sock, "--unixctl=" + str(tmp_path / "ctl"),
                          "-vconsole:off", "real.db"], cwd=tmp_path,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(tmp_path / "db.sock")
        for t in TRANSACTIONS:
            r = run([real_bin("ovsdb-client"), "transact", "unix:" + sock, json.dumps(t)],
                    timeout=20)
            ours = tool("pyovs", "transact", "pyovs.db", json.dumps(t), cwd=tmp_path)
            assert (ours.returncode, ours.stdout) == (r.returncode, r.stdout)
    finally:
        p.terminate()
        p.wait(timeout=10)
    assert records_without_dates(tmp_path / "pyovs.db") == \
        records_without_dates(tmp_path / "real.db")


def test_online_compaction_matches_real_server(dbs, tmp_path):
    """FileStorage.compact() leaves the file the real ovsdb-server leaves
    after "ovsdb-server/compact"."""
    import subprocess
    from pyovs.ovsdb import file as ovsfile
    d, _ = dbs
    shutil.copy(d / "real.db", tmp_path / "real.db")
    shutil.copy(d / "real.db", tmp_path / "pyovs.db")
    ctl = str(tmp_path / "ctl")
    p = subprocess.Popen([real_bin("ovsdb-server"), "--no-chdir", "--unixctl=" + ctl,
                          "-vconsole:off", "real.db"], cwd=tmp_path,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(tmp_path / "ctl")
        r = run([real_bin("ovs-appctl"), "-t", ctl, "ovsdb-server/compact"])
        assert r.returncode == 0, r.stderr
    finally:
        p.terminate()
        p.wait(timeout=10)
    _, db, storage = ovsfile.open_db(str(tmp_path / "pyovs.db"), rw=True)
    storage.compact(db)
    storage.close()
    assert records_without_dates(tmp_path / "pyovs.db") == \
        records_without_dates(tmp_path / "real.db")


#: Every schema feature: bounds, enums, weak and strong references, maps,
#: immutable and ephemeral columns, maxRows, isRoot, indexes.
RICH_SCHEMA = {
    "name": "Rich", "version": "0.0.1", "cksum": "1 2",
    "tables": {
        "T1": {"columns": {
            "a": {"type": {"key": {"type": "integer", "minInteger": -5, "maxInteger": 5}}},
            "b": {"type": {"key": {"type": "real", "minReal": -1.5, "maxReal": 1e10},
                           "min": 0, "max": 3}},
            "c": {"type": {"key": {"type": "string", "minLength": 1, "maxLength": 10}}},
            "d": {"type": {"key": {"type": "string", "enum": ["set", ["x", "y"]]},
                           "value": {"type": "integer", "enum": ["set", [1, 2, 3]]},
                           "min": 1, "max": "unlimited"}},
            "e": {"type": {"key": {"type": "uuid", "refTable": "T2", "refType": "weak"},
                           "min": 0, "max": 1}},
            "f": {"type": "boolean", "mutable": False},
            "g": {"type": {"key": {"type": "real", "enum": 2.5}}},
            "h": {"type": {"key": {"type": "uuid", "refTable": "T2"}, "value": "string",
                           "min": 0, "max": 7}},
            "i": {"type": "uuid", "ephemeral": True},
            "j": {"type": {"key": {"type": "integer", "enum": ["set", [3, 1, 2]]}}}},
            "maxRows": 5, "isRoot": True, "indexes": [["a"], ["c", "f"]]},
        "T2": {"columns": {"n": {"type": "string"}}, "mutable": False},
        "T3": {"columns": {"z": {"type": "integer"}}, "isRoot": False},
    },
}


def test_rich_schema_files_identical(tmp_path):
    (tmp_path / "rich.ovsschema").write_text(json.dumps(RICH_SCHEMA))
    t = json.dumps(["Rich",
                    {"op": "insert", "table": "T2", "uuid": K1, "row": {"n": "x"}},
                    {"op": "insert", "table": "T1", "uuid": R1,
                     "row": {"a": -5, "b": ["set", [-1.5, 0.25, 1e9]], "c": "abc",
                             "d": ["map", [["x", 1], ["y", 3]]], "e": ["uuid", K1],
                             "f": True, "g": 2.5, "h": ["map", [[["uuid", K1], "s"]]],
                             "j": 3}}])
    for which in ("real", "pyovs"):
        for args in (["create", which + ".db", "rich.ovsschema"],
                     ["transact", which + ".db", t],
                     ["compact", which + ".db"]):
            r = tool(which, *args, cwd=tmp_path)
            assert r.returncode == 0 and "error" not in r.stdout, r.stdout + r.stderr
    assert records_without_dates(tmp_path / "pyovs.db") == \
        records_without_dates(tmp_path / "real.db")
    shows = [tool(w, "-mm", "show-log", "real.db", cwd=tmp_path).stdout
             for w in ("real", "pyovs")]
    assert shows[0] == shows[1]


def test_oversized_diffs(tmp_path):
    """OVS 3.1 writes a set diff with more elements than the column allows
    and then cannot read its own file.  pyovs reads such files, and writes
    that change as a whole-value record, which both read."""
    t1 = json.dumps(["Open_vSwitch",
                     {"op": "insert", "table": "Open_vSwitch",
                      "row": {"bridges": ["named-uuid", "b"]}},
                     {"op": "insert", "table": "Flow_Table", "uuid-name": "f",
                      "row": {"prefixes": ["set", ["a", "b", "c"]]}},
                     {"op": "insert", "table": "Bridge", "uuid-name": "b",
                      "row": {"name": "b",
                              "flow_tables": ["map", [[1, ["named-uuid", "f"]]]]}}])
    t2 = json.dumps(["Open_vSwitch",
                     {"op": "update", "table": "Flow_Table", "where": [],
                      "row": {"prefixes": ["set", ["d", "e", "f"]]}}])
    q = json.dumps(["Open_vSwitch", {"op": "select", "table": "Flow_Table",
                                     "where": [], "columns": ["prefixes"]}])
    for which in ("real", "pyovs"):
        for args in (["create", which + ".db", REAL_VSWITCH_SCHEMA],
                     ["transact", which + ".db", t1], ["transact", which + ".db", t2]):
            assert tool(which, *args, cwd=tmp_path).returncode == 0
    expected = '[{"rows":[{"prefixes":["set",["d","e","f"]]}]}]\n'
    broken = tool("real", "query", "real.db", q, cwd=tmp_path)
    assert broken.returncode == 1 and "set must have 0 to 3 members" in broken.stderr
    assert tool("pyovs", "query", "real.db", q, cwd=tmp_path).stdout == expected
    for reader in ("real", "pyovs"):
        r = tool(reader, "query", "pyovs.db", q, cwd=tmp_path)
        assert (r.returncode, r.stdout) == (0, expected)


# Differential fuzzing: random transactions, committed by each tool into its
# own copy of a database, must give the same results and the same records.

_R = ["11111111-0000-4000-8000-00000000000%d" % i for i in range(3)]
_K = ["22222222-0000-4000-8000-00000000000%d" % i for i in range(3)]
_names = st.sampled_from(["a", "b", "two words", ""])
_values = {
    "name": _names,
    "i": st.integers(-3, 3),
    "r": st.sampled_from([0.5, -2.25, 3, 1e20]),
    "b": st.booleans(),
    "s": st.lists(st.sampled_from("xyzw"), max_size=3, unique=True).map(lambda l: ["set", l]),
    "m": st.dictionaries(st.sampled_from("klm"), st.integers(0, 2), max_size=3).map(
        lambda d: ["map", sorted([k, v] for k, v in d.items())]),
    "kids": st.lists(st.sampled_from(_K), max_size=2, unique=True).map(
        lambda l: ["set", [["uuid", u] for u in l]]),
    "eph": st.integers(0, 2),
    "opt": st.sampled_from(["a", "c", "zzz", ["set", []]]),
    "u": st.sampled_from(_K).map(lambda u: ["uuid", u]),
}
_root_row = st.fixed_dictionaries({}, optional=_values)
_where = st.one_of(st.just([]), _names.map(lambda n: [["name", "==", n]]))
_ops = st.one_of(
    st.builds(lambda u, row: {"op": "insert", "table": "Root", "uuid": u, "row": row},
              st.sampled_from(_R), _root_row),
    st.builds(lambda u, n, t: {"op": "insert", "table": "Kid", "uuid": u,
                               "row": {"n": n, "tags": ["map", t]}},
              st.sampled_from(_K), st.integers(0, 3),
              st.lists(st.tuples(st.sampled_from("pq"), st.sampled_from("rs")).map(list),
                       max_size=2, unique_by=lambda kv: kv[0])),
    st.builds(lambda w, row: {"op": "update", "table": "Root", "where": w, "row": row},
              _where, _root_row),
    st.builds(lambda w, m: {"op": "mutate", "table": "Root", "where": w, "mutations": m},
              _where, st.lists(st.sampled_from([
                  ["s", "insert", ["set", ["q"]]], ["s", "delete", "x"],
                  ["m", "insert", ["map", [["z", 9]]]], ["m", "delete", ["set", ["k"]]],
                  ["i", "+=", 1], ["kids", "delete", ["uuid", _K[0]]]]), min_size=1, max_size=2)),
    st.builds(lambda t, w: {"op": "delete", "table": t, "where": w},
              st.sampled_from(["Root", "Kid"]), st.just([])),
    # (Not "": transaction.py joins ["", "a"] as "\na" where OVS has "a".)
    st.builds(lambda c: {"op": "comment", "comment": c}, st.sampled_from(["a", "b c"])),
)
_transactions = st.lists(st.lists(_ops, min_size=1, max_size=3).map(lambda ops: ["Test"] + ops),
                         min_size=1, max_size=3)


@pytest.fixture(scope="module")
def fresh_db(tmp_path_factory):
    d = tmp_path_factory.mktemp("pc-fuzz")
    (d / "test.ovsschema").write_text(json.dumps(TEST_SCHEMA))
    assert tool("real", "create", "empty.db", "test.ovsschema", cwd=d).returncode == 0
    return (d / "empty.db").read_bytes()


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(transactions=_transactions)
def test_fuzz_transactions_against_real(tmp_path, fresh_db, transactions):
    outputs = {}
    for which in ("real", "pyovs"):
        path = tmp_path / (which + ".db")
        path.write_bytes(fresh_db)
        outputs[which] = [
            (r.returncode, r.stdout, r.stderr) for r in
            (tool(which, "transact", path.name, json.dumps(t), cwd=tmp_path)
             for t in transactions)]
    assert outputs["pyovs"] == outputs["real"]
    assert records_without_dates(tmp_path / "pyovs.db") == \
        records_without_dates(tmp_path / "real.db")


def _variant(edit):
    schema = json.loads(json.dumps(TEST_SCHEMA))
    edit(schema)
    return schema


CONVERSIONS = {
    "widen-to-set": lambda s: s["tables"]["Root"]["columns"].__setitem__(
        "i", {"type": {"key": "integer", "min": 0, "max": "unlimited"}}),
    "narrow-set": lambda s: s["tables"]["Root"]["columns"].__setitem__(
        "s", {"type": {"key": "string", "min": 0, "max": 1}}),
    "drop-table": lambda s: (s["tables"].pop("Kid"),
                             s["tables"]["Root"]["columns"].pop("kids")),
    "add-table": lambda s: s["tables"].__setitem__(
        "New", {"columns": {"x": {"type": "string"}}}),
    "optional-name": lambda s: s["tables"]["Root"]["columns"].__setitem__(
        "name", {"type": {"key": "string", "min": 0, "max": 1}}),
    "real-to-integer": lambda s: s["tables"]["Root"]["columns"].__setitem__(
        "r", {"type": "integer"}),
    "narrow-enum": lambda s: s["tables"]["Root"]["columns"].__setitem__(
        "opt", {"type": {"key": {"type": "string", "enum": ["set", ["b"]]},
                         "min": 0, "max": 1}}),
}


@pytest.mark.parametrize("name", sorted(CONVERSIONS))
def test_conversions_as_real(dbs, tmp_path, name):
    d, _ = dbs
    shutil.copy(d / "real.db", tmp_path / "src.db")
    (tmp_path / "new.ovsschema").write_text(json.dumps(_variant(CONVERSIONS[name])))
    out = {}
    for which in ("real", "pyovs"):
        r = tool(which, "convert", "src.db", "new.ovsschema", which + ".out", cwd=tmp_path)
        dst = tmp_path / (which + ".out")
        out[which] = (r.returncode, r.stdout, r.stderr,
                      records_without_dates(dst) if dst.exists() else None)
    assert out["pyovs"] == out["real"]


def test_records_without_column_diff_as_real_server(tmp_path):
    """ovsdb-server --disable-file-column-diff writes whole values; so does
    FileStorage with column_diff off."""
    import subprocess
    from pyovs.ovsdb import file as ovsfile
    from pyovs.ovsdb import transaction
    (tmp_path / "test.ovsschema").write_text(json.dumps(TEST_SCHEMA))
    for which in ("real", "pyovs"):
        assert tool("real", "create", which + ".db", "test.ovsschema",
                    cwd=tmp_path).returncode == 0
    sock = str(tmp_path / "db.sock")
    p = subprocess.Popen([real_bin("ovsdb-server"), "--no-chdir", "--disable-file-column-diff",
                          "--remote=punix:" + sock, "--unixctl=" + str(tmp_path / "ctl"),
                          "-vconsole:off", "real.db"], cwd=tmp_path,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(tmp_path / "db.sock")
        _, db, storage = ovsfile.open_db(str(tmp_path / "pyovs.db"), rw=True)
        storage.column_diff = False
        for t in TRANSACTIONS:
            r = run([real_bin("ovsdb-client"), "transact", "unix:" + sock, json.dumps(t)])
            assert r.returncode == 0
            result = transaction.execute_params(db, t)
            if result.changes is not None:
                storage.commit(result.changes, result.comment)
        storage.close()
    finally:
        p.terminate()
        p.wait(timeout=10)
    records = records_without_dates(tmp_path / "real.db")
    assert b"_is_diff" not in b"".join(records)
    assert records_without_dates(tmp_path / "pyovs.db") == records


def test_database_built_by_real_vsctl_reads_as_real(tmp_path):
    """A configuration built with the real ovs-vsctl through the real
    ovsdb-server (weak references, garbage collection, map and set edits):
    pyovs's ovsdb-tool shows and queries it as the real one does."""
    import subprocess
    assert tool("real", "create", "conf.db", REAL_VSWITCH_SCHEMA, cwd=tmp_path).returncode == 0
    sock = str(tmp_path / "db.sock")
    p = subprocess.Popen([real_bin("ovsdb-server"), "--no-chdir", "--remote=punix:" + sock,
                          "--unixctl=" + str(tmp_path / "ctl"), "-vconsole:off", "conf.db"],
                         cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(tmp_path / "db.sock")
        vsctl = [real_bin("ovs-vsctl"), "--no-wait", "--timeout=20", "--db=unix:" + sock]
        for args in (["init"], ["add-br", "br0"],
                     ["add-port", "br0", "p1", "--", "set", "Interface", "p1", "type=internal"],
                     ["add-port", "br0", "p2", "tag=5"],
                     ["--", "--id=@p1", "get", "Port", "p1", "--", "--id=@m", "create",
                      "Mirror", "name=m1", "select-src-port=@p1", "--", "set", "Bridge",
                      "br0", "mirrors=@m"],
                     ["set", "Bridge", "br0", "other_config:a=1", "external_ids:x=y"],
                     ["del-port", "br0", "p1"],
                     ["add-bond", "br0", "bond0", "e1", "e2"],
                     ["add-br", "br1"], ["del-br", "br1"],
                     ["set-controller", "br0", "tcp:1.2.3.4:6653"],
                     ["set", "Bridge", "br0", "protocols=OpenFlow10,OpenFlow13"],
                     ["remove", "Bridge", "br0", "protocols", "OpenFlow10"]):
            r = run(vsctl + args)
            assert r.returncode == 0, r.stderr
    finally:
        p.terminate()
        p.wait(timeout=10)
    for args in (["-mm", "show-log", "conf.db"], ["db-cksum", "conf.db"]):
        real = tool("real", *args, cwd=tmp_path)
        ours = tool("pyovs", *args, cwd=tmp_path)
        assert (ours.returncode, ours.stdout, ours.stderr) == \
            (real.returncode, real.stdout, real.stderr)
    q = json.dumps(["Open_vSwitch"] + [
        {"op": "select", "table": t, "where": []}
        for t in ("Open_vSwitch", "Bridge", "Port", "Interface", "Mirror", "Controller")])

    def state(which):
        out = json.loads(tool(which, "query", "conf.db", q, cwd=tmp_path).stdout)
        for r in out:
            for row in r["rows"]:
                del row["_version"]
        return [sorted(json.dumps(row, sort_keys=True) for row in r["rows"]) for r in out]
    assert state("pyovs") == state("real")
