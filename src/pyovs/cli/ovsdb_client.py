"""ovsdb-client: command-line interface to ovsdb-server (ovsdb-client(1)).

Each command is a function taking (ctx, args); ``main`` parses options as
GNU getopt_long does for OVS, finds the command, resolves the optional
SERVER and DATABASE arguments as OVS's open_rpc() does, checks the argument
count and runs it.  Fatal errors print ``ovsdb-client: MESSAGE`` on stderr
and exit with status 1.
"""

import argparse
import asyncio
import os
import queue
import signal
import sys
import threading
import time
import uuid as uuidlib

import pyovs
from pyovs.ovsdb import client as lib
from pyovs.ovsdb import table_format as tf
from pyovs.ovsdb.client import ClientError
from pyovs.ovsdb.log import compose_record
from pyovs.util import command_line as cl
from pyovs.util import daemon, jsonrpc, stream_ssl
from pyovs.util import json as ovs_json
from pyovs.util import vlog as vlog_mod
from pyovs.util.vlog import Vlog

PROGRAM = "ovsdb-client"

NEED_NONE, NEED_RPC, NEED_DATABASE = range(3)
INT_MAX = 2 ** 31 - 1


class Fatal(Exception):
    """Exit with status 1 after printing the message."""


class GetoptError(Fatal):
    """A bad option; reported as getopt does, after argv[0]."""


def error(msg):
    """OVS's ovs_error(): a non-fatal message on stderr."""
    sys.stderr.write("%s: %s\n" % (PROGRAM, msg))
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# Options (GNU getopt_long semantics: permutation, unique prefixes).

# In OVS's table order, which glibc's "ambiguous" complaint follows.
_LONG = [cl.LongOption(name, has_arg, short) for name, has_arg, short in [
    ("help", 0, "h"), ("version", 0, "V"), ("timestamp", 0, None),
    ("force", 0, None), ("timeout", 1, "t"), ("db-change-aware", 0, None),
    ("no-db-change-aware", 0, None), ("leader-only", 0, None),
    ("no-leader-only", 0, None),
    ("verbose", 2, "v"), ("log-file", 2, None), ("syslog-method", 1, None),
    ("syslog-target", 1, None),
    ("detach", 0, None), ("no-self-confinement", 0, None),
    ("no-chdir", 0, None), ("pidfile", 2, None),
    ("overwrite-pidfile", 0, None), ("monitor", 0, None), ("user", 1, None),
    ("private-key", 1, "p"), ("certificate", 1, "c"), ("ca-cert", 1, "C"),
    ("ssl-protocols", 1, None), ("ssl-ciphers", 1, None),
    ("bootstrap-ca-cert", 1, None),
    ("format", 1, "f"), ("data", 1, "d"), ("no-headings", 0, None),
    ("pretty", 0, None), ("bare", 0, None),
    ("record", 2, None), ("replay", 2, None)]]
_SHORT = "hVt:v::p:c:C:f:d:"


def getopt_long(argv):
    """Split ARGV into ([(key, value)], operands) or raise GetoptError; a
    key is the short letter, else the long name."""
    try:
        opts, operands = cl.getopt_long(argv, _SHORT, _LONG)
    except cl.GetoptError as e:
        raise GetoptError(str(e)) from None
    return [(k[2:] if k.startswith("--") else k, v) for k, v in opts], operands


class Context:
    """Options and shared state of one ovsdb-client run."""

    def __init__(self):
        self.style = tf.TableStyle()
        self.printer = tf.TablePrinter(self.style)
        self.timestamp = False
        self.force = False
        self.db_change_aware = -1
        self.leader_only = True
        self.rpc = None
        self.database = None
        self.daemon_args = argparse.Namespace(
            verbose=[], log_file=None, pidfile=None, detach=False, no_chdir=False,
            overwrite_pidfile=False, monitor=False, user=None, unixctl=None,
            syslog_method=None, syslog_target=None)
        self.control = None

    def print_json(self, value):
        sys.stdout.write(ovs_json.to_string(value, sort=self.style.sort,
                                           pretty=self.style.pretty) + "\n")
        sys.stdout.flush()


def apply_options(ctx, opts):
    for key, value in opts:
        if key == "h":
            usage()
            sys.exit(0)
        elif key == "V":
            print("%s (Open vSwitch) %s" % (PROGRAM, pyovs.OVS_VERSION))
            sys.exit(0)
        elif key == "t":
            digits = ""
            for ch in value.lstrip(" \t"):
                if not ch.isdigit():
                    break
                digits += ch
            timeout = int(digits) if digits else 0
            if timeout <= 0:
                raise Fatal("value %s on -t or --timeout is invalid" % value)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.alarm(timeout)
        elif key == "timestamp":
            ctx.timestamp = True
        elif key == "force":
            ctx.force = True
        elif key == "db-change-aware":
            ctx.db_change_aware = 1
        elif key == "no-db-change-aware":
            ctx.db_change_aware = 0
        elif key == "leader-only":
            ctx.leader_only = True
        elif key == "no-leader-only":
            ctx.leader_only = False
        elif key == "f":
            try:
                tf.parse_format(ctx.style, value)
            except ValueError as e:
                raise Fatal(str(e)) from None
        elif key == "d":
            try:
                tf.parse_cell_format(ctx.style, value)
            except ValueError as e:
                raise Fatal(str(e)) from None
        elif key == "no-headings":
            ctx.style.headings = False
        elif key == "pretty":
            ctx.style.pretty = True
        elif key == "bare":
            ctx.style.format = tf.TF_LIST
            ctx.style.cell_format = tf.CF_BARE
            ctx.style.headings = False
        elif key == "v":
            ctx.daemon_args.verbose.append(value or "")
        elif key == "log-file":
            ctx.daemon_args.log_file = value if value else daemon._DEFAULT
        elif key == "pidfile":
            ctx.daemon_args.pidfile = value if value else daemon._DEFAULT
        elif key in ("detach", "no-chdir", "overwrite-pidfile", "monitor"):
            setattr(ctx.daemon_args, key.replace("-", "_"), True)
        elif key in ("user", "syslog-method", "syslog-target"):
            setattr(ctx.daemon_args, key.replace("-", "_"), value)
        elif key == "no-self-confinement":
            pass
        elif key in ("record", "replay"):
            raise Fatal("--%s is not supported by pyovs's ovsdb-client" % key)
        elif key in ("p", "c", "C", "ssl-protocols", "ssl-ciphers",
                     "bootstrap-ca-cert"):
            try:
                {"p": stream_ssl.set_private_key,
                 "c": stream_ssl.set_certificate,
                 "C": stream_ssl.set_ca_cert,
                 "ssl-protocols": stream_ssl.set_protocols,
                 "ssl-ciphers": stream_ssl.set_ciphers,
                 "bootstrap-ca-cert": lambda v: stream_ssl.set_ca_cert(v, True),
                 }[key](value)
            except ValueError as e:
                raise Fatal(str(e)) from None


