"""OVSDB database schemas (RFC 7047 section 3.2, ovsdb(7)).

Public API:
  DbSchema(name, version, cksum, tables)
      DbSchema.from_json(j) (raises OvsdbError with OVS's texts), .to_json()
      .name .version ("" when absent) .cksum ("" when absent)
      .tables (dict name -> TableSchema, in file order) .has_weak_refs
  TableSchema(name, columns, max_rows=None, is_root=False, indexes=())
      .name .columns (dict name -> ColumnSchema; user columns only)
      .max_rows (None = unlimited) .is_root .mutable .indexes (list of column-name
      lists) .get_column(name) (also "_uuid" and "_version")
      .all_columns (dict with "_uuid" and "_version" first)
      .strong_ref_columns / .weak_ref_columns (lists of ColumnSchema)
      .default_sort() (how a "select" without "sort" orders rows)
      .ref_columns (columns whose key or value is a reference)
  ColumnSchema(name, type, mutable=True, ephemeral=False)
      .name .type (Type) .mutable .ephemeral .persistent
  UUID_COLUMN, VERSION_COLUMN: the implicit columns.
  load_schema(path) -> DbSchema
  schema_cksum(text) -> "CRC LENGTH": the "cksum" OVS's build stores in a
      schema file (POSIX cksum of the file without its "cksum" line).
  is_valid_version(s)
"""

import re

from pyovs.ovsdb.error import OvsdbError, Parser, syntax_error
from pyovs.ovsdb.types import UINT_MAX, BaseType, Type, is_id
from pyovs.util import json as ovs_json

_VERSION_RE = re.compile(r'[0-9]+\.[0-9]+\.[0-9]+\Z')
_CKSUM_LINE_RE = re.compile(rb'"cksum": *"[0-9][0-9]* [0-9][0-9]*",')


def is_valid_version(s):
    return _VERSION_RE.match(s) is not None


class ColumnSchema:
    __slots__ = ("name", "type", "mutable", "ephemeral")

    def __init__(self, name, type, mutable=True, ephemeral=False):
        self.name = name
        self.type = type
        self.mutable = mutable
        self.ephemeral = ephemeral

    @property
    def persistent(self):
        return not self.ephemeral

    @classmethod
    def from_json(cls, j, name):
        p = Parser(j, "schema for column %s" % name)
        mutable = p.member("mutable", "boolean", optional=True)
        ephemeral = p.member("ephemeral", "boolean", optional=True)
        type_j = p.member("type", ("string", "object"))
        p.finish()
        type = Type.from_json(type_j)
        mutable = True if mutable is None else mutable
        if not mutable and (type.key.is_weak_ref()
                            or (type.value is not None
                                and type.value.is_weak_ref())):
            # A weak reference must be able to change when its target goes.
            mutable = True
        return cls(name, type, mutable, bool(ephemeral))

    def to_json(self):
        j = {"type": self.type.to_json()}
        if self.ephemeral:
            j["ephemeral"] = True
        if not self.mutable:
            j["mutable"] = False
        return j

    def __eq__(self, other):
        return (isinstance(other, ColumnSchema) and self.name == other.name
                and self.type == other.type and self.mutable == other.mutable
                and self.ephemeral == other.ephemeral)

    def __repr__(self):
        return "ColumnSchema(%r, %r)" % (self.name, self.type)


UUID_COLUMN = ColumnSchema("_uuid", Type(BaseType("uuid")), mutable=False)
VERSION_COLUMN = ColumnSchema("_version", Type(BaseType("uuid")),
                              mutable=False)


