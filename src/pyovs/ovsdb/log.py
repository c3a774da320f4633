"""The ovsdb(5) record log: how an OVSDB file is laid out on disk.

An OVSDB file is a sequence of records.  Each record is a header line::

    OVSDB <magic> <length> <sha1>\\n

followed by exactly <length> bytes of data, which are one JSON object and a
new-line; <sha1> is the lower-case hex SHA-1 of those <length> bytes (the
new-line included).  The magic is "JSON" for a standalone database and
"CLUSTER" for a clustered (Raft) one; every record of a file has the same
magic.

The key idea is that the log is append-only and self-checking.  A writer
appends a record, flushes it, and only acknowledges the transaction it holds
after ``fsync()``.  A crash can therefore only leave a torn or garbled *tail*:
a short record, a header that does not parse, a body whose SHA-1 does not
match, or bytes that are not JSON.  The reader stops at the first such
record and reports it (with OVS's wording, e.g. ``syntax error: conf.db:
parse error at offset 15825 in header line "garbage"``); every record before
it is intact and has already been returned.  Before the first write the
writer truncates the file at the end of the last good record, so a bad tail
is dropped rather than built upon.  Compaction never rewrites a file in
place: it writes ``<file>.tmp``, fsyncs it and renames it over the original.

Invariants:

* records are only ever returned whole and checksum-verified;
* a read error never loses a record that precedes it;
* nothing is appended after bytes that were not read successfully;
* ``commit()`` returns only after the data is on stable storage.

Files are locked as OVS locks them (``fcntl`` on ``.<name>.~lock~`` beside
the file), so pyovs and the real ovsdb-server/ovsdb-tool exclude each other.

This module also owns JSON text as OVS writes and reads it, because the
bytes of a file and the order of ``ovsdb-tool show-log`` depend on it:
objects are written in the order OVS's hash table (``shash``) iterates them
(``shash_order``), reals as ``%.15g``; reading accepts exactly what OVS's
parser accepts (an object or array at the top level; a number that is
integral and fits in 64 bits is an integer, so ``1.0`` and ``1e2`` are
integers) and rejects the rest with OVS's message and position (``line L,
column C, byte B: ...``).  Python's C decoder does the work; a transcription
of OVS's lexer and parser runs only on input it would reject or doubt.

API: ``open_log(path, mode, magic=STANDALONE_MAGIC, locking=None,
max_record_size=MAX_RECORD_SIZE) -> Log`` (modes ``"read"``,
``"read_write"``, ``"create"``, ``"create_excl"``; ``magic`` may be
``"JSON|CLUSTER"`` to accept either); ``Log.read()`` (a dict, or None at
end of file; raises LogError, again on every later read),
``Log.unread()``, ``Log.write(obj)`` (appended and flushed),
``Log.commit()`` (fsync), ``Log.replace(records)`` (atomic compaction),
``Log.mark_base()``, ``Log.grew_lots()``, ``Log.close()``, ``Log.magic``,
``Log.offset``; ``compose_record(obj, magic)``; ``read_records(path)`` ->
(records, error-or-None); ``lock(path)`` / ``Lockfile``;
``follow_symlinks(path)``; ``fsync_parent_dir(path)``; ``LogError`` (an
OvsdbError whose str() is OVS's ovsdb_error_to_string()); JSON:
``shash_order(keys)``, ``hash_string(s)``, ``json_to_string(value,
sort=False)``, ``json_from_string(text)`` (raises JsonSyntaxError),
``format_real(x)``.
"""

import errno as errno_mod
import functools
import hashlib
import json
import math
import os
import re
import struct
import fcntl

from pyovs.ovsdb.error import OvsdbError

STANDALONE_MAGIC = "JSON"
CLUSTER_MAGIC = "CLUSTER"

#: Largest record body accepted (bytes).  OVS has no limit; a bound keeps a
#: corrupt length field from making us allocate without end.
MAX_RECORD_SIZE = 1 << 30