def usage():
    from pyovs.util import usage as usage_blocks
    rundir = lib.dirs.rundir()
    sys.stdout.write(
        "%(p)s: Open vSwitch database JSON-RPC client\n"
        "usage: %(p)s [OPTIONS] COMMAND [ARG...]\n"
        "\nValid commands are:\n"
        "\n  list-dbs [SERVER]\n"
        "    list databases available on SERVER\n"
        "\n  get-schema [SERVER] [DATABASE]\n"
        "    retrieve schema for DATABASE from SERVER\n"
        "\n  get-schema-version [SERVER] [DATABASE]\n"
        "    retrieve schema for DATABASE from SERVER and report only its\n"
        "    version number on stdout\n"
        "\n  get-schema-cksum [SERVER] [DATABASE]\n"
        "    retrieve schema for DATABASE from SERVER and report only its\n"
        "    checksum on stdout\n"
        "\n  list-tables [SERVER] [DATABASE]\n"
        "    list tables for DATABASE on SERVER\n"
        "\n  list-columns [SERVER] [DATABASE] [TABLE]\n"
        "    list columns in TABLE (or all tables) in DATABASE on SERVER\n"
        "\n  transact [SERVER] TRANSACTION\n"
        "    run TRANSACTION (params for \"transact\" request) on SERVER\n"
        "    and print the results as JSON on stdout\n"
        "\n  query [SERVER] TRANSACTION\n"
        "    run TRANSACTION (params for \"transact\" request) on SERVER,\n"
        "    as read-only, and print the results as JSON on stdout\n"
        "\n  monitor [SERVER] [DATABASE] TABLE [COLUMN,...]...\n"
        "    monitor contents of COLUMNs in TABLE in DATABASE on SERVER.\n"
        "    COLUMNs may include !initial, !insert, !delete, !modify\n"
        "    to avoid seeing the specified kinds of changes.\n"
        "\n  monitor-cond [SERVER] [DATABASE] CONDITION TABLE [COLUMN,...]...\n"
        "    monitor contents that match CONDITION of COLUMNs in TABLE in\n"
        "    DATABASE on SERVER.\n"
        "    COLUMNs may include !initial, !insert, !delete, !modify\n"
        "    to avoid seeing the specified kinds of changes.\n"
        "\n  monitor-cond-since [SERVER] [DATABASE] [LASTID] CONDITION TABLE [COLUMN,...]...\n"
        "    monitor contents that match CONDITION of COLUMNs in TABLE in\n"
        "    DATABASE on SERVER, since change after LASTID.\n"
        "    LASTID specifies transaction ID after which the monitoring\n"
        "    starts, which works only for cluster mode. If ignored, it\n"
        "    defaults to an all-zero uuid.\n"
        "    Other arguments are the same as in monitor-cond.\n"
        "\n  convert [SERVER] SCHEMA\n"
        "    convert database on SERVER named in SCHEMA to SCHEMA.\n"
        "\n  needs-conversion [SERVER] SCHEMA\n"
        "    tests whether SCHEMA's db on SERVER needs conversion.\n"
        "\n  monitor [SERVER] [DATABASE] ALL\n"
        "    monitor all changes to all columns in all tables\n"
        "\n  wait [SERVER] DATABASE STATE\n"
        "    wait until DATABASE reaches STATE (\"added\" or \"connected\" or \"removed\")\n"
        "    in DATBASE on SERVER.\n"
        "\n  dump [SERVER] [DATABASE]\n"
        "    dump contents of DATABASE on SERVER to stdout\n"
        "\n  backup [SERVER] [DATABASE] > SNAPSHOT\n"
        "    dump database contents in the form of a database file\n"
        "\n  [--force] restore [SERVER] [DATABASE] < SNAPSHOT\n"
        "    restore database contents from a database file\n"
        "\n  lock [SERVER] LOCK\n"
        "    create or wait for LOCK in SERVER\n"
        "\n  steal [SERVER] LOCK\n"
        "    steal LOCK from SERVER\n"
        "\n  unlock [SERVER] LOCK\n"
        "    unlock LOCK from SERVER\n"
        "\nThe default SERVER is unix:%(r)s/db.sock.\n"
        "The default DATABASE is Open_vSwitch.\n"
        "%(stream)s"
        "\nOutput formatting options:\n"
        "  -f, --format=FORMAT         set output formatting to FORMAT\n"
        "                              (\"table\", \"html\", \"csv\", or \"json\")\n"
        "  -d, --data=FORMAT           set table cell output formatting to\n"
        "                              FORMAT (\"string\", \"bare\", or \"json\")\n"
        "  --no-headings               omit table heading row\n"
        "  --pretty                    pretty-print JSON in output\n"
        "  --bare                      equivalent to "
        "\"--format=list --data=bare --no-headings\"\n"
        "  --timestamp                 timestamp \"monitor\" output"
        "%(daemon)s%(vlog)s"
        "\nReplay options:\n"
        "  --record[=DIR]            turn on writing replay files\n"
        "  --replay[=DIR]            run from replay files\n"
        "\nOther options:\n"
        "  -h, --help                  display this help message\n"
        "  -V, --version               display version information\n"
        % {"p": PROGRAM, "r": rundir, "daemon": usage_blocks.daemon_usage(PROGRAM),
           "vlog": usage_blocks.vlog_usage(PROGRAM),
           "stream": usage_blocks.stream_usage("SERVER", True, True, True)})


