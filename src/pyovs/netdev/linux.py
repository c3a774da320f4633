"""Type "system": an existing Linux interface, through an AF_PACKET socket.

The sockets are SOCK_RAW for ETH_P_ALL, bound to the interface,
non-blocking, with the options that make them a switch port rather than a
sniffer:

* PACKET_IGNORE_OUTGOING (and the same test in the BPF filter, for older
  kernels): the switch never receives what it, or the host, transmits on the
  interface.
* PACKET_VNET_HDR: every frame in either direction is preceded by a 10-byte
  virtio_net_hdr.  A TCP stream on a veth with offloads on arrives as
  segmentation-offload super-packets far larger than the MTU, with their
  checksum still to be completed; the header says so, rx_batch keeps it as
  Packet.vnet and send_batch hands it back, so the super-packet leaves whole
  and the kernel (or the next NIC) segments it.  Users need not turn
  offloads off.
* VLAN tags: the kernel strips the outer tag before a packet socket sees the
  frame and reports it only in a PACKET_AUXDATA control message, which only
  the costly recvmsg can fetch.  So there are two sockets, split by a
  classic BPF filter on "VLAN tag present": the untagged frames (nearly all)
  are read with recv_into, the tagged ones with recvmsg_into plus auxdata,
  and rx_batch puts their tag back in place, so a frame leaves rx_batch as it
  was on the wire.  fileno() is an epoll descriptor over both sockets;
  rx_batch asks it (without waiting) which of them to read.

Before a batch leaves, runs of TCP segments of one stream in it are merged
into super-packets (netdev/gro.py, the kernel's GRO rules): a stream that
crossed a tunnel in MTU-sized pieces reaches the VM's veth as the kernel
would have handed it over.  Only on a device with TCP segmentation offload
on (`ethtool -K DEV tso off` stops it, seen when the statistics are next
read), since one without would have the kernel cut the packet again.

Batches cost one system call each way where libc has sendmmsg/recvmmsg
(netdev/mmsg.py, as OVS's netdev_linux_sock_batch_send and
netdev_linux_batch_rxq_recv_sock): send_batch hands the whole batch to one
sendmmsg, each frame with its own virtio_net_hdr; rx_batch reads the
untagged socket with one recvmmsg into preallocated buffers.  Without them
(or for a single frame) it is one send or recv_into per frame.  A full
socket drops the rest of the batch (tx_dropped, as OVS counts it).

rx_batch reads until the sockets are empty or max_n frames are read; each
frame is copied out once.  (Frames of the two
sockets may be reordered relative to each other; within a VLAN, or among
untagged frames, order is kept.)  The interface is put in promiscuous mode
through a packet-socket membership, which the kernel drops when the socket
closes.

Link queries use ioctls (SIOCGIFHWADDR, SIOCGIFMTU, SIOCGIFFLAGS,
SIOCETHTOOL) and rtnetlink (RTM_GETLINK, IFLA_STATS64) for the kernel's
counters; all
of them answer for the network namespace the process is in.  The helpers
here (ifreq ioctls, kernel counters) are shared with the tap provider.
"""

import ctypes
import errno
import fcntl
import os
import select
import socket
import struct

from pyovs.netdev import gro, mmsg
from pyovs.netdev.base import (
    NETDEV_F_AUTONEG, NETDEV_F_PAUSE, NETDEV_F_PAUSE_ASYM, NETDEV_F_COPPER,
    NETDEV_F_FIBER, NETDEV_F_10MB_HD, NETDEV_F_10MB_FD, NETDEV_F_100MB_HD,
    NETDEV_F_100MB_FD, NETDEV_F_1GB_HD, NETDEV_F_1GB_FD, NETDEV_F_10GB_FD,
    VIRTIO_NET_HDR_F_NEEDS_CSUM, VNET_HDR_LEN, VNET_HDR_NONE,
    Netdev, NetdevError, NetdevStats, Packet, as_mac, mtu_error, open_error,
    register_provider, speed_to_features)

