"""A standalone OVSDB database file: a schema record, then transactions.

The first record of a standalone file is the database schema (the JSON of
ovsdb-schema(5)).  Every later record is one committed transaction::

    {"<table>": {"<row uuid>": {<column>: <value>, ...} or null, ...},
     "_comment": "...", "_date": <ms since the epoch>, "_is_diff": true}

A null row deletes the row.  An object for a row that does not exist yet
inserts it: only columns whose value differs from the column's default are
written.  An object for an existing row modifies it: only the columns that
changed are written, and since OVS 2.15 (``"_is_diff": true``) a changed set
or map column (one that may hold more than one element) is written as the
*difference* between old and new value -- the elements present in exactly
one of them, and for maps the keys whose value changed with their new value
-- which the reader applies to the old value.  Columns that may hold at most
one element are always written whole.  Ephemeral columns are never written.
A transaction that changes nothing writes no record.

A compacted file holds the schema and one record that inserts every row:
``ovsdb-tool compact`` writes it without ``_is_diff`` and commented
"compacted by ovsdb-tool 3.1.0"; ovsdb-server's online compaction marks it
``_is_diff`` and comments it "compacting database online".

One deliberate difference from OVS 3.1: OVS parses a diff with the column's
own size limits, so after it has written a diff with more elements than the
column may hold (``{a,b,c}`` -> ``{d,e,f}`` in a set of at most 3) it can no
longer read its own file.  pyovs reads such diffs (only the result has to
fit), and writes such a transaction as a record of whole values without
``_is_diff``, which every version reads.

Reading a file replays the records in order into a Database.  A torn or
corrupt tail record is reported (FileStorage.read_error) and ignored: the
database is what the intact prefix says, and the next commit truncates the
tail away (see pyovs.ovsdb.log).

Members are put into each JSON object in the order OVS builds it, so that
the file's bytes match what OVS would write (see pyovs.util.json.shash_order()).

API: ``read_schema(path) -> DbSchema``; ``open_db(path, rw=False,
schema=None, locking=None, strict=True) -> (DbSchema, Database,
FileStorage)`` (strict: any bad record raises, as in ovsdb-tool; not strict:
reading stops there and storage.read_error says why, as in ovsdb-server);
``create_db(path, schema)``; ``changes_to_record(changes, comment=None,
date_ms=None, schema=None, column_diff=True)`` (None if nothing persistent
changed); ``apply_record(db, record, converting=False)``;
``snapshot_record(db, comment=None, date_ms=None, is_diff=False)``;
``schema_record(schema)``; ``convert_db(db, new_schema) -> Database``;
``write_standalone_db(path, db, comment)``; ``FileStorage`` with
``.commit(changes, comment=None)`` (written and fsynced before it returns),
``.write(changes, comment)`` + ``.flush()`` for batching several
transactions into one fsync (acknowledge none before the flush),
``.compact(db, comment=ONLINE_COMPACT_COMMENT)``, ``.grew_lots()``,
``.read_error``, ``.column_diff``, ``.close()``; ``datum_diff(old, new)``
and ``datum_apply_diff(old, diff)``.
"""

import functools
import math
import os
import time
import uuid as uuid_mod

from pyovs.ovsdb import log as ovslog
from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.database import Database, Row
from pyovs.ovsdb.error import OvsdbError, syntax_error
from pyovs.ovsdb.log import LogError, open_log
from pyovs.ovsdb.schema import DbSchema
from pyovs.util import json as ovs_json

#: The comment ovsdb-server puts on the snapshot when it compacts online.
ONLINE_COMPACT_COMMENT = "compacting database online"


def now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------------------
# Orders in which OVS builds its JSON objects.

def _uuid_hash(u):
    """OVS's uuid_hash(): the first 32 bits of the UUID."""
    return u.int >> 96


def _column_order(table_schema):
    """User columns of TABLE_SCHEMA in the order OVS iterates them."""
    return _column_order_of(tuple(table_schema.columns))


@functools.lru_cache(maxsize=1024)
def _column_order_of(columns):
    # OVS adds _uuid and _version first, then the columns in the order it
    # iterated the schema's JSON object.
    names = ["_uuid", "_version"] + ovs_json.shash_order(list(columns))
    return tuple(n for n in ovs_json.shash_order(names) if n in columns)


