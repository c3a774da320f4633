"""The network device interface, as OVS's netdev provider layer, pared down.

A netdev is a port's packet I/O: bytes in, bytes out, plus the few link
queries the bridge writes back into the Interface table.  It knows nothing of
flows or OpenFlow.  Each provider ("system", "internal", "dummy", "patch")
subclasses Netdev and registers itself under its type name; ``netdev.open``
looks the type up, so the bridge never imports a provider directly.

Packets
    ``rx_batch(max_n)`` returns a list of Packet objects: ``data`` is the whole
    Ethernet frame (VLAN tag in place, as it was on the wire) and ``vnet`` is
    None or the 10-byte virtio_net_hdr that describes an offloaded packet: a
    TCP segmentation-offload super-packet larger than the MTU, or a packet
    whose checksum is still to be filled in.  ``send_batch(packets)`` takes
    Packet objects or plain bytes-like frames; a provider that speaks
    virtio_net_hdr (system, internal) hands ``vnet`` back to the kernel so the
    super-packet leaves whole.

Errors
    Opening or configuring a device raises NetdevError, whose text is what
    OVS writes into the Interface error column ("could not open network
    device veth9 (No such device)", "p0: patch type requires valid 'peer'
    argument") and whose ``errno`` is the cause.  I/O never raises: a failed send is counted as
    tx_dropped (or tx_errors) and the batch carries on.

Public API:
    open(name, type="system", options=None) -> Netdev   (alias netdev_open)
    register_provider(type_name, cls), provider_types(), lookup(name), open_netdevs()
    Netdev: .name .type .fileno() rx_batch(max_n) send_batch(packets)
            get_etheraddr() set_etheraddr(mac) get_ifindex() get_mtu() set_mtu(n)
            get_carrier() get_stats() get_admin_state() set_admin_state(up)
            get_features() get_speed() get_status() set_config(options)
            get_config() close()
    NetdevVport: a Netdev with no device (patch, tunnels): its own MAC,
            admin state and counters, count_rx/count_tx(n_packets, n_bytes)
    Packet(data, vnet=None), VirtioNetHdr, NetdevStats, NetdevError,
    features_to_bps(features), mac_to_str(mac), mac_from_str(text)
"""

import errno as _errno
import os
import struct
from collections import namedtuple

from pyovs.util.vlog import Vlog

vlog = Vlog("netdev")

__all__ = [
    "Netdev", "NetdevError", "NetdevStats", "Packet", "VirtioNetHdr",
    "open", "netdev_open", "register_provider", "provider_types",
    "features_to_bps", "mac_to_str", "mac_from_str", "random_mac",
    "VNET_HDR_LEN", "VIRTIO_NET_HDR_F_NEEDS_CSUM", "VIRTIO_NET_HDR_GSO_NONE",
    "VIRTIO_NET_HDR_GSO_TCPV4", "VIRTIO_NET_HDR_GSO_UDP",
    "VIRTIO_NET_HDR_GSO_TCPV6", "VIRTIO_NET_HDR_GSO_ECN",
]


# struct virtio_net_hdr (linux/virtio_net.h), native byte order as the
# kernel's packet socket and tap device use it (little endian on x86).
VNET_HDR_LEN = 10
VIRTIO_NET_HDR_F_NEEDS_CSUM = 1
VIRTIO_NET_HDR_F_DATA_VALID = 2
VIRTIO_NET_HDR_GSO_NONE = 0
VIRTIO_NET_HDR_GSO_TCPV4 = 1
VIRTIO_NET_HDR_GSO_UDP = 3
VIRTIO_NET_HDR_GSO_TCPV6 = 4
VIRTIO_NET_HDR_GSO_ECN = 0x80
_VNET = struct.Struct("=BBHHHH")
VNET_HDR_NONE = bytes(VNET_HDR_LEN)


