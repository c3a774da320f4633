"""JSON-RPC 1.0 as Open vSwitch speaks it (OVS's lib/jsonrpc).

The wire is a plain byte stream of JSON objects with no delimiters between
them.  A message is a request (method, params, id), a notification (method,
params, "id": null), a reply (id, result, "error": null) or an error reply
(id, error).  OVS writes the members in the order id, method, params, result,
error, compactly, and this module does the same so that the bytes match.

The layers:

* :class:`Parser` -- sans-I/O and incremental: ``feed(bytes)`` returns the
  complete top-level JSON values seen so far.  It finds value boundaries by
  scanning brackets and strings, bounds the size of any one value, and
  rejects what OVS's parser rejects (non-UTF-8, NaN/Infinity, a top level
  that is not an object or array).
* :class:`Message` -- validation with OVS's error texts
  (``message has unexpected member "x"``, ``request must have "id"``...).
* :class:`Connection` -- an asyncio stream of messages; ``recv()`` returns
  ``None`` at EOF or on a protocol error (after logging it, as OVS does).
* :class:`Session` -- the active side that never gives up: reconnects with
  backoff under :mod:`pyovs.util.reconnect`, sends "echo" probes when idle,
  answers the peer's echo requests, and drops a silent connection.
* :class:`BlockingConnection` -- for command-line tools; ``transact_block``
  sends a request and waits for its reply, answering echo requests meanwhile.

API:
  Message: .type .method .params .result .error .id; create_request,
    create_notify, create_reply, create_error, to_json, from_json (raises
    JsonRpcError), is_valid, to_string (OVS's log text)
  Parser(max_size, max_depth).feed(bytes) -> [values]; .pending()
  encode(value) -> bytes; to_string(value) / from_string(text): OVS's JSON
    text, from pyovs.util.json (the one place for it)
  is_echo_request(msg), is_echo_reply(msg), log_msg(name, title, msg)
  Connection.open(name) / Connection(reader, writer, name, max_size):
    send(msg), await recv() -> Message | None, await drain(), backlog(),
    close(), .closed, .error ("End of file", "Protocol error", strerror),
    enable_probes(probe_interval_ms) (inactivity probes, for servers)
  Session(name, probe_interval=None, max_backoff=None): start(), send(msg)
    -> bool, await recv(), is_connected(), .seqno, await wait_connected(),
    await wait_seqno_change(seqno), add_state_callback(fn(connected)),
    force_reconnect(), close(), .fsm
  BlockingConnection.open(name, timeout=None) / .accept(passive_name,
    timeout=None) / BlockingConnection(sock, name): send(msg), recv(timeout) (raises ConnectionEOF, TimeoutError,
    JsonRpcError), transact_block(request, timeout=None), close()
  JsonRpcError, ConnectionEOF (an EOFError whose text is "End of file")
"""

import collections
import errno
import itertools
import re
import socket
import time

from pyovs.util import json as ovs_json
from pyovs.util import reconnect as reconnect_mod
from pyovs.util import stream
from pyovs.util.stream import StreamNameError
from pyovs.util.vlog import DBG, Vlog
from pyovs.util.lazy import lazy_module

asyncio = lazy_module("asyncio", globals())

vlog = Vlog("jsonrpc")

#: Largest single JSON value accepted by default (bytes).  OVSDB snapshots of
#: big databases are sent as one reply, so this is generous but finite.
DEFAULT_MAX_SIZE = 256 * 1024 * 1024


class JsonRpcError(Exception):
    """Malformed JSON or an invalid JSON-RPC message (OVS-like text)."""


class ConnectionEOF(EOFError):
    """The peer closed the connection."""

    def __init__(self, text="End of file"):
        super().__init__(text)


# ---------------------------------------------------------------------------
# JSON text is pyovs.util.json's; these names stay for callers.

to_string = ovs_json.to_string
encode = ovs_json.encode


def from_string(text):
    """Parse one complete JSON object or array from TEXT as OVS does
    (raises JsonRpcError with OVS's text)."""
    try:
        return ovs_json.from_string(text)
    except ovs_json.JsonError as e:
        raise JsonRpcError(str(e)) from None


# Outside strings: a whole string, a bracket, or the opening quote of a
# string that is not complete yet.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\]]|"', re.DOTALL)
_INSIDE = re.compile(rb'["\\]')
_WS = b" \t\r\n"
_WS_STR = " \t\r\n"
#: An incomplete string longer than this is scanned byte by byte instead of
#: being matched again whole when more data arrives.
_LONG_STRING = 4096


