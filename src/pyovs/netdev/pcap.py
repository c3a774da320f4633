"""pcap files, as OVS's lib/pcap-file writes and reads them.

OVS writes the classic libpcap format in host byte order: the 24-byte global
header (magic 0xa1b2c3d4, version 2.4, snaplen 1518, link type 1 = Ethernet)
then one 16-byte record header (seconds, microseconds, included length,
original length) per packet.  The reader also takes the other byte order and
the nanosecond variant, and refuses a record longer than 0xffff bytes as OVS
does, so a corrupt file cannot make it allocate without bound.

Public API:
    PcapWriter(path_or_file, append=False) .write(packet, ts=None) .flush() .close()
    PcapReader(path_or_file): iterate -> (ts_float, bytes); .read() -> next or None
    read_pcap(path) -> list of bytes;  PcapError
"""

import struct
import sys
import time

PCAP_MAGIC = 0xa1b2c3d4
PCAP_MAGIC_NSEC = 0xa1b23c4d
SNAPLEN = 1518
LINKTYPE_ETHERNET = 1
MAX_RECORD = 0xffff

_GLOBAL = struct.Struct("=IHHiIII")
_RECORD = struct.Struct("=IIII")


class PcapError(Exception):
    pass


class PcapWriter:
    """Write packets to a pcap file: a new one (OVS's ovs_pcap_open(.., "wb"))
    or, with APPEND, the end of an existing one, the header written only if
    it is empty ("ab", as netdev-dummy opens tx_pcap and rxq_pcap)."""

    def __init__(self, target, append=False):
        if hasattr(target, "write"):
            self._f, self._own = target, False
        else:
            self._f, self._own = open(target, "ab" if append else "wb"), True
        if not append or self._f.tell() == 0:
            self._f.write(_GLOBAL.pack(PCAP_MAGIC, 2, 4, 0, 0, SNAPLEN,
                                       LINKTYPE_ETHERNET))
            self._f.flush()

    def write(self, packet, ts=None):
        """Write one record; like OVS, the whole packet, flushed at once so a
        reader sees it."""
        if ts is None:
            ts = time.time()
        sec = int(ts)
        usec = int((ts - sec) * 1000000)
        n = len(packet)
        self._f.write(_RECORD.pack(sec, usec, n, n))
        self._f.write(packet)
        self._f.flush()

    def flush(self):
        self._f.flush()

    def close(self):
        if self._own and not self._f.closed:
            self._f.close()


class PcapReader:
    """Read records from a pcap file."""

    def __init__(self, source):
        if hasattr(source, "read"):
            self._f, self._own = source, False
        else:
            self._f, self._own = open(source, "rb"), True
        hdr = self._f.read(_GLOBAL.size)
        if len(hdr) != _GLOBAL.size:
            raise PcapError("failed to read pcap header: %s"
                            % ("end of file" if not hdr else "truncated"))
        magic = struct.unpack_from("=I", hdr)[0]
        for order in ("<", ">"):
            m = struct.unpack_from(order + "I", hdr)[0]
            if m in (PCAP_MAGIC, PCAP_MAGIC_NSEC):
                break
        else:
            raise PcapError("bad magic 0x%08x reading pcap file "
                            "(expected 0x%08x or 0x%08x)"
                            % (magic, PCAP_MAGIC, PCAP_MAGIC_NSEC))
        self._nsec = m == PCAP_MAGIC_NSEC
        self._record = struct.Struct(order + "IIII")
        (_, self.version_major, self.version_minor, _, _, self.snaplen,
         self.network) = struct.unpack(order + "IHHiIII", hdr)
        self.swapped = order != ("<" if sys.byteorder == "little" else ">")

    def read(self):
        """The next (timestamp, packet), or None at end of file."""
        hdr = self._f.read(self._record.size)
        if not hdr:
            return None
        if len(hdr) != self._record.size:
            raise PcapError("failed to read pcap record header: truncated")
        sec, frac, incl, _orig = self._record.unpack(hdr)
        if incl > MAX_RECORD:
            raise PcapError("length %d in pcap record too big" % incl)
        data = self._f.read(incl)
        if len(data) != incl:
            raise PcapError("failed to read pcap packet: truncated")
        return sec + frac / (1e9 if self._nsec else 1e6), data

    def __iter__(self):
        while True:
            rec = self.read()
            if rec is None:
                return
            yield rec

    def close(self):
        if self._own:
            self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_pcap(path):
    """All packets of the pcap file at PATH, as bytes."""
    with PcapReader(path) as r:
        return [data for _, data in r]
