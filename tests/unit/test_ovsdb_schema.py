"""Schema parsing: OVS's validation and error texts, checked against the
real ovsdb-tool, and the "cksum" OVS's build stores in schema files."""

import json
import shutil
import subprocess

import pytest

from pyovs.ovsdb.error import OvsdbError
from pyovs.ovsdb.schema import DbSchema, load_schema, posix_cksum, \
    schema_cksum
from tests.conftest import REAL_VSWITCH_SCHEMA, real_bin, run


def col(t, **kw):
    return dict({"type": t}, **kw)


def one_table(columns, **kw):
    return {"name": "x", "tables": {"t": dict({"columns": columns}, **kw)}}


BAD_SCHEMAS = [
    {"tables": {}},
    {"name": "x", "tables": {}, "doc": "hi"},
    {"name": "1x", "tables": {}},
    {"name": "x", "version": "1.2", "tables": {}},
    {"name": "x", "tables": {"_t": {"columns": {"a": col("integer")}}}},
    {"name": "x", "tables": {"t-1": {"columns": {"a": col("integer")}}}},
    one_table({}),
    one_table({"a": col("integer")}, maxRows=0),
    one_table({"a": col("integer")}, maxRows=1.5),
    one_table({"_a": col("integer")}),
    one_table({"a": col("integer", doc="x")}),
    one_table({"a": col("int")}),
    one_table({"a": col(5)}),
    one_table({"a": col({"key": "integer", "min": 2})}),
    one_table({"a": col({"key": "integer", "max": 0})}),
    one_table({"a": col({"key": "integer", "max": "lots"})}),
    one_table({"a": col({"key": "integer", "value": "void"})}),
    one_table({"a": col({"key": "void"})}),
    one_table({"a": col({"key": {"type": "integer", "minInteger": 5,
                                 "maxInteger": 1}})}),
    one_table({"a": col({"key": {"type": "real", "minReal": 5,
                                 "maxReal": 1}})}),
    one_table({"a": col({"key": {"type": "string", "minLength": 5,
                                 "maxLength": 1}})}),
    one_table({"a": col({"key": {"type": "string", "minLength": -1}})}),
    one_table({"a": col({"key": {"type": "uuid", "refTable": "t",
                                 "refType": "medium"}})}),
    one_table({"a": col({"key": {"type": "uuid", "refTable": "u"}})}),
    one_table({"a": col({"key": "string",
                         "value": {"type": "uuid", "refTable": "u"}})}),
    one_table({"a": col({"key": {"type": "integer",
                                 "enum": ["set", [1, "a"]]}})}),
    one_table({"a": col({"key": {"type": "integer",
                                 "enum": ["set", [1, 1]]}})}),
    one_table({"a": col({"key": {"type": "integer", "enum": 1,
                                 "minInteger": 0}})}),
    one_table({"a": col("integer")}, indexes=[["b"]]),
    one_table({"a": col("integer")}, indexes=[[]]),
    one_table({"a": col("integer")}, indexes=[["a", "a"]]),
    one_table({"a": col("integer")}, indexes=["a"]),
    one_table({"a": col("integer", ephemeral=True)}, indexes=[["a"]]),
    [1],
]

GOOD_SCHEMAS = [
    one_table({"a": col("integer")}, mutable=False),
    one_table({"a": col({"key": {"type": "uuid", "refTable": "t",
                                 "refType": "weak"}}, mutable=False)}),
    one_table({"a": col({"key": {"type": "string", "enum": "only"},
                         "min": 0, "max": "unlimited"})}, isRoot=False,
              maxRows=5, indexes=[["a"], ["_uuid", "a"]]),
]


def ovsdb_tool_create(tmp_path, schema):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(schema))
    db = tmp_path / "db"
    if db.exists():
        db.unlink()
    r = run([real_bin("ovsdb-tool"), "create", str(db), str(path)])
    return r.stderr.strip()


@pytest.mark.parametrize("schema", BAD_SCHEMAS + GOOD_SCHEMAS)
def test_errors_like_ovsdb_tool(tmp_path, schema):
    real = ovsdb_tool_create(tmp_path, schema)
    try:
        DbSchema.from_json(schema)
        mine = ""
    except OvsdbError as e:
        e = e.wrap('failed to parse "%s" as ovsdb schema'
                   % (tmp_path / "s.json"))
        mine = "ovsdb-tool: " + e.to_string()
    assert mine == real
    assert (schema in GOOD_SCHEMAS) == (mine == "")


def test_good_schemas_round_trip():
    for j in GOOD_SCHEMAS:
        s = DbSchema.from_json(j)
        assert DbSchema.from_json(s.to_json()) == s
    s = DbSchema.from_json(GOOD_SCHEMAS[1])
    # A weak reference cannot be immutable: OVS makes it mutable.
    assert s.tables["t"].columns["a"].mutable
    s = DbSchema.from_json(GOOD_SCHEMAS[2])
    assert s.tables["t"].max_rows == 5 and s.tables["t"].indexes == [
        ["a"], ["_uuid", "a"]]
    # With no root table at all, every table is a root (pre-isRoot rule).
    assert s.tables["t"].is_root
    assert "isRoot" not in s.to_json()["tables"]["t"]


@pytest.mark.parametrize("data", [b"", b"abc\n", bytes(range(256)) * 3])
def test_posix_cksum_like_cksum_1(data):
    if shutil.which("cksum") is None:
        pytest.skip("cksum(1) not installed")
    out = subprocess.run(["cksum"], input=data, capture_output=True,
                         check=True).stdout.split()
    assert posix_cksum(data) == (int(out[0]), int(out[1]))


def test_cksum_like_ovsdb_tool(tmp_path):
    real_bin("ovsdb-tool")
    text = open(REAL_VSWITCH_SCHEMA, "rb").read()
    stored = run([real_bin("ovsdb-tool"), "schema-cksum",
                  REAL_VSWITCH_SCHEMA]).stdout.strip()
    assert schema_cksum(text) == stored == load_schema(
        REAL_VSWITCH_SCHEMA).cksum
    # Changing the schema changes the checksum; the cksum line itself
    # does not count.
    changed = text.replace(b'"8.3.1"', b'"8.3.2"')
    assert schema_cksum(changed) != stored
    assert schema_cksum(text.replace(stored.encode(), b"1 2")) == stored


def test_schema_version_and_unicode(tmp_path):
    real_bin("ovsdb-tool")
    j = one_table({"a": col("string")})
    j["version"] = "1.2.3"
    p = tmp_path / "s.json"
    p.write_text(json.dumps(j))
    assert run([real_bin("ovsdb-tool"), "schema-version",
                str(p)]).stdout.strip() == load_schema(p).version == "1.2.3"
    with pytest.raises(OvsdbError) as e:
        load_schema(tmp_path / "missing.json")
    assert e.value.error == "failed to read schema"
    p.write_text("{not json")
    with pytest.raises(OvsdbError) as e:
        load_schema(p)
    assert e.value.error == "failed to read schema"
