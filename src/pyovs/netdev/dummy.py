"""Type "dummy": in-memory ports for tests, as OVS's netdev-dummy.

A dummy port has no wire.  Packets arrive through ``receive(frame)`` (what
``ovs-appctl netdev-dummy/receive PORT PACKET`` feeds) and wait in a queue of
at most 100 (NETDEV_DUMMY_MAX_QUEUE; more are counted as rx_dropped) until
the datapath's ``rx_batch`` takes them; packets the datapath sends are counted
and, with ``options:tx_pcap=FILE``, written to that pcap file.  With
``options:rxq_pcap=FILE`` every received packet is written there too.  As
in OVS the files are opened for appending (the header is written only into
an empty file), and one that cannot be opened is logged and left out.
register_unixctl_commands(server) adds OVS's ``netdev-dummy/receive`` and
``netdev-dummy/set-admin-state`` to a pyovs.util.unixctl server.
``fileno()`` is an eventfd that is readable while the queue is not empty, so
a dummy port sits in the event loop like a real one.

The Ethernet address starts as OVS's: aa:55:aa:55:00:NN, NN counting up per
port created; the MTU is 1500 (68..9000 accepted), the ifindex comes from
``options:ifindex`` (unsupported otherwise).  Types "dummy-internal" and
"dummy-pmd" are the same device under OVS's other names.
"""

import errno
import itertools
import os
from collections import deque

from pyovs.netdev import gso, pcap
from pyovs.netdev.base import (
    Netdev, NetdevError, NetdevStats, Packet, as_mac, lookup, mtu_error, open_netdevs,
    register_provider, vlog)

NETDEV_DUMMY_MAX_QUEUE = 100
DUMMY_MIN_MTU = 68
DUMMY_MAX_MTU = 9000
ETH_HEADER_LEN = 14

_next_n = itertools.count(0xaa550000)


class NetdevDummy(Netdev):
    TYPE = "dummy"

    def __init__(self, name, options=None):
        super().__init__(name, options)
        n = next(_next_n)
        self._hwaddr = bytes((0xaa, 0x55, (n >> 24) & 0xff, (n >> 16) & 0xff,
                              (n >> 8) & 0xff, n & 0xff))
        self._mtu = 1500
        self._ifindex = None
        self._up = True
        self._rxq = deque()
        self._efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._tx_pcap = self._rxq_pcap = None
        self._tx_pcap_path = self._rxq_pcap_path = None
        self.rx_packets = self.rx_bytes = self.rx_dropped = 0
        self.tx_packets = self.tx_bytes = self.tx_dropped = 0
        self.rx_errors = self.tx_errors = 0
        self.set_config(options)

    # -- configuration ---------------------------------------------------
    def set_config(self, options):
        options = {k: str(v) for k, v in dict(options or {}).items()}
        ifindex = None
        if "ifindex" in options:
            try:
                ifindex = int(options["ifindex"])
            except ValueError:
                raise NetdevError("%s: bad ifindex %r" % (self.name, options["ifindex"]),
                                  errno.EINVAL) from None
        tx_path, rxq_path = options.get("tx_pcap"), options.get("rxq_pcap")
        if (tx_path, rxq_path) != (self._tx_pcap_path, self._rxq_pcap_path):
            self._close_pcaps()
            writers = {}
            for path in (tx_path, rxq_path):
                if path and path not in writers:
                    writers[path] = self._open_pcap(path)
            self._tx_pcap = writers.get(tx_path)
            self._rxq_pcap = writers.get(rxq_path)
            self._tx_pcap_path, self._rxq_pcap_path = tx_path, rxq_path
        self._ifindex = ifindex
        self._options = options

    def _open_pcap(self, path):
        """A writer appending to PATH, or None (logged; the port works on
        without it, as OVS's does)."""
        try:
            return pcap.PcapWriter(path, append=True)
        except OSError as e:
            vlog.warn("%s: failed to open pcap file for appending (%s)",
                      path, os.strerror(e.errno))
            return None

    def _close_pcaps(self):
        for w in {id(w): w for w in (self._tx_pcap, self._rxq_pcap) if w}.values():
            w.close()
        self._tx_pcap = self._rxq_pcap = None
        self._tx_pcap_path = self._rxq_pcap_path = None

    # -- packet I/O ------------------------------------------------------
    def fileno(self):
        return self._efd

    def receive(self, frame):
        """Queue FRAME (bytes-like or Packet) as if it arrived on the wire.
        Returns False if the queue was full and the packet was dropped."""
        pkt = frame if isinstance(frame, Packet) else Packet(bytes(frame))
        if self._rxq_pcap is not None:
            self._rxq_pcap.write(pkt.data)
        if len(self._rxq) >= NETDEV_DUMMY_MAX_QUEUE:
            self.rx_dropped += 1
            return False
        self._rxq.append(pkt)
        if len(self._rxq) == 1:
            os.eventfd_write(self._efd, 1)
        return True

    def rx_batch(self, max_n=32):
        q = self._rxq
        out = []
        while q and len(out) < max_n:
            out.append(q.popleft())
        if out:
            self.rx_packets += len(out)
            self.rx_bytes += sum(len(p.data) for p in out)
        if not q:
            try:
                os.eventfd_read(self._efd)
            except BlockingIOError:
                pass
        return out

    def send_batch(self, packets):
        """Record PACKETS.  A dummy port has no offloads: a super-packet is
        segmented and a pending checksum completed first (netdev/gso.py), so
        tx_pcap holds what a wire would carry."""
        for p in packets:
            if isinstance(p, Packet):
                if p.vnet is not None:
                    frames = gso.resolve(p.data, p.vnet)
                    if frames is None:
                        self.tx_errors += 1
                        continue
                    for f in frames:
                        self._send_one(f)
                    continue
                p = p.data
            self._send_one(p)

    def _send_one(self, data):
        n = len(data)
        if n < ETH_HEADER_LEN:
            self.tx_errors += 1
            return
        limit = self._mtu + ETH_HEADER_LEN
        if data[12:14] in (b"\x81\x00", b"\x88\xa8"):
            limit += 4
        if n > limit:
            self.tx_dropped += 1
            return
        self.tx_packets += 1
        self.tx_bytes += n
        if self._tx_pcap is not None:
            self._tx_pcap.write(data)

    # -- link queries ----------------------------------------------------
    def get_etheraddr(self):
        return self._hwaddr

    def set_etheraddr(self, mac):
        self._hwaddr = as_mac(mac)

    def get_ifindex(self):
        if self._ifindex is None:
            self._unsupported("getting ifindex")
        return self._ifindex

    def get_mtu(self):
        return self._mtu

    def set_mtu(self, mtu):
        if not DUMMY_MIN_MTU <= mtu <= DUMMY_MAX_MTU:
            raise mtu_error(self.name, errno.EINVAL)
        self._mtu = mtu

    def get_carrier(self):
        return self._up

    def get_admin_state(self):
        return self._up

    def set_admin_state(self, up):
        self._up = bool(up)

    def get_features(self):
        self._unsupported("getting features")

    def get_stats(self):
        """Packets and bytes each way: the counters OVS's dummy reports (its
        drops and errors stay in the rx_dropped, tx_dropped, tx_errors
        attributes)."""
        return NetdevStats(
            rx_packets=self.rx_packets, rx_bytes=self.rx_bytes,
            tx_packets=self.tx_packets, tx_bytes=self.tx_bytes)

    def _destruct(self):
        self._close_pcaps()
        os.close(self._efd)