# linux/sockios.h
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
SIOCGIFMTU = 0x8921
SIOCSIFMTU = 0x8922
SIOCSIFHWADDR = 0x8924
SIOCGIFHWADDR = 0x8927
SIOCGIFINDEX = 0x8933
SIOCETHTOOL = 0x8946
IFF_UP = 0x1
IFF_RUNNING = 0x40
IFF_PROMISC = 0x100
ARPHRD_ETHER = 1
IFNAMSIZ = 16

# linux/if_packet.h
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_AUXDATA = 8
PACKET_VNET_HDR = 15
PACKET_IGNORE_OUTGOING = 23
PACKET_OUTGOING = 4
SO_ATTACH_FILTER = 26
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33
SKF_AD_OFF = -0x1000
SKF_AD_PKTTYPE = 4
SKF_AD_VLAN_TAG_PRESENT = 48
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
_AUXDATA = struct.Struct("=IIIHHHH")
_ANC_SIZE = socket.CMSG_SPACE(_AUXDATA.size)
_MSG_TRUNC = int(socket.MSG_TRUNC)       # a plain int: IntFlag ops are slow

# Largest frame a packet socket hands over: a 64 KiB GSO super-packet plus an
# Ethernet header and two VLAN tags.
MAX_FRAME = 65536 + 14 + 8
ETH_HEADER_LEN = 14
_MIN_READ = VNET_HDR_LEN + ETH_HEADER_LEN
# Frames per sendmmsg/recvmmsg (OVS's NETDEV_MAX_BURST).
TX_BATCH = RX_BATCH = 32


def _ifreq(name, payload=b""):
    raw = name.encode()
    if len(raw) >= IFNAMSIZ:
        raise NetdevError("%s: interface name too long" % name, errno.ENAMETOOLONG)
    return struct.pack("16s24s", raw, payload)


class LinkIoctl:
    """The ifreq ioctls on one interface name, through socket SOCK."""

    def __init__(self, name, sock):
        self.name = name
        self.sock = sock

    def _ioctl(self, request, payload=b""):
        return fcntl.ioctl(self.sock.fileno(), request, _ifreq(self.name, payload))[16:]

    def _fail(self, what, e):
        return NetdevError("ioctl(%s) on %s device failed: %s"
                           % (what, self.name, os.strerror(e.errno)), e.errno)

    def ifindex(self):
        try:
            return struct.unpack_from("=i", self._ioctl(SIOCGIFINDEX))[0]
        except OSError as e:
            raise self._fail("SIOCGIFINDEX", e) from None

    def etheraddr(self):
        try:
            return bytes(self._ioctl(SIOCGIFHWADDR)[2:8])
        except OSError as e:
            raise self._fail("SIOCGIFHWADDR", e) from None

    def set_etheraddr(self, mac):
        try:
            self._ioctl(SIOCSIFHWADDR, struct.pack("=H6s", ARPHRD_ETHER, as_mac(mac)))
        except OSError as e:
            raise self._fail("SIOCSIFHWADDR", e) from None

    def mtu(self):
        try:
            return struct.unpack_from("=i", self._ioctl(SIOCGIFMTU))[0]
        except OSError as e:
            raise self._fail("SIOCGIFMTU", e) from None

    def set_mtu(self, mtu):
        try:
            self._ioctl(SIOCSIFMTU, struct.pack("=i", mtu))
        except OSError as e:
            raise mtu_error(self.name, e.errno) from None
        except struct.error:
            raise mtu_error(self.name, errno.EINVAL) from None

    def flags(self):
        try:
            return struct.unpack_from("=H", self._ioctl(SIOCGIFFLAGS))[0]
        except OSError as e:
            raise self._fail("SIOCGIFFLAGS", e) from None

    def update_flags(self, off, on):
        try:
            flags = self.flags()
            new = (flags & ~off) | on
            if new != flags:
                self._ioctl(SIOCSIFFLAGS, struct.pack("=H", new & 0xffff))
        except OSError as e:
            raise self._fail("SIOCSIFFLAGS", e) from None

    def ethtool_gset(self):
        """struct ethtool_cmd from ETHTOOL_GSET, as a dict, or None."""
        buf = ctypes.create_string_buffer(struct.pack("=I40x", 1))  # ETHTOOL_GSET
        try:
            fcntl.ioctl(self.sock.fileno(), SIOCETHTOOL,
                        _ifreq(self.name, struct.pack("@P", ctypes.addressof(buf)).ljust(24, b"\0")))
        except OSError:
            return None
        (_, supported, advertising, speed, duplex, port, _, _, autoneg, _, _, _,
         speed_hi, _, _, lp_adv) = struct.unpack_from("=IIIHBBBBBBIIHBBI", buf.raw)
        return {"supported": supported, "advertising": advertising,
                "speed": speed | (speed_hi << 16), "duplex": duplex,
                "port": port, "autoneg": autoneg, "lp_advertising": lp_adv}

    def ethtool_tso(self):
        """True if the device has TCP segmentation offload on (ETHTOOL_GTSO);
        None if the kernel does not say."""
        buf = ctypes.create_string_buffer(struct.pack("=II", 0x1e, 0))  # ETHTOOL_GTSO
        try:
            fcntl.ioctl(self.sock.fileno(), SIOCETHTOOL,
                        _ifreq(self.name, struct.pack("@P", ctypes.addressof(buf)).ljust(24, b"\0")))
        except OSError:
            return None
        return bool(struct.unpack_from("=I", buf.raw, 4)[0])

    def ethtool_drvinfo(self):
        """(driver, version, firmware version) from ETHTOOL_GDRVINFO, or None."""
        buf = ctypes.create_string_buffer(struct.pack("=I192x", 3))  # ETHTOOL_GDRVINFO
        try:
            fcntl.ioctl(self.sock.fileno(), SIOCETHTOOL,
                        _ifreq(self.name, struct.pack("@P", ctypes.addressof(buf)).ljust(24, b"\0")))
        except OSError:
            return None
        fields = struct.unpack_from("=32s32s32s", buf.raw, 4)
        return tuple(f.split(b"\0", 1)[0].decode("utf-8", "replace") for f in fields)