def _table_order(schema):
    return ovs_json.shash_order(ovs_json.shash_order(list(schema.tables)))


def _persistent(column):
    return not getattr(column, "ephemeral", False)


def _annotate(obj, comment, date_ms, is_diff):
    if comment:                 # (OVS writes no "_comment" for "")
        obj["_comment"] = comment
    obj["_date"] = now_ms() if date_ms is None else date_ms
    if is_diff:
        obj["_is_diff"] = True
    return obj


# ---------------------------------------------------------------------------
# Diffs of set and map columns.

def datum_diff(old, new):
    """The _is_diff form of NEW relative to OLD (Datums of one type)."""
    type_ = new.type
    if not type_.is_composite():
        return new
    is_map = type_.is_map()
    old_items = dict(old.items())
    new_items = dict(new.items())
    out = {}
    for k, v in old_items.items():
        if k not in new_items:
            out[k] = v
    for k, v in new_items.items():
        if k not in old_items:
            out[k] = v
        elif is_map and old_items[k] != v:
            out[k] = v
    return Datum(type_, out)


def _diff_type(type_):
    """The type a diff of a TYPE column is parsed as."""
    return type_.with_counts(0, math.inf) if type_.is_composite() else type_


def _diff_fits(diff):
    t = diff.type
    return not t.is_composite() or t.n_min <= len(diff) <= t.n_max


def datum_apply_diff(old, diff):
    """OLD with DIFF applied (the inverse of datum_diff)."""
    type_ = old.type
    if not type_.is_composite():
        return diff
    is_map = type_.is_map()
    out = dict(old.items())
    for k, v in diff.items():
        if k in out:
            if is_map and out[k] != v:
                out[k] = v
            else:
                del out[k]
        else:
            out[k] = v
    if not type_.n_min <= len(out) <= type_.n_max:
        raise OvsdbError("ovsdb error", "Datum crated by diff has size error")
    return Datum(type_, out)


# ---------------------------------------------------------------------------
# Records.

def _defaults(table_schema):
    """{column name: default Datum} for TABLE_SCHEMA (worked out once per
    schema object; callers must not change it)."""
    entry = _DEFAULTS_MEMO.get(id(table_schema))
    if entry is None or entry[0] is not table_schema:
        if len(_DEFAULTS_MEMO) >= 256:
            _DEFAULTS_MEMO.clear()
        entry = _DEFAULTS_MEMO[id(table_schema)] = (
            table_schema,
            {name: Datum.default(c.type) for name, c in table_schema.columns.items()})
    return entry[1]


#: id(TableSchema) -> (TableSchema, its defaults); the schema is kept so
#: its id cannot be reused while the entry lives.
_DEFAULTS_MEMO = {}


def _row_json(table_schema, old, new, is_diff, defaults=None):
    """JSON for one changed row, or None if nothing persistent changed."""
    if new is None:
        return None, True
    if defaults is None:
        defaults = _defaults(table_schema)
    row = None if old is not None else {}
    for name in _column_order(table_schema):
        column = table_schema.columns[name]
        if not _persistent(column):
            continue
        value = new.columns[name]
        if old is None:
            if value == defaults[name]:
                continue
        else:
            old_value = old.columns[name]
            if value == old_value:
                continue
            if is_diff:
                value = datum_diff(old_value, value)
                if not _diff_fits(value):
                    return _DIFF_TOO_BIG, True
        if row is None:
            row = {}
        row[name] = value.to_json()
    return row, row is not None


def changes_to_record(changes, comment=None, date_ms=None, schema=None,
                      column_diff=True):
    """The file record for CHANGES (transaction.Changes), or None if it
    changes nothing that is persisted (OVS then writes no record).  SCHEMA
    (the DbSchema) is needed unless CHANGES carries a .schema.  Without
    COLUMN_DIFF (ovsdb-server --disable-file-column-diff) changed columns
    are written whole and the record has no "_is_diff"."""
    record = _changes_json(changes, schema, column_diff)
    if record is _DIFF_TOO_BIG:
        # Some diff has more elements than its column allows, which OVS
        # 3.1 cannot read back: write this record with whole values.
        record = _changes_json(changes, schema, False)
        column_diff = False
    if not record:
        return None
    return _annotate(record, comment, date_ms, column_diff)


_DIFF_TOO_BIG = object()


