"""OVSDB atoms and datums, with JSON and text forms exactly as OVS has them.

Atoms are plain Python values: int, float, bool, str, uuid.UUID.

Public API:
  Datum(type, values)   immutable; VALUES is a dict key-atom -> value-atom
                        (None for sets); elements are kept sorted as OVS
                        sorts them.
      Datum.from_json(type, json, symtab=None)  parses RFC 7047 JSON, checks
          counts, duplicates and atom constraints (raises OvsdbError).
          SYMTAB is a dict named-uuid -> UUID; ["named-uuid", n] with N not
          yet in it gets a fresh UUID inserted, as OVS's symbol table does.
      Datum.default(type), Datum.from_python(type, value)
      .to_json() (a map is ["map", [[k, v], ...]]; exactly one element and
          not a map -> the bare atom; else ["set", [...]])
      .to_string() (ovsdb_datum_to_string: '{k=v, ...}', '[a, b]', 'x')
      ==, hash, len, `atom in datum`, .keys() (sorted list), .items(),
      .values_dict(), .get(key), .scalar() (the only key, or None),
      .sort_key() (OVS's ovsdb_datum_compare_3way order)
  atom_from_json(base_type, json, symtab=None) -> atom (constraints checked)
  atom_to_json(atom) -> JSON
  atom_to_string(atom, atomic_type) -> str
  default_atom(atomic_type) -> atom
  is_valid_uuid_string(s) -> bool
"""

import math
import operator
import re
import uuid

from pyovs.ovsdb.error import OvsdbError, syntax_error
from pyovs.ovsdb.types import INT64_MAX, INT64_MIN, is_id
from pyovs.util import json as ovs_json

ZERO_UUID = uuid.UUID(int=0)
_UUID_RE = re.compile(
    r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
    r'[0-9a-fA-F]{12}\Z')
_BARE_RE = re.compile(r'[A-Za-z_][A-Za-z0-9_.\-]*\Z')

_DEFAULTS = {"integer": 0, "real": 0.0, "boolean": False, "string": "",
             "uuid": ZERO_UUID}


def default_atom(atomic_type):
    return _DEFAULTS[atomic_type]


def is_valid_uuid_string(s):
    return isinstance(s, str) and _UUID_RE.match(s) is not None


def _is_pair(j, name):
    return (type(j) is list and len(j) == 2 and j[0] == name
            and type(j[1]) is str)


def _parse_uuid(base, j, symtab):
    if _is_pair(j, "uuid"):
        s = j[1]
        if _UUID_RE.match(s) is None:
            raise syntax_error(j, '"%s" is not a valid UUID' % s)
        return uuid.UUID(s)
    if symtab is not None and _is_pair(j, "named-uuid"):
        name = j[1]
        if not is_id(name):
            raise syntax_error(j, "named-uuid string is not a valid <id>")
        u = symtab.get(name)
        if u is None:
            u = symtab[name] = uuid.uuid4()
        return u
    raise syntax_error(j, 'expected ["uuid", <string>]')


def _is_utf8(s):
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def atom_from_json(base, j, symtab=None):
    """Parse JSON J as an atom of BaseType BASE and check its constraints."""
    t = base.type
    tj = type(j)
    if t == "string":
        if tj is not str:
            raise syntax_error(j, "expected string")
        if "\0" in j or (not j.isascii() and not _is_utf8(j)):
            # OVS's JSON parser never lets these through; refuse them here
            # too, so that they cannot reach a log file or a peer.
            raise OvsdbError("constraint violation",
                             "not a valid UTF-8 string: %s"
                             % ("null character" if "\0" in j
                                else "invalid UTF-16 surrogate"))
        atom = j
    elif t == "integer":
        if tj is not int or not INT64_MIN <= j <= INT64_MAX:
            raise syntax_error(j, "expected integer")
        atom = j
    elif t == "uuid":
        atom = _parse_uuid(base, j, symtab)
    elif t == "real":
        if tj is int:
            atom = float(j)
        elif tj is float and math.isfinite(j):
            atom = j
        else:
            raise syntax_error(j, "expected real")
    else:
        if tj is not bool:
            raise syntax_error(j, "expected boolean")
        atom = j
    if base._check:
        base.check_atom(atom)
    return atom


def atom_to_json(atom):
    if type(atom) is uuid.UUID:
        return ["uuid", str(atom)]
    return atom


def _string_needs_quotes(s):
    return (_BARE_RE.match(s) is None or s == "true" or s == "false"
            or _UUID_RE.match(s) is not None)


def atom_to_string(atom, atomic_type):
    """OVS's ovsdb_atom_to_string()."""
    if atomic_type == "string":
        return ovs_json.to_string(atom) if _string_needs_quotes(atom) else atom
    if atomic_type == "boolean":
        return "true" if atom else "false"
    if atomic_type == "real":
        return ovs_json.format_real(atom)
    return str(atom)


def _parse_pair(j):
    if type(j) is not list or len(j) != 2:
        raise syntax_error(j, "expected 2-element array")
    return j


_UUID_INT = operator.attrgetter("int")