class Parser:
    """Incremental splitter + parser for a stream of JSON objects/arrays.

    Fast path: when a fresh buffer ends in a closing bracket it usually
    holds whole messages, which the C decoder parses directly.  Otherwise
    a bracket/string scanner finds where each value ends, resuming where it
    stopped, so a message arriving in many pieces is scanned once."""

    def __init__(self, max_size=DEFAULT_MAX_SIZE, max_depth=1000):
        self.max_size = max_size
        self.max_depth = max_depth
        self._buf = bytearray()
        self._pos = 0          # scan position within _buf
        self._depth = 0
        self._in_string = False
        self._error = None

    def pending(self):
        """True if part of a value has been fed but not completed (or an
        error is waiting to be raised)."""
        return self._error is not None or any(b not in _WS for b in self._buf)

    def feed(self, data):
        """Feed DATA (bytes); return the list of complete values parsed.

        Values that precede an error are returned first; the error is
        raised by the next call (feeding b"" is enough)."""
        if self._error is not None:
            raise self._error
        values = []
        try:
            self._feed(data, values)
        except JsonRpcError as e:
            if not values:
                raise
            self._error = e
        return values

    def _feed(self, data, values):
        self._buf += data
        buf = self._buf
        if (self._pos == 0 and self._depth == 0 and not self._in_string
                and buf.rstrip(_WS)[-1:] in (b"}", b"]")):
            self._fast_path(values)
        while True:
            if self._depth == 0 and not self._in_string:
                # Skip whitespace between values.
                start = 0
                while start < len(buf) and buf[start] in _WS:
                    start += 1
                if start:
                    del buf[:start]
                    self._pos = 0
                if not buf:
                    break
                if buf[0] not in b"{[":
                    raise JsonRpcError("syntax error at beginning of input")
                self._pos = 0
            end = self._scan()
            if end is None:
                if len(buf) > self.max_size:
                    raise JsonRpcError("message too long (more than %d bytes)"
                                       % self.max_size)
                break
            if end > self.max_size:
                raise JsonRpcError("message too long (more than %d bytes)"
                                   % self.max_size)
            chunk = bytes(buf[:end])
            del buf[:end]
            self._pos = 0
            values.append(from_string(chunk))
        return values

    def _fast_path(self, values):
        """Parse whole values straight from the buffer; leave any incomplete
        rest for the scanner."""
        buf = self._buf
        try:
            text = buf.decode("utf-8")
        except UnicodeDecodeError:
            return
        idx = 0
        n = len(text)
        big = ovs_json.may_have_big_numbers(text)
        while True:
            while idx < n and text[idx] in _WS_STR:
                idx += 1
            if idx == n or text[idx] not in "{[":
                break
            try:
                value, end = ovs_json.decode_value(text, idx, big)
            except ovs_json.NotFast:
                break                   # incomplete (or bad: the scanner says)
            if end - idx > self.max_size and \
                    len(text[idx:end].encode("utf-8")) > self.max_size:
                raise JsonRpcError("message too long (more than %d bytes)"
                                   % self.max_size)
            values.append(value)
            idx = end
        if idx == n:
            del buf[:]
        elif idx:
            del buf[:len(text[:idx].encode("utf-8"))]

    def _scan(self):
        """Advance the scan; return the end offset of a complete value."""
        buf = self._buf
        pos = self._pos
        n = len(buf)
        while pos < n:
            if self._in_string:
                m = _INSIDE.search(buf, pos)
                if m is None:
                    pos = n
                    break
                if buf[m.start()] == 0x5C:  # backslash
                    if m.start() + 1 >= n:
                        pos = m.start()
                        break
                    pos = m.start() + 2
                    continue
                self._in_string = False
                pos = m.start() + 1
                continue
            m = _TOKEN.search(buf, pos)
            if m is None:
                pos = n
                break
            start = m.start()
            c = buf[start]
            pos = m.end()
            if c == 0x22:
                if pos - start == 1:        # a string not complete yet
                    if n - start > _LONG_STRING:
                        self._in_string = True
                    else:
                        pos = start
                        break
            elif c in (0x7B, 0x5B):
                self._depth += 1
                if self._depth > self.max_depth:
                    raise JsonRpcError("input exceeds maximum nesting depth %d"
                                       % self.max_depth)
            else:
                self._depth -= 1
                if self._depth == 0:
                    self._pos = pos
                    return pos
                if self._depth < 0:
                    raise JsonRpcError("syntax error: unbalanced brackets")
        self._pos = pos
        return None


