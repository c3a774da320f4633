"""ovsdb-tool: Open vSwitch database management utility (ovsdb-tool(1)).

Same commands, options, output, errors and exit codes as OVS 3.1's
ovsdb-tool for standalone databases.  Clustered (Raft) databases are
recognised (db-is-clustered, db-is-standalone) but otherwise not supported:
commands that would need them fail with a clear message.
"""

import errno
import math
import os
import sys
import uuid as uuid_mod

import pyovs
from pyovs.ovsdb import file as ovsfile
from pyovs.ovsdb import log as ovslog
from pyovs.ovsdb import transaction
from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.error import OvsdbError
from pyovs.ovsdb.log import LogError
from pyovs.ovsdb.schema import DbSchema, load_schema
from pyovs.util import command_line as cl
from pyovs.util import dirs, vlog
from pyovs.util import json as ovs_json

PROGRAM = "ovsdb-tool"


class Fatal(Exception):
    """ovs_fatal(): print "ovsdb-tool: MESSAGE" and exit 1."""


class GetoptError(Fatal):
    """getopt_long()'s complaints, which name the program as argv[0]."""


def error_to_string(e):
    """OVS's ovsdb_error_to_string() for our error classes."""
    if isinstance(e, OvsdbError) and not isinstance(e, LogError):
        return e.to_string()
    return str(e)


def check(fn, *args, **kwargs):
    """Calls FN; turns OVSDB and log errors into Fatal, as check_ovsdb_error."""
    try:
        return fn(*args, **kwargs)
    except OvsdbError as e:           # (LogError included)
        raise Fatal(error_to_string(e)) from None


# ---------------------------------------------------------------------------
# Defaults.

def default_db():
    return "%s/conf.db" % dirs.dbdir()


def default_schema():
    return "%s/vswitch.ovsschema" % dirs.pkgdatadir()


# ---------------------------------------------------------------------------
# Command-line parsing (GNU getopt_long, as OVS uses it).

# name -> (takes argument: "no" | "required" | "optional", short letter)
LONG_OPTIONS = [
    ("more", "no", "m"),
    ("rbac-role", "required", None),
    ("cid", "required", None),
    ("election-timer", "required", None),
    ("verbose", "optional", "v"),
    ("help", "no", "h"),
    ("option", "no", "o"),
    ("version", "no", "V"),
]


_KINDS = {"no": cl.NO_ARGUMENT, "required": cl.REQUIRED_ARGUMENT,
          "optional": cl.OPTIONAL_ARGUMENT}


def getopt_long(argv, long_options):
    """(options [(name, value)], operands) as GNU getopt_long parses ARGV
    with LONG_OPTIONS; raises GetoptError with glibc's messages."""
    longs = [cl.LongOption(n, _KINDS[k], s) for n, k, s in long_options]
    shorts = "".join(s + {"no": "", "required": ":", "optional": "::"}[k]
                     for n, k, s in long_options if s)
    names = {s: n for n, k, s in long_options if s}
    try:
        opts, operands = cl.getopt_long(argv, shorts, longs)
    except cl.GetoptError as e:
        raise GetoptError(str(e)) from None
    return [(names.get(k) or k[2:], v) for k, v in opts], operands


USAGE = """\
%(p)s: Open vSwitch database management utility
usage: %(p)s [OPTIONS] COMMAND [ARG...]
  create [DB [SCHEMA]]    create DB with the given SCHEMA
  [--election-timer=ms] create-cluster DB CONTENTS LOCAL
    create clustered DB with given CONTENTS and LOCAL address
  [--cid=UUID] join-cluster DB NAME LOCAL REMOTE...
    join clustered DB with given NAME and LOCAL and REMOTE addrs
  compact [DB [DST]]      compact DB in-place (or to DST)
  convert [DB [SCHEMA [DST]]]   convert DB to SCHEMA (to DST)
  db-name [DB]            report name of schema used by DB
  db-version [DB]         report version of schema used by DB
  db-cksum [DB]           report checksum of schema used by DB
  db-cid DB               report cluster ID of clustered DB
  db-sid DB               report server ID of clustered DB
  db-local-address DB     report local address of clustered DB
  db-is-clustered DB      test whether DB is clustered
  db-is-standalone DB     test whether DB is standalone
  schema-name [SCHEMA]    report SCHEMA's name
  schema-version [SCHEMA] report SCHEMA's schema version
  schema-cksum [SCHEMA]   report SCHEMA's checksum
  compare-versions A OP B  compare OVSDB schema version numbers
  query [DB] TRNS         execute read-only transaction on DB
  transact [DB] TRNS      execute read/write transaction on DB
  cluster-to-standalone DB DB    Convert clustered DB to
      standalone DB when cluster is down and cannot be
        revived
  [-m]... show-log [DB]   print DB's log entries
The default DB is %(db)s.
The default SCHEMA is %(schema)s.
%(vlog)s
Other options:
  -m, --more                  increase show-log verbosity
  --rbac-role=ROLE            RBAC role for transact and query commands
  -h, --help                  display this help message
  -V, --version               display version information
"""