def _changes_json(changes, schema, column_diff):
    record = {}
    for table_name, rows in changes.tables.items():
        table_schema = _find_table_schema(changes, schema, table_name)
        table_json = None
        for row_uuid in ovs_json.hmap_order([(u, _uuid_hash(u)) for u in rows]):
            old, new = rows[row_uuid]
            row_json, present = _row_json(table_schema, old, new, column_diff)
            if row_json is _DIFF_TOO_BIG:
                return _DIFF_TOO_BIG
            if not present:
                continue
            if table_json is None:
                table_json = record[table_name] = {}
            table_json[str(row_uuid)] = row_json
    return record


def _find_table_schema(changes, schema, table_name):
    if schema is None:
        schema = getattr(changes, "schema", None)
    if schema is None:
        raise ValueError("changes_to_record needs the database schema")
    return schema.tables[table_name]


def snapshot_record(db, comment=None, date_ms=None, is_diff=False):
    """One record that inserts every row of DB (for compaction).  IS_DIFF
    marks it "_is_diff" as ovsdb-server's online compaction does (it makes
    no difference to a record that only inserts)."""
    record = {}
    for table_name in _table_order(db.schema):
        table = db.tables[table_name]
        if not table.rows:
            continue
        table_json = record[table_name] = {}
        defaults = _defaults(table.schema)
        for row_uuid in ovs_json.hmap_order([(u, _uuid_hash(u)) for u in table.rows]):
            row_json, _ = _row_json(table.schema, None, table.rows[row_uuid],
                                    False, defaults)
            table_json[str(row_uuid)] = row_json
    return _annotate(record, comment, date_ms, is_diff)


def _parse_uuid(s):
    try:
        if len(s) != 36:
            raise ValueError
        return uuid_mod.UUID(s)
    except (ValueError, TypeError, AttributeError):
        return None


def apply_record(db, record, converting=False):
    """Applies transaction RECORD (parsed JSON) to DB in place.

    With CONVERTING, unknown tables and columns are ignored (as when reading
    a file into a newer schema).  Raises OvsdbError (OVS's texts) and leaves
    DB unchanged if the record is invalid."""
    if not isinstance(record, dict):
        raise syntax_error(record, "object expected")
    is_diff = record.get("_is_diff") is True
    staged = {}          # (table name, uuid) -> Row or None
    defaults_of = {}
    for table_name in ovs_json.shash_order(list(record)):
        value = record[table_name]
        table = db.tables.get(table_name)
        if table is None:
            if table_name == "_date" and isinstance(value, int) \
                    and not isinstance(value, bool):
                continue
            if table_name == "_is_diff" and isinstance(value, bool):
                continue
            if table_name == "_comment" or converting:
                continue
            raise syntax_error(record, "No table named %s." % table_name,
                               "unknown table")
        if not isinstance(value, dict):
            raise syntax_error(value, "object expected")
        for uuid_string in ovs_json.shash_order(list(value)):
            row_json = value[uuid_string]
            row_uuid = _parse_uuid(uuid_string)
            if row_uuid is None:
                raise syntax_error(value, '"%s" is not a valid UUID' % uuid_string)
            key = (table_name, row_uuid)
            old = staged[key] if key in staged else table.rows.get(row_uuid)
            if row_json is None:
                if old is None:
                    raise syntax_error(None, "transaction deletes row %s that "
                                       "does not exist" % row_uuid)
                staged[key] = None
                continue
            if not isinstance(row_json, dict):
                raise syntax_error(row_json, "row must be JSON object")
            defaults = defaults_of.get(table_name)
            if defaults is None:
                defaults = defaults_of[table_name] = _defaults(table.schema)
            columns = dict(defaults if old is None else old.columns)
            for column_name in ovs_json.shash_order(list(row_json)):
                column = table.schema.columns.get(column_name)
                if column is None:
                    if converting:
                        continue
                    raise syntax_error(row_json, "No column %s in table %s."
                                       % (column_name, table_name),
                                       "unknown column")
                current = columns[column_name]
                if is_diff and current != defaults[column_name]:
                    # A diff may hold more elements than the column does
                    # (OVS 3.1 writes such diffs and then cannot read them
                    # back; we can): only the result must fit.
                    diff = Datum.from_json(_diff_type(column.type),
                                           row_json[column_name])
                    datum = datum_apply_diff(current, diff)
                else:
                    datum = Datum.from_json(column.type, row_json[column_name])
                columns[column_name] = datum
            staged[key] = Row(row_uuid, uuid_mod.uuid4(), columns)
    _check_strong_refs(db, staged)
    for (table_name, row_uuid), row in staged.items():
        rows = db.tables[table_name].rows
        if row is None:
            rows.pop(row_uuid, None)
        else:
            rows[row_uuid] = row


