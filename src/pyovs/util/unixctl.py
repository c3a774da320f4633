"""Control sockets: the unixctl server and client (OVS's lib/unixctl).

The protocol is JSON-RPC over a unix socket.  A request's method is the
command name and its params the command's arguments, all strings; the reply's
result is the command's output text and an error reply's error is the error
text.  Non-empty texts always end in a newline (the server adds one), so
ovs-appctl can print them as they are.  A connection carries one command at a
time: the next request is read only once the previous one was answered, so a
handler may answer later, from another task.

Daemons listen on ``$OVS_RUNDIR/PROGRAM.PID.ctl`` unless told otherwise
(--unixctl=PATH, relative to the run directory; "none" for no socket, in
which case .path is None and start() does nothing).
``ovs-appctl -t TARGET`` finds that socket through ``TARGET.pid``.

API: UnixctlServer(path=None, program=None, version=None) with
register(name, usage, min_args, max_args, handler), ``await start()``,
close(), .path, .commands; handler(conn, args) answers with conn.reply(text)
or conn.reply_error(text), or is a coroutine function doing so.  Built-in
commands: list-commands and version.  Client: unixctl_transact(path,
command, args, timeout=None) -> (error_text|None, result_text|None);
target_to_socket_path(target); default_socket_path(program, pid).
"""

import errno
import itertools
import os

import pyovs
from pyovs.util import dirs, jsonrpc, stream
from pyovs.util import json as ovs_json
from pyovs.util import vlog as vlog_mod
from pyovs.util.lazy import lazy_module
from pyovs.util.vlog import Vlog

# The server side only: ovs-appctl (the client) never imports them.
asyncio = lazy_module("asyncio", globals())
inspect = lazy_module("inspect", globals())

vlog = Vlog("unixctl")

INT_MAX = 2 ** 31 - 1


class Command:
    __slots__ = ("name", "usage", "min_args", "max_args", "handler")

    def __init__(self, name, usage, min_args, max_args, handler):
        self.name = name
        self.usage = usage
        self.min_args = min_args
        self.max_args = max_args
        self.handler = handler


def _with_newline(text):
    text = "" if text is None else text
    if text and not text.endswith("\n"):
        text += "\n"
    return text


class UnixctlConnection:
    """One client connection; handlers answer through reply/reply_error."""

    def __init__(self, server, rpc):
        self.server = server
        self.rpc = rpc
        self.request_id = None
        self._answered = None

    @property
    def name(self):
        return self.rpc.name

    def reply(self, text=None):
        self._send(True, text)

    def reply_error(self, text=None):
        self._send(False, text)

    def _send(self, success, text):
        if self.request_id is None:
            vlog.warn("%s: reply with no request pending", self.name)
            return
        body = _with_newline(text)
        if success:
            msg = jsonrpc.Message.create_reply(body, self.request_id)
        else:
            msg = jsonrpc.Message.create_error(body, self.request_id)
        if vlog.is_enabled("DBG"):
            vlog.dbg("replying with %s, id=%s: \"%s\"",
                     "success" if success else "error",
                     ovs_json.to_string(self.request_id), body)
        self.request_id = None
        self.rpc.send(msg)
        if self._answered is not None:
            self._answered.set()


def default_socket_path(program, pid=None):
    return os.path.join(dirs.rundir(), "%s.%d.ctl"
                        % (program, os.getpid() if pid is None else pid))


