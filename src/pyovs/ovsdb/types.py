"""OVSDB types: atomic types, base types with constraints, column types.

Public API:
  ATOMIC_TYPES = ("integer", "real", "boolean", "string", "uuid")
  BaseType(type, enum=None, min=None, max=None, min_length=0,
           max_length=None, ref_table=None, ref_type="strong")
      .type .enum (a Datum of the enum type, or None) .min .max (integer or
      real bounds, None = unbounded) .min_length .max_length (None =
      unbounded) .ref_table .ref_type ("strong"/"weak")
      BaseType.from_json(j), .to_json(), .check_atom(atom) (raises
      OvsdbError("constraint violation")), .is_ref(), .is_strong_ref(),
      .is_weak_ref(), .without_constraints(), .default_atom()
  Type(key, value=None, n_min=1, n_max=1)   n_max may be math.inf
      Type.from_json(j), .to_json(), .is_scalar(), .is_optional(),
      .is_optional_scalar(), .is_set(), .is_map(), .to_english(),
      .with_counts(n_min, n_max)
  is_id(s): RFC 7047 <id> ([A-Za-z_][A-Za-z0-9_]*)
  INT64_MIN, INT64_MAX, UINT_MAX, DBL_MAX

Errors follow OVS's ovsdb-types.c texts ("syntax error" tag).
"""

import math
import sys

from pyovs.ovsdb.error import OvsdbError, Parser, is_id, syntax_error

ATOMIC_TYPES = ("integer", "real", "boolean", "string", "uuid")
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT_MAX = (1 << 32) - 1
DBL_MAX = sys.float_info.max

def _fmt_real(x):
    return '%.15g' % x