#: OVS reads the header with fgets() into a 128-byte buffer.
_HEADER_MAX = 127

_HEADER_RE = re.compile(rb"OVSDB ([^ \n\0]*) [ \t\n\v\f\r]*\+?([0-9]+) "
                        rb"([0-9a-fA-F]{40})\n\Z")


class LogError(OvsdbError):
    """An error reading or writing a log, formatted as OVS's ovsdb_error:
    str() is e.g. "I/O error: conf.db: open failed (No such file or
    directory)"."""

    def __init__(self, tag, details, errno=None):
        super().__init__(tag, details)
        self.tag = tag
        self.errno = errno

    def __str__(self):
        s = "%s: %s" % (self.tag, self.details)
        if self.errno is not None:
            s += " (%s)" % strerror(self.errno)
        return s


def strerror(err):
    """OVS's ovs_retval_to_string(): EOF is "End of file"."""
    if err == -1:
        return "End of file"
    return os.strerror(err)


EOF = -1


def io_error(err, details):
    return LogError("I/O error", details, err)


def syntax_error(details):
    return LogError("syntax error", details)


def ovsdb_error(details):
    return LogError("ovsdb error", details)


# ---------------------------------------------------------------------------
# JSON as OVS writes and reads it.

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
    for i in range(0, end, 4):
        h = _mhash_add(h, int.from_bytes(data[i:i + 4], "little"))
    if end != n:
        h = _mhash_add(h, int.from_bytes(data[end:], "little"))
    h ^= n
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    h ^= h >> 16
    return h


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


def shash_order(keys):
    """KEYS (in insertion order) in the order OVS's SHASH_FOR_EACH visits them.

    OVS keeps JSON objects in an ``hmap``: a node goes to the head of bucket
    ``hash & mask``; when ``n / 2 > mask`` the table grows and every node is
    moved, bucket by bucket, to the head of its new bucket.
    """
    mask = 0
    buckets = [[]]
    n = 0
    for key in keys:
        h = hash_string(key)
        buckets[h & mask].insert(0, (key, h))
        n += 1
        if n // 2 > mask:
            new_mask = _calc_mask(n)
            if new_mask > mask:
                new_buckets = [[] for _ in range(new_mask + 1)]
                for bucket in buckets:
                    for node in bucket:
                        new_buckets[node[1] & new_mask].insert(0, node)
                buckets = new_buckets
                mask = new_mask
    return [key for bucket in buckets for key, _ in bucket]


def format_real(x):
    """A real as OVS's JSON writer prints it."""
    if not math.isfinite(x):
        raise ValueError("JSON cannot represent %r" % x)
    s = "%.15g" % x
    if float(s) != x:
        s = "%.17g" % x
    return s


def _dump_string(s, out):
    out.append(json.dumps(s, ensure_ascii=False))