class TableSchema:
    def __init__(self, name, columns, max_rows=None, is_root=False,
                 indexes=(), mutable=True):
        self.name = name
        self.mutable = mutable
        self.columns = dict(columns)
        self.max_rows = None if max_rows == UINT_MAX else max_rows
        self.is_root = is_root
        self.indexes = [list(ix) for ix in indexes]
        self._derive()

    def _derive(self):
        self.all_columns = {"_uuid": UUID_COLUMN, "_version": VERSION_COLUMN}
        self.all_columns.update(self.columns)
        strong, weak, refs = [], [], []
        for c in self.columns.values():
            k, v = c.type.key, c.type.value
            if k.is_ref() or (v is not None and v.is_ref()):
                refs.append(c)
            if k.is_strong_ref() or (v is not None and v.is_strong_ref()):
                strong.append(c)
            if k.is_weak_ref() or (v is not None and v.is_weak_ref()):
                weak.append(c)
        self.ref_columns = refs
        self.strong_ref_columns = strong
        self.weak_ref_columns = weak

    def get_column(self, name):
        return self.all_columns.get(name)

    def default_sort(self):
        """The columns a "select" without "sort" is sorted by: all of them
        in the order of OVS's hash table of column names (_uuid and _version
        were added first), up to _uuid, which decides every tie."""
        order = getattr(self, "_default_sort", None)
        if order is None:
            try:
                from pyovs.ovsdb.log import shash_order
            except ImportError:                 # pragma: no cover
                def shash_order(names):
                    return list(names)
            order = shash_order(["_uuid", "_version"]
                                + shash_order(list(self.columns)))
            order = order[:order.index("_uuid") + 1]
            self._default_sort = order
        return order

    @classmethod
    def from_json(cls, j, name):
        p = Parser(j, "table schema for table %s" % name)
        columns_j = p.member("columns", "object")
        max_rows = p.member("maxRows", "integer", optional=True)
        is_root = p.member("isRoot", "boolean", optional=True)
        indexes_j = p.member("indexes", "array", optional=True)
        mutable = p.member("mutable", "boolean", optional=True)
        p.finish()
        if max_rows is not None and max_rows <= 0:
            raise syntax_error(j, "maxRows must be at least 1")
        if not columns_j:
            raise syntax_error(j, "table must have at least one column")
        columns = {}
        for cname, cj in columns_j.items():
            if cname.startswith("_"):
                raise syntax_error(j, 'names beginning with "_" are reserved')
            if not is_id(cname):
                raise syntax_error(j, "name must be a valid id")
            columns[cname] = ColumnSchema.from_json(cj, cname)
        ts = cls(name, columns,
                 max_rows if max_rows is not None and max_rows < UINT_MAX
                 else None, bool(is_root), (), mutable is not False)
        for ij in indexes_j or []:
            names = _column_set_from_json(ij, ts)
            if not names:
                raise syntax_error(j, "index must have at least one column")
            for cn in names:
                col = ts.get_column(cn)
                if col.ephemeral:
                    raise syntax_error(
                        j, "ephemeral columns (such as %s) may not be "
                        "indexed" % cn)
            ts.indexes.append(names)
        return ts

    def to_json(self, default_is_root=False):
        j = {}
        if not self.mutable:
            j["mutable"] = False
        j["columns"] = {n: c.to_json() for n, c in self.columns.items()}
        if self.max_rows is not None:
            j["maxRows"] = self.max_rows
        if self.is_root != default_is_root:
            j["isRoot"] = self.is_root
        if self.indexes:
            j["indexes"] = [list(ix) for ix in self.indexes]
        return j

    def __eq__(self, other):
        return (isinstance(other, TableSchema) and self.name == other.name
                and self.columns == other.columns
                and self.max_rows == other.max_rows
                and self.is_root == other.is_root
                and self.mutable == other.mutable
                and self.indexes == other.indexes)

    def __repr__(self):
        return "TableSchema(%r)" % self.name


def _column_set_from_json(j, ts):
    """OVS's ovsdb_column_set_from_json() for a given JSON array; returns
    the list of names (which may include _uuid and _version)."""
    error = None
    names = []
    if type(j) is list:
        for e in j:
            if type(e) is not str:
                break
            if ts.get_column(e) is None:
                error = syntax_error(j, "%s is not a valid column name" % e)
                break
            if e in names:
                break
            names.append(e)
        else:
            return names
    raise error or syntax_error(j, "array of distinct column names expected")


column_set_from_json = _column_set_from_json