# ethtool ADVERTISED_* / SUPPORTED_* bits -> NETDEV_F_*.
_ETHTOOL_BITS = (
    (1 << 0, NETDEV_F_10MB_HD), (1 << 1, NETDEV_F_10MB_FD),
    (1 << 2, NETDEV_F_100MB_HD), (1 << 3, NETDEV_F_100MB_FD),
    (1 << 4, NETDEV_F_1GB_HD), (1 << 5, NETDEV_F_1GB_FD),
    (1 << 6, NETDEV_F_AUTONEG), (1 << 7, NETDEV_F_COPPER),
    (1 << 10, NETDEV_F_FIBER), (1 << 12, NETDEV_F_10GB_FD),
    (1 << 13, NETDEV_F_PAUSE), (1 << 14, NETDEV_F_PAUSE_ASYM),
)


def _ethtool_to_features(bits):
    out = 0
    for eb, nb in _ETHTOOL_BITS:
        if bits & eb:
            out |= nb
    return out


def ethtool_features(link):
    """(current, advertised, supported, peer) as netdev_linux_read_features."""
    cmd = link.ethtool_gset()
    if cmd is None:
        raise NetdevError("%s: getting features failed (Operation not supported)"
                          % link.name, errno.EOPNOTSUPP)
    current = 0
    if cmd["speed"] not in (0, 0xffff, 0xffffffff):
        current = speed_to_features(cmd["speed"], cmd["duplex"] != 0)
    if cmd["autoneg"]:
        current |= NETDEV_F_AUTONEG
    return (current, _ethtool_to_features(cmd["advertising"]),
            _ethtool_to_features(cmd["supported"]),
            _ethtool_to_features(cmd["lp_advertising"]))


# rtnetlink (linux/rtnetlink.h, linux/if_link.h)
RTM_NEWLINK = 16
RTM_GETLINK = 18
NLM_F_REQUEST = 1
IFLA_STATS64 = 23
_NLMSGHDR = struct.Struct("=IHHII")
_IFINFOMSG = struct.Struct("=BxHiII")