# ---------------------------------------------------------------------------
# Finding the server and the database (OVS's open_rpc()).

def _looks_like_remote(arg):
    return bool(arg) and arg[0].isascii() and arg[0].isalpha() and ":" in arg


def open_rpc(ctx, min_args, need, args, database=None):
    """Connect; return (rpc, database, number of ARGS consumed)."""
    idx = 0
    if len(args) > min_args and _looks_like_remote(args[0]):
        remote = args[0]
        idx = 1
    else:
        remote = lib.default_remote()
    remotes = [r for r in remote.split(",") if r]
    if len(remotes) > 1:
        if database is None and need == NEED_DATABASE:
            if len(args) - idx > min_args:
                database = args[idx]
                idx += 1
            else:
                raise Fatal("database name is required with multiple remotes")
        return _open_one_of(ctx, remotes, database), database, idx
    rpc = lib.open_rpc(remote)
    if need == NEED_DATABASE and database is None:
        dbs = lib.fetch_dbs(rpc)
        if len(args) - idx > min_args and args[idx] in dbs:
            database = args[idx]
            idx += 1
        elif "Open_vSwitch" in dbs:
            database = "Open_vSwitch"
        else:
            user = [d for d in dbs if not d.startswith("_")]
            if len(user) != 1:
                rpc.close()
                raise Fatal("could not find a default database, "
                            "please specify a database name")
            database = user[0]
    return rpc, database, idx


def _open_one_of(ctx, remotes, database):
    """The first of REMOTES (each tried once) that is up and, if DATABASE
    is given, serves it in an acceptable state."""
    log = Vlog("reconnect")
    for remote in remotes:
        log.info("%s: connecting...", remote)
        try:
            rpc = jsonrpc.BlockingConnection.open(remote)
        except (OSError, ValueError) as e:
            log.info("%s: connection attempt failed (%s)", remote,
                     getattr(e, "strerror", None) or e)
            continue
        log.info("%s: connected", remote)
        if database is None:
            return rpc
        try:
            reply = lib.transact(rpc, "transact", [
                "_Server", {"op": "select", "table": "Database",
                            "where": [["name", "==", database]]}])
        except ClientError:
            rpc.close()
            continue
        if reply.type == "reply" and _should_stay_connected(ctx, reply.result, database):
            return rpc
        rpc.close()
    raise Fatal("no servers were available")


def _should_stay_connected(ctx, result, database):
    """OVS's rule: any standalone database; a clustered one only if the
    server is connected (and the leader, unless --no-leader-only)."""
    if not (isinstance(result, list) and len(result) == 1
            and isinstance(result[0], dict)):
        return False
    rows = result[0].get("rows")
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or row.get("name") != database:
            continue
        if row.get("model") != "clustered":
            return True
        if row.get("connected") is not True:
            return False
        return not ctx.leader_only or row.get("leader") is True
    return False


def check_txn(reply, ctx):
    return lib.check_reply(reply, sort=ctx.style.sort, pretty=ctx.style.pretty)


def parse_json_arg(s):
    try:
        return ovs_json.from_string(s)
    except ovs_json.JsonError as e:
        raise Fatal('"%s": %s' % (s, e)) from None


# ---------------------------------------------------------------------------
# Commands.

def do_list_dbs(ctx, args):
    for name in lib.fetch_dbs(ctx.rpc):
        print(name)


def do_get_schema(ctx, args):
    schema, _ = lib.fetch_schema(ctx.rpc, ctx.database)
    ctx.print_json(schema.to_json())


def do_get_schema_version(ctx, args):
    schema, _ = lib.fetch_schema(ctx.rpc, ctx.database)
    print(schema.version)


def do_get_schema_cksum(ctx, args):
    schema, _ = lib.fetch_schema(ctx.rpc, ctx.database)
    print(schema.cksum or "")


def do_list_tables(ctx, args):
    schema, raw = lib.fetch_schema(ctx.rpc, ctx.database)
    t = tf.Table()
    t.add_column("Table")
    for name in lib.schema_tables_order(raw):
        t.add_row()
        t.add_cell(text=schema.tables[name].name)
    ctx.printer.print(t)


def _column_type_json(ts, name):
    if name in ("_uuid", "_version"):
        return "uuid"
    return ts.columns[name].type.to_json()


def do_list_columns(ctx, args):
    table_name = args[0] if args else None
    schema, raw = lib.fetch_schema(ctx.rpc, ctx.database)
    t = tf.Table()
    if table_name is None:
        t.add_column("Table")
    t.add_column("Column")
    t.add_column("Type")
    for tname in lib.schema_tables_order(raw):
        if table_name is not None and table_name != tname:
            continue
        ts = schema.tables[tname]
        for cname in lib.schema_columns_order(raw["tables"][tname]):
            t.add_row()
            if table_name is None:
                t.add_cell(text=tname)
            t.add_cell(text=cname)
            t.add_cell(json=_column_type_json(ts, cname))
    ctx.printer.print(t)


def _transact(ctx, args, transaction):
    if (not isinstance(transaction, list) or not transaction
            or not isinstance(transaction[0], str)):
        raise Fatal("not a valid OVSDB query")
    rpc, _, _ = open_rpc(ctx, 1, NEED_DATABASE, args, database=transaction[0])
    ctx.rpc = rpc
    if ctx.db_change_aware == 1:
        send_db_change_aware(ctx)
    if ctx.daemon_args.detach or ctx.daemon_args.pidfile:
        # OVS's daemonize(): with --detach the transaction runs in the
        # background; its output still goes to our standard output.
        daemon.apply_daemon_options(ctx.daemon_args, PROGRAM)
        daemon.daemonize_start()
        _complete_daemon()
    reply = lib.transact(rpc, "transact", transaction)
    return check_txn(reply, ctx)


def do_transact(ctx, args):
    ctx.print_json(_transact(ctx, args, parse_json_arg(args[-1])))