class Options:
    show_log_verbosity = 0
    rbac_role = None
    cid = None
    election_timer = None


def usage(out):
    from pyovs.util.usage import vlog_usage
    out.write(USAGE % {"p": PROGRAM, "db": default_db(),
                       "schema": default_schema(), "vlog": vlog_usage(PROGRAM)})


def parse_options(argv, out):
    """Returns (Options, operands) or an exit status for -h/-V/-o."""
    options = Options()
    opts, operands = getopt_long(argv, LONG_OPTIONS)
    for name, value in opts:
        if name == "more":
            options.show_log_verbosity += 1
        elif name == "rbac-role":
            options.rbac_role = value
        elif name == "cid":
            try:
                u = uuid_mod.UUID(value)
                if len(value) != 36 or u.int == 0:
                    raise ValueError
            except ValueError:
                raise Fatal("%s: not a valid UUID" % value) from None
            options.cid = u
        elif name == "election-timer":
            try:
                ms = int(value)
            except ValueError:
                ms = 0
            if not 100 <= ms <= 600000:
                raise Fatal("ovsdb error: election timer must be between 100 "
                            "and 600000, in msec.")
            options.election_timer = ms
        elif name == "help":
            usage(out)
            return 0
        elif name == "option":
            for n, kind, short in LONG_OPTIONS:
                arg = {"no": "", "required": "=ARG", "optional": "=[ARG]"}[kind]
                out.write("--%s%s\n" % (n, arg))
                if short:
                    sarg = {"no": " ", "required": " ARG",
                            "optional": " [ARG]"}[kind]
                    out.write("-%s%s\n" % (short, sarg))
            return 0
        elif name == "version":
            out.write("%s (Open vSwitch) %s\n" % (PROGRAM, pyovs.OVS_VERSION))
            return 0
        elif name == "verbose":
            vlog.handle_verbose(value)
    return options, operands


# ---------------------------------------------------------------------------
# Helpers shared by the commands.

def parse_json_arg(s):
    try:
        return ovs_json.from_string(s)
    except ovs_json.JsonError as e:
        raise Fatal('"%s": %s' % (s, e)) from None


def print_json(value, out):
    out.write(ovs_json.to_string(value, sort=True) + "\n")


def _not_supported_cluster(path):
    raise Fatal("%s: clustered databases are not supported by pyovs" % path)


def open_any(path):
    """Opens log PATH accepting standalone or clustered magic."""
    return check(ovslog.open_log, path, "read",
                 ovslog.STANDALONE_MAGIC + "|" + ovslog.CLUSTER_MAGIC)


def read_standalone_schema(path):
    return check(ovsfile.read_schema, path)


# ---------------------------------------------------------------------------
# Commands.

def do_create(args, opts, out):
    db = args[0] if len(args) >= 1 else default_db()
    schema_file = args[1] if len(args) >= 2 else default_schema()
    schema = check(load_schema, schema_file)
    check(ovsfile.create_db, db, schema)


def _compact_or_convert(src, dst, new_schema, comment):
    in_place = dst is None
    src = ovslog.follow_symlinks(src)
    dst = src + ".tmp" if in_place else ovslog.follow_symlinks(dst)
    locks = []
    try:
        for name in ([src] if in_place else []) + [dst]:
            try:
                locks.append(ovslog.Lockfile(name).lock())
            except OSError as e:
                raise Fatal("%s: failed to lock lockfile (%s)"
                            % (name, os.strerror(e.errno))) from None
        schema, db, storage = check(ovsfile.open_db, src, rw=False,
                                    schema=new_schema, locking=False)
        storage.close()
        if new_schema is not None:
            db = check(ovsfile.convert_db, db, new_schema)
        check(ovsfile.write_standalone_db, dst, db, comment)
        if in_place:
            try:
                os.rename(dst, src)
            except OSError as e:
                raise Fatal('failed to rename "%s" to "%s" (%s)'
                            % (dst, src, os.strerror(e.errno))) from None
            ovslog.fsync_parent_dir(dst)
    finally:
        for lock in locks:
            lock.unlock()