def _netlink_link_stats64(ifindex):
    """struct rtnl_link_stats64 of IFINDEX as a tuple of counters, or None."""
    try:
        sk = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    except OSError:
        return None
    with sk:
        sk.settimeout(2)
        body = _IFINFOMSG.pack(socket.AF_UNSPEC, 0, ifindex, 0, 0)
        sk.send(_NLMSGHDR.pack(_NLMSGHDR.size + len(body), RTM_GETLINK,
                               NLM_F_REQUEST, 1, 0) + body)
        try:
            reply = sk.recv(65536)
        except OSError:
            return None
    if len(reply) < _NLMSGHDR.size + _IFINFOMSG.size:
        return None
    length, kind, _, _, _ = _NLMSGHDR.unpack_from(reply)
    if kind != RTM_NEWLINK:            # NLMSG_ERROR: no such interface
        return None
    off = _NLMSGHDR.size + _IFINFOMSG.size
    end = min(length, len(reply))
    while off + 4 <= end:
        alen, atype = struct.unpack_from("=HH", reply, off)
        if alen < 4:
            break
        if atype & 0x3fff == IFLA_STATS64 and alen - 4 >= 21 * 8:
            return struct.unpack_from("=21Q", reply, off + 4)
        off += (alen + 3) & ~3
    return None


_TAP_ZEROED = ("rx_length_errors", "rx_over_errors", "rx_crc_errors",
               "rx_frame_errors", "rx_fifo_errors", "rx_missed_errors",
               "tx_aborted_errors", "tx_carrier_errors", "tx_fifo_errors",
               "tx_heartbeat_errors", "tx_window_errors")


def kernel_stats(ifindex, swap=False):
    """The kernel's counters for interface IFINDEX (rtnetlink IFLA_STATS64,
    whose first 21 counters are netdev_stats' fields in order), as
    NetdevStats.  SWAP gives a tap device's counters from the switch's side,
    as OVS's netdev_tap_get_stats: rx and tx exchanged, the detailed error
    counters zero."""
    values = _netlink_link_stats64(ifindex)
    if values is None:
        return NetdevStats()
    stats = NetdevStats(**dict(zip(NetdevStats.FIELDS, values)))
    if swap:
        for rx, tx in (("rx_packets", "tx_packets"), ("rx_bytes", "tx_bytes"),
                       ("rx_errors", "tx_errors"), ("rx_dropped", "tx_dropped")):
            a, b = getattr(stats, rx), getattr(stats, tx)
            setattr(stats, rx, b)
            setattr(stats, tx, a)
        for f in _TAP_ZEROED:
            setattr(stats, f, 0)
    return stats


def _set_big_buffer(sock, level_opt_force, level_opt, size):
    try:
        sock.setsockopt(socket.SOL_SOCKET, level_opt_force, size)
    except OSError:
        try:
            sock.setsockopt(socket.SOL_SOCKET, level_opt, size)
        except OSError:
            pass


class LinkQueries:
    """Link queries shared by the system and internal providers (need
    self._link, a LinkIoctl)."""

    def get_etheraddr(self):
        return self._link.etheraddr()

    def set_etheraddr(self, mac):
        self._link.set_etheraddr(mac)

    def get_ifindex(self):
        return self._link.ifindex()

    def get_mtu(self):
        return self._link.mtu()

    def set_mtu(self, mtu):
        self._link.set_mtu(mtu)

    def get_carrier(self):
        return bool(self._link.flags() & IFF_RUNNING)

    def get_admin_state(self):
        return bool(self._link.flags() & IFF_UP)

    def set_admin_state(self, up):
        if up:
            self._link.update_flags(0, IFF_UP)
        else:
            self._link.update_flags(IFF_UP, 0)

    def get_features(self):
        return ethtool_features(self._link)

    def get_status(self):
        """The Interface status map OVS writes for a Linux device."""
        info = self._link.ethtool_drvinfo()
        if info is None:
            return {}
        return dict(zip(("driver_name", "driver_version", "firmware_version"), info))