def do_query(ctx, args):
    transaction = parse_json_arg(args[-1])
    if not isinstance(transaction, list):
        raise Fatal("not a valid OVSDB query")
    transaction.append({"op": "abort"})
    abort_idx = len(transaction) - 2
    result = _transact(ctx, args, transaction)
    if (isinstance(result, list) and len(result) == abort_idx + 1
            and isinstance(result[abort_idx], dict)
            and result[abort_idx].get("error") == "aborted"):
        result.pop()
    ctx.print_json(result)


def send_db_change_aware(ctx):
    if ctx.db_change_aware == 0:
        return
    reply = lib.transact(ctx.rpc, "set_db_change_aware", [True])
    if reply.type == "error" and ctx.db_change_aware == 1:
        raise Fatal("%s: set_db_change_aware failed (%s)"
                    % (ctx.rpc.name, ovs_json.to_string(reply.error)))


# --- --detach: a control socket for the long-running commands ---------------

class Control:
    """With --detach, the unixctl socket (ovsdb-client.PID.ctl) of a running
    monitor or lock command.  Its asyncio server runs in a thread; commands
    reach the blocking main loop through a queue."""

    def __init__(self):
        self.commands = queue.Queue()
        self._loop = None
        self._server = None
        self._ready = threading.Event()
        self._error = None
        self._inflight = 0

    def start(self, registrations):
        def serve():
            from pyovs.util.unixctl import UnixctlServer
            loop = asyncio.new_event_loop()
            self._loop = loop
            server = UnixctlServer(daemon.unixctl_path(), program=PROGRAM)
            for name, usage, n_min, n_max in registrations:
                server.register(name, usage, n_min, n_max, self._handler(name))
            try:
                loop.run_until_complete(server.start())
            except OSError as e:
                self._error = e
                self._ready.set()
                return
            self._server = server
            self._ready.set()
            loop.run_forever()
        threading.Thread(target=serve, daemon=True).start()
        self._ready.wait()
        if self._error is not None:
            raise Fatal("failed to create unixctl server (%s)"
                        % (self._error.strerror or self._error))

    def _handler(self, name):
        def handle(conn, args):
            result = queue.Queue()
            self.commands.put((name, list(args), result))
            self._inflight += 1

            async def answer():
                try:
                    reply = await asyncio.to_thread(result.get)
                    if reply is None:
                        conn.reply()
                    else:
                        kind, text = reply
                        (conn.reply if kind == "ok" else conn.reply_error)(text)
                finally:
                    self._inflight -= 1
            asyncio.get_running_loop().create_task(answer())
        return handle

    def close(self):
        """Remove the control socket."""
        if self._server is not None and self._loop is not None:
            server = self._server
            self._server = None

            async def stop():
                # Let the replies already given (e.g. to "exit") go out.
                for _ in range(100):
                    if not self._inflight:
                        break
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.01)
                server.close()
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)

    def pending(self):
        """(name, args, result-queue) of each command received so far."""
        items = []
        while True:
            try:
                items.append(self.commands.get_nowait())
            except queue.Empty:
                return items


def _start_daemon(ctx, registrations):
    """daemonize_start() for a long-running command; with --detach also
    the control socket.  Standard output and error stay where they were."""
    daemon.apply_daemon_options(ctx.daemon_args, PROGRAM)
    daemon.daemonize_start()
    if daemon.is_detached():
        ctx.control = Control()
        ctx.control.start(registrations)


def _complete_daemon():
    saved = (os.dup(1), os.dup(2))
    daemon.daemonize_complete()
    os.dup2(saved[0], 1)
    os.dup2(saved[1], 2)
    os.close(saved[0])
    os.close(saved[1])


def _recv(ctx, poll):
    """The next message (None if POLL seconds pass first), or Fatal."""
    try:
        return ctx.rpc.recv(poll)
    except TimeoutError:
        return None
    except jsonrpc.ConnectionEOF:
        raise Fatal("%s: receive failed (End of file)" % ctx.rpc.name) from None
    except (jsonrpc.JsonRpcError, OSError) as e:
        raise Fatal("%s: receive failed (%s)" % (ctx.rpc.name, e)) from None


# --- monitor -----------------------------------------------------------------

class MonitoredTable:
    def __init__(self, ts):
        self.ts = ts
        self.columns = []     # column names, in display order


def _column_type(ts, name):
    if name in ("_uuid", "_version"):
        from pyovs.ovsdb.types import BaseType, Type
        return Type(BaseType("uuid"))
    return ts.columns[name].type


def parse_monitor_columns(arg, server, database, mt):
    """One monitor request from a "COL,COL,!initial,..." argument."""
    flags = {"initial": True, "insert": True, "delete": True, "modify": True}
    columns = []

    def add(name):
        if name in mt.columns:
            raise Fatal('%s: column "%s" mentioned multiple times' % (server, name))
        mt.columns.append(name)
        columns.append(name)

    for token in (t for t in arg.split(",") if t):
        if token.startswith("!") and token[1:] in flags:
            flags[token[1:]] = False
        elif token in mt.ts.columns or token in ("_uuid", "_version"):
            add(token)
        else:
            raise Fatal('%s: table "%s" in %s does not have a column named "%s"'
                        % (server, mt.ts.name, database, token))
    if not columns:
        for name in sorted(mt.ts.columns, key=lambda s: s.encode()):
            add(name)
        add("_version")
    mr = {"columns": columns}
    if not all(flags.values()):
        mr["select"] = dict(flags)
    return mr


def _add_monitored_table(args, server, database, condition, ts, requests, mts):
    mt = MonitoredTable(ts)
    mts.append(mt)
    mrs = []
    for i, arg in enumerate(args[1:] if len(args) > 1 else [""]):
        mr = parse_monitor_columns(arg, server, database, mt)
        if i == 0 and condition is not None:
            mr["where"] = condition
        mrs.append(mr)
    requests[ts.name] = mrs


def _monitor_row(t, mt, row, action, uuid_text):
    t.add_row()
    t.add_cell(text=uuid_text)
    t.add_cell(text=action)
    for name in mt.columns:
        value = row.get(name)
        if value is not None:
            t.add_cell(json=value, type=_column_type(mt.ts, name))
        else:
            t.add_cell()


