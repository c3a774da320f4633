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
  Table(schema)   .schema .rows (dict UUID -> Row)
  Database(schema)   .schema .tables (dict name -> Table)
      .get_row(table_name, uuid)
      .invalidate() / .ensure_derived(): reference counts and indexes are
      rebuilt lazily; writing to table.rows directly (e.g. when loading a
      file) invalidates them automatically.
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


class RowDict(dict):
    """Table.rows: a dict that tells its database when someone other than
    the transaction engine changes it."""

    __slots__ = ("_db",)

    def __init__(self, db):
        super().__init__()
        self._db = db

    def __setitem__(self, k, v):
        self._db._valid = False
        _dict_setitem(self, k, v)

    def __delitem__(self, k):
        self._db._valid = False
        _dict_delitem(self, k)

    def pop(self, *a):
        self._db._valid = False
        return _dict_pop(self, *a)

    def popitem(self):
        self._db._valid = False
        return dict.popitem(self)

    def clear(self):
        self._db._valid = False
        dict.clear(self)

    def update(self, *a, **kw):
        self._db._valid = False
        dict.update(self, *a, **kw)

    def setdefault(self, k, v=None):
        self._db._valid = False
        return dict.setdefault(self, k, v)


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
