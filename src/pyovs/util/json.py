"""OVS's JSON text (OVS's lib/json): the one place that reads and writes it.

Everything pyovs writes as JSON -- the JSON-RPC wire, database files,
error "syntax" members, ovsdb-client's and ovsdb-tool's output -- goes
through :func:`to_string`, and everything it reads through
:func:`from_string` (or, for streams, :class:`pyovs.util.jsonrpc.Parser`,
which finds the value boundaries and then uses :func:`decode_value`).

Writing: compact by default, or pretty as OVS's JSSF_PRETTY (two spaces
per level, ``": "`` after member names, closing brackets on the line of
the last member); object members in insertion order, sorted (JSSF_SORT) or
in the order OVS's own hash table (``shash``) would visit them, which is
what OVS writes when it builds an object member by member; reals with
``%.15g`` as OVS 3.1 prints them (so ``0.1 + 0.2`` prints ``0.3`` and
``3.0`` prints ``3``); strings escaped as OVS escapes them (``\\"``,
``\\\\``, ``\\b \\f \\n \\r \\t``, other control characters as
``\\u00XX``, everything else as UTF-8).

Reading: exactly what OVS's parser accepts, with its values and its errors.
A number that is integral and fits in 64 bits is an integer (``1.0`` and
``1e2`` are integers), a bigger one a real; the top level must be an object
or an array; NUL characters and lone surrogates are refused; nesting is
bounded at OVS's 1000 levels.  Errors carry OVS's text and position
(``line 0, column 3, byte 3: unexpected end of input``).  Python's C
decoder does the work on input OVS accepts; a transcription of OVS's lexer
and parser state machines runs only on input the fast path rejects or
doubts, so it finds the same error at the same byte.

API:
  to_string(value, sort=False, pretty=False, shash=False) -> str
  encode(value) -> bytes (compact UTF-8, as on the wire)
  format_real(x) -> str
  from_string(text: str|bytes) -> dict|list (raises JsonError)
  decode_value(text, idx=0, big_numbers=None) -> (value, end) or raises
      NotFast: the fast path alone, for a stream parser;
      may_have_big_numbers(text)
  JsonError (a ValueError; str() is OVS's message), MAX_DEPTH
  hash_string(s), hash_bytes(data, basis=0), shash_order(keys),
  hmap_order([(key, hash)])
"""

import functools
import json
import math
import re
import struct
import sys

#: OVS's JSON_MAX_HEIGHT.
MAX_DEPTH = 1000


# ---------------------------------------------------------------------------
# Writing.

#: JSON string quoting with non-ASCII left as UTF-8 (C implementation);
#: its escapes are exactly OVS's (\" \\ \b \f \n \r \t, else \u00XX).
_quote = json.encoder.encode_basestring


def format_real(x):
    """A real as OVS 3.1 prints it: %.15g (DBL_DIG), even when that does
    not round-trip (and "inf"/"nan" for what its parser never yields)."""
    return "%.15g" % x


