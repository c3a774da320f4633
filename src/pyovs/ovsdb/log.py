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

Record bodies are JSON text as OVS writes and reads it (pyovs.util.json):
objects in the order OVS's hash table (``shash``) iterates them, so the
bytes of a file and the order of ``ovsdb-tool show-log`` match OVS's.

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
``shash_order`` (pyovs.util.json's, kept here for callers).
"""

import errno as errno_mod
import hashlib
import os
import re
import struct
import fcntl

from pyovs.ovsdb.error import OvsdbError
from pyovs.util import json as ovs_json
from pyovs.util.json import shash_order  # noqa: F401 (for callers)

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
# Records.

def compose_record(obj, magic=STANDALONE_MAGIC):
    """The bytes of one log record holding OBJ (a dict or list)."""
    data = ovs_json.to_string(obj, shash=True).encode("utf-8") + b"\n"
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
            obj = ovs_json.from_string(data)
        except ovs_json.JsonError as e:
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