class UnixctlServer:
    """A daemon's control socket."""

    def __init__(self, path=None, program=None, version=None):
        self.program = program or vlog_mod.program_name()
        self.version = version or "%s (Open vSwitch) %s" % (self.program,
                                                            pyovs.OVS_VERSION)
        if path is None:
            self.path = default_socket_path(self.program)
        elif path == "none":
            self.path = None            # --unixctl=none: no control socket
        else:
            self.path = dirs.abs_file_name(dirs.rundir(), path)
        self.commands = {}
        self.listener = None
        self._tasks = set()
        self._conn_ids = itertools.count()
        self.register("list-commands", "", 0, 0, self._list_commands)
        self.register("version", "", 0, 0,
                      lambda conn, args: conn.reply(self.version))

    def register(self, name, usage, min_args, max_args, handler):
        """Add command NAME; usage None hides it from list-commands."""
        self.commands[name] = Command(name, usage, min_args, max_args, handler)

    def _list_commands(self, conn, args):
        lines = ["The available commands are:\n"]
        for name in sorted(self.commands):
            cmd = self.commands[name]
            if cmd.usage is not None:
                lines.append("  %-23s %s\n" % (name, cmd.usage))
        conn.reply("".join(lines))

    async def start(self):
        """Start listening; raises OSError if the socket cannot be made."""
        if self.path is None:
            return self
        try:
            self.listener = await stream.open_passive("punix:" + self.path,
                                                      self._on_connect)
        except OSError as e:
            vlog.err("%s: could not initialize control socket (%s)",
                     self.path, e.strerror or e)
            raise
        return self

    def close(self):
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        for task in list(self._tasks):
            task.cancel()

    def _on_connect(self, reader, writer):
        rpc = jsonrpc.Connection(reader, writer, name="unix#%d" % next(self._conn_ids))
        task = asyncio.get_running_loop().create_task(self._serve(rpc))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, rpc):
        conn = UnixctlConnection(self, rpc)
        try:
            while True:
                msg = await rpc.recv()
                if msg is None:
                    break
                if msg.type != "request":
                    vlog.warn("%s: received unexpected %s message",
                              rpc.name, msg.type_name())
                    break
                conn._answered = asyncio.Event()
                await self._process(conn, msg)
                await conn._answered.wait()
                await rpc.drain()
        except asyncio.CancelledError:
            pass
        finally:
            rpc.close()

    async def _process(self, conn, request):
        conn.request_id = request.id
        if vlog.is_enabled("DBG"):
            vlog.dbg("received request %s%s, id=%s", request.method,
                     ovs_json.to_string(request.params),
                     ovs_json.to_string(request.id))
        params = request.params
        cmd = self.commands.get(request.method)
        error = None
        if cmd is None:
            error = ('"%s" is not a valid command (use "list-commands" to '
                     'see a list of valid commands)' % request.method)
        elif len(params) < cmd.min_args:
            error = '"%s" command requires at least %d arguments' % (
                request.method, cmd.min_args)
        elif len(params) > cmd.max_args:
            error = '"%s" command takes at most %d arguments' % (
                request.method, cmd.max_args)
        elif not all(isinstance(p, str) for p in params):
            error = '"%s" command has non-string argument' % request.method
        if error:
            conn.reply_error(error)
            return
        try:
            result = cmd.handler(conn, list(params))
            if inspect.isawaitable(result):
                task = asyncio.get_running_loop().create_task(
                    self._await_handler(conn, result))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        except Exception as e:            # a handler bug must not kill us
            vlog.err("%s: command %s failed: %r", conn.name, request.method, e)
            if conn.request_id is not None:
                conn.reply_error("internal error: %s" % e)

    async def _await_handler(self, conn, awaitable):
        try:
            await awaitable
        except asyncio.CancelledError:
            raise
        except Exception as e:
            vlog.err("%s: command failed: %r", conn.name, e)
            if conn.request_id is not None:
                conn.reply_error("internal error: %s" % e)


# ---------------------------------------------------------------------------
# Client.

def target_to_socket_path(target):
    """The control socket for TARGET as ovs-appctl resolves it: an absolute
    path is the socket itself; otherwise $OVS_RUNDIR/TARGET.pid names the
    process and the socket is $OVS_RUNDIR/TARGET.PID.ctl.  Raises OSError
    (with .filename the pidfile) if the pidfile cannot be read."""
    if target.startswith("/"):
        return target
    from pyovs.util.daemon import read_pidfile
    pidfile = os.path.join(dirs.rundir(), target + ".pid")
    pid = read_pidfile(pidfile)
    return os.path.join(dirs.rundir(), "%s.%d.ctl" % (target, pid))


def client_connect(path, timeout=None):
    """A BlockingConnection to control socket PATH (OSError on failure)."""
    try:
        return jsonrpc.BlockingConnection.open("unix:" + path, timeout)
    except OSError:
        vlog.warn("failed to connect to %s", path)
        raise


def client_transact(client, command, args, timeout=None):
    """Run COMMAND on an open client; (error_text|None, result_text|None).

    Raises jsonrpc.ConnectionEOF / JsonRpcError (bad JSON-RPC from the
    server) / TimeoutError / OSError if the transaction itself fails."""
    request = jsonrpc.Message.create_request(command, list(args))
    reply = client.transact_block(request, timeout)
    if reply.type == "error":
        if not isinstance(reply.error, str):
            vlog.warn("%s: unexpected error type in JSON RPC reply: %s",
                      client.name, ovs_json.to_string(reply.error))
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        return reply.error, None
    if not isinstance(reply.result, str):
        vlog.warn("%s: unexpected result type in JSON rpc reply: %s",
                  client.name, ovs_json.to_string(reply.result))
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
    return None, reply.result


def unixctl_transact(path, command, args, timeout=None):
    """Connect to PATH, run COMMAND ARGS, return (error, result) texts."""
    client = client_connect(path, timeout)
    try:
        return client_transact(client, command, args, timeout)
    finally:
        client.close()
