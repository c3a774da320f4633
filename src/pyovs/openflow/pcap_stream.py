"""OpenFlow messages out of a packet capture, as ``ovs-ofctl ofp-parse-pcap``.

OVS's tcp_reader (lib/pcap-file.c) reassembles TCP streams just well
enough for a capture taken on a quiet link, and this module does the same
thing in the same way, so the two print the same messages:

- a stream is a direction: (source IP, destination IP, source port,
  destination port) of IPv4 TCP segments;
- the first segment of a direction starts its stream: a SYN expects its
  sequence number plus one next, any other segment its own (so a capture
  that missed the handshake still reads); a SYN on a known stream starts
  it again, its buffer emptied;
- a FIN or RST ends the stream, whatever its sequence number (its payload,
  if any, is dropped); the next segment starts a new one;
- a segment whose sequence number is the expected one appends its payload
  to the stream's buffer; any other (retransmission, out of order) is
  dropped;
- after each appended segment the complete OpenFlow messages at the front
  of the buffer are taken off and reported; a header whose length is
  shorter than a header stops that stream's parsing for good (OVS never
  skips it either).

Only segments to or from an OpenFlow port are read: 6653 and 6633 by
default, or the ports given.

Public API:
  TcpReader().run(flow, packet) -> the stream's buffer (a bytearray) after
    appending PACKET's payload, or None (not appended)
  parse_pcap(path_or_file, ports=()) -> iterator of
    (timestamp, flow, message bytes); raises netdev.pcap.PcapError
  OFP_PORT, OFP_OLD_PORT
"""

import struct

from ..netdev.pcap import PcapReader
from ..packet.flow import flow_extract

OFP_PORT, OFP_OLD_PORT = 6653, 6633
ETH_TYPE_IP, IPPROTO_TCP = 0x0800, 6
TCP_FIN, TCP_SYN, TCP_RST = 0x01, 0x02, 0x04
LINKTYPE_LINUX_SLL = 113

_SEQ = struct.Struct("!I")


def _tcp_payload(packet, offsets):
    """(seq, flags, payload) of PACKET's TCP segment, OFFSETS from
    flow_extract(); None if the TCP header is not all there."""
    l3, l4 = offsets
    if l4 is None:
        return None
    ip_end = l3 + struct.unpack_from("!H", packet, l3 + 2)[0]
    end = min(len(packet), ip_end)      # Ethernet padding is not payload
    tcp_len = (packet[l4 + 12] >> 4) * 4
    if l4 + tcp_len > end:
        return None
    seq = _SEQ.unpack_from(packet, l4 + 4)[0]
    return seq, packet[l4 + 13], packet[l4 + tcp_len:end]


class TcpReader:
    """OVS's tcp_reader: see the module docstring."""

    def __init__(self):
        self.streams = {}       # (nw_src, nw_dst, tp_src, tp_dst) -> [seq, buffer]

    def run(self, flow, packet, offsets):
        if flow.get("dl_type") != ETH_TYPE_IP or flow.get("nw_proto") != IPPROTO_TCP:
            return None
        seg = _tcp_payload(packet, offsets)
        if seg is None:
            return None
        seq, flags, payload = seg
        key = (flow.get("nw_src"), flow.get("nw_dst"),
               flow.get("tp_src"), flow.get("tp_dst"))
        stream = self.streams.get(key)
        if stream is None:
            stream = self.streams[key] = [seq, bytearray()]
        if flags & TCP_SYN:
            stream[:] = [(seq + 1) & 0xffffffff, bytearray()]
            return None
        if flags & (TCP_FIN | TCP_RST):
            del self.streams[key]
            return None
        if seq != stream[0]:
            return None
        stream[1] += payload
        stream[0] = (seq + len(payload)) & 0xffffffff
        return stream[1]


def _is_openflow_port(port, ports):
    if ports:
        return port in ports
    return port in (OFP_PORT, OFP_OLD_PORT)


def _to_ethernet(data, network):
    """A Linux cooked capture's record as an Ethernet frame (OVS reads
    those too): the protocol field becomes the Ethertype."""
    if network != LINKTYPE_LINUX_SLL or len(data) < 16:
        return data
    return bytes(12) + data[14:]


def parse_pcap(source, ports=()):
    """Each OpenFlow message in the capture SOURCE, in capture order, as
    (timestamp, flow, message); PORTS: the OpenFlow ports (ints)."""
    reader = TcpReader()
    with PcapReader(source) as pcap:
        for when, data in pcap:
            data = _to_ethernet(data, pcap.network)
            offsets = []
            flow = flow_extract(data, offsets=offsets)
            if not (flow.get("dl_type") == ETH_TYPE_IP
                    and flow.get("nw_proto") == IPPROTO_TCP
                    and (_is_openflow_port(flow.get("tp_src", 0), ports)
                         or _is_openflow_port(flow.get("tp_dst", 0), ports))):
                continue
            buf = reader.run(flow, data, offsets)
            if buf is None:
                continue
            while len(buf) >= 8:
                length = (buf[2] << 8) | buf[3]
                if length < 8 or len(buf) < length:
                    break
                msg = bytes(buf[:length])
                del buf[:length]
                yield when, flow, msg
