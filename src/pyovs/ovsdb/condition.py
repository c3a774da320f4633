"""OVSDB conditions: RFC 7047 section 5.1 "where" clauses, plus OVS's
constant clauses true and false (used by monitor_cond).

Public API:
  Condition.from_json(table_schema, json, symtab=None) -> Condition
      (raises OvsdbError: "syntax error", "unknown column",
      "unknown function", "constraint violation" as OVS does)
  cond.evaluate(row) -> bool   (ROW: pyovs.ovsdb.database.Row; all clauses
      must hold; an empty condition matches every row)
  cond.clauses: list of Clause(function, column, arg)
  cond.is_true() / cond.is_false(): constant conditions
  FUNCTIONS: the function names OVS accepts
"""

import math

from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.error import syntax_error

FUNCTIONS = ("false", "true", "==", "includes", "<=", "<", ">=", ">",
             "excludes", "!=")
_ORDERED = ("<", "<=", ">", ">=")


def _field_getter(column_name):
    if column_name == "_uuid":
        return None, lambda row: row.uuid
    if column_name == "_version":
        return None, lambda row: row.version
    return (lambda row: row.columns[column_name]), None


class Clause:
    __slots__ = ("function", "column", "arg", "test")

    def __init__(self, function, column, arg):
        self.function = function
        self.column = column
        self.arg = arg
        self.test = self._compile()

    def to_json(self):
        if self.function in ("true", "false"):
            return self.function == "true"
        return [self.column.name, self.function, self.arg.to_json()]

    def _compile(self):
        f = self.function
        if f == "true":
            return lambda row: True
        if f == "false":
            return lambda row: False
        type = self.column.type
        get_datum, get_atom = _field_getter(self.column.name)
        if type.is_scalar():
            a = self.arg.scalar()
            cmp = _SCALAR_TESTS[f]
            if get_atom is not None:
                return lambda row: cmp(get_atom(row), a)
            col = self.column.name

            def test(row):
                for x in row.columns[col].values_dict():
                    return cmp(x, a)
            return test
        if type.is_optional_scalar():
            # One value on each side: compare the atoms; otherwise ordered
            # comparisons are false and the others compare as sets.
            arg_d = self.arg.values_dict()
            cmp = _SCALAR_TESTS[f]
            col = self.column.name
            a = next(iter(arg_d)) if arg_d else None
            set_test = _SET_TESTS.get(f)

            def test(row):
                d = row.columns[col].values_dict()
                if d and arg_d:
                    for x in d:
                        return cmp(x, a)
                if set_test is None:
                    return False
                return set_test(arg_d, d)
            return test
        arg = self.arg
        arg_d = arg.values_dict()
        is_map = type.value is not None
        if f == "==":
            return lambda row: get_datum(row) == arg
        if f == "!=":
            return lambda row: get_datum(row) != arg
        if f == "includes":
            if is_map:
                return lambda row: _includes_map(arg_d,
                                                 get_datum(row).values_dict())
            return lambda row: _includes_set(arg_d,
                                             get_datum(row).values_dict())
        # excludes
        if is_map:
            return lambda row: _excludes_map(arg_d,
                                             get_datum(row).values_dict())
        return lambda row: _excludes_set(arg_d, get_datum(row).values_dict())


_MISSING = object()


def _includes_set(arg, field):
    for k in arg:
        if k not in field:
            return False
    return True


def _excludes_set(arg, field):
    for k in arg:
        if k in field:
            return False
    return True


def _includes_map(arg, field):
    for k, v in arg.items():
        if field.get(k, _MISSING) != v:
            return False
    return True


def _excludes_map(arg, field):
    for k, v in arg.items():
        if field.get(k, _MISSING) == v:
            return False
    return True


_SET_TESTS = {
    "==": lambda arg, d: arg == d,
    "!=": lambda arg, d: arg != d,
    "includes": _includes_set,
    "excludes": _excludes_set,
}

_SCALAR_TESTS = {
    "<": lambda x, a: x < a,
    "<=": lambda x, a: x <= a,
    "==": lambda x, a: x == a,
    "includes": lambda x, a: x == a,
    "!=": lambda x, a: x != a,
    "excludes": lambda x, a: x != a,
    ">=": lambda x, a: x >= a,
    ">": lambda x, a: x > a,
}


def clause_from_json(ts, j, symtab=None):
    if j is True or j is False:
        col = ts.get_column("_uuid")
        return Clause("true" if j else "false", col, Datum.default(col.type))
    if (type(j) is not list or len(j) != 3 or type(j[0]) is not str
            or type(j[1]) is not str):
        raise syntax_error(j, "Parse error in condition.")
    column = ts.get_column(j[0])
    if column is None:
        raise syntax_error(j, "No column %s in table %s." % (j[0], ts.name),
                           "unknown column")
    f = j[1]
    if f not in FUNCTIONS:
        raise syntax_error(None, "No function named %s." % f,
                           "unknown function")
    t = column.type
    if f in _ORDERED:
        if (not (t.is_scalar() or t.is_optional_scalar())
                or t.key.type not in ("integer", "real")):
            raise syntax_error(
                j, 'Type mismatch: "%s" operator may not be applied to '
                'column %s of type %s.' % (f, column.name, t.to_english()))
    elif f == "excludes":
        if not t.is_scalar():
            t = t.with_counts(0, math.inf)
    elif f == "includes":
        if not t.is_scalar():
            t = t.with_counts(0, t.n_max)
    return Clause(f, column, Datum.from_json(t, j[2], symtab))


class Condition:
    __slots__ = ("clauses", "_tests")

    def __init__(self, clauses=()):
        self.clauses = list(clauses)
        self._tests = tuple(c.test for c in self.clauses
                            if c.function != "true")

    @classmethod
    def from_json(cls, table_schema, j, symtab=None):
        if type(j) is not list:
            raise syntax_error(j, "Parse error in condition.")
        return cls([clause_from_json(table_schema, c, symtab) for c in j])

    def to_json(self):
        return [c.to_json() for c in self.clauses]

    def is_true(self):
        return all(c.function == "true" for c in self.clauses)

    def is_false(self):
        return any(c.function == "false" for c in self.clauses)

    def evaluate(self, row):
        for t in self._tests:
            if not t(row):
                return False
        return True

    __call__ = evaluate

    def __repr__(self):
        return "Condition(%r)" % (self.to_json(),)
