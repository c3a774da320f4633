"""test-unixctl: a minimal daemon for exercising the daemon and unixctl
plumbing from the outside (OVS has the same program in its test suite).

Usage: python -m pyovs.util.unixctl_test_daemon [daemon options]

Commands besides the built-ins and vlog/*: exit, echo [ARG...] (replies with
the arguments joined by spaces), echo_error [ARG...] (the same, as an error
reply), log [ARG...] (logs the arguments at INFO), block (answers only after
"unblock" is run from another connection), unblock.
"""

import argparse
import asyncio
import sys

from pyovs.util import daemon, fatal_signal, unixctl, vlog as vlog_mod
from pyovs.util.vlog import Vlog

PROGRAM = "test-unixctl"
vlog = Vlog("test_unixctl")


async def run(args):
    done = asyncio.Event()
    blocked = []
    path = daemon.unixctl_path()
    server = unixctl.UnixctlServer(path, program=PROGRAM)
    vlog_mod.register_unixctl_commands(server)

    def exit_(conn, argv):
        conn.reply(None)
        done.set()

    def block(conn, argv):
        blocked.append(conn)

    def unblock(conn, argv):
        while blocked:
            blocked.pop().reply("unblocked")
        conn.reply(None)

    server.register("exit", "", 0, 0, exit_)
    server.register("echo", "[ARG...]", 0, unixctl.INT_MAX,
                    lambda conn, argv: conn.reply(" ".join(argv)))
    server.register("echo_error", "[ARG...]", 0, unixctl.INT_MAX,
                    lambda conn, argv: conn.reply_error(" ".join(argv)))
    server.register("log", "[ARG...]", 0, unixctl.INT_MAX,
                    lambda conn, argv: (vlog.info("%s", " ".join(argv)),
                                        conn.reply(None)))
    server.register("block", "", 0, 0, block)
    server.register("unblock", "", 0, 0, unblock)
    await server.start()
    fatal_signal.add_signal_handlers(asyncio.get_running_loop(), done.set)
    daemon.daemonize_complete()
    # After detaching, as ovsdb-server does: the version goes to the log
    # file, not to the terminal of whoever started a --detach'ed daemon.
    vlog.info("%s", server.version)
    try:
        await asyncio.wait_for(done.wait(), args.max_lifetime)
    except asyncio.TimeoutError:
        vlog.warn("exiting after --max-lifetime=%d seconds", args.max_lifetime)
    await asyncio.sleep(0.05)      # let the "exit" reply go out
    server.close()


def main(argv=None):
    parser = argparse.ArgumentParser(prog=PROGRAM)
    daemon.add_daemon_options(parser)
    parser.add_argument("--max-lifetime", type=int, default=300,
                        help="exit after this many seconds (a test safety net)")
    args = parser.parse_args(argv)
    daemon.apply_daemon_options(args, PROGRAM)
    daemon.daemonize_start()
    asyncio.run(run(args))
    fatal_signal.exit_if_signaled()
    daemon.remove_pidfile()
    return 0


if __name__ == "__main__":
    sys.exit(main())