class BaseType:
    """An atomic type plus its constraints."""

    __slots__ = ("type", "enum", "min", "max", "min_length", "max_length",
                 "ref_table", "ref_type", "_check")

    def __init__(self, type, enum=None, min=None, max=None, min_length=0,
                 max_length=None, ref_table=None, ref_type="strong"):
        if type not in ATOMIC_TYPES:
            raise ValueError(f"bad atomic type {type!r}")
        self.type = type
        if enum is not None and not hasattr(enum, "keys"):
            from pyovs.ovsdb.data import Datum
            enum = Datum(Type(BaseType(type), None, 1, math.inf),
                         {a: None for a in enum})
        self.enum = enum
        if type == "integer":
            self.min = None if min in (None, INT64_MIN) else min
            self.max = None if max in (None, INT64_MAX) else max
        elif type == "real":
            self.min = None if min is None or min == -DBL_MAX else float(min)
            self.max = None if max is None or max == DBL_MAX else float(max)
        else:
            self.min = self.max = None
        if type == "string":
            self.min_length = min_length or 0
            self.max_length = (None if max_length in (None, UINT_MAX)
                               else max_length)
        else:
            self.min_length, self.max_length = 0, None
        if type == "uuid" and ref_table is not None:
            self.ref_table = ref_table
            self.ref_type = ref_type
        else:
            self.ref_table = None
            self.ref_type = "strong"
        self._check = self.has_constraints()

    # -- predicates ---------------------------------------------------------
    def has_constraints(self):
        return (self.enum is not None or self.min is not None
                or self.max is not None or self.min_length != 0
                or self.max_length is not None)

    def is_ref(self):
        return self.ref_table is not None

    def is_strong_ref(self):
        return self.ref_table is not None and self.ref_type == "strong"

    def is_weak_ref(self):
        return self.ref_table is not None and self.ref_type == "weak"

    def without_constraints(self):
        return BaseType(self.type)

    def default_atom(self):
        from pyovs.ovsdb.data import default_atom
        return default_atom(self.type)

    def __eq__(self, other):
        return (isinstance(other, BaseType) and self.type == other.type
                and self.enum == other.enum and self.min == other.min
                and self.max == other.max
                and self.min_length == other.min_length
                and self.max_length == other.max_length
                and self.ref_table == other.ref_table
                and self.ref_type == other.ref_type)

    def __hash__(self):
        return hash((self.type, self.ref_table))

    def __repr__(self):
        return f"BaseType({self.to_json()!r})"

    # -- constraints ----------------------------------------------------------
    def check_atom(self, atom):
        """Raise OvsdbError("constraint violation") unless ATOM satisfies
        this type's constraints (as ovsdb_atom_check_constraints())."""
        if not self._check:
            return
        if self.enum is not None:
            if atom not in self.enum.values_dict():
                from pyovs.ovsdb.data import atom_to_string
                raise OvsdbError(
                    "constraint violation",
                    "%s is not one of the allowed values (%s)"
                    % (atom_to_string(atom, self.type),
                       self.enum.to_string()))
            return
        t = self.type
        if t == "integer" or t == "real":
            lo, hi = self.min, self.max
            if (lo is None or atom >= lo) and (hi is None or atom <= hi):
                return
            f = str if t == "integer" else _fmt_real
            if lo is not None:
                if hi is not None:
                    msg = "%s is not in the valid range %s to %s (inclusive)" \
                        % (f(atom), f(lo), f(hi))
                else:
                    msg = "%s is less than minimum allowed value %s" \
                        % (f(atom), f(lo))
            else:
                msg = "%s is greater than maximum allowed value %s" \
                    % (f(atom), f(hi))
            raise OvsdbError("constraint violation", msg)
        if t == "string":
            n = len(atom)
            if n < self.min_length:
                raise OvsdbError(
                    "constraint violation",
                    '"%s" length %d is less than minimum allowed length %d'
                    % (atom, n, self.min_length))
            if self.max_length is not None and n > self.max_length:
                raise OvsdbError(
                    "constraint violation",
                    '"%s" length %d is greater than maximum allowed length %d'
                    % (atom, n, self.max_length))

    # -- JSON -----------------------------------------------------------------
    @classmethod
    def from_json(cls, j):
        if isinstance(j, str):
            return cls(_atomic_type_from_json(j))
        p = Parser(j, "ovsdb type")
        tj = p.member("type", "string")
        if p.error is not None:
            return p.finish()          # raises
        atype = _atomic_type_from_json(tj)
        kw = {}
        error = None
        enum_j = p.member("enum", "any", optional=True)
        if enum_j is not None:
            from pyovs.ovsdb.data import Datum
            enum_type = Type(BaseType(atype), None, 1, math.inf)
            try:
                kw["enum"] = Datum.from_json(enum_type, enum_j)
            except OvsdbError as e:
                error = e
        elif atype == "integer":
            lo = p.member("minInteger", "integer", optional=True)
            hi = p.member("maxInteger", "integer", optional=True)
            kw["min"], kw["max"] = lo, hi
            if (lo if lo is not None else INT64_MIN) > \
                    (hi if hi is not None else INT64_MAX):
                error = syntax_error(j, "minInteger exceeds maxInteger")
        elif atype == "real":
            lo = p.member("minReal", "number", optional=True)
            hi = p.member("maxReal", "number", optional=True)
            kw["min"], kw["max"] = lo, hi
            if (lo if lo is not None else -DBL_MAX) > \
                    (hi if hi is not None else DBL_MAX):
                error = syntax_error(j, "minReal exceeds maxReal")
        elif atype == "string":
            for name, key in (("minLength", "min_length"),
                              ("maxLength", "max_length")):
                v = p.member(name, "integer", optional=True)
                if v is not None and error is None and not 0 <= v <= UINT_MAX:
                    error = syntax_error(
                        v, "%s out of valid range 0 to %u" % (name, UINT_MAX))
                kw[key] = v
            if error is None and (kw["min_length"] or 0) > \
                    (kw["max_length"] if kw["max_length"] is not None
                     else UINT_MAX):
                error = syntax_error(j, "minLength exceeds maxLength")
        elif atype == "uuid":
            ref_table = p.member("refTable", "id", optional=True)
            if ref_table is not None:
                kw["ref_table"] = ref_table
                ref_type = p.member("refType", "id", optional=True)
                if ref_type is None or ref_type == "strong":
                    kw["ref_type"] = "strong"
                elif ref_type == "weak":
                    kw["ref_type"] = "weak"
                else:
                    error = syntax_error(
                        j, 'refType must be "strong" or "weak" (not "%s")'
                        % ref_type)
        if error is not None:
            raise error
        p.finish()
        return cls(atype, **kw)

    def to_json(self):
        if not self.has_constraints() and self.ref_table is None:
            return self.type
        j = {"type": self.type}
        if self.enum is not None:
            j["enum"] = self.enum.to_json()
        if self.type == "integer":
            if self.min is not None:
                j["minInteger"] = self.min
            if self.max is not None:
                j["maxInteger"] = self.max
        elif self.type == "real":
            if self.min is not None:
                j["minReal"] = self.min
            if self.max is not None:
                j["maxReal"] = self.max
        elif self.type == "string":
            if self.min_length:
                j["minLength"] = self.min_length
            if self.max_length is not None:
                j["maxLength"] = self.max_length
        elif self.ref_table is not None:
            j["refTable"] = self.ref_table
            if self.ref_type == "weak":
                j["refType"] = "weak"
        return j


