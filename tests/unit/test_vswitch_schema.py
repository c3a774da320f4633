"""The packaged Open_vSwitch schema matches Debian's and parses like it."""

import json
import os

import pytest

from pyovs.ovsdb.schema import DbSchema, schema_cksum
from pyovs.vswitch import (SCHEMA_NAME, SCHEMA_VERSION, load_vswitch_schema,
                           schema_path)
from tests.conftest import REAL_VSWITCH_SCHEMA


def test_packaged_schema_loads():
    s = load_vswitch_schema()
    assert s.name == SCHEMA_NAME
    assert s.version == SCHEMA_VERSION
    assert {"Open_vSwitch", "Bridge", "Port", "Interface"} <= set(s.tables)
    # The stored cksum is the one the file's own contents produce.
    with open(schema_path(), "rb") as f:
        assert schema_cksum(f.read()) == s.cksum


def test_packaged_schema_round_trips():
    s = load_vswitch_schema()
    assert DbSchema.from_json(s.to_json()) == s


@pytest.mark.skipif(not os.path.exists(REAL_VSWITCH_SCHEMA),
                    reason="Debian's openvswitch-common is not installed")
def test_same_as_debian():
    with open(REAL_VSWITCH_SCHEMA) as f:
        real = DbSchema.from_json(json.load(f))
    ours = load_vswitch_schema()
    assert ours == real
    assert ours.cksum == real.cksum
    assert ours.version == real.version
    assert ours.to_json() == real.to_json()
