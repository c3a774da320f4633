"""pyovs.vswitch: the Open_vSwitch configuration schema (8.3.1) and helpers.

Public API:
  schema_path() -> str: path of the packaged vswitch.ovsschema (identical to
      the file Open vSwitch installs; a schema is a set of facts).
  load_vswitch_schema() -> pyovs.ovsdb.schema.DbSchema (parsed once, cached).
  SCHEMA_NAME = "Open_vSwitch", SCHEMA_VERSION = "8.3.1"
"""

import functools
import os

SCHEMA_NAME = "Open_vSwitch"
SCHEMA_VERSION = "8.3.1"


def schema_path():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "vswitch.ovsschema")


@functools.lru_cache(maxsize=1)
def load_vswitch_schema():
    from pyovs.ovsdb.schema import load_schema
    return load_schema(schema_path())