class NetdevDummyInternal(NetdevDummy):
    TYPE = "dummy-internal"


class NetdevDummyPmd(NetdevDummy):
    TYPE = "dummy-pmd"


def eth_from_hex(text):
    """A packet written in hex (whitespace between bytes allowed), as OVS's
    eth_from_hex; ValueError with OVS's text otherwise."""
    if len(text) > 2 * 65536 * 2:
        raise ValueError("Packet data too long")
    digits = "".join(text.split())
    if len(digits) % 2 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise ValueError("Trailing garbage in packet data")
    data = bytes.fromhex(digits)
    if len(data) < ETH_HEADER_LEN:
        raise ValueError("Packet data too short for Ethernet")
    return data


def _dummy(name):
    dev = lookup(name)
    return dev if isinstance(dev, NetdevDummy) else None


def register_unixctl_commands(server, flow_to_packet=None):
    """Add netdev-dummy/receive and netdev-dummy/set-admin-state to SERVER.

    FLOW_TO_PACKET(flow_text, size) -> bytes builds a packet from the
    datapath flow syntax (the datapath supplies it); without it only hex
    packets are accepted and a flow is refused with a clear error."""

    def receive(conn, args):
        dev = _dummy(args[0])
        if dev is None:
            conn.reply_error("no such dummy netdev")
            return
        k = 1
        if len(args) > k + 1 and args[k] == "--qid":
            if args[k + 1] != "0":
                conn.reply_error("bad rx queue id.")
                return
            k += 2
        packets = []
        i = k
        while i < len(args):
            try:
                packets.append(eth_from_hex(args[i]))
            except ValueError:
                size = 0
                flow = args[i]
                if i + 1 < len(args) and args[i + 1] == "--len":
                    try:
                        size = int(args[i + 2]) if i + 2 < len(args) else 0
                    except ValueError:
                        size = 0
                    if size < 60:                  # ETH_TOTAL_MIN
                        conn.reply_error("too small packet len")
                        return
                    i += 2
                if flow_to_packet is None:
                    conn.reply_error("%s: datapath flow syntax is not supported "
                                     "here yet (give the packet in hex)" % flow)
                    return
                try:
                    packets.append(flow_to_packet(flow, size))
                except ValueError as e:
                    conn.reply_error(str(e))
                    return
            i += 1
        for p in packets:
            dev.receive(p)
        conn.reply(None)

    def set_admin_state(conn, args):
        state = args[-1].lower()
        if state not in ("up", "down"):
            conn.reply_error("Invalid Admin State")
            return
        if len(args) > 1:
            dev = _dummy(args[0])
            if dev is None:
                conn.reply_error("Unknown Dummy Interface")
                return
            devs = [dev]
        else:
            devs = [d for d in open_netdevs() if isinstance(d, NetdevDummy)]
        for d in devs:
            d.set_admin_state(state == "up")
        conn.reply("OK")

    server.register("netdev-dummy/receive",
                    "name [--qid queue_id] packet|flow [--len packet_len]",
                    2, 2 ** 31 - 1, receive)
    server.register("netdev-dummy/set-admin-state", "[netdev] up|down",
                    1, 2, set_admin_state)


register_provider("dummy", NetdevDummy)
register_provider("dummy-internal", NetdevDummyInternal)
register_provider("dummy-pmd", NetdevDummyPmd)
