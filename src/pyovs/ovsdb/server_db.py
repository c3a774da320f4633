"""The databases an ovsdb-server serves, and its own "_Server" database.

A ServedDb is one database as the server holds it: name, schema, the
in-memory Database, and the storage its commits go to (None for "_Server",
which lives only in memory).

"_Server" (ovsdb-server(5)) has one table, Database, with a row per served
database -- itself included -- telling clients its name, model, whether it
is connected and the leader, and its schema as JSON text.  Clients such as
the IDL monitor it to learn when a database comes or goes.  It is read-only
for clients; the server changes it through the same transaction engine so
that its monitors see ordinary updates.

API:
  SERVER_SCHEMA_JSON, server_schema() -> DbSchema
  schema_text(schema) -> the JSON text stored in Database.schema
  ServedDb(name, schema, db, storage=None, path=None, read_only=False)
  new_server_db() -> ServedDb for "_Server"
  server_row_ops(served) -> ops inserting SERVED's Database row
"""

import json

from pyovs.ovsdb.database import Database
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


def schema_text(schema):
    """SCHEMA as the compact, key-sorted JSON text OVS stores in _Server."""
    return json.dumps(schema.to_json(), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


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


def new_server_db():
    schema = server_schema()
    return ServedDb(SERVER_DB_NAME, schema, Database(schema), read_only=True)


def server_row_ops(served):
    """Transaction ops inserting SERVED's row into _Server.Database."""
    return [{
        "op": "insert", "table": "Database",
        "row": {"name": served.name, "model": served.model,
                "connected": True, "leader": True,
                "schema": schema_text(served.schema)},
    }]