def _check_strong_refs(db, staged):
    """Like OVS's commit of a replayed transaction: a row the record writes
    may not refer (strongly) to a row that does not exist."""
    def exists(table_name, u):
        key = (table_name, u)
        if key in staged:
            return staged[key] is not None
        return u in db.tables[table_name].rows

    for (table_name, row_uuid), row in staged.items():
        if row is None:
            continue
        table_schema = db.tables[table_name].schema
        for column in table_schema.strong_ref_columns:
            datum = row.columns[column.name]
            for base, atoms in ((column.type.key, datum.keys()),
                                (column.type.value,
                                 [v for _, v in datum.items()])):
                if base is None or not base.is_strong_ref():
                    continue
                for u in atoms:
                    if not exists(base.ref_table, u):
                        raise OvsdbError(
                            "referential integrity violation",
                            "Table %s column %s row %s references "
                            "nonexistent row %s in table %s."
                            % (table_name, column.name, row_uuid, u,
                               base.ref_table))


# ---------------------------------------------------------------------------
# Opening, creating, converting.

class FileStorage:
    """The log behind an open standalone database."""

    def __init__(self, log, schema, read_error=None):
        self.log = log
        self.path = log.path
        self.schema = schema
        #: The LogError (or OvsdbError) that ended reading early, or None.
        self.read_error = read_error
        self.n_records = 0
        #: False for ovsdb-server --disable-file-column-diff.
        self.column_diff = True

    def write(self, changes, comment=None, date_ms=None):
        """Appends the record for CHANGES (not yet durable).  Returns True if
        a record was written."""
        record = changes_to_record(changes, comment, date_ms, self.schema,
                                   self.column_diff) \
            if changes is not None else None
        if record is None:
            return False
        self.log.write(record)
        self.n_records += 1
        return True

    def flush(self):
        """Makes everything written so far durable (one fsync)."""
        self.log.commit()

    def commit(self, changes, comment=None, date_ms=None):
        """Writes CHANGES and fsyncs before returning."""
        if self.write(changes, comment, date_ms):
            self.flush()

    def compact(self, db, comment=ONLINE_COMPACT_COMMENT):
        """Atomically replaces the file by its schema plus one snapshot of
        DB (commented as ovsdb-server's online compaction by default)."""
        self.log.replace([schema_record(self.schema),
                          snapshot_record(db, comment, is_diff=self.column_diff)])
        self.n_records = 1

    def grew_lots(self):
        return self.log.grew_lots()

    def close(self):
        self.log.close()


def open_standalone_log(path, rw=False, locking=None):
    """Opens PATH as a standalone log (clustered files are refused)."""
    log = open_log(path, "read_write" if rw else "read",
                   ovslog.STANDALONE_MAGIC + "|" + ovslog.CLUSTER_MAGIC,
                   locking=locking)
    if log.magic != ovslog.STANDALONE_MAGIC:
        log.close()
        raise OvsdbError("ovsdb error", "%s: cannot apply this operation to "
                         "clustered database file" % path)
    return log


def _schema_from_record(log):
    obj = log.read()
    if obj is None:
        raise OvsdbError("ovsdb error", "%s: database file contains no schema"
                         % log.path)
    return DbSchema.from_json(obj)


def read_schema(path):
    """The schema of standalone database PATH."""
    log = open_standalone_log(path, locking=False)
    try:
        return _schema_from_record(log)
    finally:
        log.close()


