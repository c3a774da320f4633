"""OVSDB mutations: RFC 7047 section 5.1 "mutate" operations.

Public API:
  Mutation.from_json(table_schema, json, symtab=None) -> Mutation
      .column (ColumnSchema) .mutator ("+=", "-=", "*=", "/=", "%=",
      "insert", "delete") .arg (Datum)
  MutationSet.from_json(table_schema, json_list, symtab=None)
  mutation_set.apply(columns) -> None: mutates COLUMNS (a dict column
      name -> Datum) in place, raising OvsdbError ("range error",
      "domain error", "constraint violation") as ovsdb-server does.
  MUTATORS
Integer arithmetic is C's int64 arithmetic (truncating division, overflow
is an error); real arithmetic must stay within +-DBL_MAX.
"""

import math

from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.error import OvsdbError, syntax_error
from pyovs.ovsdb.types import DBL_MAX, INT64_MAX, INT64_MIN, Type

MUTATORS = ("+=", "-=", "*=", "/=", "%=", "insert", "delete")
_ARITH = ("+=", "-=", "*=", "/=", "%=")

def _int_op(m, x, y):
    if m == "+=":
        z = x + y
    elif m == "-=":
        z = x - y
    elif m == "*=":
        z = x * y
    else:
        if y == 0:
            raise OvsdbError("domain error", "Division by zero.")
        q = abs(x) // abs(y)
        if (x < 0) != (y < 0):
            q = -q
        z = q if m == "/=" else x - y * q
    if not INT64_MIN <= z <= INT64_MAX:
        raise OvsdbError("range error",
                         'Result of "%s" operation is out of range.' % m)
    return z


def _real_op(m, x, y):
    if m == "+=":
        z = x + y
    elif m == "-=":
        z = x - y
    elif m == "*=":
        z = x * y
    else:
        if y == 0:
            raise OvsdbError("domain error", "Division by zero.")
        z = x / y
    if not -DBL_MAX <= z <= DBL_MAX:      # also catches NaN
        raise OvsdbError("range error",
                         'Result of "%s" operation is out of range.' % m)
    return z


def _type_mismatch(m, column, j):
    return syntax_error(
        j, 'Type mismatch: "%s" operator may not be applied to column %s of '
        'type %s.' % (m, column.name, column.type.to_english()))


def _check_count(d, type):
    n = len(d)
    if n < type.n_min or n > type.n_max:
        raise OvsdbError("constraint violation",
                         "Attempted to store %d elements in %s."
                         % (n, type.to_english()))


class Mutation:
    __slots__ = ("column", "mutator", "arg")

    def __init__(self, column, mutator, arg):
        self.column = column
        self.mutator = mutator
        self.arg = arg

    @classmethod
    def from_json(cls, ts, j, symtab=None):
        if (type(j) is not list or len(j) != 3 or type(j[0]) is not str
                or type(j[1]) is not str):
            raise syntax_error(j, "Parse error in mutation.")
        column = ts.get_column(j[0])
        if column is None:
            raise syntax_error(j, "No column %s in table %s."
                               % (j[0], ts.name), "unknown column")
        if not column.mutable:
            raise syntax_error(j, "Cannot mutate immutable column %s in "
                               "table %s." % (j[0], ts.name),
                               "constraint violation")
        m = j[1]
        if m not in MUTATORS:
            raise syntax_error(None, "No mutator named %s." % m,
                               "unknown mutator")
        t = column.type
        if m in _ARITH:
            if ((not t.is_scalar() and not t.is_set())
                    or t.key.type not in ("integer", "real")
                    or (m == "%=" and t.key.type == "real")):
                raise _type_mismatch(m, column, j)
            arg = Datum.from_json(Type(t.key.without_constraints()), j[2],
                                  symtab)
        else:
            if not t.is_set() and not t.is_map():
                raise _type_mismatch(m, column, j)
            at = t.with_counts(0, math.inf if m == "delete" else t.n_max)
            try:
                arg = Datum.from_json(at, j[2], symtab)
            except OvsdbError:
                if not (t.is_map() and m == "delete"):
                    raise
                arg = Datum.from_json(Type(t.key, None, 0, math.inf), j[2],
                                      symtab)
        return cls(column, m, arg)

    def to_json(self):
        return [self.column.name, self.mutator, self.arg.to_json()]

    def apply(self, columns):
        name = self.column.name
        type = self.column.type
        old = columns[name]
        m = self.mutator
        od = old.values_dict()
        ad = self.arg.values_dict()
        if m == "insert":
            if type.value is not None:
                nd = dict(od)
                for k, v in ad.items():
                    if k not in nd:
                        nd[k] = v
            else:
                nd = dict(od)
                nd.update(ad)
            if len(nd) == len(od):
                return
            _check_count(nd, type)
            columns[name] = Datum(type, nd)
        elif m == "delete":
            nd = dict(od)
            if type.value is not None and self.arg.type.value is not None:
                for k, v in ad.items():
                    if k in nd and nd[k] == v:
                        del nd[k]
            else:
                for k in ad:
                    nd.pop(k, None)
            if len(nd) == len(od):
                return
            _check_count(nd, type)
            columns[name] = Datum(type, nd, True)
        else:
            y = next(iter(ad))
            op = _int_op if type.key.type == "integer" else _real_op
            new = [op(m, x, y) for x in od]
            base = type.key
            if base._check:
                for x in new:
                    base.check_atom(x)
            nd = dict.fromkeys(new)
            if len(nd) != len(new):
                raise OvsdbError("constraint violation",
                                 'Result of "%s" operation contains '
                                 'duplicates.' % m)
            columns[name] = Datum(type, nd)


class MutationSet:
    __slots__ = ("mutations",)

    def __init__(self, mutations=()):
        self.mutations = list(mutations)

    @classmethod
    def from_json(cls, ts, j, symtab=None):
        if type(j) is not list:
            raise syntax_error(j, "Parse error in mutation.")
        return cls([Mutation.from_json(ts, m, symtab) for m in j])

    def to_json(self):
        return [m.to_json() for m in self.mutations]

    def apply(self, columns):
        for m in self.mutations:
            m.apply(columns)
