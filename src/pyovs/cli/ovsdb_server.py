"""ovsdb-server: the Open vSwitch database server (ovsdb-server(1)).

    ovsdb-server [OPTIONS] [DATABASE...]

Serves each standalone DATABASE file (default $OVS_DBDIR/conf.db) over the
--remote listeners, with OVS's unixctl commands (exit, ovsdb-server/compact,
reconnect, add-remote, remove-remote, list-remotes, add-db, remove-db,
list-dbs, vlog/*).  Clustered databases, SSL and replication
(--sync-from) are not supported and say so.
"""

import argparse
import asyncio
import os
import sys

import pyovs
from pyovs.ovsdb.server import OvsdbServer
from pyovs.ovsdb.server_db import SERVER_DB_NAME, ServedDb
from pyovs.ovsdb.server_io import ServerLoop
from pyovs.util import dirs
from pyovs.util.vlog import Vlog

PROGRAM = "ovsdb-server"
vlog = Vlog("ovsdb_server")


class _Fatal(Exception):
    pass


def open_db(path, column_diff=True):
    """Open the standalone database file PATH -> ServedDb (raises _Fatal).
    COLUMN_DIFF False: write whole column values (--disable-file-column-diff)."""
    from pyovs.ovsdb import file as ovsdb_file
    try:
        schema, db, storage = ovsdb_file.open_db(path, rw=True, strict=False)
    except Exception as e:                      # C's errors carry OVS's text
        raise _Fatal(str(e)) from e
    if storage.read_error is not None:
        vlog.warn("%s", storage.read_error)
    storage.column_diff = column_diff
    return ServedDb(schema.name, schema, db, storage=storage, path=path)


def _usage():
    """OVS 3.1's ovsdb-server --help, line for line."""
    from pyovs.util import usage
    print(f"""{PROGRAM}: Open vSwitch database server
usage: {PROGRAM} [OPTIONS] [DATABASE...]
where each DATABASE is a database file in ovsdb format.
The default DATABASE, if none is given, is
{dirs.dbdir()}/conf.db.

JSON-RPC options (may be specified any number of times):
  --remote=REMOTE         connect or listen to REMOTE
""" + usage.stream_usage("JSON-RPC", True, True, True) + usage.daemon_usage(PROGRAM)
          + usage.vlog_usage(PROGRAM) + """
Syncing options:
  --sync-from=SERVER      sync DATABASE from active SERVER and start in
                          backup mode (except with --active)
  --sync-exclude-tables=DB:TABLE,...
                          exclude the TABLE in DB from syncing
  --active                with --sync-from, start in active mode

Replay options:
  --record[=DIR]            turn on writing replay files
  --replay[=DIR]            run from replay files

Other options:
  --run COMMAND           run COMMAND as subprocess then exit
  --unixctl=SOCKET        override default control socket name
  --disable-file-column-diff
                          don't use column diff in database file
  -h, --help              display this help message
  -V, --version           display version information""")


class _ArgumentParser(argparse.ArgumentParser):
    """argparse with getopt's error texts and exit status 1, as OVS."""

    def error(self, message):
        argv0 = sys.argv[0] if sys.argv and sys.argv[0] else PROGRAM
        prefix = "unrecognized arguments: "
        if message.startswith(prefix):
            message = "unrecognized option '%s'" % message[len(prefix):].split()[0]
        sys.stderr.write("%s: %s\n" % (argv0, message))
        sys.exit(1)


def build_parser():
    from pyovs.util import daemon
    p = _ArgumentParser(prog=PROGRAM, add_help=False)
    p.add_argument("databases", nargs="*")
    p.add_argument("--remote", action="append", default=[])
    p.add_argument("--run")
    p.add_argument("--disable-file-column-diff", action="store_true")
    p.add_argument("--no-self-confinement", action="store_true")
    p.add_argument("-h", "--help", action="store_true")
    for unsupported in ("--sync-from", "--sync-exclude-tables", "--record",
                        "--replay", "-p", "--private-key", "-c",
                        "--certificate", "-C", "--ca-cert",
                        "--bootstrap-ca-cert", "--ssl-protocols",
                        "--ssl-ciphers"):
        p.add_argument(unsupported, dest="unsupported_" + unsupported.strip("-"),
                       nargs="?", const=True, default=None)
    p.add_argument("--active", action="store_true")
    daemon.add_daemon_options(p)
    return p