def _monitor_table(ctx, mt, caption):
    t = tf.Table(caption=caption, timestamp=ctx.timestamp)
    t.add_column("row")
    t.add_column("action")
    for name in mt.columns:
        t.add_column(name)
    return t


def _print_updates(ctx, updates, mts, kind, print_row_update):
    """The walk that OVS's monitor_print() and monitor2_print() share: a
    table per monitored table, PRINT_ROW_UPDATE(table, mt, uuid_text, ru)
    for each row update in OVS's order; KIND is "" or "2"."""
    if not isinstance(updates, dict):
        error("<table-updates%s> is not object" % kind)
        return
    for mt in mts:
        tu = updates.get(mt.ts.name)
        if tu is None:
            continue
        if not isinstance(tu, dict):
            error("<table-update> for table %s is not object" % mt.ts.name)
            continue
        t = _monitor_table(ctx, mt, mt.ts.name if len(mts) > 1 else None)
        for uuid_text in ovs_json.shash_order(list(tu)):
            ru = tu[uuid_text]
            if not isinstance(ru, dict):
                error("<row-update%s> is not object" % kind)
                continue
            print_row_update(t, mt, uuid_text, ru)
        ctx.printer.print(t)


def monitor_print(ctx, updates, mts, initial):
    def print_row_update(t, mt, uuid_text, ru):
        old, new = ru.get("old"), ru.get("new")
        rows = ([(new, "initial", uuid_text)] if initial
                else [(new, "insert", uuid_text)] if old is None
                else [(old, "delete", uuid_text)] if new is None
                else [(old, "old", uuid_text), (new, "new", "")])
        for row, action, text in rows:
            if row is None:
                error("missing %s row" % action)
            elif not isinstance(row, dict):
                error("<row> is not object")
            else:
                _monitor_row(t, mt, row, action, text)
    _print_updates(ctx, updates, mts, "", print_row_update)


def monitor2_print(ctx, updates, mts):
    def print_row_update(t, mt, uuid_text, ru):
        for op in ("delete", "initial", "modify", "insert"):
            if op not in ru:
                continue
            row = ru[op]
            if op == "delete":
                if row is not None:
                    error("delete method does not expect <row>")
                else:
                    t.add_row()
                    t.add_cell(text=uuid_text)
                    t.add_cell(text=op)
            elif not isinstance(row, dict):
                error("<row> is not object")
            else:
                _monitor_row(t, mt, row, op, uuid_text)
            break
    _print_updates(ctx, updates, mts, "2", print_row_update)


def do_monitor__(ctx, args, version, condition=None, last_id=None):
    server = ctx.rpc.name
    database = ctx.database
    table_name = args[0]
    _start_daemon(ctx, [("exit", "", 0, 0), ("ovsdb-client/block", "", 0, 0),
                        ("ovsdb-client/unblock", "", 0, 0),
                        ("ovsdb-client/cond_change", "TABLE COND", 2, 2)])
    schema, _ = lib.fetch_schema(ctx.rpc, database)
    requests = {}
    mts = []
    if table_name != "ALL":
        ts = schema.tables.get(table_name)
        if ts is None:
            raise Fatal('%s: %s does not have a table named "%s"'
                        % (server, database, table_name))
        _add_monitored_table(args, server, database, condition, ts, requests, mts)
    else:
        if condition is not None:
            raise Fatal("ALL tables are not allowed with condition")
        for name in sorted(schema.tables, key=lambda s: s.encode()):
            _add_monitored_table(args, server, database, None,
                                 schema.tables[name], requests, mts)
    send_db_change_aware(ctx)
    method = {1: "monitor", 2: "monitor_cond", 3: "monitor_cond_since"}[version]
    params = [database, None, requests]
    if version == 3:
        params.append(last_id)
    request = jsonrpc.Message.create_request(method, params)
    ctx.rpc.send(request)
    blocked = False
    poll = 0.05 if ctx.control else None
    while True:
        if ctx.control:
            for name, cargs, result in ctx.control.pending():
                if name == "exit":
                    result.put(None)
                    return
                if name == "ovsdb-client/block":
                    result.put(None if not blocked else ("ok", "already blocking"))
                    blocked = True
                elif name == "ovsdb-client/unblock":
                    result.put(None if blocked else ("ok", "already unblocked"))
                    blocked = False
                elif name == "ovsdb-client/cond_change":
                    try:
                        where = ovs_json.from_string(cargs[1])
                    except ovs_json.JsonError as e:
                        result.put(("error", str(e)))
                        continue
                    ctx.rpc.send(jsonrpc.Message.create_request(
                        "monitor_cond_change", [None, None, {cargs[0]: [{"where": where}]}]))
                    result.put(("ok", "condiiton changed"))
        if blocked:
            time.sleep(poll)
            continue
        msg = _recv(ctx, poll)
        if msg is None:
            continue
        if msg.type == "request" and msg.method == "echo":
            ctx.rpc.send(jsonrpc.Message.create_reply(msg.params, msg.id))
        elif msg.type == "reply" and msg.id == request.id:
            if version == 1:
                monitor_print(ctx, msg.result, mts, True)
            elif version == 2:
                monitor2_print(ctx, msg.result, mts)
            else:
                result = msg.result
                if isinstance(result, list) and len(result) == 3:
                    sys.stdout.write("found: %s, last_id: %s\n" % (
                        "true" if result[0] is True else "false",
                        result[1] if isinstance(result[1], str) else ""))
                    monitor2_print(ctx, result[2], mts)
            _complete_daemon()
        elif (msg.type == "notify" and msg.method == "update3" and version == 3
              and isinstance(msg.params, list) and len(msg.params) == 3
              and msg.params[0] is None):
            # OVS writes this line without its end: the next table's
            # separator ends it (or not, in json and html).
            last = msg.params[1]
            sys.stdout.write("\nlast_id: %s" % (last if isinstance(last, str) else ""))
            monitor2_print(ctx, msg.params[2], mts)
            sys.stdout.flush()
        elif msg.type == "notify" and msg.method in ("update", "update2"):
            params = msg.params
            if (msg.method == "update2" and version != 2):
                continue
            if isinstance(params, list) and len(params) == 2 and params[0] is None:
                if msg.method == "update":
                    monitor_print(ctx, params[1], mts, False)
                else:
                    monitor2_print(ctx, params[1], mts)
        elif msg.type == "notify" and msg.method == "monitor_canceled":
            raise Fatal("%s: %s database was removed" % (server, database))