class VirtioNetHdr(namedtuple("VirtioNetHdr",
                              "flags gso_type hdr_len gso_size csum_start csum_offset")):
    """A decoded struct virtio_net_hdr."""
    __slots__ = ()

    @classmethod
    def unpack(cls, raw):
        if len(raw) < VNET_HDR_LEN:
            raise ValueError("virtio_net_hdr needs %d bytes, got %d"
                             % (VNET_HDR_LEN, len(raw)))
        return cls(*_VNET.unpack_from(raw))

    def pack(self):
        return _VNET.pack(*self)

    @property
    def is_gso(self):
        return (self.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE


class Packet:
    """One frame and its offload metadata (None: an ordinary packet)."""
    __slots__ = ("data", "vnet")

    def __init__(self, data, vnet=None):
        self.data = data
        self.vnet = vnet

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        return "Packet(%d bytes%s)" % (
            len(self.data), "" if self.vnet is None else ", %r" % (self.offload(),))

    def offload(self):
        """The decoded virtio_net_hdr, or None."""
        return None if self.vnet is None else VirtioNetHdr.unpack(self.vnet)

    def is_gso(self):
        return self.vnet is not None and (self.vnet[1] & 0x7f) != 0


class NetdevError(Exception):
    """A netdev failure with OVS's text; .errno is the cause (0 if none)."""

    def __init__(self, text, errno=0):
        super().__init__(text)
        self.errno = errno


def open_error(name, err):
    """OVS's text for a device that cannot be opened (bridge.c)."""
    return NetdevError("could not open network device %s (%s)"
                       % (name, os.strerror(err)), err)


# struct netdev_stats (lib/netdev.h): field names as OVS's Interface statistics.
_STATS_FIELDS = (
    "rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors",
    "tx_errors", "rx_dropped", "tx_dropped", "multicast", "collisions",
    "rx_length_errors", "rx_over_errors", "rx_crc_errors", "rx_frame_errors",
    "rx_fifo_errors", "rx_missed_errors", "tx_aborted_errors",
    "tx_carrier_errors", "tx_fifo_errors", "tx_heartbeat_errors",
    "tx_window_errors",
)

# The Interface statistics keys OVS writes (vswitchd/bridge.c) for the
# netdev_stats fields; a counter the device does not support is left out.
_INTERFACE_STATS = (
    ("rx_packets", "rx_packets"), ("tx_packets", "tx_packets"),
    ("rx_bytes", "rx_bytes"), ("tx_bytes", "tx_bytes"),
    ("rx_dropped", "rx_dropped"), ("tx_dropped", "tx_dropped"),
    ("rx_errors", "rx_errors"), ("tx_errors", "tx_errors"),
    ("rx_frame_err", "rx_frame_errors"), ("rx_over_err", "rx_over_errors"),
    ("rx_crc_err", "rx_crc_errors"), ("collisions", "collisions"),
    ("rx_missed_errors", "rx_missed_errors"),
    ("rx_multicast_packets", "multicast"),
)

#: OVS's value for a counter the device does not support.
STAT_UNSUPPORTED = 2 ** 64 - 1


class NetdevStats:
    """struct netdev_stats: every counter, STAT_UNSUPPORTED when unknown."""
    __slots__ = _STATS_FIELDS
    FIELDS = _STATS_FIELDS

    def __init__(self, **counters):
        for f in _STATS_FIELDS:
            setattr(self, f, counters.pop(f, STAT_UNSUPPORTED))
        if counters:
            raise TypeError("unknown netdev stats: %s" % ", ".join(sorted(counters)))

    def to_dict(self):
        return {f: getattr(self, f) for f in _STATS_FIELDS}

    def interface_statistics(self):
        """The Interface table's statistics map: supported counters only."""
        out = {}
        for key, field in _INTERFACE_STATS:
            v = getattr(self, field)
            if v != STAT_UNSUPPORTED:
                out[key] = v
        return out

    def __eq__(self, other):
        return isinstance(other, NetdevStats) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return "NetdevStats(%s)" % ", ".join(
            "%s=%d" % (f, getattr(self, f)) for f in _STATS_FIELDS
            if getattr(self, f) != STAT_UNSUPPORTED)


# enum netdev_features (lib/netdev.h).
NETDEV_F_10MB_HD = 1 << 0
NETDEV_F_10MB_FD = 1 << 1
NETDEV_F_100MB_HD = 1 << 2
NETDEV_F_100MB_FD = 1 << 3
NETDEV_F_1GB_HD = 1 << 4
NETDEV_F_1GB_FD = 1 << 5
NETDEV_F_10GB_FD = 1 << 6
NETDEV_F_40GB_FD = 1 << 7
NETDEV_F_100GB_FD = 1 << 8
NETDEV_F_1TB_FD = 1 << 9
NETDEV_F_OTHER = 1 << 10
NETDEV_F_COPPER = 1 << 11
NETDEV_F_FIBER = 1 << 12
NETDEV_F_AUTONEG = 1 << 13
NETDEV_F_PAUSE = 1 << 14
NETDEV_F_PAUSE_ASYM = 1 << 15

_SPEED_FEATURES = (  # (Mbit/s, feature), fastest first, as netdev_features_to_bps
    (1000000, NETDEV_F_1TB_FD), (100000, NETDEV_F_100GB_FD),
    (40000, NETDEV_F_40GB_FD), (10000, NETDEV_F_10GB_FD),
    (1000, NETDEV_F_1GB_HD | NETDEV_F_1GB_FD),
    (100, NETDEV_F_100MB_HD | NETDEV_F_100MB_FD),
    (10, NETDEV_F_10MB_HD | NETDEV_F_10MB_FD),
)


def features_to_bps(features, default=0):
    """The fastest speed in FEATURES, bits per second (OVS's
    netdev_features_to_bps)."""
    for mbps, bits in _SPEED_FEATURES:
        if features & bits:
            return mbps * 1000000
    return default


def speed_to_features(mbps, full_duplex=True):
    """The NETDEV_F_* bit for a link speed in Mbit/s (ethtool's), or
    NETDEV_F_OTHER."""
    table = {10: (NETDEV_F_10MB_FD, NETDEV_F_10MB_HD),
             100: (NETDEV_F_100MB_FD, NETDEV_F_100MB_HD),
             1000: (NETDEV_F_1GB_FD, NETDEV_F_1GB_HD),
             10000: (NETDEV_F_10GB_FD, NETDEV_F_10GB_FD),
             40000: (NETDEV_F_40GB_FD, NETDEV_F_40GB_FD),
             100000: (NETDEV_F_100GB_FD, NETDEV_F_100GB_FD),
             1000000: (NETDEV_F_1TB_FD, NETDEV_F_1TB_FD)}
    pair = table.get(mbps)
    if pair is None:
        return NETDEV_F_OTHER
    return pair[0] if full_duplex else pair[1]


def mtu_error(name, err):
    """OVS's text for an MTU the device refused (netdev.c)."""
    return NetdevError("failed to set MTU for network device %s: %s"
                       % (name, os.strerror(err)), err)


def mac_to_str(mac):
    """6 bytes -> "aa:55:aa:55:00:01"."""
    return ":".join("%02x" % b for b in mac)


def mac_from_str(text):
    """"aa:55:aa:55:00:01" -> 6 bytes (ValueError otherwise)."""
    parts = text.split(":")
    if len(parts) != 6 or not all(1 <= len(p) <= 2 for p in parts):
        raise ValueError("%s: invalid Ethernet address" % text)
    try:
        return bytes(int(p, 16) for p in parts)
    except ValueError:
        raise ValueError("%s: invalid Ethernet address" % text) from None


def random_mac():
    """A random unicast, locally administered address (eth_addr_random +
    eth_addr_mark_random)."""
    ea = bytearray(os.urandom(6))
    ea[0] = (ea[0] & ~0x01 & 0xff) | 0x02
    return bytes(ea)


def as_mac(mac):
    """Accept 6 bytes or the text form; return 6 bytes."""
    if isinstance(mac, str):
        return mac_from_str(mac)
    mac = bytes(mac)
    if len(mac) != 6:
        raise ValueError("Ethernet address must be 6 bytes, not %d" % len(mac))
    return mac


class Netdev:
    """Base class of every provider.  Subclasses set TYPE and override what
    their device supports; the defaults answer as OVS does for an operation
    a provider lacks (EOPNOTSUPP)."""

    TYPE = None

    def __init__(self, name, options=None):
        self.name = name
        self.type = self.TYPE
        self._options = {}
        self._refcount = 1
        self.closed = False

    # -- configuration ---------------------------------------------------
    def set_config(self, options):
        """Apply Interface options.  A device without options ignores any it
        is given with a warning, as OVS's netdev_set_config does."""
        if options:
            vlog.warn("%s: arguments provided to device that is not "
                      "configurable", self.name)

    def get_config(self):
        return dict(self._options)

    # -- packet I/O ------------------------------------------------------
    def fileno(self):
        """A descriptor readable when rx_batch has packets, or None."""
        return None

    def rx_batch(self, max_n=32):
        return []

    def send_batch(self, packets):
        raise NotImplementedError

    # -- link queries ----------------------------------------------------
    def _unsupported(self, what):
        raise NetdevError("%s: %s not supported by %s device"
                          % (self.name, what, self.type), _errno.EOPNOTSUPP)

    def get_etheraddr(self):
        self._unsupported("getting Ethernet address")

    def set_etheraddr(self, mac):
        self._unsupported("setting Ethernet address")

    def get_ifindex(self):
        self._unsupported("getting ifindex")

    def get_mtu(self):
        self._unsupported("getting MTU")

    def set_mtu(self, mtu):
        self._unsupported("setting MTU")

    def get_carrier(self):
        return True

    def get_stats(self):
        return NetdevStats()

    def get_admin_state(self):
        return True

    def set_admin_state(self, up):
        self._unsupported("setting admin state")

    def get_features(self):
        """(current, advertised, supported, peer) NETDEV_F_* bitmaps."""
        self._unsupported("getting features")

    def get_status(self):
        """Extra facts for the Interface status column (a dict of strings)."""
        return {}

    def get_speed(self):
        """Link speed in bits per second, as the Interface link_speed column
        (0 when unknown)."""
        try:
            current = self.get_features()[0]
        except NetdevError:
            return 0
        return features_to_bps(current)

    # -- lifetime --------------------------------------------------------
    def close(self):
        """Drop one reference; the device is destroyed with the last one."""
        if self.closed:
            return
        self._refcount -= 1
        if self._refcount > 0:
            return
        self.closed = True
        if _open_netdevs.get(self.name) is self:
            del _open_netdevs[self.name]
        self._destruct()

    def _destruct(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<%s %s type=%s>" % (type(self).__name__, self.name, self.type)


class NetdevVport(Netdev):
    """A port with no device of its own (patch, tunnels), as OVS's
    netdev-vport: a random Ethernet address the bridge may change, admin
    state (the carrier follows it) and the counters the datapath bumps
    through count_rx/count_tx."""

    def __init__(self, name, options=None):
        super().__init__(name, options)
        self._hwaddr = random_mac()
        self._up = True
        self.rx_packets = self.rx_bytes = self.tx_packets = self.tx_bytes = 0

    def count_rx(self, n_packets, n_bytes):
        self.rx_packets += n_packets
        self.rx_bytes += n_bytes

    def count_tx(self, n_packets, n_bytes):
        self.tx_packets += n_packets
        self.tx_bytes += n_bytes

    def get_stats(self):
        return NetdevStats(rx_packets=self.rx_packets, rx_bytes=self.rx_bytes,
                           tx_packets=self.tx_packets, tx_bytes=self.tx_bytes)

    def get_etheraddr(self):
        return self._hwaddr

    def set_etheraddr(self, mac):
        self._hwaddr = as_mac(mac)

    def get_admin_state(self):
        return self._up

    def set_admin_state(self, up):
        self._up = bool(up)

    def get_carrier(self):
        return self._up


_providers = {}
_open_netdevs = {}


def register_provider(type_name, cls):
    """Make TYPE_NAME openable with ``open(name, TYPE_NAME)``."""
    _providers[type_name] = cls


def provider_types():
    _load_builtin_providers()
    return sorted(_providers)


_builtins_loaded = False


def _load_builtin_providers():
    global _builtins_loaded
    if not _builtins_loaded:
        from pyovs.netdev import dummy, linux, patch, tap  # noqa: F401 (register)
        _builtins_loaded = True


def open(name, type="system", options=None):  # noqa: A001 (OVS's netdev_open)
    """Open network device NAME of TYPE (OVS's netdev_open).

    An already open device of the same type is shared (reference counted);
    each open must be matched by a close().  Unknown types raise NetdevError
    with OVS's text."""
    _load_builtin_providers()
    if not type:
        type = "system"
    if not name or len(name) > 255 or "\0" in name:
        raise NetdevError("could not open network device %r (Invalid argument)"
                          % (name,), _errno.EINVAL)
    dev = _open_netdevs.get(name)
    if dev is not None:
        if dev.type != type:
            raise NetdevError("%s: could not create netdev of type %s "
                              "(already open as %s)" % (name, type, dev.type),
                              _errno.EEXIST)
        dev._refcount += 1
        if options is not None:
            dev.set_config(options)
        return dev
    cls = _providers.get(type)
    if cls is None:
        vlog.warn("could not create netdev %s of unknown type %s", name, type)
        raise open_error(name, _errno.EAFNOSUPPORT)
    dev = cls(name, options)
    _open_netdevs[name] = dev
    return dev


netdev_open = open


def open_netdevs():
    """Every open netdev."""
    return list(_open_netdevs.values())


def lookup(name):
    """The open netdev NAME, or None (OVS's netdev_from_name)."""
    return _open_netdevs.get(name)
