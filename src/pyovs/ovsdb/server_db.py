"""The databases an ovsdb-server serves, and its own "_Server" database.

A ServedDb is one database as the server holds it: name, schema, the
in-memory Database, and the storage its commits go to (None for "_Server",
which lives only in memory).

"_Server" (ovsdb-server(5)) has one table, Database, with a row per served
database -- itself included -- telling clients its name, model, whether it
is connected and the leader, and its schema as JSON text.  Clients such as
the IDL monitor it to learn when a database comes or goes.  It is read-only
for clients; the server puts rows in directly and hands its monitors the
same Changes a transaction would.

API:
  SERVER_SCHEMA_JSON, server_schema() -> DbSchema
  schema_text(schema) -> the JSON text stored in Database.schema
  schema_reply_json(schema) -> get_schema's result, members in OVS's order
  ServedDb(name, schema, db, storage=None, path=None, read_only=False)
  new_server_db() -> ServedDb for "_Server"
  server_row(server_schema, served) -> SERVED's Row in _Server.Database
"""

import time
import uuid

from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.database import Database, Row
from pyovs.ovsdb.error import json_to_string
from pyovs.ovsdb.log import shash_order
from pyovs.ovsdb.schema import DbSchema

SERVER_DB_NAME = "_Server"

SERVER_SCHEMA_JSON = {
    "name": "_Server",
    "version": "1.2.0",
    "cksum": "3009684573 744",
    "tables": {
        "Database": {
            "columns": {
                "name": {"type": "string"},
                "model": {"type": {"key": {"type": "string",
                                           "enum": ["set", ["clustered", "relay",
                                                            "standalone"]]}}},
                "connected": {"type": "boolean"},
                "leader": {"type": "boolean"},
                "schema": {"type": {"min": 0, "key": "string"}},
                "sid": {"type": {"min": 0, "key": "uuid"}},
                "cid": {"type": {"min": 0, "key": "uuid"}},
                "index": {"type": {"min": 0, "key": "integer"}},
            },
        },
    },
}


def server_schema():
    return DbSchema.from_json(SERVER_SCHEMA_JSON)


def _shash_serialized(obj):
    """OBJ with every object's members in the order OVS writes them: a JSON
    object is a hash table filled in the dict's order and written out in
    the table's iteration order."""
    if isinstance(obj, dict):
        return {k: _shash_serialized(obj[k]) for k in shash_order(list(obj))}
    if isinstance(obj, list):
        return [_shash_serialized(x) for x in obj]
    return obj


def schema_reply_json(schema):
    """SCHEMA's JSON as ovsdb-server sends it for get_schema, members in its
    order.  Clients such as ovsdb-client list tables and columns in the
    order they arrive, so this order is visible.  ovsdb-server builds the
    JSON by walking its own hash tables of tables and of columns (which
    begin with _uuid and _version), which were filled while walking the
    hash tables of the parsed schema file."""
    j = schema.to_json()
    tables = j["tables"]
    ordered = {}
    for tname in shash_order(shash_order(list(tables))):
        tj = dict(tables[tname])
        cols = tj["columns"]
        walk = shash_order(["_uuid", "_version"] + shash_order(list(cols)))
        tj["columns"] = {c: cols[c] for c in walk if c in cols}
        ordered[tname] = tj
    j["tables"] = ordered
    return _shash_serialized(j)


def schema_text(schema):
    """SCHEMA as the compact, key-sorted JSON text OVS stores in _Server."""
    return json_to_string(schema.to_json(), sort_keys=True)


class ServedDb:
    """One database served by the server."""

    def __init__(self, name, schema, db, storage=None, path=None,
                 read_only=False):
        self.name = name
        self.schema = schema
        self.db = db
        self.storage = storage
        self.path = path
        self.read_only = read_only
        self.model = "standalone"
        self.row_uuid = None          # its row in _Server's Database table
        self.schema_reply = None      # cached schema_reply_json()
        self.last_compact = time.monotonic()


def new_server_db():
    """_Server itself.  Clients cannot change it: the transaction engine
    refuses changes to any database whose name begins with "_"."""
    schema = server_schema()
    return ServedDb(SERVER_DB_NAME, schema, Database(schema))


def server_row(server_schema_, served):
    """SERVED's row for _Server's Database table (uuid: served.row_uuid)."""
    ts = server_schema_.tables["Database"]
    row = Row.new(ts, served.row_uuid, uuid.uuid4())
    columns = dict(row.columns)
    for name, value in (("name", served.name), ("model", served.model),
                        ("connected", True), ("leader", True),
                        ("schema", schema_text(served.schema))):
        columns[name] = Datum.from_json(ts.columns[name].type, value)
    return Row(served.row_uuid, row.version, columns)