def do_monitor(ctx, args):
    do_monitor__(ctx, args, 1)


def do_monitor_cond_since(ctx, args):
    last_id = "00000000-0000-0000-0000-000000000000"
    if len(args) > 2 and _is_uuid(args[0]):
        last_id = args[0]
        args = args[1:]
    do_monitor_cond(ctx, args, version=3, last_id=last_id)


def _is_uuid(s):
    try:
        uuidlib.UUID(s)
    except ValueError:
        return False
    return len(s) == 36


def do_monitor_cond(ctx, args, version=2, last_id=None):
    from pyovs.ovsdb.error import OvsdbError
    schema, _ = lib.fetch_schema(ctx.rpc, ctx.database)
    ts = schema.tables.get(args[1])
    if ts is None:
        raise Fatal('%s does not have a table named "%s"' % (ctx.database, args[1]))
    condition = parse_json_arg(args[0])
    try:
        from pyovs.ovsdb.condition import Condition
    except ImportError:     # not written yet: the server still checks it
        Condition = None
    try:
        if Condition is not None:
            Condition.from_json(ts, condition)
    except OvsdbError as e:
        raise Fatal(lib.ovsdb_error_to_string(e)) from None
    do_monitor__(ctx, args[1:], version, condition, last_id)


# --- dump ---------------------------------------------------------------------

def dump_table(ctx, table_name, ts, column_names, rows):
    from pyovs.ovsdb.error import OvsdbError
    columns = sorted((c for c in column_names if c != "_version"),
                     key=lambda s: s.encode())
    types = [_column_type(ts, c) for c in columns]
    data = []
    for y, row in enumerate(rows):
        if not isinstance(row, dict):
            raise Fatal("row %d in table %s response is not a JSON object: %s"
                        % (y, table_name, ovs_json.to_string(row)))
        datums = []
        for c, type_ in zip(columns, types):
            if c not in row:
                raise Fatal("row %d in table %s response lacks %s column"
                            % (y, table_name, c))
            try:
                datums.append(_unconstrained_datum(type_, row[c]))
            except OvsdbError as e:
                raise Fatal(lib.ovsdb_error_to_string(e)) from None
        data.append(datums)

    def sort_key(datums):
        # OVS compares non-UUID columns first; UUIDs only break ties.
        first = [d.sort_key() for d, t in zip(datums, types) if t.key.type != "uuid"]
        second = [d.sort_key() for d, t in zip(datums, types) if t.key.type == "uuid"]
        return (first, second)

    data.sort(key=sort_key)
    t = tf.Table(caption="%s table" % table_name)
    for c in columns:
        t.add_column(c)
    for datums in data:
        t.add_row()
        for d, type_ in zip(datums, types):
            t.add_cell(json=d.to_json(), type=type_)
    ctx.printer.print(t)


def _unconstrained_datum(type_, json_value):
    """Parse a datum ignoring enum/range constraints (the server's data)."""
    from pyovs.ovsdb.data import Datum
    from pyovs.ovsdb.types import Type
    value = type_.value.without_constraints() if type_.value is not None else None
    loose = Type(type_.key.without_constraints(), value, 0, type_.n_max)
    return Datum.from_json(loose, json_value)


def do_dump(ctx, args):
    schema, _ = lib.fetch_schema(ctx.rpc, ctx.database)
    custom = None
    if args:
        ts = schema.tables.get(args[0])
        if ts is None:
            raise Fatal('No table "%s" found.' % args[0])
        tables = [args[0]]
        if len(args) > 1:
            custom = []
            for name in args[1:]:
                if name not in ts.columns and name not in ("_uuid", "_version"):
                    raise Fatal('Table "%s" has no column %s.' % (args[0], name))
                custom.append(name)
    else:
        tables = sorted(schema.tables, key=lambda s: s.encode())
    ops = []
    colsets = []
    for name in tables:
        ts = schema.tables[name]
        cols = custom if custom is not None else ["_uuid"] + list(ts.columns)
        colsets.append(cols)
        ops.append({"op": "select", "table": name, "where": [],
                    "columns": [c for c in cols if c != "_version"]})
    result = check_txn(lib.transact(ctx.rpc, "transact", [ctx.database] + ops), ctx)
    if not isinstance(result, list) or len(result) != len(tables):
        raise Fatal("reply is not array of %d elements: %s"
                    % (len(tables), ovs_json.to_string(result)))
    for name, cols, op_result in zip(tables, colsets, result):
        rows = op_result.get("rows") if isinstance(op_result, dict) else None
        if not isinstance(rows, list):
            raise Fatal('%s table reply is not an object with a "rows" member '
                        "array: %s" % (name, ovs_json.to_string(op_result)))
        dump_table(ctx, name, schema.tables[name], cols, rows)


# --- backup / restore -----------------------------------------------------------

def _persistent_columns(ts):
    return [name for name, col in ts.columns.items() if not col.ephemeral]