def do_compact(args, opts, out):
    db = args[0] if len(args) >= 1 else default_db()
    target = args[1] if len(args) >= 2 else None
    _compact_or_convert(db, target, None,
                        "compacted by ovsdb-tool %s" % pyovs.OVS_VERSION)


def do_convert(args, opts, out):
    db = args[0] if len(args) >= 1 else default_db()
    schema_file = args[1] if len(args) >= 2 else default_schema()
    target = args[2] if len(args) >= 3 else None
    new_schema = check(load_schema, schema_file)
    _compact_or_convert(db, target, new_schema,
                        "converted by ovsdb-tool %s" % pyovs.OVS_VERSION)


def do_needs_conversion(args, opts, out):
    db = args[0] if len(args) >= 1 else default_db()
    schema_file = args[1] if len(args) >= 2 else default_schema()
    schema1 = read_standalone_schema(db)
    schema2 = check(load_schema, schema_file)
    out.write("no\n" if schema1.to_json() == schema2.to_json() else "yes\n")


def do_db_name(args, opts, out):
    db = args[0] if args else default_db()
    log = open_any(db)
    try:
        if log.magic == ovslog.CLUSTER_MAGIC:
            _not_supported_cluster(db)
        schema_json = check(log.read)
        if schema_json is None:
            raise Fatal("%s: database file contains no schema" % db)
        schema = check(DbSchema.from_json, schema_json)
        out.write(schema.name + "\n")
    finally:
        log.close()


def do_db_version(args, opts, out):
    db = args[0] if args else default_db()
    out.write(read_standalone_schema(db).version + "\n")


def do_db_cksum(args, opts, out):
    db = args[0] if args else default_db()
    out.write(read_standalone_schema(db).cksum + "\n")


def _read_cluster_metadata(path):
    log = open_any(path)
    log.close()
    if log.magic != ovslog.CLUSTER_MAGIC:
        raise Fatal("%s: not a clustered database" % path)
    _not_supported_cluster(path)


def do_cluster_metadata(args, opts, out):
    _read_cluster_metadata(args[0])


def _has_magic(args, magic):
    log = open_any(args[0])
    log.close()
    return 0 if log.magic == magic else 2


def do_db_is_clustered(args, opts, out):
    return _has_magic(args, ovslog.CLUSTER_MAGIC)


def do_db_is_standalone(args, opts, out):
    return _has_magic(args, ovslog.STANDALONE_MAGIC)


def do_schema_name(args, opts, out):
    out.write(check(load_schema, args[0] if args else default_schema()).name + "\n")


def do_schema_version(args, opts, out):
    out.write(check(load_schema, args[0] if args else default_schema()).version + "\n")


def do_schema_cksum(args, opts, out):
    out.write(check(load_schema, args[0] if args else default_schema()).cksum + "\n")


def _transact(args, opts, out, rw):
    db_file = args[0] if len(args) >= 2 else default_db()
    trns = args[-1]
    schema, db, storage = check(ovsfile.open_db, db_file, rw=rw)
    try:
        if opts.rbac_role is not None and "RBAC_Role" in schema.tables:
            # (Without an RBAC_Role table OVS ignores the role, as we do.)
            raise Fatal("--rbac-role: role-based access control is not "
                        "supported by pyovs")
        request = parse_json_arg(trns)
        # No one will ever commit to this database but us: a "wait" that
        # would block fails at once ("timed out" when its timeout is 0, else
        # OVS's "triggers not supported").
        result = transaction.execute_params(db, request, elapsed_ms=math.inf)
        if type(request) is not list or not request or request[0] != schema.name:
            # OVS prints a bad "params" error bare, not in a list.
            print_json(result.results[0], out)
            return 0
        results = list(result.results)
        if result.error is not None and result.error.error == "timed out":
            i = results.index(result.error.to_json())
            op = request[1 + i] if 1 + i < len(request) else None
            if isinstance(op, dict) and op.get("op") == "wait" \
                    and op.get("timeout") != 0:
                results[i] = {"error": "not supported",
                              "details": "triggers not supported"}
        if result.changes is not None:
            if rw:
                check(storage.commit, result.changes, result.comment)
            elif ovsfile.changes_to_record(result.changes, schema=schema):
                # OVS commits a "query" too, to a file it opened read-only:
                # the write fails and the failure joins the results.
                results = results + [{
                    "error": "I/O error", "io-error": os.strerror(errno.EINVAL),
                    "details": "%s: cannot truncate to length %d"
                               % (db_file, storage.log.offset)}]
        print_json(results, out)
    finally:
        storage.close()
    return 0