def _dump(value, sort, out):
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        _dump_string(value, out)
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(format_real(value))
    elif isinstance(value, dict):
        keys = sorted(value) if sort else shash_order(list(value))
        out.append("{")
        for i, key in enumerate(keys):
            if i:
                out.append(",")
            _dump_string(key, out)
            out.append(":")
            _dump(value[key], sort, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, elem in enumerate(value):
            if i:
                out.append(",")
            _dump(elem, sort, out)
        out.append("]")
    else:
        raise TypeError("cannot encode %r as JSON" % type(value).__name__)


def json_to_string(value, sort=False):
    """VALUE as compact JSON text, as OVS's json_to_string().

    Without SORT, object members come out in OVS's hash-table order (dict
    order is taken as insertion order); with SORT, sorted (JSSF_SORT)."""
    out = []
    _dump(value, sort, out)
    return "".join(out)


class JsonSyntaxError(ValueError):
    """Text that OVS's JSON parser rejects; str() is OVS's message."""


_LLONG_MAX = (1 << 63) - 1
_ULLONG_MAX = (1 << 64) - 1
_NUMBER_RE = re.compile(r"(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([-+]?[0-9]+))?\Z")


def _number(text):
    """A number literal as OVS's lexer reads it: an integer whenever the
    value is integral and fits in 64 bits ("1.0" and "1e2" are integers),
    otherwise a real.  Raises JsonSyntaxError with OVS's complaint."""
    m = _NUMBER_RE.match(text)
    if not m:
        return _number_error(text)
    negative, whole, frac, exp = m.groups()
    digits = whole + (frac or "")
    pow10 = int(exp) if exp else 0
    if exp and abs(int(exp)) >= (1 << 31) // 10:
        raise JsonSyntaxError("exponent outside valid range")
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
        raise JsonSyntaxError("number outside valid range")
    return x + 0.0 if x else 0.0


def _number_error(text):
    s = text[1:] if text.startswith("-") else text
    if s.startswith("0") and s[1:2].isdigit():
        raise JsonSyntaxError("leading zeros not allowed")
    if not s[:1].isdigit():
        raise JsonSyntaxError("'-' must be followed by digit")
    s = s.lstrip("0123456789")
    if s.startswith("."):
        if not s[1:2].isdigit():
            raise JsonSyntaxError("decimal point must be followed by digit")
        s = s[1:].lstrip("0123456789")
    if s[:1] in ("e", "E"):
        s = s[1:]
        if s[:1] in ("-", "+"):
            s = s[1:]
        if not s[:1].isdigit():
            raise JsonSyntaxError("exponent must contain at least one digit")
        s = s.lstrip("0123456789")
    raise JsonSyntaxError("syntax error in number")


class _Bail(Exception):
    """The fast path met something only the exact parser can judge."""


def _fast_number(text):
    try:
        return _number(text)
    except JsonSyntaxError:
        raise _Bail() from None


def _fast_constant(name):
    raise _Bail()


_decoder = json.JSONDecoder(parse_int=_fast_number, parse_float=_fast_number,
                            parse_constant=_fast_constant, strict=True)
_WS = " \t\r\n"

#: OVS's JSON_MAX_HEIGHT.
MAX_JSON_DEPTH = 1000


def json_from_string(text):
    """Parses one JSON object or array from TEXT (str or bytes) exactly as
    OVS's parser does (numbers, escapes, limits).

    Raises JsonSyntaxError whose text is OVS's ("line 0, column 1, byte 1:
    unexpected end of input")."""
    if isinstance(text, (bytes, bytearray)):
        data = bytes(text)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return _OvsJsonParser(data).parse()
    # Fast path: Python's C decoder, for input OVS would accept.
    try:
        start = 0
        while start < len(text) and text[start] in _WS:
            start += 1
        value, end = _decoder.raw_decode(text, start)
        if not isinstance(value, (dict, list)) or text[end:].strip(_WS):
            raise _Bail()
        # NUL and surrogates can only come from \u escapes; deep nesting
        # needs many brackets.
        if ("\\u" in text or text.count("[") + text.count("{") >= MAX_JSON_DEPTH) \
                and not _plain_strings(value, 0):
            raise _Bail()
        return value
    except (_Bail, ValueError, RecursionError):
        pass
    return _OvsJsonParser(text.encode("utf-8", "surrogatepass")).parse()


def _plain_strings(value, depth):
    """False if VALUE has what OVS rejects but Python accepts: NUL or
    surrogate characters in strings, or nesting deeper than OVS allows."""
    if depth >= MAX_JSON_DEPTH:
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
        raise JsonSyntaxError("line %d, column %d, byte %d: %s"
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
                except JsonSyntaxError as e:
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
        if len(self.stack) >= MAX_JSON_DEPTH:
            self.error("input exceeds maximum nesting depth %d" % MAX_JSON_DEPTH)
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


# ---------------------------------------------------------------------------
# Records.

def compose_record(obj, magic=STANDALONE_MAGIC):
    """The bytes of one log record holding OBJ (a dict or list)."""
    data = json_to_string(obj).encode("utf-8") + b"\n"
    sha1 = hashlib.sha1(data).hexdigest()
    return b"OVSDB %s %d %s\n" % (magic.encode(), len(data), sha1.encode()) + data


def _parse_header(line):
    """(magic, length, sha1) from a header line, or None."""
    m = _HEADER_RE.match(line)
    if not m:
        return None
    length = int(m.group(2))
    if length == 0:
        return None
    return (m.group(1).decode("ascii", "replace"), length,
            m.group(3).decode("ascii").lower())


def _is_magic_ok(actual, accepted):
    return "|" not in actual and actual in accepted.split("|")


# ---------------------------------------------------------------------------
# Locking.

def lockfile_name(path):
    """OVS's lock file for PATH: ``.<name>.~lock~`` beside its target."""
    real = follow_symlinks(path)
    directory, base = os.path.split(real)
    return os.path.join(directory, ".%s.~lock~" % base)


def follow_symlinks(path):
    """PATH with symlinks followed (like OVS's follow_symlinks())."""
    for _ in range(10):
        try:
            target = os.readlink(path)
        except OSError:
            return path
        if not os.path.isabs(target):
            target = os.path.join(os.path.dirname(path), target)
        path = target
    return path


class Lockfile:
    """An fcntl write lock on the lock file of a database, as OVS takes it."""

    _held = set()      # lock files held by this process (fcntl is per process)

    def __init__(self, path):
        self.name = lockfile_name(path)
        self.fd = None

    def lock(self):
        """Takes the lock; raises OSError (EAGAIN/EDEADLK) if it is held."""
        if self.name in Lockfile._held:
            raise OSError(errno_mod.EDEADLK, os.strerror(errno_mod.EDEADLK))
        fd = os.open(self.name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            err = e.errno
            if err in (errno_mod.EACCES, errno_mod.EAGAIN):
                err = errno_mod.EAGAIN
                pid = _lock_owner(fd)
                if pid:
                    _vlog().warn("%s: cannot lock file because it is already "
                                 "locked by pid %d", self.name, pid)
                else:
                    _vlog().warn("%s: cannot lock file because it is already "
                                 "locked", self.name)
            os.close(fd)
            raise OSError(err, os.strerror(err)) from None
        self.fd = fd
        Lockfile._held.add(self.name)
        return self

    def unlock(self):
        if self.fd is not None:
            Lockfile._held.discard(self.name)
            os.close(self.fd)
            self.fd = None


def _vlog():
    from pyovs.util.vlog import Vlog
    return Vlog("lockfile")


def _lock_owner(fd):
    """The pid holding a conflicting fcntl lock on FD, or 0."""
    try:
        req = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        res = fcntl.fcntl(fd, fcntl.F_GETLK, req)
        l_type, _, _, _, pid = struct.unpack("hhqqi", res)
        return pid if l_type != fcntl.F_UNLCK else 0
    except (OSError, struct.error):
        return 0


def lock(path):
    """Locks database PATH; raises LogError as OVS words it on failure."""
    try:
        return Lockfile(path).lock()
    except OSError as e:
        raise io_error(e.errno, "%s: failed to lock lockfile" % path) from None


def fsync_parent_dir(path):
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)) or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------
# The log.

_READ, _READ_ERROR, _WRITE, _WRITE_ERROR, _BROKEN = range(5)

_MODES = {
    "read": os.O_RDONLY,
    "read_write": os.O_RDWR,
    "create": os.O_RDWR | os.O_CREAT,
    "create_excl": os.O_RDWR | os.O_CREAT | os.O_EXCL,
}


class Log:
    """An open record log; see the module docstring.  Use open_log()."""

    def __init__(self, path, stream, magic, lockfile, writable,
                 max_record_size=MAX_RECORD_SIZE):
        self.path = path                 # as the user named it (for messages)
        self.abs_path = os.path.abspath(path)
        self.stream = stream
        self.magic = magic
        self.lockfile = lockfile
        self.writable = writable
        self.max_record_size = max_record_size
        self.state = _READ
        self.error = None
        self.offset = 0
        self.prev_offset = 0
        self.base = 0

    # Reading.

    def read(self):
        """The next record as parsed JSON (a dict), or None at end of file.

        Raises LogError for a bad record; every later read raises it again."""
        if self.state in (_READ_ERROR, _WRITE_ERROR, _BROKEN):
            raise self.error
        if self.state == _WRITE:
            return None
        try:
            obj = self._read_record()
        except LogError as e:
            self.state = _READ_ERROR
            self.error = e
            raise
        return obj

    def _read_record(self):
        f = self.stream
        header = f.readline(_HEADER_MAX)
        if not header:
            return None
        data_offset = self.offset + len(header)
        parsed = _parse_header(header)
        if parsed is None or parsed[0] != self.magic:
            shown = header.split(b"\n")[0].split(b"\0")[0]
            raise syntax_error('%s: parse error at offset %d in header line '
                               '"%s"' % (self.path, self.offset,
                                         shown.decode("utf-8", "surrogateescape")))
        _, length, expected = parsed
        if length > self.max_record_size:
            raise syntax_error("%s: record at offset %d is %d bytes long, "
                               "more than the maximum of %d"
                               % (self.path, self.offset, length,
                                  self.max_record_size))
        # A torn or lying length: do not allocate more than the file holds.
        size = os.fstat(f.fileno()).st_size
        data = f.read(length) if data_offset + length <= size else b""
        if len(data) != length:
            raise io_error(EOF, "%s: error reading %d bytes starting at "
                           "offset %d" % (self.path, length, data_offset))
        actual = hashlib.sha1(data).hexdigest()
        if actual != expected:
            raise syntax_error("%s: %d bytes starting at offset %d have SHA-1 "
                               "hash %s but should have hash %s"
                               % (self.path, length, data_offset, actual,
                                  expected))
        try:
            obj = json_from_string(data)
        except JsonSyntaxError as e:
            raise syntax_error("%s: %d bytes starting at offset %d are not "
                               "valid JSON (%s)"
                               % (self.path, length, data_offset, e)) from None
        if isinstance(obj, str):
            raise syntax_error("%s: %d bytes starting at offset %d are not "
                               "valid JSON (%s)"
                               % (self.path, length, data_offset, obj))
        if not isinstance(obj, dict):
            raise syntax_error("%s: %d bytes starting at offset %d are not a "
                               "JSON object" % (self.path, length, data_offset))
        self.prev_offset = self.offset
        self.offset = data_offset + length
        return obj

    def __iter__(self):
        while True:
            obj = self.read()
            if obj is None:
                return
            yield obj

    def unread(self):
        """Forgets the last record read: the next write overwrites it."""
        assert self.state == _READ
        self.offset = self.prev_offset

    # Writing.

    def _truncate(self):
        self.stream.seek(self.offset)
        self.stream.truncate(self.offset)

    def write(self, obj):
        """Appends a record holding OBJ (flushed, not yet fsynced).

        The first write truncates anything after the last record read."""
        if not self.writable:
            raise ovsdb_error("%s: log is open read-only" % self.path)
        if self.state == _BROKEN:
            raise self.error
        if self.state != _WRITE:
            try:
                self._truncate()
            except OSError as e:
                self.state = _WRITE_ERROR
                self.error = io_error(e.errno, "%s: cannot truncate to length %d"
                                      % (self.path, self.offset))
                raise self.error from None
            self.state = _WRITE
            self.error = None
        if not isinstance(obj, (dict, list)):
            raise ovsdb_error("bad JSON type")
        record = compose_record(obj, self.magic)
        try:
            self.stream.write(record)
            self.stream.flush()
        except OSError as e:
            try:
                self.stream.seek(self.offset)
                self.stream.truncate(self.offset)
            except OSError:
                pass
            self.state = _WRITE_ERROR
            self.error = io_error(e.errno, "%s: write failed" % self.path)
            raise self.error from None
        self.offset += len(record)

    def commit(self):
        """Makes everything written so far durable (fsync)."""
        if self.stream is not None and self.writable:
            try:
                os.fsync(self.stream.fileno())
            except OSError as e:
                raise io_error(e.errno, "%s: fsync failed" % self.path) from None

    def mark_base(self):
        self.base = self.offset

    def grew_lots(self):
        """True if the log has grown enough to be worth compacting (as OVS)."""
        return self.offset > 10 * 1024 * 1024 and self.offset // 2 > self.base

    # Compaction.

    def replace(self, records):
        """Atomically replaces the whole log by RECORDS (a list of dicts).

        Writes ``<file>.tmp``, fsyncs it, renames it over the file and
        fsyncs the directory; afterwards this log appends to the new file."""
        target = follow_symlinks(self.abs_path)
        tmp = target + ".tmp"
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise io_error(e.errno, "failed to remove %s" % tmp) from None
        new = open_log(tmp, "create_excl", self.magic, locking=False)
        try:
            for obj in records:
                new.write(obj)
            new.commit()
            try:
                os.rename(tmp, target)
            except OSError as e:
                raise io_error(e.errno, 'failed to rename "%s" to "%s"'
                               % (tmp, target)) from None
        except BaseException:
            new.close()
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        fsync_parent_dir(target)
        self.stream.close()
        self.stream, new.stream = new.stream, None
        self.state = _WRITE
        self.error = None
        self.offset = new.offset
        self.base = new.offset
        self.writable = True
        new.close()

    def close(self):
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        if self.lockfile is not None:
            self.lockfile.unlock()
            self.lockfile = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_log(path, mode="read", magic=STANDALONE_MAGIC, locking=None,
             max_record_size=MAX_RECORD_SIZE):
    """Opens the log at PATH.

    MODE is "read", "read_write", "create" (open or create) or "create_excl".
    MAGIC is the magic to expect ("JSON"), or several separated by "|" to
    accept any of them (then the file must not be empty).  LOCKING: True,
    False, or None to lock only when writing.  Raises LogError."""
    if mode.startswith("create"):
        assert "|" not in magic
    if locking is None:
        locking = mode != "read"
    lockfile = lock(path) if locking else None
    try:
        flags = _MODES[mode]
        if (mode == "create_excl" and not os.path.exists(path)
                and os.path.islink(path)):
            flags &= ~os.O_EXCL        # a dangling symlink: create its target
        try:
            fd = os.open(path, flags, 0o640)   # OVS 3.1 creates files 0640
        except OSError as e:
            op = {"create_excl": "create",
                  "create": "create or open"}.get(mode, "open")
            raise io_error(e.errno, "%s: %s failed" % (path, op)) from None
        stream = os.fdopen(fd, "rb" if mode == "read" else "r+b")
        try:
            header = stream.readline(_HEADER_MAX)
            if not header:
                if "|" in magic:
                    raise ovsdb_error("%s: cannot identify file type" % path)
                actual = magic
                fsync_parent_dir(path)
            else:
                parsed = _parse_header(header)
                if parsed is None:
                    raise ovsdb_error("%s: unexpected file format" % path)
                actual = parsed[0]
                if not _is_magic_ok(actual, magic):
                    raise ovsdb_error("%s: cannot identify file type" % path)
            stream.seek(0)
        except BaseException:
            stream.close()
            raise
    except BaseException:
        if lockfile is not None:
            lockfile.unlock()
        raise
    return Log(path, stream, actual, lockfile, writable=mode != "read",
               max_record_size=max_record_size)


def read_records(path, magic=STANDALONE_MAGIC):
    """Reads every intact record of PATH.

    Returns (records, error): ERROR is the LogError that stopped the reading
    (a torn or corrupt tail) or None if the file ended cleanly.  Raises
    LogError if the file cannot be opened at all."""
    records = []
    with open_log(path, "read", magic, locking=False) as log:
        try:
            for obj in log:
                records.append(obj)
        except LogError as e:
            return records, e
    return records, None
