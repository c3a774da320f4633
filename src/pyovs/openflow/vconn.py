"""A blocking OpenFlow connection for command-line tools (OVS's vconn).

Vconn.open(target, versions, timeout) connects ("unix:PATH", "tcp:IP[:PORT]",
or a bridge name meaning unix:$OVS_RUNDIR/BRIDGE.mgmt), exchanges hellos and
negotiates a version.  It allocates xids as OVS's tools do (the hello is 1)
and answers echo requests while waiting.

Public API: alloc_xid(), reset_xids(); Vconn.open(...) -> Vconn; .version, .name, .next_xid();
  .send(msg); .recv() -> bytes; .recv_raw() -> bytes (echoes too); .transact(msg) -> reply bytes;
  .transact_noreply(msgs) -> first error reply or None (sends a barrier);
  .dump(request) -> list of reply messages (follows "more" flags); .close().
  VconnError(text) for connection failures; target_name(target).
"""

import os
import socket
import struct

from pyovs.util import dirs, stream
from . import messages as M
from .errors import DecodeError

OFP_PORT = 6653
MAX_REPLIES = 1_000_000


class VconnError(Exception):
    pass


# OVS's tools number requests with one counter per process, across
# connections (a second connection's hello gets the next xid).
_last_xid = 0


def reset_xids():
    """Start numbering afresh (each ovs-ofctl run starts at 1)."""
    global _last_xid
    _last_xid = 0


def alloc_xid():
    global _last_xid
    _last_xid = (_last_xid + 1) & 0xffffffff
    return _last_xid


def target_name(target):
    """The vconn name for TARGET as ovs-ofctl resolves it."""
    if ":" in target:
        return target
    path = os.path.join(dirs.rundir(), target + ".mgmt")
    if os.path.exists(path):
        return "unix:" + path
    if os.path.exists(target):
        return "unix:" + target
    raise VconnError(f"{target} is not a bridge or a socket")


class Vconn:
    def __init__(self, sock, name, version):
        self.sock = sock
        self.name = name
        self.version = version
        self._framer = M.Framer()
        self._pending = []

    def next_xid(self):
        return alloc_xid()

    @classmethod
    def open(cls, target, versions, timeout=None):
        name = target_name(target)
        try:
            sock = stream.connect_blocking(name, timeout, default_port=OFP_PORT)
        except (OSError, ValueError) as e:
            err = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            if ":" in target:       # as OVS: an explicit connection method
                raise VconnError(f"connecting to {target} ({err})") from None
            raise VconnError(f"{target}: failed to connect to socket ({err})") from None
        v = cls(sock, name, max(versions))
        v.send(M.encode_hello(versions, alloc_xid()))
        hello = v.recv()
        h = M.parse_header(hello)
        if h.type != M.OFPT_HELLO:
            raise VconnError(f"{name}: expected hello")
        version = M.negotiate(versions, hello)
        if version is None:
            # As OVS's vconn: the failure surfaces as a protocol error.
            v.close()
            raise VconnError(f"{target}: failed to connect to socket "
                             "(Protocol error)")
        v.version = version
        return v

    def send(self, msg):
        try:
            self.sock.sendall(msg)
        except OSError as e:
            raise VconnError(f"{self.name}: send failed ({e.strerror})") from None

    def _read(self):
        while not self._pending:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise VconnError(f"{self.name}: timeout") from None
            except OSError as e:
                raise VconnError(f"{self.name}: receive failed ({e.strerror})") from None
            if not data:
                raise VconnError(f"{self.name}: connection closed by peer")
            try:
                self._pending.extend(self._framer.feed(data))
            except DecodeError as e:
                raise VconnError(f"{self.name}: {e}") from None
        return self._pending.pop(0)

    def recv_raw(self):
        """The next message, echo requests included (not answered)."""
        return self._read()

    def recv(self):
        """The next message that is not an echo request (those are answered)."""
        while True:
            msg = self._read()
            h = M.parse_header(msg)
            if h.type == M.OFPT_ECHO_REQUEST:
                self.send(M.encode_simple(h.version, M.OFPT_ECHO_REPLY, h.xid, msg[8:h.length]))
                continue
            return msg

    def recv_xid(self, xid):
        while True:
            msg = self.recv()
            if M.parse_header(msg).xid == xid:
                return msg

    def transact(self, msg):
        xid = M.parse_header(msg).xid
        self.send(msg)
        return self.recv_xid(xid)

    def transact_noreply(self, msgs):
        """Send MSGS then a barrier; the first error reply, or None."""
        for m in msgs:
            self.send(m)
        bxid = self.next_xid()
        self.send(M.encode_simple(self.version, "OFPT_BARRIER_REQUEST", bxid))
        xids = {M.parse_header(m).xid for m in msgs}
        error = None
        while True:
            reply = self.recv()
            h = M.parse_header(reply)
            if h.xid == bxid:
                return error
            if h.xid in xids and error is None:
                error = reply

    def dump(self, request):
        """Send a stats REQUEST; all reply parts, following the more flag."""
        xid = M.parse_header(request).xid
        self.send(request)
        replies = []
        while len(replies) < MAX_REPLIES:
            reply = self.recv_xid(xid)
            replies.append(reply)
            h = M.parse_header(reply)
            if h.type == M.OFPT_ERROR:
                break
            flags = struct.unpack_from("!H", reply, 10)[0] if h.length >= 12 else 0
            if not flags & M.OFPSF_REPLY_MORE:
                break
        return replies

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
