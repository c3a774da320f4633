"""Link change notifications from the kernel (OVS's rtnetlink-link notifier).

The bridge needs to know when a port's interface goes up or down, changes
its MTU or address, or vanishes (a deleted veth leaves its packet socket
bound to nothing; the port must be reopened if the name comes back).  The
kernel announces all of these on the RTNLGRP_LINK multicast group as
RTM_NEWLINK / RTM_DELLINK messages.

``parse_link_messages(data)`` is the pure part: a datagram's bytes in, a list
of LinkChange out; it bounds every length and skips what it does not
understand.  ``LinkNotifier`` is the thin shell: a non-blocking netlink
socket with ``fileno()`` for the event loop and ``poll()`` returning the
changes received so far.  Like every netlink socket, it answers for the
network namespace the process is in.

Public API: LinkNotifier() .fileno() .poll() -> [LinkChange] .close();
LinkChange(kind "new"|"del", ifindex, name, flags, mtu, mac, operstate, up,
running); parse_link_messages(data).
"""

import socket
import struct
from collections import namedtuple

RTMGRP_LINK = 1
RTM_NEWLINK = 16
RTM_DELLINK = 17
IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_OPERSTATE = 16
IFF_UP = 0x1
IFF_RUNNING = 0x40
_NLMSGHDR = struct.Struct("=IHHII")
_IFINFOMSG = struct.Struct("=BxHiII")
_RTA = struct.Struct("=HH")
# IF_OPER_* (RFC 2863 operational states, as the kernel numbers them).
OPERSTATES = ("unknown", "notpresent", "down", "lowerlayerdown", "testing",
              "dormant", "up")


class LinkChange(namedtuple("LinkChange",
                            "kind ifindex name flags mtu mac operstate")):
    """One RTM_NEWLINK ("new") or RTM_DELLINK ("del") announcement."""
    __slots__ = ()

    @property
    def up(self):
        return bool(self.flags & IFF_UP)

    @property
    def running(self):
        return bool(self.flags & IFF_RUNNING)


def parse_link_messages(data):
    """The link changes in one netlink datagram DATA (bytes)."""
    out = []
    off, n = 0, len(data)
    while off + _NLMSGHDR.size <= n:
        length, kind, _, _, _ = _NLMSGHDR.unpack_from(data, off)
        if length < _NLMSGHDR.size or off + length > n:
            break
        body, end = off + _NLMSGHDR.size, off + length
        if kind in (RTM_NEWLINK, RTM_DELLINK) and body + _IFINFOMSG.size <= end:
            _, _, ifindex, flags, _ = _IFINFOMSG.unpack_from(data, body)
            attrs = _parse_attrs(data, body + _IFINFOMSG.size, end)
            name = attrs.get(IFLA_IFNAME, b"").split(b"\0", 1)[0].decode("utf-8", "replace")
            mtu = attrs.get(IFLA_MTU)
            mtu = struct.unpack("=I", mtu)[0] if mtu is not None and len(mtu) == 4 else None
            oper = attrs.get(IFLA_OPERSTATE)
            oper = OPERSTATES[oper[0]] if oper and oper[0] < len(OPERSTATES) else None
            out.append(LinkChange("new" if kind == RTM_NEWLINK else "del", ifindex,
                                  name, flags, mtu, attrs.get(IFLA_ADDRESS), oper))
        off += (length + 3) & ~3
    return out


def _parse_attrs(data, off, end):
    attrs = {}
    while off + _RTA.size <= end:
        alen, atype = _RTA.unpack_from(data, off)
        if alen < _RTA.size or off + alen > end:
            break
        attrs.setdefault(atype & 0x3fff, bytes(data[off + _RTA.size:off + alen]))
        off += (alen + 3) & ~3
    return attrs


class LinkNotifier:
    """A netlink socket subscribed to link changes."""

    def __init__(self):
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                                   socket.NETLINK_ROUTE)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            self._sock.bind((0, RTMGRP_LINK))
            self._sock.setblocking(False)
        except BaseException:
            self._sock.close()
            raise
        self.overflows = 0

    def fileno(self):
        return self._sock.fileno()

    def poll(self):
        """Every change received since the last poll, oldest first.  After
        an overflow (ENOBUFS: changes were lost) the caller should re-read
        the state of every interface it cares about; self.overflows counts
        them."""
        out = []
        while True:
            try:
                data = self._sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return out
            except OSError as e:
                if e.errno == 105:          # ENOBUFS
                    self.overflows += 1
                    continue
                return out
            out.extend(parse_link_messages(data))

    def close(self):
        self._sock.close()
