"""OVSDB errors, shaped as RFC 7047 and ovsdb-server shape them.

Public API:
  OvsdbError(error_tag, details=None, syntax=None)
      .error    the tag ("syntax error", "constraint violation", ...)
      .details  human-readable text or None
      .syntax   the offending JSON serialised as OVS does (sorted keys,
                compact) or None
      .to_json() -> {"error": tag, "details": ..., "syntax": ...}
      .to_string() -> 'syntax "S": tag: details' (ovsdb_error_to_string)
      .wrap(prefix) -> copy with details "PREFIX: details"
  syntax_error(json, details, tag=None) -> OvsdbError with tag "syntax error"
      (or TAG) and .syntax set from JSON, as ovsdb_syntax_error() does.
  json_to_string(value, sort_keys=False) -> str, OVS's compact JSON text
      (pyovs.util.json.to_string under its old name).
  Parser(json, name): OVS's ovsdb_parser (.member(name, kinds,
      optional=False), .raise_error(msg), .finish() raises the first error).
"""

import re

from pyovs.util import json as ovs_json


class OvsdbError(Exception):
    """An OVSDB error object: a tag plus optional details and syntax."""

    def __init__(self, error, details=None, syntax=None):
        super().__init__(error if details is None else f"{error}: {details}")
        self.error = error
        self.details = details
        self.syntax = syntax

    def to_json(self):
        j = {"error": self.error}
        if self.details is not None:
            j["details"] = self.details
        if self.syntax is not None:
            j["syntax"] = self.syntax
        return j

    def to_string(self):
        """OVS's ovsdb_error_to_string(): 'syntax "S": tag: details'."""
        s = 'syntax "%s": ' % self.syntax if self.syntax is not None else ""
        s += self.error
        if self.details is not None:
            s += ": " + self.details
        return s

    def wrap(self, prefix):
        """A copy with PREFIX + ": " put before the details, as OVS's
        ovsdb_wrap_error() does."""
        details = prefix if self.details is None \
            else "%s: %s" % (prefix, self.details)
        return OvsdbError(self.error, details, self.syntax)

    def __repr__(self):
        return f"OvsdbError({self.error!r}, {self.details!r})"


def syntax_error(json, details, tag=None):
    """Like OVS's ovsdb_syntax_error(): JSON may be None (no "syntax")."""
    try:
        syntax = None if json is None else ovs_json.to_string(json,
                                                              sort=True)
    except RecursionError:
        syntax = None           # absurdly deep input: the text is no help
    return OvsdbError(tag or "syntax error", details, syntax)


def json_to_string(value, sort_keys=False):
    """OVS's compact JSON text (pyovs.util.json's; this name is kept for
    callers)."""
    return ovs_json.to_string(value, sort=sort_keys)


_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def _json_kind(v):
    """OVS's JSON type of a Python JSON value (ints beyond int64 are reals,
    as OVS's JSON parser makes them)."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    t = type(v)
    if t is str:
        return "string"
    if t is int:
        return "integer" if _INT64_MIN <= v <= _INT64_MAX else "real"
    if t is float:
        return "real"
    if t is dict:
        return "object"
    if t is list:
        return "array"
    return "?"


_KINDS = {
    "null": {"null"}, "boolean": {"true", "false"}, "string": {"string"},
    "integer": {"integer"}, "real": {"real"}, "number": {"integer", "real"},
    "object": {"object"}, "array": {"array"},
    "any": {"null", "true", "false", "string", "integer", "real", "object",
            "array"},
}


_ID_RE = re.compile(r'[A-Za-z_][A-Za-z0-9_]*\Z')


def is_id(s):
    """RFC 7047 <id>: [A-Za-z_][A-Za-z0-9_]*."""
    return isinstance(s, str) and _ID_RE.match(s) is not None


class Parser:
    """OVS's ovsdb_parser: pulls members out of a JSON object, remembers the
    first problem ("Parsing <name> failed: ...") and, at finish(), rejects
    members nobody asked for."""

    __slots__ = ("json", "name", "used", "error")

    def __init__(self, json, name):
        self.name = name
        self.used = set()
        self.error = None
        if isinstance(json, dict):
            self.json = json
        else:
            self.json = None
            self.raise_error("Object expected.")

    def raise_error(self, message):
        if self.error is None:
            self.error = syntax_error(
                self.json, "Parsing %s failed: %s" % (self.name, message))

    def member(self, name, kinds, optional=False):
        """Return member NAME if its JSON type is one of KINDS (a kind name
        or a tuple of them: null boolean string integer real number object
        array id any), else None and remember the error."""
        if self.json is None:
            return None
        if name not in self.json:
            if not optional:
                self.raise_error("Required '%s' member is missing." % name)
            return None
        value = self.json[name]
        if kinds.__class__ is str:
            # Fast path for the common single kinds.
            t = value.__class__
            if ((t is str and (kinds == "string" or (
                    kinds == "id" and _ID_RE.match(value) is not None)))
                    or (t is dict and kinds == "object")
                    or (t is list and kinds == "array")
                    or (t is bool and kinds == "boolean")):
                self.used.add(name)
                return value
            kinds = (kinds,)
        kind = _json_kind(value)
        for k in kinds:
            if k == "id":
                if kind == "string" and _ID_RE.match(value) is not None:
                    break
            elif kind in _KINDS[k]:
                break
        else:
            self.raise_error("Type mismatch for member '%s'." % name)
            return None
        self.used.add(name)
        return value

    def finish(self):
        """Raise the first error, or complain about an unused member."""
        if self.error is None and self.json is not None \
                and len(self.json) != len(self.used):
            for name in self.json:
                if name not in self.used:
                    self.raise_error(
                        "Member '%s' is present but not allowed here." % name)
                    break
        if self.error is not None:
            raise self.error