# ---------------------------------------------------------------------------
# Messages.

_TYPE_NAMES = {"request": "request", "notify": "notification",
               "reply": "reply", "error": "error"}

# Which members each message type must have (the others it must not have).
_REQUIRED = {
    "request": ("method", "params", "id"),
    "notify": ("method", "params"),
    "reply": ("result", "id"),
    "error": ("error", "id"),
}

_MEMBERS = ("method", "params", "result", "error", "id")

_ids = itertools.count()


class Message:
    """One JSON-RPC message; .type is request, notify, reply or error."""

    __slots__ = ("type", "method", "params", "result", "error", "id")

    def __init__(self, type, method=None, params=None, result=None,
                 error=None, id=None):
        self.type = type
        self.method = method
        self.params = params
        self.result = result
        self.error = error
        self.id = id

    @classmethod
    def create_request(cls, method, params):
        return cls("request", method=method, params=params, id=next(_ids))

    @classmethod
    def create_notify(cls, method, params):
        return cls("notify", method=method, params=params)

    @classmethod
    def create_reply(cls, result, id):
        return cls("reply", result=result, id=id)

    @classmethod
    def create_error(cls, error, id):
        return cls("error", error=error, id=id)

    def type_name(self):
        return _TYPE_NAMES.get(self.type, self.type)

    def is_valid(self):
        """None if valid, else OVS's text for what is wrong."""
        if self.params is not None and not isinstance(self.params, list):
            return '"params" must be JSON array'
        required = _REQUIRED.get(self.type)
        if required is None:
            return "invalid JSON-RPC message type %s" % self.type
        for name in _MEMBERS:
            present = getattr(self, name) is not None
            expected = name in required
            if present != expected:
                return '%s %s have "%s"' % (self.type_name(),
                                            "must" if expected else "must not",
                                            name)
        return None

    def to_json(self):
        """The message as a dict in OVS's member order."""
        j = {}
        if self.id is not None:
            j["id"] = self.id
        elif self.type == "notify":
            j["id"] = None
        if self.method is not None:
            j["method"] = self.method
        if self.params is not None:
            j["params"] = self.params
        if self.result is not None:
            j["result"] = self.result
        if self.error is not None:
            j["error"] = self.error
        elif self.type == "reply":
            j["error"] = None
        return j

    @classmethod
    def from_json(cls, obj):
        """Validate OBJ (a parsed JSON value) into a Message."""
        if not isinstance(obj, dict):
            raise JsonRpcError("message is not a JSON object")
        obj = dict(obj)
        # A null "method" is present and not a string; the other members
        # treat null as absent.
        has_method = "method" in obj
        method = obj.pop("method", None)
        if has_method and not isinstance(method, str):
            raise JsonRpcError("method is not a JSON string")
        params = obj.pop("params", None)
        result = obj.pop("result", None)
        error = obj.pop("error", None)
        id = obj.pop("id", None)
        if obj:
            raise JsonRpcError('message has unexpected member "%s"'
                               % next(iter(obj)))
        if result is not None:
            type = "reply"
        elif error is not None:
            type = "error"
        elif id is not None:
            type = "request"
        else:
            type = "notify"
        msg = cls(type, method, params, result, error, id)
        problem = msg.is_valid()
        if problem:
            raise JsonRpcError(problem)
        return msg

    def __eq__(self, other):
        return isinstance(other, Message) and all(
            getattr(self, a) == getattr(other, a) for a in self.__slots__)

    def __repr__(self):
        return "<Message %s>" % self.to_string()

    def to_string(self):
        """A one-line description, as OVS's jsonrpc module logs messages."""
        s = self.type_name()
        if self.method is not None:
            s += ', method="%s"' % self.method
        for name in ("params", "result", "error", "id"):
            value = getattr(self, name)
            if value is not None:
                s += ", %s=%s" % (name, to_string(value))
        return s


def log_msg(name, title, msg):
    """Log MSG at DBG as OVS does ("NAME: send request, method=...")."""
    if vlog.is_enabled(DBG):
        vlog.dbg("%s: %s %s", name, title, msg.to_string())


def is_echo_request(msg):
    return msg.type == "request" and msg.method == "echo"