class Daemon:
    """The running server: its databases, remotes and control commands."""

    def __init__(self, args):
        self.args = args
        self.server = OvsdbServer()
        self.loop = ServerLoop(self.server)
        self.unixctl = None
        self.exit_code = 0

    # -- unixctl commands ---------------------------------------------------

    def register_commands(self, unixctl):
        reg = unixctl.register
        reg("exit", "", 0, 0, self._cmd_exit)
        reg("ovsdb-server/compact", "", 0, 1, self._cmd_compact)
        reg("ovsdb-server/reconnect", "", 0, 0, self._cmd_reconnect)
        reg("ovsdb-server/add-remote", "REMOTE", 1, 1, self._cmd_add_remote)
        reg("ovsdb-server/remove-remote", "REMOTE", 1, 1, self._cmd_remove_remote)
        reg("ovsdb-server/list-remotes", "", 0, 0, self._cmd_list_remotes)
        reg("ovsdb-server/add-db", "DB", 1, 1, self._cmd_add_db)
        reg("ovsdb-server/remove-db", "DB", 1, 1, self._cmd_remove_db)
        reg("ovsdb-server/list-dbs", "", 0, 0, self._cmd_list_dbs)

    def _cmd_exit(self, conn, args):
        conn.reply(None)
        self.loop.exit_event.set()

    def _cmd_compact(self, conn, args):
        names = args or [n for n in self.server.dbs if n != SERVER_DB_NAME]
        errors = []
        for name in names:
            served = self.server.dbs.get(name)
            if served is None:
                conn.reply_error("no database by that name")
                return
            if served.storage is None:
                conn.reply_error("cannot compact built-in databases")
                return
            vlog.info("compacting %s database by user request", name)
            try:
                self.loop.flush()
                self.server.compact(served)
            except Exception as e:
                errors.append("%s: %s" % (name, e))
        if errors:
            conn.reply_error("\n".join(errors))
        else:
            conn.reply(None)

    def _cmd_reconnect(self, conn, args):
        self.loop.reconnect_all()
        conn.reply(None)

    def _cmd_add_remote(self, conn, args):
        async def go():
            err = await self.loop.add_remote(args[0])
            if err:
                conn.reply_error(err)
            else:
                conn.reply(None)
        asyncio.ensure_future(go())

    def _cmd_remove_remote(self, conn, args):
        async def go():
            if await self.loop.remove_remote(args[0]):
                conn.reply(None)
            else:
                conn.reply_error("no such remote")
        asyncio.ensure_future(go())

    def _cmd_list_remotes(self, conn, args):
        conn.reply("".join(r + "\n" for r in self.loop.list_remotes()))

    def _cmd_add_db(self, conn, args):
        try:
            served = open_db(args[0], not self.args.disable_file_column_diff)
        except _Fatal as e:
            conn.reply_error(str(e))
            return
        if served.name in self.server.dbs:
            served.storage.close()
            conn.reply_error("ovsdb error: %s: duplicate database name" % served.name)
            return
        self.server.add_db(served)
        self.loop.flush()
        asyncio.ensure_future(self.loop.reconfigure())
        conn.reply(None)

    def _cmd_remove_db(self, conn, args):
        served = self.server.dbs.get(args[0])
        if served is None:
            conn.reply_error("Failed to find the database.")
            return
        if served.storage is None:
            conn.reply_error("Cannot remove reserved database.")
            return
        self.server.remove_db(args[0])
        self.loop.flush()
        if served.storage is not None:
            served.storage.close()
        asyncio.ensure_future(self.loop.reconfigure())
        conn.reply(None)

    def _cmd_list_dbs(self, conn, args):
        conn.reply("".join(n + "\n" for n in sorted(self.server.dbs)))

    # -- running --------------------------------------------------------------

    async def run(self, served_dbs):
        from pyovs.util import daemon, fatal_signal, unixctl, vlog as vlog_mod
        for served in served_dbs:
            self.server.add_db(served)
        for remote in self.args.remote:
            err = await self.loop.add_remote(remote)
            if err:
                raise _Fatal(err)
        self.unixctl = unixctl.UnixctlServer(
            path=self.args.unixctl, program=PROGRAM,
            version="%s (Open vSwitch) %s" % (PROGRAM, pyovs.OVS_VERSION))
        self.register_commands(self.unixctl)
        vlog_mod.register_unixctl_commands(self.unixctl)
        await self.unixctl.start()
        fatal_signal.add_signal_handlers(asyncio.get_running_loop(),
                                         self.loop.exit_event.set)
        daemon.daemonize_complete()
        if not self.args.run:
            # As OVS: after detaching, and not for --run.
            vlog.info("%s (Open vSwitch) %s", PROGRAM, pyovs.OVS_VERSION)
        status_task = asyncio.ensure_future(self.loop.run_status_updates())
        run_task = None
        if self.args.run:
            run_task = asyncio.ensure_future(self._run_command(self.args.run))
        try:
            await self.loop.exit_event.wait()
        finally:
            if not self.loop.storage_failed:
                self.loop.flush()
            self.loop.close()
            self.unixctl.close()
            status_task.cancel()
            if run_task is not None and not run_task.done():
                run_task.cancel()
            for served in self.server.dbs.values():
                if served.storage is not None:
                    try:
                        served.storage.close()
                    except OSError:
                        pass
        return 1 if self.loop.storage_failed else self.exit_code

    async def _run_command(self, command):
        proc = await asyncio.create_subprocess_shell(command)
        rc = await proc.wait()
        if rc < 0:
            vlog.err("%s: child terminated by signal %d", command, -rc)
            self.exit_code = 1
        elif rc:
            vlog.err("%s: child exited with status %d", command, rc)
            self.exit_code = 1
        self.loop.exit_event.set()