def do_backup(ctx, args):
    if os.isatty(sys.stdout.fileno()):
        raise Fatal("not writing backup to a terminal; "
                    "please redirect stdout to a file")
    schema, raw = lib.fetch_schema(ctx.rpc, ctx.database)
    names = lib.schema_tables_order(raw)
    ops = [{"op": "select", "table": n, "where": [],
            "columns": ["_uuid"] + _persistent_columns(schema.tables[n])}
           for n in names]
    result = check_txn(lib.transact(ctx.rpc, "transact", [ctx.database] + ops), ctx)
    if not isinstance(result, list) or len(result) != len(names):
        raise Fatal("reply is not array of %d elements: %s"
                    % (len(names), ovs_json.to_string(result)))
    txn = {}
    for name, op_result in zip(names, result):
        rows = op_result.get("rows") if isinstance(op_result, dict) else None
        if not isinstance(rows, list):
            raise Fatal('%s table reply is not an object with a "rows" member '
                        "array: %s" % (name, ovs_json.to_string(op_result)))
        if not rows:
            continue
        out_rows = {}
        for row in rows:
            if not isinstance(row, dict):
                raise Fatal("%s table reply row is not an object: %s"
                            % (name, ovs_json.to_string(row)))
            row = dict(row)
            u = row.pop("_uuid", None)
            if (not isinstance(u, list) or len(u) != 2 or u[0] != "uuid"
                    or not isinstance(u[1], str)):
                raise Fatal("%s table reply row lacks _uuid member: %s"
                            % (name, ovs_json.to_string(row)))
            out_rows[u[1]] = row
        txn[name] = out_rows
    txn["_date"] = int(time.time() * 1000)
    txn["_is_diff"] = True
    txn["_comment"] = 'produced by "ovsdb-client backup"'
    out = sys.stdout.buffer
    out.write(compose_record(schema.to_json()))
    out.write(compose_record(txn))
    out.flush()


def _read_backup(path="/dev/stdin"):
    """(schema JSON, {table: {uuid: row}}) from a standalone database file."""
    import io
    from pyovs.ovsdb.log import LogError, read_records
    unknown = "ovsdb error: %s: cannot identify file type" % path
    try:
        records, err = read_records(path)
    except LogError as e:
        raise Fatal(str(e)) from None
    except io.UnsupportedOperation:     # an empty pipe
        raise Fatal(unknown) from None
    if err is not None:
        raise Fatal(str(err))
    if not records:
        raise Fatal(unknown)
    tables = {}
    for rec in records[1:]:
        if not isinstance(rec, dict):
            continue
        for tname, trows in rec.items():
            if tname.startswith("_") or not isinstance(trows, dict):
                continue
            table = tables.setdefault(tname, {})
            for u, row in trows.items():
                if row is None:
                    table.pop(u, None)
                elif isinstance(row, dict):
                    table.setdefault(u, {}).update(row)
    return records[0], tables


def _with_row_names(value):
    if isinstance(value, list):
        if len(value) == 2 and value[0] == "uuid" and isinstance(value[1], str):
            return ["named-uuid", lib.uuid_row_name(value[1])]
        return [_with_row_names(v) for v in value]
    return value


def do_restore(ctx, args):
    from pyovs.ovsdb.data import Datum
    from pyovs.ovsdb.error import OvsdbError
    from pyovs.ovsdb.schema import DbSchema
    if os.isatty(sys.stdin.fileno()):
        raise Fatal("not reading backup from a terminal; "
                    "please redirect stdin from a file")
    schema_json, tables = _read_backup()
    try:
        backup_schema = DbSchema.from_json(schema_json)
    except OvsdbError as e:
        raise Fatal(lib.ovsdb_error_to_string(e)) from None
    online, _ = lib.fetch_schema(ctx.rpc, ctx.database)
    if backup_schema.to_json() != online.to_json():
        if backup_schema.version != online.version:
            s = ('backup schema has version "%s" but database schema has '
                 'version "%s"' % (backup_schema.version, online.version))
        else:
            s = ("backup schema and database schema are both version %s but "
                 "still differ" % backup_schema.version)
        if not ctx.force:
            raise Fatal('%s (use --force to override differences, or '
                        '"ovsdb-client convert" to change the schema)' % s)
    ops = [backup_schema.name]
    for tname in ovs_json.shash_order(list(backup_schema.tables)):
        ts = backup_schema.tables[tname]
        ops.append({"op": "delete", "table": tname, "where": []})
        for u, row in tables.get(tname, {}).items():
            row_json = {}
            for cname, col in ts.columns.items():
                if col.ephemeral or cname not in row:
                    continue
                try:
                    datum = Datum.from_json(col.type, row[cname])
                except OvsdbError as e:
                    raise Fatal(lib.ovsdb_error_to_string(e)) from None
                if datum == Datum.default(col.type):
                    continue
                row_json[cname] = _with_row_names(datum.to_json())
            ops.append({"op": "insert", "table": tname,
                        "uuid-name": lib.uuid_row_name(u), "row": row_json})
    result = check_txn(lib.transact(ctx.rpc, "transact", ops), ctx)
    if not isinstance(result, list):
        raise Fatal("result is not array")
    for r in result:
        if not isinstance(r, dict):
            raise Fatal("result array element is not object")
        if "error" in r:
            raise Fatal("server returned error reply: %s"
                        % ovs_json.to_string(r, sort=True))


# --- convert / needs-conversion -------------------------------------------------

def _load_schema_file(path):
    from pyovs.ovsdb.error import OvsdbError
    from pyovs.ovsdb.schema import load_schema
    try:
        return load_schema(path)
    except OvsdbError as e:
        raise Fatal(lib.ovsdb_error_to_string(e)) from None


def do_convert(ctx, args):
    new_schema = _load_schema_file(args[-1])
    rpc, database, _ = open_rpc(ctx, 1, NEED_DATABASE, args, database=new_schema.name)
    ctx.rpc = rpc
    send_db_change_aware(ctx)
    check_txn(lib.transact(rpc, "convert", [new_schema.name, new_schema.to_json()]), ctx)


def do_needs_conversion(ctx, args):
    schema1 = _load_schema_file(args[0] if len(args) == 1 else args[-1])
    rpc, database, _ = open_rpc(ctx, 1, NEED_DATABASE, args, database=schema1.name)
    ctx.rpc = rpc
    schema2, _ = lib.fetch_schema(rpc, schema1.name)
    print("no" if schema1.to_json() == schema2.to_json() else "yes")


# --- lock / steal / unlock ---------------------------------------------------------

