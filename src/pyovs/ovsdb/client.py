"""Blocking OVSDB client helpers for command-line tools (ovsdb-client now,
ovs-vsctl and friends later).

Two things live here:

* The order in which OVS's client-side code walks schemas.  OVS keeps names
  in ``struct shash`` hash tables and walks them in bucket order, so
  ``ovsdb-client list-tables`` and ``list-columns`` print tables and columns
  in an order that depends on OVS's string hash and on the order the names
  arrived in; :func:`schema_tables_order` and :func:`schema_columns_order`
  replay that with :func:`pyovs.util.json.shash_order`, so pyovs prints the
  same bytes as OVS.

* The calls every client makes: connect to a remote (default
  ``unix:$OVS_RUNDIR/db.sock``), list databases, fetch a schema, run a
  transaction, each failing with OVS's message (:class:`ClientError`).

API: default_remote(), ClientError, open_rpc(remote, timeout=None) ->
jsonrpc.BlockingConnection, transact(rpc, method, params) -> reply Message,
check_reply(reply) -> result (ClientError "transaction returned error: ..."),
fetch_dbs(rpc), fetch_schema(rpc, database) -> (DbSchema, schema JSON as
received), schema_tables_order(schema_json), schema_columns_order(table_json),
ovsdb_error_to_string(error), uuid_row_name(uuid).
"""

import errno

from pyovs.util.json import shash_order
from pyovs.util import dirs, jsonrpc, stream
from pyovs.util.vlog import Vlog

def schema_tables_order(schema_json):
    """Table names of a schema received as SCHEMA_JSON, in the order OVS's
    client walks them (parsed JSON object, then the schema's own shash)."""
    return shash_order(shash_order(list(schema_json.get("tables", {}))))


def schema_columns_order(table_json):
    """Column names (with _uuid and _version) of a table schema received as
    TABLE_JSON, in the order OVS walks them."""
    parsed = shash_order(list(table_json.get("columns", {})))
    return shash_order(["_uuid", "_version"] + parsed)


# ---------------------------------------------------------------------------

class ClientError(Exception):
    """A fatal client error; str() is OVS's message (without the program
    name prefix)."""


def default_remote():
    """OVS's default database remote: unix:$OVS_RUNDIR/db.sock."""
    return "unix:%s/db.sock" % dirs.rundir()


def open_rpc(remote, timeout=None):
    """A blocking JSON-RPC connection to REMOTE, or ClientError."""
    if remote.startswith("tcp:"):
        target = remote[4:]
        has_port = "]:" in target if target.startswith("[") else ":" in target
        if not has_port:
            Vlog("stream").warn("The default OVSDB port number has changed "
                                "from 6632 to 6640")
    try:
        return jsonrpc.BlockingConnection.open(remote, timeout=timeout)
    except stream.StreamNameError as e:
        if e.errno != errno.EAFNOSUPPORT:
            raise ClientError('failed to connect to "%s" (%s)'
                              % (remote, e.strerror)) from None
        if remote.startswith("tcp:"):
            # OVS logs why the address did not parse, then the failed connect.
            Vlog("socket_util").err("%s", e)
            Vlog("stream_tcp").err("%s: connect: %s", remote, e.strerror)
        try:
            stream.parse_passive(remote)
        except stream.StreamNameError as e2:
            raise ClientError('failed to connect or listen to "%s" (%s)'
                              % (remote, e2.strerror)) from None
        # A passive remote: wait for the server to connect to us.
        Vlog("ovsdb_client").info("%s: waiting for connection...", remote)
        try:
            sock = stream.accept_blocking(remote, timeout)
        except (OSError, TimeoutError) as e2:
            raise ClientError('failed to accept connection on "%s" (%s)'
                              % (remote, getattr(e2, "strerror", None) or e2)) \
                from None
        return jsonrpc.BlockingConnection(sock, remote)
    except OSError as e:
        raise ClientError('failed to connect to "%s" (%s)'
                          % (remote, e.strerror or str(e))) from None


def transact(rpc, method, params):
    """Send a METHOD request and return its reply Message; a failed
    connection raises ClientError("transaction failed (...)")."""
    request = jsonrpc.Message.create_request(method, params)
    try:
        return rpc.transact_block(request)
    except jsonrpc.ConnectionEOF:
        raise ClientError("transaction failed (End of file)") from None
    except jsonrpc.JsonRpcError as e:
        raise ClientError("transaction failed (%s)" % e) from None
    except OSError as e:
        raise ClientError("transaction failed (%s)" % (e.strerror or e)) from None


def check_reply(reply, sort=True, pretty=False):
    """Raise ClientError for an error reply, as OVS's check_txn()."""
    from pyovs.ovsdb.table_format import json_to_string
    if reply.type == "error" or reply.error is not None:
        raise ClientError("transaction returned error: %s"
                          % json_to_string(reply.error, sort=sort, pretty=pretty))
    return reply.result


def fetch_dbs(rpc):
    """Sorted database names on the server."""
    result = check_reply(transact(rpc, "list_dbs", []))
    if not isinstance(result, list):
        raise ClientError("list_dbs response is not array")
    for i, name in enumerate(result):
        if not isinstance(name, str):
            raise ClientError("list_dbs response %d is not string" % i)
    return sorted(result, key=lambda s: s.encode("utf-8"))


def fetch_schema(rpc, database):
    """(DbSchema, raw schema JSON) of DATABASE."""
    from pyovs.ovsdb.error import OvsdbError
    from pyovs.ovsdb.schema import DbSchema
    result = check_reply(transact(rpc, "get_schema", [database]))
    try:
        return DbSchema.from_json(result), result
    except OvsdbError as e:
        raise ClientError(ovsdb_error_to_string(e)) from None


def ovsdb_error_to_string(e):
    """An OvsdbError as OVS's ovsdb_error_to_string() writes it."""
    return e.to_string()


def uuid_row_name(u):
    """OVS's ovsdb_data_row_name(): "row" + the UUID with "_" for "-"."""
    return "row" + str(u).replace("-", "_")