def _compact(value, out):
    """The common case, kept fast: compact, members in insertion order."""
    t = type(value)
    if t is str:
        out.append(_quote(value))
    elif t is dict:
        out.append("{")
        first = True
        for k, v in value.items():
            if first:
                first = False
            else:
                out.append(",")
            out.append(_quote(k if type(k) is str else str(k)))
            out.append(":")
            _compact(v, out)
        out.append("}")
    elif t is list or t is tuple:
        out.append("[")
        first = True
        for v in value:
            if first:
                first = False
            else:
                out.append(",")
            _compact(v, out)
        out.append("]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif t is int:
        out.append(int.__repr__(value))
    elif t is float:
        out.append(format_real(value))
    else:
        _compact(_plain(value), out)


def _plain(value):
    """Subclasses (IntEnum, OrderedDict, ...) as their base type."""
    for base in (bool, str, int, float, dict):
        if isinstance(value, base):
            return base(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    raise TypeError("cannot encode %r as JSON" % type(value).__name__)


def _general(value, out, sort, pretty, shash, depth):
    """With JSSF_SORT, JSSF_PRETTY or shash member order."""
    t = type(value)
    if t is dict:
        out.append("{")
        depth += 1
        if pretty:
            out.append("\n" + "  " * depth)
        if sort:
            keys = sorted(value)
        elif shash:
            keys = shash_order(list(value))
        else:
            keys = value
        first = True
        for k in keys:
            if first:
                first = False
            else:
                out.append(",")
                if pretty:
                    out.append("\n" + "  " * depth)
            out.append(_quote(k if type(k) is str else str(k)))
            out.append(": " if pretty else ":")
            _general(value[k], out, sort, pretty, shash, depth)
        out.append("}")
    elif t is list or t is tuple:
        out.append("[")
        depth += 1
        first = True
        for v in value:
            if first:
                first = False
            else:
                out.append(",")
            if pretty:
                out.append("\n" + "  " * depth)
            _general(v, out, sort, pretty, shash, depth)
        out.append("]")
    elif t in (str, int, float, bool) or value is None:
        _compact(value, out)
    else:
        _general(_plain(value), out, sort, pretty, shash, depth)


def _shash_compact(value, out):
    """Compact, object members in shash order (the database log's case)."""
    t = type(value)
    if t is dict:
        out.append("{")
        first = True
        for k in shash_order(list(value)):
            if first:
                first = False
            else:
                out.append(",")
            out.append(_quote(k if type(k) is str else str(k)))
            out.append(":")
            _shash_compact(value[k], out)
        out.append("}")
    elif t is list or t is tuple:
        out.append("[")
        first = True
        for v in value:
            if first:
                first = False
            else:
                out.append(",")
            _shash_compact(v, out)
        out.append("]")
    elif t in (str, int, float, bool) or value is None:
        _compact(value, out)
    else:
        _shash_compact(_plain(value), out)


def to_string(value, sort=False, pretty=False, shash=False):
    """VALUE as JSON text, as OVS's json_to_string().

    SORT orders object members by name (JSSF_SORT); otherwise SHASH puts
    them in OVS's hash-table order (dict order taken as insertion order);
    otherwise they come in dict order.  PRETTY is JSSF_PRETTY."""
    out = []
    if shash and not (sort or pretty):
        _shash_compact(value, out)
    elif sort or pretty or shash:
        _general(value, out, sort, pretty, shash, 0)
    else:
        _compact(value, out)
    return "".join(out)


def encode(value):
    """VALUE as compact UTF-8 JSON bytes, as OVS writes it on the wire."""
    return to_string(value).encode("utf-8")


# ---------------------------------------------------------------------------
# OVS's string hash and the order of its string hash tables (shash).

_M32 = 0xFFFFFFFF


def _rot(x, k):
    return ((x << k) | (x >> (32 - k))) & _M32


def _mhash_add(h, data):
    if data:
        data = (data * 0xCC9E2D51) & _M32
        data = _rot(data, 15)
        data = (data * 0x1B873593) & _M32
        h ^= data
    h = _rot(h, 13)
    return (h * 5 + 0xE6546B64) & _M32


def hash_bytes(data, basis=0):
    """OVS's hash_bytes() (the murmur3-based one of lib/hash.c)."""
    h = basis
    n = len(data)
    end = n - n % 4
    # _mhash_add() inlined over all whole 32-bit words at once.
    for word in _unpack_words(end >> 2, data):
        if word:
            word = (word * 0xCC9E2D51) & _M32
            word = ((word << 15) | (word >> 17)) & _M32
            h ^= (word * 0x1B873593) & _M32
        h = ((h << 13) | (h >> 19)) & _M32
        h = (h * 5 + 0xE6546B64) & _M32
    if end != n:
        h = _mhash_add(h, int.from_bytes(data[end:], "little"))
    h ^= n
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    h ^= h >> 16
    return h


@functools.lru_cache(maxsize=256)
def _word_struct(n_words):
    return struct.Struct("<%dI" % n_words)


def _unpack_words(n_words, data):
    """The first N_WORDS little-endian 32-bit words of DATA."""
    return _word_struct(n_words).unpack_from(data) if n_words else ()


@functools.lru_cache(maxsize=1 << 16)
def hash_string(s):
    """OVS's hash_string(S, 0), as shash uses it."""
    return hash_bytes(s.encode("utf-8", "surrogateescape"))


def _calc_mask(capacity):
    mask = capacity // 2
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> shift
    mask |= (mask & 1) << 1
    return mask


def hmap_order(items):
    """ITEMS [(key, hash)] in insertion order -> keys in the order OVS's
    HMAP_FOR_EACH visits them.

    A node goes to the head of bucket ``hash & mask``; when ``n / 2 > mask``
    the table grows and every node is moved, bucket by bucket, to the head
    of its new bucket."""
    mask = 0
    buckets = [[]]
    n = 0
    for item in items:
        buckets[item[1] & mask].insert(0, item)
        n += 1
        if n // 2 > mask:
            new_mask = _calc_mask(n)
            if new_mask > mask:
                new = [[] for _ in range(new_mask + 1)]
                for bucket in buckets:
                    for node in bucket:
                        new[node[1] & new_mask].insert(0, node)
                buckets, mask = new, new_mask
    return [item[0] for bucket in buckets for item in bucket]


def shash_order(keys):
    """KEYS (in insertion order) in the order OVS's SHASH_FOR_EACH visits
    them."""
    n = len(keys)
    if n <= 1:
        return list(keys)
    if n <= _SHASH_MEMO_MAX:
        # Small name sets (a table's columns, a record's tables) recur
        # over and over: their order is worked out once.
        return list(_shash_order_memo(tuple(keys)))
    return hmap_order([(key, hash_string(key)) for key in keys])


#: Key lists up to this long have their shash order memoised.
_SHASH_MEMO_MAX = 64


@functools.lru_cache(maxsize=4096)
def _shash_order_memo(keys):
    return tuple(hmap_order([(key, hash_string(key)) for key in keys]))


# ---------------------------------------------------------------------------
# Reading.

class JsonError(ValueError):
    """Text that OVS's JSON parser rejects; str() is OVS's message."""


#: The name pyovs.ovsdb.log used.
JsonSyntaxError = JsonError


_LLONG_MAX = (1 << 63) - 1
_ULLONG_MAX = (1 << 64) - 1
_NUMBER_RE = re.compile(r"(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([-+]?[0-9]+))?\Z")


def _number(text):
    """A number literal as OVS's lexer reads it: an integer whenever the
    value is integral and fits in 64 bits ("1.0" and "1e2" are integers),
    otherwise a real.  Raises JsonError with OVS's complaint."""
    m = _NUMBER_RE.match(text)
    if not m:
        return _number_error(text)
    negative, whole, frac, exp = m.groups()
    digits = whole + (frac or "")
    pow10 = int(exp) if exp else 0
    if exp and abs(int(exp)) >= (1 << 31) // 10:
        raise JsonError("exponent outside valid range")
    pow10 -= len(frac or "")
    significand = 0
    imprecise = False
    for i, d in enumerate(digits):
        if significand > _ULLONG_MAX // 10 or \
                significand * 10 + int(d) > _ULLONG_MAX:
            imprecise = True
            pow10 += len(digits) - i
            break
        significand = significand * 10 + int(d)
    if not significand and not imprecise:
        return 0
    if not imprecise:
        while pow10 > 0 and significand < _ULLONG_MAX // 10:
            significand *= 10
            pow10 -= 1
        while pow10 < 0 and significand % 10 == 0:
            significand //= 10
            pow10 += 1
        if not pow10 and significand <= (_LLONG_MAX + 1 if negative else _LLONG_MAX):
            return -significand if negative else significand
    x = float(text)
    if not math.isfinite(x):
        raise JsonError("number outside valid range")
    return x + 0.0 if x else 0.0


def _number_error(text):
    s = text[1:] if text.startswith("-") else text
    if s.startswith("0") and s[1:2].isdigit():
        raise JsonError("leading zeros not allowed")
    if not s[:1].isdigit():
        raise JsonError("'-' must be followed by digit")
    s = s.lstrip("0123456789")
    if s.startswith("."):
        if not s[1:2].isdigit():
            raise JsonError("decimal point must be followed by digit")
        s = s[1:].lstrip("0123456789")
    if s[:1] in ("e", "E"):
        s = s[1:]
        if s[:1] in ("-", "+"):
            s = s[1:]
        if not s[:1].isdigit():
            raise JsonError("exponent must contain at least one digit")
        s = s.lstrip("0123456789")
    raise JsonError("syntax error in number")


class NotFast(Exception):
    """The fast path met something only the exact parser can judge."""


def _fast_number(text):
    try:
        return _number(text)
    except JsonError:
        raise NotFast() from None


def _fast_constant(name):
    raise NotFast()


# Integers go through Python only when one might not fit in 64 bits (the
# hook costs a call per integer); reals and keywords always do.
_decoder = json.JSONDecoder(parse_float=_fast_number,
                            parse_constant=_fast_constant, strict=True)
_bigint_decoder = json.JSONDecoder(parse_int=_fast_number,
                                   parse_float=_fast_number,
                                   parse_constant=_fast_constant, strict=True)
_BIGINT = re.compile(r"[0-9]{19}")
#: \u0000 or a surrogate (or a literal backslash before such text: a false
#: alarm that only costs a check).
_RISKY_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_WS = " \t\r\n"


def decode_value(text, idx=0, big_numbers=None):
    """The object or array that starts at TEXT[IDX], by Python's C decoder,
    as (value, end); raises NotFast where OVS's verdict might differ
    (a syntax error, NaN, NUL or surrogates in strings, deep nesting).

    BIG_NUMBERS says whether TEXT may hold an integer too big for 64 bits
    (None: look); a caller decoding many values from one text looks once."""
    if big_numbers is None:
        big_numbers = may_have_big_numbers(text)
    decoder = _bigint_decoder if big_numbers else _decoder
    try:
        value, end = decoder.raw_decode(text, idx)
    except (ValueError, RecursionError):
        raise NotFast() from None
    if type(value) is not dict and type(value) is not list:
        raise NotFast()
    # NUL and surrogates can only come from such escapes.  Nesting deeper
    # than OVS allows already failed above, unless the recursion limit was
    # raised past it.
    if (_RISKY_ESCAPE.search(text, idx, end) is not None
            or sys.getrecursionlimit() > MAX_DEPTH) \
            and not _plain_strings(value, 0):
        raise NotFast()
    return value, end


def may_have_big_numbers(text):
    """False if TEXT cannot hold an integer outside 64 bits (19+ digits)."""
    return _BIGINT.search(text) is not None


def from_string(text):
    """Parses one JSON object or array from TEXT (str or bytes) exactly as
    OVS's json_from_string() does (numbers, escapes, limits).

    Raises JsonError whose text is OVS's ("line 0, column 1, byte 1:
    unexpected end of input")."""
    if isinstance(text, (bytes, bytearray)):
        data = bytes(text)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return _OvsJsonParser(data).parse()
    n = len(text)
    start = 0
    while start < n and text[start] in _WS:
        start += 1
    try:
        value, end = decode_value(text, start)
        if end == n or not text[end:].strip(_WS):
            return value
    except NotFast:
        pass
    return _OvsJsonParser(text.encode("utf-8", "surrogatepass")).parse()


def _plain_strings(value, depth):
    """False if VALUE has what OVS rejects but Python accepts: NUL or
    surrogate characters in strings, or nesting deeper than OVS allows."""
    if depth >= MAX_DEPTH:
        return False
    if isinstance(value, str):
        return "\0" not in value and (value.isascii() or _no_surrogates(value))
    if isinstance(value, dict):
        return all(_plain_strings(k, depth) and _plain_strings(v, depth + 1)
                   for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_strings(v, depth + 1) for v in value)
    return True


def _no_surrogates(s):
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


class _OvsJsonParser:
    """A transcription of OVS's JSON lexer and parser state machines, used
    when the fast path fails: it finds the same error at the same byte."""

    def __init__(self, data):
        self.data = data
        self.line = 0
        self.column = 0
        self.byte = 0
        self.stack = []          # [container, pending member name]
        self.state = "start"
        self.value = None

    def error(self, msg):
        raise JsonError("line %d, column %d, byte %d: %s"
                              % (self.line, self.column, self.byte, msg))

    def parse(self):
        self.lex = "start"
        self.buf = bytearray()
        for c in self.data:
            while not self.step(c):
                pass
        if self.lex in ("keyword", "number"):
            # OVS's json_parser_finish() feeds a space to end the token.
            while not self.step(0x20):
                pass
        if self.lex in ("string", "escape"):
            self.error("unexpected end of input in quoted string")
        if self.state == "start":
            self.error("empty input stream")
        if self.state != "end":
            self.error("unexpected end of input")
        return self.value

    def step(self, c):
        """OVS's json_lex_input(): False if C must be offered again."""
        lex = self.lex
        buf = self.buf
        if lex == "start":
            if c in b" \t\n\r":
                pass
            elif 0x61 <= c <= 0x7A:
                self.lex = "keyword"
                self.buf = bytearray([c])
            elif c in b"[{]}:,":
                self.token(chr(c), None)
            elif c == 0x2D or 0x30 <= c <= 0x39:
                self.lex = "number"
                self.buf = bytearray([c])
            elif c == 0x22:
                self.lex = "string"
                self.buf = bytearray()
            elif 0x20 < c < 0x7F:
                self.error("invalid character '%s'" % chr(c))
            else:
                self.error("invalid character U+%04x" % c)
        elif lex == "keyword":
            if (0x41 <= c <= 0x5A) or (0x61 <= c <= 0x7A):
                buf.append(c)
            else:
                self.lex = "start"
                word = buf.decode("ascii")
                if word == "true":
                    self.token("v", True)
                elif word == "false":
                    self.token("v", False)
                elif word == "null":
                    self.token("v", None)
                else:
                    self.error("invalid keyword '%s'" % word)
                return False
        elif lex == "number":
            if c in b".0123456789eE-+":
                buf.append(c)
            else:
                self.lex = "start"
                try:
                    number = _number(buf.decode("ascii"))
                except JsonError as e:
                    self.error(str(e))
                self.token("v", number)
                return False
        elif lex == "string":
            if c == 0x5C:
                self.lex = "escape"
                buf.append(c)
            elif c == 0x22:
                self.lex = "start"
                self.token("s", self.unescape(bytes(buf)))
            elif c < 0x20:
                self.error("U+%04X must be escaped in quoted string" % c)
            else:
                buf.append(c)
        else:                                         # escape
            self.lex = "string"
            buf.append(c)
        self.byte += 1
        if c == 0x0A:
            self.column = 0
            self.line += 1
        else:
            self.column += 1
        return True

    def unescape(self, raw):
        if b"\\" not in raw:
            return self.utf8(raw)
        out = bytearray()
        i = 0
        n = len(raw)
        while i < n:
            c = raw[i]
            i += 1
            if c != 0x5C:
                out.append(c)
                continue
            e = raw[i]
            i += 1
            simple = {0x22: b'"', 0x5C: b"\\", 0x2F: b"/", 0x62: b"\b",
                      0x66: b"\f", 0x6E: b"\n", 0x72: b"\r", 0x74: b"\t"}
            if e in simple:
                out += simple[e]
            elif e == 0x75:
                c0, i = self.hex4(raw, i)
                if 0xD800 <= c0 <= 0xDBFF:
                    if raw[i:i + 2] != b"\\u":
                        self.error("malformed escaped surrogate pair")
                    c1, i = self.hex4(raw, i + 2)
                    if not 0xDC00 <= c1 <= 0xDFFF:
                        self.error("second half of escaped surrogate pair is "
                                   "not trailing surrogate")
                    c0 = 0x10000 + ((c0 - 0xD800) << 10) + (c1 - 0xDC00)
                elif 0xDC00 <= c0 <= 0xDFFF:
                    c0 = 0xFFFD     # OVS passes a lone trailing surrogate on
                out += chr(c0).encode("utf-8")
            else:
                self.error("bad escape \\%s" % chr(e))
        return self.utf8(bytes(out))

    def hex4(self, raw, i):
        digits = raw[i:i + 4]
        if len(digits) < 4:
            self.error("quoted string ends within \\u escape")
        try:
            value = int(digits.decode("ascii"), 16)
            if not all(chr(d) in "0123456789abcdefABCDEF" for d in digits):
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            self.error("malformed \\u escape")
        if not value:
            self.error("null bytes not supported in quoted strings")
        return value, i + 4

    def utf8(self, raw):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.error("invalid UTF-8 in quoted string")

    # The parser proper (OVS's json_parser_input()).

    def push(self, container):
        if len(self.stack) >= MAX_DEPTH:
            self.error("input exceeds maximum nesting depth %d" % MAX_DEPTH)
        self.stack.append([container, None])
        self.state = "object_init" if isinstance(container, dict) else "array_init"

    def put(self, value):
        """Stores a complete VALUE in the enclosing container."""
        if not self.stack:
            self.value = value
            self.state = "end"
            return
        top = self.stack[-1]
        if isinstance(top[0], dict):
            top[0][top[1]] = value
            self.state = "object_next"
        else:
            top[0].append(value)
            self.state = "array_next"

    def pop(self):
        container = self.stack.pop()[0]
        self.put(container)

    def value_token(self, kind, value, what):
        if kind == "{":
            self.push({})
        elif kind == "[":
            self.push([])
        elif kind in ("v", "s"):
            self.put(value)
        else:
            self.error(what)

    def token(self, kind, value):
        state = self.state
        if state == "start":
            if kind == "{":
                self.push({})
            elif kind == "[":
                self.push([])
            else:
                self.error("syntax error at beginning of input")
        elif state == "end":
            self.error("trailing garbage at end of input")
        elif state in ("object_init", "object_name"):
            if state == "object_init" and kind == "}":
                self.pop()
            elif kind == "s":
                self.stack[-1][1] = value
                self.state = "object_colon"
            else:
                self.error("syntax error parsing object expecting string")
        elif state == "object_colon":
            if kind == ":":
                self.state = "object_value"
            else:
                self.error("syntax error parsing object expecting ':'")
        elif state == "object_value":
            self.value_token(kind, value, "syntax error expecting value")
        elif state == "object_next":
            if kind == ",":
                self.state = "object_name"
            elif kind == "}":
                self.pop()
            else:
                self.error("syntax error expecting '}' or ','")
        elif state in ("array_init", "array_value"):
            if state == "array_init" and kind == "]":
                self.pop()
            else:
                self.value_token(kind, value, "syntax error expecting value")
        elif state == "array_next":
            if kind == ",":
                self.state = "array_value"
            elif kind == "]":
                self.pop()
            else:
                self.error("syntax error expecting ']' or ','")