def _sorted(values):
    """VALUES as a dict in OVS's element order.  UUIDs sort by their
    integer value, extracted in C: uuid.UUID's own comparisons are Python
    code and dominate the cost of large sets."""
    if len(values) < 2:
        return values
    for k in values:
        break
    keys = sorted(values, key=_UUID_INT) if type(k) is uuid.UUID \
        else sorted(values)
    for v in values.values():
        if v is not None:
            return {k: values[k] for k in keys}
        break
    return dict.fromkeys(keys)


class Datum:
    """An immutable OVSDB datum of a given Type."""

    __slots__ = ("type", "_d", "_hash")

    def __init__(self, type, values=None, _sorted_already=False):
        self.type = type
        if values is None:
            values = {}
        elif not isinstance(values, dict):
            values = {k: None for k in values}
        self._d = values if _sorted_already else _sorted(values)
        self._hash = None

    # -- construction -----------------------------------------------------
    @classmethod
    def default(cls, type):
        """The default datum of TYPE (one shared, immutable instance)."""
        d = type._default
        if d is None or d.__class__ is not cls:
            if type.n_min == 0:
                d = cls(type, {}, True)
            else:
                v = None if type.value is None else _DEFAULTS[type.value.type]
                d = cls(type, {_DEFAULTS[type.key.type]: v}, True)
            type._default = d
        return d

    @classmethod
    def from_python(cls, type, value):
        """A dict for maps, any iterable of atoms for sets, or one atom."""
        if isinstance(value, Datum):
            return cls(type, value._d, True)
        if type.value is not None:
            return cls(type, dict(value))
        if isinstance(value, (list, tuple, set, frozenset)):
            return cls(type, {a: None for a in value})
        return cls(type, {value: None}, True)

    @classmethod
    def from_json(cls, type, j, symtab=None):
        key_base = type.key
        is_map = type.value is not None
        if is_map or (j.__class__ is list and len(j) > 0 and j[0] == "set"):
            klass = "map" if is_map else "set"
            if (j.__class__ is not list or len(j) != 2 or j[0] != klass
                    or j[1].__class__ is not list):
                raise syntax_error(j, 'expected ["%s", <array>]' % klass)
            inner = j[1]
            n = len(inner)
            if n < type.n_min or n > type.n_max:
                if type.n_min == 1 and type.n_max == 1:
                    raise syntax_error(
                        j, "%s must have exactly one member but %d are "
                        "present" % (klass, n))
                raise syntax_error(
                    j, "%s must have %d to %s members but %d are present"
                    % (klass, type.n_min, _fmt_n(type.n_max), n))
            d = {}
            if is_map:
                value_base = type.value
                for e in inner:
                    kj, vj = _parse_pair(e)
                    k = atom_from_json(key_base, kj, symtab)
                    d[k] = atom_from_json(value_base, vj, symtab)
                if len(d) != n:
                    raise OvsdbError("ovsdb error", "map contains duplicate key")
            else:
                for e in inner:
                    d[atom_from_json(key_base, e, symtab)] = None
                if len(d) != n:
                    raise OvsdbError("ovsdb error", "set contains duplicate")
            return cls(type, d)
        return cls(type, {atom_from_json(key_base, j, symtab): None}, True)

    # -- output ---------------------------------------------------------------
    def to_json(self):
        d = self._d
        if self.type.value is not None:
            return ["map", [[atom_to_json(k), atom_to_json(v)]
                            for k, v in d.items()]]
        if len(d) == 1:
            for k in d:
                return atom_to_json(k)
        return ["set", [atom_to_json(k) for k in d]]

    def to_string(self):
        t = self.type
        kt = t.key.type
        if t.value is not None:
            vt = t.value.type
            body = ", ".join("%s=%s" % (atom_to_string(k, kt),
                                        atom_to_string(v, vt))
                             for k, v in self._d.items())
        else:
            body = ", ".join(atom_to_string(k, kt) for k in self._d)
        if t.n_max > 1 or not self._d:
            return ("{%s}" if t.value is not None else "[%s]") % body
        return body

    # -- access -----------------------------------------------------------------
    def __len__(self):
        return len(self._d)

    def __contains__(self, atom):
        return atom in self._d

    def __iter__(self):
        return iter(self._d)

    def keys(self):
        return list(self._d)

    def items(self):
        return self._d.items()

    def values_dict(self):
        """The underlying (sorted) dict; do not modify it."""
        return self._d

    def get(self, key, default=None):
        return self._d.get(key, default)

    def scalar(self):
        """The only key of a one-element datum, else None."""
        if len(self._d) == 1:
            for k in self._d:
                return k
        return None

    def sort_key(self):
        d = self._d
        if self.type.value is not None:
            return (len(d), tuple(d), tuple(d.values()))
        return (len(d), tuple(d))

    def __eq__(self, other):
        if self is other:
            return True
        if not isinstance(other, Datum):
            return NotImplemented
        return self._d == other._d

    def __ne__(self, other):
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    def __hash__(self):
        h = self._hash
        if h is None:
            h = self._hash = hash(tuple(self._d.items()))
        return h

    def __repr__(self):
        return "Datum(%s)" % ovs_json.to_string(self.to_json())


def _fmt_n(n):
    return "4294967295" if n == math.inf else str(n)