def _bpf_program(tagged):
    """A classic BPF socket filter keeping this socket's share of the frames:
    never the interface's own transmissions (PACKET_OUTGOING), and only the
    frames whose VLAN tag the kernel stripped (TAGGED) or only the others."""
    code = [
        (0x20, 0, 0, SKF_AD_OFF + SKF_AD_PKTTYPE),        # ld [pkttype]
        (0x15, 3, 0, PACKET_OUTGOING),                     # jeq OUTGOING -> drop
        (0x20, 0, 0, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT),  # ld [vlan_avail]
        (0x15, 1, 0, 0) if tagged else (0x15, 0, 1, 0),    # jeq 0 -> keep/drop
        (0x06, 0, 0, 0x40000),                             # ret: whole frame
        (0x06, 0, 0, 0),                                   # ret: drop
    ]
    return b"".join(struct.pack("=HBBI", c, jt, jf, k & 0xffffffff)
                    for c, jt, jf, k in code)


def _attach_filter(sock, program):
    buf = ctypes.create_string_buffer(program)
    fprog = struct.pack("@HP", len(program) // 8, ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


def _packet_socket(name, ifindex, tagged):
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    except OSError as e:            # EPERM without CAP_NET_RAW
        raise open_error(name, e.errno) from None
    try:
        _attach_filter(sock, _bpf_program(tagged))
        if tagged:
            sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        sock.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
        try:
            sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        except OSError:
            pass                # kernel < 4.20: the filter drops them instead
        _set_big_buffer(sock, SO_RCVBUFFORCE, socket.SO_RCVBUF, 4 << 20)
        _set_big_buffer(sock, SO_SNDBUFFORCE, socket.SO_SNDBUF, 4 << 20)
        try:
            sock.bind((name, ETH_P_ALL))
        except OSError as e:
            raise open_error(name, e.errno) from None
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class NetdevLinux(LinkQueries, Netdev):
    """Two packet sockets share the interface's frames through BPF filters:
    the untagged ones (nearly all) are read with the cheap recv_into, the
    ones whose VLAN tag the kernel stripped with recvmsg_into and
    PACKET_AUXDATA, which costs twice as much.  fileno() is an epoll
    descriptor over both."""

    TYPE = "system"

    def __init__(self, name, options=None):
        super().__init__(name, options)
        self.set_config(options)
        ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._link = LinkIoctl(name, ctl)
        socks = []
        try:
            try:
                ifindex = self._link.ifindex()
            except NetdevError as e:
                raise open_error(name, e.errno) from None
            socks.append(_packet_socket(name, ifindex, tagged=False))
            socks.append(_packet_socket(name, ifindex, tagged=True))
            socks[0].setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP,
                                struct.pack("=iHH8s", ifindex, PACKET_MR_PROMISC, 0, b""))
            self._epoll = select.epoll()
            for sk in socks:
                self._epoll.register(sk.fileno(), select.EPOLLIN)
        except BaseException:
            for sk in socks:
                sk.close()
            ctl.close()
            raise
        self._ctl = ctl
        self._sock, self._vlan_sock = socks
        self._vlan_fd = self._vlan_sock.fileno()
        self._hdr = bytearray(VNET_HDR_LEN)
        self._buf = bytearray(VNET_HDR_LEN + MAX_FRAME)
        self._mv = memoryview(self._buf)
        self._bufs = [memoryview(self._hdr), memoryview(self._buf)]
        self.rx_dropped = self.rx_errors = self.tx_dropped = self.tx_errors = 0
        self._gro = bool(self._link.ethtool_tso())
        self._tx = self._rx = None
        if mmsg.available():
            fd = self._sock.fileno()
            self._tx = mmsg.Sender(fd, TX_BATCH, VNET_HDR_LEN)
            self._rx = mmsg.Receiver(fd, RX_BATCH, VNET_HDR_LEN + MAX_FRAME,
                                     VNET_HDR_LEN, _MIN_READ)

    def fileno(self):
        return self._epoll.fileno()

    def rx_batch(self, max_n=32):
        # Which of the two sockets have frames: one cheap epoll call, where
        # trying the (nearly always empty) tagged one would cost a failed
        # read and an exception.
        tagged = untagged = False
        for fd, _ in self._epoll.poll(0):
            if fd == self._vlan_fd:
                tagged = True
            else:
                untagged = True
        out = self._rx_tagged(max(1, max_n // 2)) if tagged else []
        if not untagged:
            return out
        rx = self._rx
        if rx is not None and max_n > len(out):
            got = rx.recv(max_n - len(out))
            if rx.errors:
                self.rx_errors += rx.errors
                rx.errors = 0
            if got is None:
                self.rx_errors += 1
            elif out:
                out += got
            else:
                out = got
            return out
        append = out.append
        recv_into, buf, mv = self._sock.recv_into, self._buf, self._mv
        size = len(buf)
        for _ in range(max_n - len(out)):
            try:
                n = recv_into(buf, size, _MSG_TRUNC)
            except BlockingIOError:
                break
            except InterruptedError:
                continue
            except OSError:
                self.rx_errors += 1
                break
            if n > size or n < _MIN_READ:
                self.rx_errors += 1
                continue
            append(Packet(bytes(mv[VNET_HDR_LEN:n]),
                          bytes(mv[:VNET_HDR_LEN]) if buf[0] or buf[1] else None))
        return out

    def _rx_tagged(self, max_n):
        out = []
        recv = self._vlan_sock.recvmsg_into
        bufs, hdr = self._bufs, self._hdr
        data_mv = bufs[1]
        for _ in range(max_n):
            try:
                n, anc, flags, _ = recv(bufs, _ANC_SIZE)
            except BlockingIOError:
                break
            except InterruptedError:
                continue
            except OSError:
                self.rx_errors += 1
                break
            if flags & _MSG_TRUNC or n < _MIN_READ:
                self.rx_errors += 1
                continue
            vnet = bytes(hdr) if hdr[0] or hdr[1] else None
            data = bytes(data_mv[:n - VNET_HDR_LEN])
            for level, kind, cdata in anc:
                if level == SOL_PACKET and kind == PACKET_AUXDATA:
                    status, _, _, _, _, tci, tpid = _AUXDATA.unpack_from(cdata)
                    if tci or status & TP_STATUS_VLAN_VALID:
                        if not status & TP_STATUS_VLAN_TPID_VALID:
                            tpid = 0x8100
                        data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
                        if vnet is not None:
                            vnet = _shift_vnet(vnet, 4)
            out.append(Packet(data, vnet))
        return out

    def send_batch(self, packets):
        tx = self._tx
        if self._gro and len(packets) > 1:
            packets = gro.coalesce(packets)
        if tx is not None and len(packets) > 1:
            _, dropped, errors = tx.send(packets)
            self.tx_dropped += dropped
            self.tx_errors += errors
            return
        sock = self._sock
        send, sendmsg = sock.send, sock.sendmsg
        none = VNET_HDR_NONE
        for p in packets:
            if type(p) is Packet:
                data, vnet = p.data, p.vnet or none
            else:
                data, vnet = p, none
            try:
                # One buffer is cheaper for small frames; two spare a big
                # super-packet a copy.
                if len(data) <= 2048:
                    send(vnet + data)
                else:
                    sendmsg((vnet, data))
            except (BlockingIOError, InterruptedError):
                self.tx_dropped += 1
            except OSError as e:
                if e.errno in (errno.ENOBUFS, errno.ENOMEM):
                    self.tx_dropped += 1
                else:
                    self.tx_errors += 1

    def get_stats(self):
        """The kernel's counters for the interface plus what the socket
        dropped or could not send."""
        self._gro = bool(self._link.ethtool_tso())     # (followed as often as the stats)
        s = kernel_stats(self._link.ifindex())
        for f in ("rx_dropped", "rx_errors", "tx_dropped", "tx_errors"):
            v = getattr(s, f)
            if v != 2 ** 64 - 1:
                setattr(s, f, v + getattr(self, f))
        return s

    def _destruct(self):
        self._epoll.close()
        self._sock.close()
        self._vlan_sock.close()
        self._ctl.close()


def _shift_vnet(vnet, delta):
    """virtio_net_hdr for the same frame with DELTA bytes inserted before
    the network header (a VLAN tag put back)."""
    flags, gso_type, hdr_len, gso_size, csum_start, csum_offset = \
        struct.unpack("=BBHHHH", vnet)
    if flags & VIRTIO_NET_HDR_F_NEEDS_CSUM:
        csum_start += delta
    if hdr_len:
        hdr_len += delta
    return struct.pack("=BBHHHH", flags, gso_type, hdr_len, gso_size,
                       csum_start, csum_offset)


register_provider("system", NetdevLinux)