def _atomic_type_from_json(j):
    if isinstance(j, str):
        if j in ATOMIC_TYPES:
            return j
        raise syntax_error(j, '"%s" is not an atomic-type' % j)
    raise syntax_error(j, "atomic-type expected")


def _n_from_json(j, default):
    if j is None:
        return default
    if type(j) is int and 0 <= j < UINT_MAX:
        return j
    raise syntax_error(j, "bad min or max value")


class Type:
    """A column type: key base type, optional value base type, counts."""

    __slots__ = ("key", "value", "n_min", "n_max", "_default")

    def __init__(self, key, value=None, n_min=1, n_max=1):
        self._default = None            # Datum.default() caches it here
        if isinstance(key, str):
            key = BaseType(key)
        if isinstance(value, str):
            value = BaseType(value)
        self.key = key
        self.value = value
        self.n_min = n_min
        self.n_max = math.inf if n_max == UINT_MAX else n_max

    def is_scalar(self):
        return self.n_min == 1 and self.n_max == 1 and self.value is None

    def is_optional(self):
        return self.n_min == 0 and self.n_max == 1

    def is_optional_scalar(self):
        return self.n_min == 0 and self.n_max == 1 and self.value is None

    def is_composite(self):
        return self.n_max > 1

    def is_set(self):
        return self.value is None and (self.n_min != 1 or self.n_max != 1)

    def is_map(self):
        return self.value is not None

    def with_counts(self, n_min, n_max):
        return Type(self.key, self.value, n_min, n_max)

    def __eq__(self, other):
        return (isinstance(other, Type) and self.key == other.key
                and self.value == other.value and self.n_min == other.n_min
                and self.n_max == other.n_max)

    def __hash__(self):
        return hash((self.key, self.value, self.n_min, self.n_max))

    def __repr__(self):
        return f"Type({self.to_json()!r})"

    def to_english(self):
        """OVS's ovsdb_type_to_english()."""
        key = self.key.type
        if self.is_scalar():
            return key
        s = "set" if self.value is None else "map"
        if self.n_max == math.inf:
            s += " of %d or more" % self.n_min if self.n_min else " of"
        elif self.n_min:
            s += " of %d to %d" % (self.n_min, self.n_max)
        else:
            s += " of up to %d" % self.n_max
        if self.value is None:
            s += " %ss" % key
        else:
            s += " (%s, %s) pairs" % (key, self.value.type)
        return s

    @classmethod
    def from_json(cls, j):
        if isinstance(j, str):
            return cls(BaseType.from_json(j))
        if not isinstance(j, dict):
            raise syntax_error(j, "ovsdb type expected")
        p = Parser(j, "ovsdb type")
        key_j = p.member("key", ("string", "object"))
        value_j = p.member("value", ("string", "object"), optional=True)
        min_j = p.member("min", "integer", optional=True)
        max_j = p.member("max", ("integer", "string"), optional=True)
        p.finish()
        key = BaseType.from_json(key_j)
        value = BaseType.from_json(value_j) if value_j is not None else None
        n_min = _n_from_json(min_j, 1)
        if max_j == "unlimited":
            n_max = math.inf
        else:
            n_max = _n_from_json(max_j, 1)
        if not (n_min <= 1 and n_max >= 1):
            raise syntax_error(j, "ovsdb type fails constraint checks")
        return cls(key, value, n_min, n_max)

    def to_json(self):
        if self.is_scalar() and not self.key.has_constraints() \
                and self.key.ref_table is None:
            return self.key.type
        j = {"key": self.key.to_json()}
        if self.value is not None:
            j["value"] = self.value.to_json()
        if self.n_min != 1:
            j["min"] = self.n_min
        if self.n_max == math.inf:
            j["max"] = "unlimited"
        elif self.n_max != 1:
            j["max"] = self.n_max
        return j