#: Options whose argument may be the next word ("--remote X").
_REQUIRED_ARG = {"--remote", "--run", "--unixctl", "--user", "--sync-from",
                 "--sync-exclude-tables", "-p", "--private-key", "-c",
                 "--certificate", "-C", "--ca-cert", "--bootstrap-ca-cert",
                 "--ssl-protocols", "--ssl-ciphers", "--syslog-method",
                 "--syslog-target"}


def _split_argv(argv):
    """Options first, then "--" and the DATABASE words, as getopt_long
    permutes them: "--pidfile conf.db" names no pidfile file, unlike
    argparse's optional-argument rule."""
    options, words = [], []
    it = iter(argv)
    for arg in it:
        if arg == "--":
            words.extend(it)
            break
        if arg.startswith("-") and arg != "-":
            options.append(arg)
            if arg in _REQUIRED_ARG:
                options.append(next(it, ""))
        else:
            words.append(arg)
    return options + ["--"] + words


def main(argv=None):
    from pyovs.util import daemon, fatal_signal, vlog as vlog_mod
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(_split_argv(argv))
    if args.help:
        try:
            _usage()
            sys.stdout.flush()
        except BrokenPipeError:
            pass
        return 0
    for k, v in vars(args).items():
        if k.startswith("unsupported_") and v is not None:
            print("%s: --%s is not supported" % (PROGRAM, k[len("unsupported_"):]),
                  file=sys.stderr)
            return 1
    if args.active:
        print("%s: --active is not supported" % PROGRAM, file=sys.stderr)
        return 1
    vlog_mod.set_program_name(PROGRAM)
    daemon.apply_daemon_options(args, PROGRAM)
    paths = args.databases or [os.path.join(dirs.dbdir(), "conf.db")]
    # As OVS: fork first, then open the files (fcntl locks are per process).
    daemon.daemonize_start()
    served = []
    try:
        seen = set()
        for path in paths:
            s = open_db(path, not args.disable_file_column_diff)
            if s.name in seen:
                raise _Fatal("%s: duplicate database name" % s.name)
            seen.add(s.name)
            served.append(s)
    except _Fatal as e:
        print("%s: %s" % (PROGRAM, e), file=sys.stderr)
        return 1
    d = Daemon(args)
    try:
        rc = asyncio.run(d.run(served))
        fatal_signal.exit_if_signaled()
        return rc
    except _Fatal as e:
        print("%s: %s" % (PROGRAM, e), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