def _do_lock(ctx, method, lock):
    _start_daemon(ctx, [("unlock", "LOCK", 1, 1), ("steal", "LOCK", 1, 1),
                        ("lock", "LOCK", 1, 1), ("exit", "", 0, 0)])
    wanted = [(method, lock)]
    request = None
    poll = 0.05 if ctx.control else None
    while True:
        if ctx.control:
            for name, cargs, result in ctx.control.pending():
                result.put(None)
                if name == "exit":
                    return
                if not wanted:
                    wanted.append((name, cargs[0]))
        if wanted and request is None:
            m, name = wanted.pop()
            request = jsonrpc.Message.create_request(m, [name])
            ctx.rpc.send(request)
        msg = _recv(ctx, poll)
        if msg is None:
            continue
        if msg.type == "request" and msg.method == "echo":
            ctx.rpc.send(jsonrpc.Message.create_reply(msg.params, msg.id))
        elif msg.type == "reply" and request is not None and msg.id == request.id:
            ctx.print_json(msg.result)
            request = None
            _complete_daemon()
        elif msg.type == "notify":
            print(msg.method)
            ctx.print_json(msg.params)


def do_lock(ctx, args):
    _do_lock(ctx, "lock", args[0])


def do_steal(ctx, args):
    _do_lock(ctx, "steal", args[0])


def do_unlock(ctx, args):
    _do_lock(ctx, "unlock", args[0])


# --- wait --------------------------------------------------------------------------

def _wait_params(state, database):
    op = {"op": "wait", "table": "Database",
          "where": [["name", "==", database]], "until": "=="}
    if state == "connected":
        op["columns"] = ["connected"]
        op["rows"] = [{"connected": True}]
    else:
        op["columns"] = []
        op["rows"] = [{}] if state == "added" else []
    return ["_Server", op]


def do_wait(ctx, args):
    database, state = args[-2], args[-1]
    if state not in ("connected", "added", "removed"):
        raise Fatal("%s: unknown state" % state)
    remote = args[0] if len(args) > 2 else lib.default_remote()
    # Like OVS, keep (re)connecting with backoff, logging as its reconnect
    # FSM does, until the server answers the "wait" transaction.
    from pyovs.util import reconnect
    clock = lambda: int(time.monotonic() * 1000)     # noqa: E731
    fsm = reconnect.Reconnect(clock())
    fsm.set_name(remote)
    fsm.enable(clock())
    while True:
        action = fsm.run(clock())
        if action != reconnect.CONNECT:
            wait = fsm.timeout(clock())
            time.sleep(0.1 if wait is None else max(wait, 1) / 1000)
            continue
        fsm.connecting(clock())
        try:
            rpc = jsonrpc.BlockingConnection.open(remote)
        except OSError as e:
            fsm.connect_failed(clock(), e.errno or str(e))
            continue
        except ValueError as e:
            raise Fatal(str(e)) from None
        fsm.connected(clock())
        try:
            reply = lib.transact(rpc, "set_db_change_aware", [True])
            if reply.type == "error":
                raise Fatal("%s: set_db_change_aware failed (%s)"
                            % (remote, ovs_json.to_string(reply.error)))
            reply = lib.transact(rpc, "transact", _wait_params(state, database))
        except ClientError:
            rpc.close()
            fsm.disconnected(clock(), reconnect.EOF)
            continue
        rpc.close()
        result = reply.result if reply.type == "reply" else None
        if not isinstance(result, list):
            raise Fatal("result is not array")
        for r in result:
            if not isinstance(r, dict):
                raise Fatal("result array element is not object")
            if "error" in r:
                raise Fatal("server returned error reply: %s"
                            % ovs_json.to_string(r, sort=True))
        return


def do_help(ctx, args):
    usage()


COMMANDS = {
    "list-dbs": (NEED_RPC, 0, 0, do_list_dbs),
    "get-schema": (NEED_DATABASE, 0, 0, do_get_schema),
    "get-schema-version": (NEED_DATABASE, 0, 0, do_get_schema_version),
    "get-schema-cksum": (NEED_DATABASE, 0, 0, do_get_schema_cksum),
    "list-tables": (NEED_DATABASE, 0, 0, do_list_tables),
    "list-columns": (NEED_DATABASE, 0, 1, do_list_columns),
    "transact": (NEED_NONE, 1, 2, do_transact),
    "query": (NEED_NONE, 1, 2, do_query),
    "monitor": (NEED_DATABASE, 1, INT_MAX, do_monitor),
    "monitor-cond": (NEED_DATABASE, 2, 3, do_monitor_cond),
    "monitor-cond-since": (NEED_DATABASE, 2, 4, do_monitor_cond_since),
    "wait": (NEED_NONE, 2, 3, do_wait),
    "convert": (NEED_NONE, 1, 2, do_convert),
    "needs-conversion": (NEED_NONE, 1, 2, do_needs_conversion),
    "dump": (NEED_DATABASE, 0, INT_MAX, do_dump),
    "backup": (NEED_DATABASE, 0, 0, do_backup),
    "restore": (NEED_DATABASE, 0, 0, do_restore),
    "lock": (NEED_RPC, 1, 1, do_lock),
    "steal": (NEED_RPC, 1, 1, do_steal),
    "unlock": (NEED_RPC, 1, 1, do_unlock),
    "help": (NEED_NONE, 0, INT_MAX, do_help),
}


def run(argv):
    ctx = Context()
    opts, operands = getopt_long(argv)
    apply_options(ctx, opts)
    vlog_mod.set_program_name(PROGRAM)
    for spec in ctx.daemon_args.verbose:
        vlog_mod.handle_verbose(spec)       # exits on a bad spec
    if not operands:
        raise Fatal("missing command name; use --help for help")
    name = operands[0]
    if name not in COMMANDS:
        raise Fatal("unknown command '%s'; use --help for help" % name)
    need, min_args, max_args, handler = COMMANDS[name]
    args = operands[1:]
    try:
        if need != NEED_NONE:
            ctx.rpc, ctx.database, used = open_rpc(ctx, min_args, need, args)
            args = args[used:]
        if not min_args <= len(args) <= max_args:
            raise Fatal("invalid syntax for '%s' (use --help for help)" % name)
        handler(ctx, args)
    finally:
        if ctx.control is not None:
            ctx.control.close()
        if ctx.rpc is not None:
            ctx.rpc.close()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        run(argv)
    except GetoptError as e:
        sys.stderr.write("%s: %s\n" % (sys.argv[0], e))
        return 1
    except (Fatal, ClientError) as e:
        sys.stdout.flush()
        error(str(e))
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