def open_db(path, rw=False, schema=None, locking=None, strict=True):
    """Opens standalone database PATH and replays it.

    Returns (schema, db, storage).  SCHEMA, if given, replaces the file's
    schema (records are then read "converting": unknown tables and columns
    ignored).  With STRICT (ovsdb-tool), a bad record raises; without it
    (ovsdb-server), reading stops there and storage.read_error says why.
    A record that reads but cannot be applied always just ends reading, as
    in OVS."""
    log = open_standalone_log(path, rw=rw, locking=locking)
    try:
        file_schema = _schema_from_record(log)
        if schema is None:
            schema = file_schema
        db = Database(schema)
        read_error = None
        n = 0
        while True:
            try:
                record = log.read()
            except LogError as e:
                if strict:
                    raise
                read_error = e
                break
            if record is None:
                break
            try:
                apply_record(db, record, converting=schema is not file_schema)
            except OvsdbError as e:
                # As OVS: a record that does not parse is fatal for
                # ovsdb-tool; one that parses but cannot be committed (or
                # anything, for ovsdb-server) ends the replay there.
                if strict and e.error != "referential integrity violation":
                    raise
                log.unread()
                read_error = e
                break
            n += 1
        storage = FileStorage(log, schema, read_error)
        storage.n_records = n
        log.mark_base()
        return schema, db, storage
    except BaseException:
        log.close()
        raise


_SCHEMA_KEYS = ("name", "version", "cksum", "tables")
_TABLE_KEYS = ("mutable", "columns", "isRoot", "maxRows", "indexes")
_COLUMN_KEYS = ("mutable", "type", "ephemeral")
_TYPE_KEYS = ("key", "value", "min", "max")
_BASE_KEYS = ("type", "enum", "minInteger", "maxInteger", "minReal", "maxReal",
              "minLength", "maxLength", "refTable", "refType")


def _ordered(d, keys):
    out = {k: d[k] for k in keys if k in d}
    out.update((k, v) for k, v in d.items() if k not in out)
    return out


def _type_json(j):
    if not isinstance(j, dict):
        return j
    j = _ordered(j, _TYPE_KEYS)
    for k in ("key", "value"):
        if isinstance(j.get(k), dict):
            j[k] = _ordered(j[k], _BASE_KEYS)
    return j


def schema_record(schema):
    """SCHEMA's JSON with members in the order OVS's ovsdb_schema_to_json()
    builds them, so that the record's bytes match OVS's."""
    j = schema.to_json()
    tables = {}
    for name in schema.tables:      # (observed: OVS keeps the parse order)
        tj = _ordered(j["tables"][name], _TABLE_KEYS)
        columns = {}
        for cname in _column_order(schema.tables[name]):
            cj = _ordered(tj["columns"][cname], _COLUMN_KEYS)
            cj["type"] = _type_json(cj["type"])
            columns[cname] = cj
        tj["columns"] = columns
        tables[name] = tj
    j["tables"] = tables
    return _ordered(j, _SCHEMA_KEYS)


def create_db(path, schema):
    """Creates standalone database PATH holding SCHEMA and no data."""
    log = open_log(path, "create_excl", ovslog.STANDALONE_MAGIC)
    try:
        log.write(schema_record(schema))
        log.commit()
    finally:
        log.close()


def write_standalone_db(path, db, comment):
    """Writes DB (schema + snapshot) to a new file PATH, as OVS's
    write_standalone_db(); PATH is removed again on error."""
    log = open_log(path, "create", ovslog.STANDALONE_MAGIC, locking=False)
    try:
        log.write(schema_record(db.schema))
        log.write(snapshot_record(db, comment))
        log.commit()
    except BaseException:
        log.close()
        try:
            os.remove(path)
        except OSError:
            pass
        raise
    log.close()


def convert_db(db, new_schema):
    """DB's data in a new Database of NEW_SCHEMA (OVS's ovsdb_convert)."""
    dst = Database(new_schema)
    for table_name, src_table in db.tables.items():
        dst_table = dst.tables.get(table_name)
        if dst_table is None:
            continue
        for row_uuid, row in src_table.rows.items():
            columns = {}
            for name, column in dst_table.schema.columns.items():
                if name in src_table.schema.columns and name in row.columns:
                    columns[name] = convert_datum(row.columns[name], column.type)
                else:
                    columns[name] = Datum.default(column.type)
            dst_table.rows[row_uuid] = Row(row_uuid, uuid_mod.uuid4(), columns)
    return dst


def convert_datum(datum, new_type):
    """DATUM re-typed as NEW_TYPE (OVS's ovsdb_datum_convert: through JSON)."""
    return Datum.from_json(new_type, datum.to_json())