class DbSchema:
    def __init__(self, name, version, cksum, tables):
        self.name = name
        self.version = version or ""
        self.cksum = cksum or ""
        self.tables = dict(tables)

    @property
    def has_weak_refs(self):
        """Whether any column of any table holds weak references."""
        return any(t.weak_ref_columns for t in self.tables.values())

    @classmethod
    def from_json(cls, j):
        p = Parser(j, "database schema")
        name = p.member("name", "id")
        version = p.member("version", "string", optional=True)
        cksum = p.member("cksum", "string", optional=True)
        tables_j = p.member("tables", "object")
        p.finish()
        if version is not None and not is_valid_version(version):
            raise syntax_error(j, 'schema version "%s" not in format x.y.z'
                               % version)
        tables = {}
        for tname, tj in tables_j.items():
            if tname.startswith("_"):
                raise syntax_error(j, 'names beginning with "_" are reserved')
            if not is_id(tname):
                raise syntax_error(j, "name must be a valid id")
            tables[tname] = TableSchema.from_json(tj, tname)
        schema = cls(name, version, cksum, tables)
        if not any(t.is_root for t in tables.values()):
            # Schemas older than "isRoot" had no garbage collection.
            for t in tables.values():
                t.is_root = True
        for t in tables.values():
            for c in t.columns.values():
                for base, which in ((c.type.key, "key"),
                                    (c.type.value, "value")):
                    if base is not None and base.ref_table is not None \
                            and base.ref_table not in tables:
                        raise syntax_error(
                            None, "column %s %s refers to undefined table %s"
                            % (c.name, which, base.ref_table))
        return schema

    def to_json(self):
        default_is_root = all(t.is_root for t in self.tables.values())
        j = {"name": self.name}
        if self.version:
            j["version"] = self.version
        if self.cksum:
            j["cksum"] = self.cksum
        j["tables"] = {n: t.to_json(default_is_root)
                       for n, t in self.tables.items()}
        return j

    def __eq__(self, other):
        return (isinstance(other, DbSchema) and self.name == other.name
                and self.version == other.version
                and self.cksum == other.cksum and self.tables == other.tables)

    def __repr__(self):
        return "DbSchema(%r, %r)" % (self.name, self.version)


def load_schema(path):
    """Read and parse the schema file PATH (OVS's ovsdb_schema_from_file(),
    with its error texts)."""
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError as e:
        raise OvsdbError("failed to read schema",
                         '"%s" could not be read as JSON (error opening "%s": %s)'
                         % (path, path, e.strerror)) from None
    try:
        j = ovs_json.from_string(text)
    except ovs_json.JsonError as e:
        raise OvsdbError("failed to read schema",
                         '"%s" could not be read as JSON (%s)' % (path, e)) from None
    try:
        return DbSchema.from_json(j)
    except OvsdbError as e:
        raise e.wrap('failed to parse "%s" as ovsdb schema' % path) from None


def _crc_table():
    table = []
    for i in range(256):
        c = i << 24
        for _ in range(8):
            c = ((c << 1) ^ 0x04C11DB7) if c & 0x80000000 else (c << 1)
        table.append(c & 0xFFFFFFFF)
    return table


_CRC_TABLE = None


def posix_cksum(data):
    """POSIX cksum(1) of DATA: (crc, length)."""
    global _CRC_TABLE
    if _CRC_TABLE is None:
        _CRC_TABLE = _crc_table()
    t = _CRC_TABLE
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ t[(crc >> 24) ^ b]
    n = len(data)
    while n:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ t[(crc >> 24) ^ (n & 0xFF)]
        n >>= 8
    return (~crc) & 0xFFFFFFFF, len(data)


def schema_cksum(text):
    """The "cksum" value for schema file contents TEXT (bytes or str): the
    POSIX cksum of the file with its "cksum" line deleted."""
    if isinstance(text, str):
        text = text.encode()
    lines = text.splitlines(keepends=True)
    kept = b"".join(l for l in lines if not _CKSUM_LINE_RE.search(l))
    crc, n = posix_cksum(kept)
    return "%d %d" % (crc, n)