def is_echo_reply(msg):
    return msg.type == "reply" and msg.id == "echo"


# ---------------------------------------------------------------------------
# asyncio connection.

class Connection:
    """A JSON-RPC connection over an asyncio stream."""

    RECV_SIZE = 1 << 20

    def __init__(self, reader, writer, name="", max_size=DEFAULT_MAX_SIZE):
        self.reader = reader
        self.writer = writer
        self.name = name
        self.parser = Parser(max_size)
        self._queue = collections.deque()
        self.error = None          # errno-like text once the connection failed
        self._closed = False
        self.received_bytes = 0
        self._probe_fsm = None
        self._probe_task = None
        self._probe_clock = None

    @classmethod
    async def open(cls, name, default_port=6640):
        reader, writer = await stream.open_active(name, default_port)
        return cls(reader, writer, name=name)

    def send(self, msg):
        """Queue MSG for sending (never blocks)."""
        if self._closed:
            return
        if self.writer.is_closing():       # the peer is gone
            self.error = self.error or "Broken pipe"
            return
        if isinstance(msg, Message):
            log_msg(self.name, "send", msg)
            data = encode(msg.to_json())
        else:
            data = encode(msg)
        try:
            self.writer.write(data)
        except (OSError, RuntimeError) as e:
            self.error = str(e)

    async def drain(self):
        try:
            await self.writer.drain()
        except (OSError, RuntimeError, ConnectionError) as e:
            self.error = str(e)

    def backlog(self):
        """Bytes queued but not yet written."""
        transport = self.writer.transport
        try:
            return transport.get_write_buffer_size()
        except (AttributeError, RuntimeError):
            return 0

    def enable_probes(self, probe_interval=5000, clock=None):
        """Probe the peer as OVS's servers do: after PROBE_INTERVAL ms
        without input send an "echo" request, and if nothing arrives in
        another PROBE_INTERVAL ms log it and close the connection.  The
        peer's replies to these probes are not returned by recv().  Call
        from within the event loop."""
        if not probe_interval or self._probe_task is not None:
            return
        self._probe_clock = clock or (lambda: int(time.monotonic() * 1000))
        now = self._probe_clock()
        fsm = reconnect_mod.Reconnect(now)
        fsm.set_name(self.name)
        fsm.set_quiet(True)
        fsm.receive_attempted(None)         # recv() is always pending
        fsm.set_probe_interval(probe_interval)
        fsm.enable(now)
        fsm.connected(now)
        self._probe_fsm = fsm
        self._probe_task = asyncio.get_running_loop().create_task(
            self._probe_loop())

    async def _probe_loop(self):
        fsm = self._probe_fsm
        try:
            while not self._closed:
                now = self._probe_clock()
                action = fsm.run(now)
                if action == reconnect_mod.PROBE:
                    probe = Message.create_request("echo", [])
                    probe.id = "echo"
                    self.send(probe)
                elif action == reconnect_mod.DISCONNECT:
                    self.error = "Connection timed out"
                    self.close()
                    return
                wait = fsm.timeout(self._probe_clock())
                await asyncio.sleep(max(wait or 1000, 1) / 1000)
        except asyncio.CancelledError:
            pass

    async def recv(self):
        """The next message, or None at EOF or on a protocol error."""
        while True:
            if self._queue:
                value = self._queue.popleft()
                try:
                    msg = Message.from_json(value)
                    log_msg(self.name, "received", msg)
                    if self._probe_fsm is not None:
                        self._probe_fsm.activity(self._probe_clock())
                        if is_echo_reply(msg):
                            continue
                    return msg
                except JsonRpcError as e:
                    vlog.warn("%s: received bad JSON-RPC message: %s",
                              self.name, e)
                    self.error = "Protocol error"
                    self.close()
                    return None
            if self._closed:
                return None
            if self.parser._error is not None:
                vlog.warn("%s: error parsing stream: %s", self.name,
                          self.parser._error)
                self.error = "Protocol error"
                self.close()
                return None
            try:
                data = await self.reader.read(self.RECV_SIZE)
            except (OSError, ConnectionError) as e:
                if self.error is None:
                    self.error = getattr(e, "strerror", None) or str(e)
                self.close()
                return None
            if self._closed and self.error is not None:
                return None         # closed under us (e.g. probe timeout)
            if not data:
                if self.parser.pending():
                    vlog.warn("%s: unexpected end of file", self.name)
                    self.error = "Protocol error"
                else:
                    self.error = "End of file"
                self.close()
                return None
            self.received_bytes += len(data)
            try:
                self._queue.extend(self.parser.feed(data))
            except JsonRpcError as e:
                vlog.warn("%s: error parsing stream: %s", self.name, e)
                self.error = "Protocol error"
                self.close()
                return None

    def close(self):
        if not self._closed:
            self._closed = True
            if self._probe_task is not None:
                self._probe_task.cancel()
            try:
                self.writer.close()
            except (OSError, RuntimeError):
                pass

    @property
    def closed(self):
        return self._closed


