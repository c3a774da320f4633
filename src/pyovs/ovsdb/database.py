"""The in-memory OVSDB database: tables of rows, plus the derived state the
transaction engine needs (strong reference counts and unique indexes).

Public API:
  Row(uuid, version, columns)   columns: dict name -> Datum, every user
      column present.  Rows are replaced, never mutated once published, so
      an old Row object stays a valid snapshot.
      .uuid .version .columns .get(name) (also "_uuid", "_version")
      .to_json(column_names=None) -> {"name": datum JSON, ...} (_uuid and
      _version included when asked for, or when COLUMN_NAMES is None)
  Row.new(table_schema, uuid, version=None) -> a row with default values
  Table(schema)   .schema .rows (dict UUID -> Row) .iter_rows() (the rows
      in the order OVS's hmap of rows visits them)
  Database(schema)   .schema .tables (dict name -> Table)
      .get_row(table_name, uuid)
      .invalidate() / .ensure_derived(): reference counts and indexes are
      rebuilt lazily; writing to table.rows directly (e.g. when loading a
      file) invalidates them automatically.
  HmapOrder: OVS's hmap iteration order of a table's rows (table.rows.order).
      Insert rows into table.rows in the order OVS would (e.g. a file's
      records in OVS's order) and iter_rows() visits them as OVS does.
"""

import uuid as uuidlib

from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.types import BaseType, Type

UUID_TYPE = Type(BaseType("uuid"))
_dict_setitem = dict.__setitem__
_dict_delitem = dict.__delitem__
_dict_pop = dict.pop


class Row:
    __slots__ = ("uuid", "version", "columns")

    def __init__(self, uuid, version, columns):
        self.uuid = uuid
        self.version = version
        self.columns = columns

    @classmethod
    def new(cls, table_schema, uuid, version=None):
        return cls(uuid, version,
                   {n: Datum.default(c.type)
                    for n, c in table_schema.columns.items()})

    def get(self, name):
        if name == "_uuid":
            return Datum(UUID_TYPE, {self.uuid: None}, True)
        if name == "_version":
            return Datum(UUID_TYPE, {self.version: None}, True)
        return self.columns[name]

    def to_json(self, column_names=None):
        if column_names is None:
            j = {"_uuid": ["uuid", str(self.uuid)],
                 "_version": ["uuid", str(self.version)]}
            for n, d in self.columns.items():
                j[n] = d.to_json()
            return j
        j = {}
        for n in column_names:
            if n == "_uuid":
                j[n] = ["uuid", str(self.uuid)]
            elif n == "_version":
                j[n] = ["uuid", str(self.version)]
            else:
                j[n] = self.columns[n].to_json()
        return j

    def __repr__(self):
        return "Row(%s)" % self.uuid


def _calc_mask(capacity):
    mask = capacity // 2
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> shift
    return mask | ((mask & 1) << 1)


class HmapOrder:
    """The order in which OVS's hmap of a table's rows visits them.

    OVS keeps rows in an hmap keyed by the first 32 bits of their UUID: a new
    node goes to the head of bucket ``hash & mask``; when ``n / 2 > mask``
    the buckets grow and every node moves, bucket by bucket, to the head of
    its new bucket; removal unlinks in place and never shrinks the table; an
    update replaces a row in place.  This order decides which of several
    equal rows a "select" without _uuid keeps, so pyovs models it."""

    __slots__ = ("buckets", "mask", "n")

    def __init__(self):
        self.buckets = [[]]
        self.mask = 0
        self.n = 0

    def insert(self, u):
        self.buckets[(u.int >> 96) & self.mask].insert(0, u)
        self.n += 1
        if self.n // 2 > self.mask:
            new_mask = _calc_mask(self.n)
            if new_mask > self.mask:
                buckets = [[] for _ in range(new_mask + 1)]
                for bucket in self.buckets:
                    for v in bucket:
                        buckets[(v.int >> 96) & new_mask].insert(0, v)
                self.buckets = buckets
                self.mask = new_mask

    def remove(self, u):
        bucket = self.buckets[(u.int >> 96) & self.mask]
        try:
            bucket.remove(u)
        except ValueError:
            return
        self.n -= 1

    def __iter__(self):
        for bucket in self.buckets:
            yield from bucket


