"""Remotes of ovsdb-server: "punix:", "ptcp:" and "db:DB,TABLE,COLUMN".

A remote given as db:DB,TABLE,COLUMN is read from the database itself, as
ovsdb-server(1) describes: COLUMN of every row of TABLE holds either
connection method strings, or references to rows of a table that has a
"target" column (the Manager table of Open_vSwitch), whose targets are used.
The set is re-read after every commit, so adding a Manager row opens its
listener.

For such Manager-style rows the server also reports back, as ovsdb-server
does every 2.5 s: "is_connected" (some client is connected through that
target) and "status" (bound_port for a ptcp: target, plus the connection
times).  Both are ephemeral columns, so this changes monitors, not the file.

API:
  is_db_remote(name) -> bool
  parse_db_remote(name) -> (db, table, column)    raises ValueError
  resolve_db_remote(dbs, name) -> (targets: list of str, error text or None)
  target_rows(dbs, name) -> [(ServedDb, table name, Row, target)]
  status_op(table_name, row, is_connected, status) -> update op, or None
"""

from pyovs.ovsdb.data import Datum


def is_db_remote(name):
    return name.startswith("db:")


def parse_db_remote(name):
    parts = name[3:].split(",")
    if len(parts) != 3 or not all(parts):
        raise ValueError('"%s": invalid syntax' % name)
    return tuple(parts)


def _strings(datum):
    return [k for k in datum.keys() if isinstance(k, str)]


def resolve_db_remote(dbs, name):
    """Targets named by db remote NAME in DBS (name -> ServedDb)."""
    try:
        db_name, table_name, column_name = parse_db_remote(name)
    except ValueError as e:
        return [], str(e)
    served = dbs.get(db_name)
    if served is None:
        return [], '"%s": no database named %s' % (name, db_name)
    table = served.db.tables.get(table_name)
    if table is None:
        return [], '"%s": no table named %s' % (name, table_name)
    column = table.schema.columns.get(column_name)
    if column is None:
        return [], '"%s": table "%s" has no column "%s"' % (name, table_name,
                                                            column_name)
    key = column.type.key
    targets = []
    if key.type == "string" and column.type.value is None:
        for row in table.rows.values():
            targets.extend(_strings(row.columns[column_name]))
    elif key.type == "uuid" and key.ref_table:
        ref = served.db.tables.get(key.ref_table)
        if ref is None or "target" not in ref.schema.columns:
            return [], '"%s": type mismatch for column "%s"' % (name, column_name)
        for row in table.rows.values():
            for u in row.columns[column_name].keys():
                target_row = ref.rows.get(u)
                if target_row is not None:
                    targets.extend(_strings(target_row.columns["target"]))
    else:
        return [], '"%s": type mismatch for column "%s"' % (name, column_name)
    return sorted(set(targets)), None


def target_rows(dbs, name):
    """The rows with a "target" that db remote NAME refers to."""
    try:
        db_name, table_name, column_name = parse_db_remote(name)
    except ValueError:
        return []
    served = dbs.get(db_name)
    table = served.db.tables.get(table_name) if served else None
    column = table.schema.columns.get(column_name) if table else None
    if column is None or column.type.key.ref_table is None:
        return []
    ref = served.db.tables.get(column.type.key.ref_table)
    if ref is None or "target" not in ref.schema.columns:
        return []
    out = []
    for row in table.rows.values():
        for u in row.columns[column_name].keys():
            target_row = ref.rows.get(u)
            if target_row is not None:
                for t in _strings(target_row.columns["target"]):
                    out.append((served, ref.schema.name, target_row, t))
    return out


def status_op(table_name, row, is_connected, status):
    """An "update" op setting ROW's is_connected and status, if they differ."""
    new = {}
    cols = row.columns
    if "is_connected" in cols:
        d = cols["is_connected"]
        if d.to_json() != is_connected:
            new["is_connected"] = is_connected
    if "status" in cols:
        j = ["map", [[k, v] for k, v in sorted(status.items())]]
        if cols["status"] != Datum.from_json(cols["status"].type, j):
            new["status"] = j
    if not new:
        return None
    return {"op": "update", "table": table_name,
            "where": [["_uuid", "==", ["uuid", str(row.uuid)]]], "row": new}