# ---------------------------------------------------------------------------
# Session: reconnecting active connection.

class Session:
    """An active JSON-RPC session that reconnects (OVS's jsonrpc_session).

    ``await session.recv()`` returns the next message that is not part of
    the echo keepalive exchange, waiting through disconnections (None once
    the session is closed).  ``send`` queues a message on the current
    connection and returns False (dropping it, as OVS does) when there is
    none.  ``seqno`` changes on every connect and disconnect so callers can
    notice that they must resynchronise; ``await wait_seqno_change(seqno)``
    waits for that, ``await wait_connected()`` for a connection, and
    ``add_state_callback(fn)`` has ``fn(connected)`` called at each change,
    before any message of a new connection is delivered.  As with OVS's
    jsonrpc_session_recv(), messages received on a connection that has
    since dropped are never delivered.

    Unix sockets are not probed (as in OVS); other streams are probed after
    5 s of silence and dropped 5 s after an unanswered probe.
    """

    def __init__(self, name, probe_interval=None, max_backoff=None,
                 default_port=6640, clock=None):
        self.name = name
        self.default_port = default_port
        self._clock = clock or (lambda: int(time.monotonic() * 1000))
        self.fsm = reconnect_mod.Reconnect(self._clock())
        self.fsm.set_name(name)
        self.fsm.receive_attempted(None)    # the reader task always receives
        if max_backoff is not None:
            self.fsm.set_backoff(self.fsm.min_backoff, max_backoff)
        if probe_interval is not None:
            self.fsm.set_probe_interval(probe_interval)
        elif name.startswith("unix:"):
            self.fsm.set_probe_interval(0)
        self.fsm.enable(self._clock())
        self.conn = None
        self.seqno = 0
        self._inbox = asyncio.Queue()
        self._task = None
        self._reader = None
        self._wake = None
        self._state_changed = None
        self._closed = False
        self._callbacks = []

    def add_state_callback(self, fn):
        """Call FN(connected: bool) after every connect and disconnect."""
        self._callbacks.append(fn)

    def start(self):
        """Start connecting (called by recv() if not done before)."""
        if self._task is None and not self._closed:
            self._wake = asyncio.Event()
            self._state_changed = asyncio.Condition()
            self._task = asyncio.get_running_loop().create_task(self._run())

    def is_connected(self):
        return self.conn is not None and not self.conn.closed

    def send(self, msg):
        if self.is_connected():
            self.conn.send(msg)
            return True
        return False

    async def recv(self):
        """The next message from the peer on the current connection (None
        once closed)."""
        self.start()
        while True:
            if self._closed and self._inbox.empty():
                return None
            item = await self._inbox.get()
            if item is None:
                return None
            seqno, msg = item
            if seqno == self.seqno:
                return msg

    async def wait_seqno_change(self, seqno):
        self.start()
        async with self._state_changed:
            await self._state_changed.wait_for(
                lambda: self.seqno != seqno or self._closed)

    async def wait_connected(self):
        self.start()
        async with self._state_changed:
            await self._state_changed.wait_for(
                lambda: self.is_connected() or self._closed)

    def force_reconnect(self):
        self.fsm.force_reconnect(self._clock())
        if self._wake is not None:
            self._wake.set()

    def close(self):
        if self._closed:
            return
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
        if self.conn:
            self.conn.close()
        if self._task:
            self._task.cancel()
        self._inbox.put_nowait(None)

    async def _changed(self):
        self.seqno += 1
        connected = self.is_connected()
        for fn in list(self._callbacks):
            fn(connected)
        async with self._state_changed:
            self._state_changed.notify_all()

    async def _connect(self):
        R = reconnect_mod
        self.fsm.connecting(self._clock())
        limit = self.fsm.timeout(self._clock())
        try:
            self.conn = await asyncio.wait_for(
                Connection.open(self.name, self.default_port),
                None if limit is None else limit / 1000)
        except asyncio.TimeoutError:
            self.fsm.connect_failed(self._clock(), errno.ETIMEDOUT)
        except StreamNameError as e:
            self.fsm.connect_failed(self._clock(), str(e))
        except OSError as e:
            self.fsm.connect_failed(self._clock(),
                                    e.errno or e.strerror or str(e) or R.EOF)
        else:
            self.fsm.connected(self._clock())
            self._reader = asyncio.get_running_loop().create_task(
                self._read(self.conn))
            await self._changed()

    async def _drop(self, error):
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None
        self.conn.close()
        self.conn = None
        if error == "End of file":
            error = reconnect_mod.EOF
        self.fsm.disconnected(self._clock(), error)
        await self._changed()

    async def _run(self):
        R = reconnect_mod
        try:
            while not self._closed:
                action = self.fsm.run(self._clock())
                if action == R.CONNECT:
                    await self._connect()
                elif action == R.DISCONNECT:
                    if self.conn is not None:
                        await self._drop(0)
                    else:
                        self.fsm.disconnected(self._clock(), errno.ETIMEDOUT)
                elif action == R.PROBE and self.conn is not None:
                    probe = Message.create_request("echo", [])
                    probe.id = "echo"
                    self.conn.send(probe)
                if self.conn is not None and self.conn.closed:
                    await self._drop(self.conn.error or "End of file")
                    continue
                wait = self.fsm.timeout(self._clock())
                self._wake.clear()
                try:
                    await asyncio.wait_for(
                        self._wake.wait(),
                        None if wait is None else max(wait, 1) / 1000)
                except asyncio.TimeoutError:
                    pass
        except asyncio.CancelledError:
            pass
        finally:
            if self._reader is not None:
                self._reader.cancel()
            async with self._state_changed:
                self._state_changed.notify_all()

    async def _read(self, conn):
        while True:
            msg = await conn.recv()
            if msg is None:
                self._wake.set()
                return
            self.fsm.activity(self._clock())
            if is_echo_request(msg):
                conn.send(Message.create_reply(msg.params, msg.id))
            elif not is_echo_reply(msg):
                self._inbox.put_nowait((self.seqno, msg))
            self._wake.set()