def do_query(args, opts, out):
    return _transact(args, opts, out, rw=False)


def do_transact(args, opts, out):
    return _transact(args, opts, out, rw=True)


def _wrap64(n):
    n &= (1 << 64) - 1
    return n - (1 << 64) if n >= 1 << 63 else n


def _civil_from_days(days):
    """(year, month, day) of DAYS since 1970-01-01, for any year (as
    glibc's gmtime() manages and Python's datetime does not)."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def _format_date(t):
    """' %Y-%m-%d %H:%M:%S.###' in UTC, as OVS's xastrftime_msec()."""
    if t < 2 ** 31 - 1:
        t = _wrap64(t * 1000)   # Older versions of ovsdb wrote seconds.
    secs = abs(t) // 1000 * (1 if t >= 0 else -1)      # C division
    msec = t - secs * 1000
    days, rem = divmod(secs, 86400)
    year, month, day = _civil_from_days(days)
    return " %d-%02d-%02d %02d:%02d:%02d.%03d" % (
        year, month, day, rem // 3600, rem // 60 % 60, rem % 60, msec)


def _datum_string(column, value):
    try:
        return Datum.from_json(column.type, value).to_string()
    except (OvsdbError, ValueError, TypeError, KeyError):
        return None


def _print_db_changes(record, names, schema, verbosity, out):
    diff = record.get("_is_diff") is True
    first = True
    for table in ovs_json.shash_order(list(record)):
        rows = record[table]
        if table.startswith("_") or not isinstance(rows, dict):
            continue
        if first:
            out.write("\n")
            first = False
        table_schema = schema.tables.get(table) if schema else None
        for row_uuid in ovs_json.shash_order(list(rows)):
            columns = rows[row_uuid]
            old_name = names.get(row_uuid)
            new_name = None
            if isinstance(columns, dict) and "name" in columns:
                new_name = ovs_json.to_string(columns["name"], sort=True)
            short = row_uuid[:8]
            if old_name is None:
                if new_name is not None:
                    out.write("  table %s insert row %s (%s):\n"
                              % (table, new_name, short))
                else:
                    out.write("  table %s insert row %s:\n" % (table, short))
            else:
                out.write("  table %s row %s (%s)%s:\n"
                          % (table, old_name, short, " diff" if diff else ""))
            if isinstance(columns, dict):
                if verbosity > 1:
                    for column in ovs_json.shash_order(list(columns)):
                        value = columns[column]
                        text = None
                        if table_schema is not None and column in table_schema.columns:
                            text = _datum_string(table_schema.columns[column], value)
                        if text is None:
                            text = ovs_json.to_string(value, sort=True)
                        out.write("    %s=%s\n" % (column, text))
                if new_name is not None and old_name != new_name:
                    names[row_uuid] = new_name
                elif old_name is None:
                    names[row_uuid] = short
            elif columns is None:
                out.write("    delete row\n")
                names.pop(row_uuid, None)


def _print_change_record(record, schema, names, verbosity, out):
    date = record.get("_date")
    if isinstance(date, int) and not isinstance(date, bool):
        out.write(_format_date(date))
    comment = record.get("_comment")
    if isinstance(comment, str):
        out.write(' "%s"' % comment)
    if verbosity > 0:
        _print_db_changes(record, names, schema, verbosity, out)


def do_show_log(args, opts, out):
    db = args[0] if args else default_db()
    log = open_any(db)
    try:
        if log.magic == ovslog.CLUSTER_MAGIC:
            _not_supported_cluster(db)
        names = {}
        schema = None
        i = 0
        while True:
            record = check(log.read)
            if record is None:
                break
            out.write("record %d:" % i)
            if i == 0:
                schema = check(DbSchema.from_json, record)
                out.write(' "%s" schema, version="%s", cksum="%s"\n'
                          % (schema.name, schema.version, schema.cksum))
            else:
                _print_change_record(record, schema, names,
                                     opts.show_log_verbosity, out)
            out.write("\n")
            i += 1
    finally:
        log.close()


def _parse_version(s):
    parts = s.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise Fatal("%s: not an OVSDB version number in format x.y.z" % s)
    return tuple(int(p) for p in parts)


def do_compare_versions(args, opts, out):
    a = _parse_version(args[0])
    op = args[1]
    b = _parse_version(args[2])
    cmp = (a > b) - (a < b)
    results = {"<": cmp < 0, "<=": cmp <= 0, "==": cmp == 0,
               ">=": cmp >= 0, ">": cmp > 0, "!=": cmp != 0}
    if op not in results:
        raise Fatal("%s: not a relational operator" % op)
    return 0 if results[op] else 2


def do_cluster_not_supported(args, opts, out):
    raise Fatal("clustered databases are not supported by pyovs")


def do_help(args, opts, out):
    usage(out)


def do_list_commands(args, opts, out):
    out.write("The available commands are:\n")
    for name, usage_, _, _, _ in COMMANDS:
        out.write("  %-23s %s\n" % (name, usage_ or ""))


INT_MAX = 2 ** 31 - 1

# (name, usage, min args, max args, handler)
COMMANDS = [
    ("create", "[db [schema]]", 0, 2, do_create),
    ("create-cluster", "db contents local", 3, 3, do_cluster_not_supported),
    ("join-cluster", "db name local remote...", 4, INT_MAX, do_cluster_not_supported),
    ("compact", "[db [dst]]", 0, 2, do_compact),
    ("convert", "[db [schema [dst]]]", 0, 3, do_convert),
    ("needs-conversion", None, 0, 2, do_needs_conversion),
    ("db-name", "[db]", 0, 1, do_db_name),
    ("db-version", "[db]", 0, 1, do_db_version),
    ("db-cksum", "[db]", 0, 1, do_db_cksum),
    ("db-cid", "db", 1, 1, do_cluster_metadata),
    ("db-sid", "db", 1, 1, do_cluster_metadata),
    ("db-local-address", "db", 1, 1, do_cluster_metadata),
    ("db-is-clustered", "db", 1, 1, do_db_is_clustered),
    ("db-is-standalone", "db", 1, 1, do_db_is_standalone),
    ("schema-name", "[schema]", 0, 1, do_schema_name),
    ("schema-version", "[schema]", 0, 1, do_schema_version),
    ("schema-cksum", "[schema]", 0, 1, do_schema_cksum),
    ("query", "[db] trns", 1, 2, do_query),
    ("transact", "[db] trns", 1, 2, do_transact),
    ("show-log", "[db]", 0, 1, do_show_log),
    ("check-cluster", "db...", 1, INT_MAX, do_cluster_not_supported),
    ("compare-versions", "a op b", 3, 3, do_compare_versions),
    ("help", None, 0, INT_MAX, do_help),
    ("list-commands", None, 0, INT_MAX, do_list_commands),
    ("cluster-to-standalone", "db clusterdb", 2, 2, do_cluster_not_supported),
]


def run_command(options, operands, out):
    if not operands:
        raise Fatal("missing command name; use --help for help")
    name, args = operands[0], operands[1:]
    for cname, _, min_args, max_args, handler in COMMANDS:
        if cname == name:
            if len(args) < min_args:
                raise Fatal("'%s' command requires at least %d arguments"
                            % (name, min_args))
            if len(args) > max_args:
                raise Fatal("'%s' command takes at most %d arguments"
                            % (name, max_args))
            return handler(args, options, out) or 0
    raise Fatal("unknown command '%s'; use --help for help" % name)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    out = sys.stdout
    vlog.set_program_name(PROGRAM)
    try:
        parsed = parse_options(argv, out)
        if isinstance(parsed, int):
            return parsed
        options, operands = parsed
        return run_command(options, operands, out)
    except Fatal as e:
        out.flush()
        name = PROGRAM
        if isinstance(e, GetoptError):
            name = sys.argv[0] if sys.argv and sys.argv[0] else PROGRAM
        # Bytes from a damaged file go out as they came in (surrogateescape).
        sys.stderr.flush()
        sys.stderr.buffer.write(("%s: %s\n" % (name, e)).encode("utf-8", "surrogateescape"))
        sys.stderr.flush()
        return 1
    except BrokenPipeError:
        return 1
    finally:
        try:
            out.flush()
        except BrokenPipeError:
            pass


if __name__ == "__main__":
    sys.exit(main())
