"""Type "dummy": in-memory ports for tests, as OVS's netdev-dummy.

A dummy port has no wire.  Packets arrive through ``receive(frame)`` (what
``ovs-appctl netdev-dummy/receive PORT PACKET`` feeds) and wait in a queue of
at most 100 (NETDEV_DUMMY_MAX_QUEUE; more are counted as rx_dropped) until
the datapath's ``rx_batch`` takes them; packets the datapath sends are counted
and, with ``options:tx_pcap=FILE``, written to that pcap file.  With
``options:rxq_pcap=FILE`` every received packet is written there too.
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

from pyovs.netdev import pcap
from pyovs.netdev.base import (
    Netdev, NetdevError, NetdevStats, Packet, as_mac, register_provider)

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
        try:
            return pcap.PcapWriter(path)
        except OSError as e:
            raise NetdevError("%s: failed to open pcap file %s (%s)"
                              % (self.name, path, os.strerror(e.errno)),
                              e.errno) from None

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
        mtu = self._mtu
        for p in packets:
            if isinstance(p, Packet):
                data, gso = p.data, p.is_gso()
            else:
                data, gso = p, False
            n = len(data)
            if n < ETH_HEADER_LEN:
                self.tx_errors += 1
                continue
            limit = mtu + ETH_HEADER_LEN
            if data[12:14] in (b"\x81\x00", b"\x88\xa8"):
                limit += 4
            if n > limit and not gso:
                self.tx_dropped += 1
                continue
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
            raise NetdevError("%s: setting MTU failed (%s)"
                              % (self.name, os.strerror(errno.EINVAL)), errno.EINVAL)
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
        return NetdevStats(
            rx_packets=self.rx_packets, rx_bytes=self.rx_bytes,
            rx_dropped=self.rx_dropped, rx_errors=self.rx_errors,
            tx_packets=self.tx_packets, tx_bytes=self.tx_bytes,
            tx_dropped=self.tx_dropped, tx_errors=self.tx_errors)

    def _destruct(self):
        self._close_pcaps()
        os.close(self._efd)


class NetdevDummyInternal(NetdevDummy):
    TYPE = "dummy-internal"


class NetdevDummyPmd(NetdevDummy):
    TYPE = "dummy-pmd"


register_provider("dummy", NetdevDummy)
register_provider("dummy-internal", NetdevDummyInternal)
register_provider("dummy-pmd", NetdevDummyPmd)