# ---------------------------------------------------------------------------
# Blocking connection for command-line tools.

class BlockingConnection:
    """A blocking JSON-RPC connection over a plain socket."""

    def __init__(self, sock, name="", max_size=DEFAULT_MAX_SIZE):
        self.sock = sock
        self.name = name
        self.parser = Parser(max_size)
        self._queue = collections.deque()

    @classmethod
    def open(cls, name, timeout=None, default_port=6640):
        return cls(stream.connect_blocking(name, timeout, default_port), name)

    @classmethod
    def accept(cls, name, timeout=None, default_port=6640):
        """Wait on passive stream NAME for one peer to connect (OVS's tools
        given a passive remote such as "ptcp:6640")."""
        return cls(stream.accept_blocking(name, timeout, default_port), name)

    def send(self, msg):
        if isinstance(msg, Message):
            log_msg(self.name, "send", msg)
            data = encode(msg.to_json())
        else:
            data = encode(msg)
        self.sock.settimeout(None)
        self.sock.sendall(data)

    def recv(self, timeout=None):
        """The next message; raises ConnectionEOF at EOF, TimeoutError,
        or JsonRpcError on bad input."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._queue:
            if self.parser._error is not None:
                raise self.parser._error
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("timed out")
                self.sock.settimeout(left)
            else:
                self.sock.settimeout(None)
            try:
                data = self.sock.recv(1 << 20)
            except socket.timeout:
                raise TimeoutError("timed out") from None
            if not data:
                if self.parser.pending():
                    raise JsonRpcError("unexpected end of file")
                raise ConnectionEOF()
            self._queue.extend(self.parser.feed(data))
        msg = Message.from_json(self._queue.popleft())
        log_msg(self.name, "received", msg)
        return msg

    def transact_block(self, request, timeout=None):
        """Send REQUEST and return its reply or error Message."""
        self.send(request)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(deadline - time.monotonic(), 0)
            msg = self.recv(left)
            if is_echo_request(msg):
                self.send(Message.create_reply(msg.params, msg.id))
            elif msg.type in ("reply", "error") and msg.id == request.id:
                return msg

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