class RowDict(dict):
    """Table.rows: a dict that keeps OVS's hmap order of its keys and tells
    its database when someone other than the transaction engine changes
    it (so that reference counts and indexes get rebuilt)."""

    __slots__ = ("_db", "order")

    def __init__(self, db):
        super().__init__()
        self._db = db
        self.order = HmapOrder()

    def __setitem__(self, k, v):
        self._db._valid = False
        if k not in self:
            self.order.insert(k)
        _dict_setitem(self, k, v)

    def __delitem__(self, k):
        self._db._valid = False
        _dict_delitem(self, k)
        self.order.remove(k)

    def pop(self, k, *default):
        self._db._valid = False
        if k in self:
            self.order.remove(k)
        return _dict_pop(self, k, *default)

    def popitem(self):
        self._db._valid = False
        k, v = dict.popitem(self)
        self.order.remove(k)
        return k, v

    def clear(self):
        for k in list(self):
            del self[k]

    def update(self, *a, **kw):
        for k, v in dict(*a, **kw).items():
            self[k] = v

    def setdefault(self, k, v=None):
        if k not in self:
            self[k] = v
        return dict.__getitem__(self, k)

    # For the transaction engine, which maintains the derived state itself.
    def _insert(self, k, v):
        _dict_setitem(self, k, v)
        self.order.insert(k)

    def _remove(self, k):
        _dict_delitem(self, k)
        self.order.remove(k)


class Table:
    __slots__ = ("schema", "rows", "n_refs", "indexes", "_db")

    def __init__(self, schema, db=None):
        self.schema = schema
        self._db = db if db is not None else Database.__new__(Database)
        self.rows = RowDict(self._db)
        # uuid -> number of strong references to it (absent when zero).
        self.n_refs = {}
        # One dict per schema index: tuple of Datums -> row UUID.
        self.indexes = [dict() for _ in schema.indexes]

    def iter_rows(self):
        """The rows in the order OVS's hmap of rows visits them."""
        rows = self.rows
        return [rows[u] for u in rows.order]

    def __len__(self):
        return len(self.rows)

    def __repr__(self):
        return "Table(%s, %d rows)" % (self.schema.name, len(self.rows))


class Database:
    def __init__(self, schema):
        self.schema = schema
        self._valid = True
        self.tables = {name: Table(ts, self)
                       for name, ts in schema.tables.items()}

    def get_row(self, table_name, uuid):
        return self.tables[table_name].rows.get(uuid)

    def invalidate(self):
        self._valid = False

    def ensure_derived(self):
        """Rebuild reference counts and indexes if table contents were
        changed behind the transaction engine's back."""
        if self._valid:
            return
        for t in self.tables.values():
            t.n_refs = {}
            t.indexes = [dict() for _ in t.schema.indexes]
        for t in self.tables.values():
            for col in t.schema.strong_ref_columns:
                name = col.name
                kref = col.type.key.ref_table \
                    if col.type.key.is_strong_ref() else None
                vref = col.type.value.ref_table \
                    if col.type.value is not None \
                    and col.type.value.is_strong_ref() else None
                for row in t.rows.values():
                    d = row.columns[name].values_dict()
                    if kref is not None:
                        counts = self.tables[kref].n_refs
                        for k in d:
                            counts[k] = counts.get(k, 0) + 1
                    if vref is not None:
                        counts = self.tables[vref].n_refs
                        for v in d.values():
                            counts[v] = counts.get(v, 0) + 1
            for ix, names in zip(t.indexes, t.schema.indexes):
                for row in t.rows.values():
                    ix[index_key(row, names)] = row.uuid
        self._valid = True

    def __repr__(self):
        return "Database(%s)" % self.schema.name


def index_key(row, names):
    cols = row.columns
    return tuple(row.get(n) if n[0] == "_" else cols[n] for n in names)


def new_uuid():
    return uuidlib.uuid4()
