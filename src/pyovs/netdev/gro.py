"""Software receive offload: consecutive TCP segments of one stream, in a
batch a port is about to send, leave as one super-packet (as the kernel's
GRO merges what a NIC receives).

Why: the userspace datapath moves a TCP stream that crossed a tunnel as
MTU-sized segments (a tunnel carries no super-packets: this kernel refuses
UDP-tunnel GSO from a packet socket, so tnl_push cuts them, netdev/gso).
Handed one by one to the VM's veth, each segment costs a trip through the
kernel and the receiving TCP stack, and earns an ACK that crosses both
switches back.  Merged, a batch of them costs one.  The wire never sees a
merged packet: it goes to a port that takes virtio_net_hdr frames (a veth
or tap, whose peer stack takes it as GRO output; a NIC without TSO gets it
cut again by the kernel).

The rules are the kernel's tcp_gro_receive / inet_gro_receive, so a merged
packet resegments (netdev/gso.segment_tcp, or the kernel's TSO) into
exactly the frames that were merged:

* Ethernet (untagged) + IPv4 without options or fragments, or IPv6 with
  TCP as the next header; the frame is exactly as long as the IP packet;
  a TCP payload (pure ACKs are left alone) and the ACK flag; no SYN, RST
  or URG.
* Equal across the run: the Ethernet addresses, IP TOS/traffic class,
  flow label, TTL/hop limit, DF, addresses, the TCP ports, ACK number,
  data offset, window, the other flags and every option byte (so TCP
  timestamps too).  Sequence numbers follow on, IPv4 identifications go up
  by one.
* Every segment but the last carries the first's payload size (the MSS of
  the super-packet); a shorter one, or one with PSH or FIN, ends the run;
  one with CWR starts a new run.  A run never passes 65,535 bytes of IP.
* The segments' TCP checksums (and IPv4 header checksums) are verified,
  since the merged packet's checksum is left to offload (NEEDS_CSUM): a
  run with a bad one leaves unmerged, and the receiver drops the bad
  segment as it would have.  They are verified together, as the sum of
  the run's sums (each is 0 modulo 0xffff when right), which costs about
  half of one sum per segment in Python: one damaged segment is always
  caught; damage to two segments that cancels exactly would pass, as
  often as damage within one segment that keeps its sum (1 in 65,535).

The super-packet has the first segment's headers with the total length,
IPv4 header checksum, FIN/PSH of the last segment, and in the TCP checksum
field the pseudo-header sum that offload expects; its virtio_net_hdr says
GSO TCPV4/TCPV6 (ECN if the first segment had CWR), gso_size the MSS.

The datapath's flow counters count the segments (they are counted before
output); the interface's counters, which are the kernel's, count a merged
packet once, as they count what GRO hands up.

Public API: coalesce(packets) -> list of Packet (or the frames given, when
nothing merges; a run of one is passed through as it came).
"""

import struct

from pyovs.netdev.base import (
    Packet, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_ECN,
    VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6)
from pyovs.netdev.gso import csum_add
from pyovs.packet.csum import word_sum

MIN_LEN = 128               # shorter frames are not worth merging
MAX_IP_LEN = 65535
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, TCP_CWR = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x80)
_REFUSE = TCP_SYN | TCP_RST | TCP_URG
_END = TCP_FIN | TCP_PSH
_VNET = struct.Struct("=BBHHHH")
_SEQ = struct.Struct("!I").unpack_from


def _segment(data):
    """(key, l4, end, seq, flags, ip id or None) of a mergeable TCP
    segment (END: where its payload starts), else None.  The key holds the
    bytes that must be equal along a run, in few slices."""
    n = len(data)
    if n < MIN_LEN:
        return None
    if data[12] == 8 and data[13] == 0:
        if data[14] != 0x45 or data[23] != 6 or data[20] & 0xbf or data[21]:
            return None             # options, not TCP, fragment (or reserved bit)
        if 14 + ((data[16] << 8) | data[17]) != n:
            return None
        end = 34 + (data[46] >> 4) * 4
        flags = data[47]
        if end <= 53 or end >= n or flags & _REFUSE or not flags & TCP_ACK:
            return None
        # Ethernet, version, TOS | DF, TTL, protocol | addresses, ports |
        # ACK number, data offset | window | options
        key = (data[:16] + data[20:24] + data[26:38] + data[42:47] + data[48:50]
               + data[54:end] + bytes((flags & ~(_END | TCP_CWR),)))
        return (key, 34, end, _SEQ(data, 38)[0], flags, (data[18] << 8) | data[19])
    if data[12] == 0x86 and data[13] == 0xdd:
        if data[20] != 6 or data[14] >> 4 != 6 or 54 + ((data[18] << 8) | data[19]) != n:
            return None
        end = 54 + (data[66] >> 4) * 4
        flags = data[67]
        if end <= 73 or end >= n or flags & _REFUSE or not flags & TCP_ACK:
            return None
        # Ethernet, version, class, label | next header, hop limit,
        # addresses, ports | ACK number, data offset | window | options
        key = (data[:18] + data[20:58] + data[62:67] + data[68:70] + data[74:end]
               + bytes((flags & ~(_END | TCP_CWR),)))
        return key, 54, end, _SEQ(data, 58)[0], flags, None
    return None


def _valid(data, l4):
    """True if DATA's TCP checksum (and IPv4 header checksum) verify."""
    if l4 == 34:
        if int.from_bytes(data[14:34], "big") % 0xffff:
            return False
        pseudo = word_sum(data[26:34])
    else:
        pseudo = word_sum(data[22:54])
    return (word_sum(data[l4:]) + pseudo + 6 + len(data) - l4) % 0xffff == 0


def _run_valid(frames, merged, l4, end):
    """True if the checksums of the segments FRAMES, merged into MERGED,
    verify together: their sums, summed, must be 0 modulo 0xffff.  The
    payloads are summed in MERGED, where they lie one after the other (and
    word-aligned, the MSS being even); an odd MSS verifies each segment."""
    if (len(frames[0]) - end) & 1:
        return all(_valid(f, l4) for f in frames)
    k = len(frames)
    if l4 == 34:
        if word_sum(b"".join([f[14:34] for f in frames])):
            return False
        pseudo = word_sum(frames[0][26:34])
    else:
        pseudo = word_sum(frames[0][22:54])
    total = (word_sum(memoryview(merged)[end:]) + word_sum(b"".join([f[l4:end] for f in frames]))
             + k * (pseudo + 6 - l4) + sum([len(f) for f in frames]))
    return total % 0xffff == 0


def _merge(frames, l4, end):
    """One super-packet (Packet) of FRAMES, a run of segments."""
    first, last = frames[0], frames[-1]
    mss = len(first) - end
    payload = sum(len(f) for f in frames) - len(frames) * end
    hdr = bytearray(first[:end])
    tcp_len = end - l4 + payload
    if l4 == 34:
        tot = tcp_len + 20
        hdr[16], hdr[17], hdr[24], hdr[25] = tot >> 8, tot & 0xff, 0, 0
        c = ~csum_add(hdr[14:34]) & 0xffff
        hdr[24], hdr[25] = c >> 8, c & 0xff
        pseudo = csum_add(hdr[26:34], 6 + tcp_len)
        gso_type = VIRTIO_NET_HDR_GSO_TCPV4
    else:
        hdr[18], hdr[19] = tcp_len >> 8, tcp_len & 0xff
        pseudo = csum_add(hdr[22:54], 6 + tcp_len)
        gso_type = VIRTIO_NET_HDR_GSO_TCPV6
    flags = first[l4 + 13]
    hdr[l4 + 13] = flags | (last[l4 + 13] & _END)
    hdr[l4 + 16], hdr[l4 + 17] = pseudo >> 8, pseudo & 0xff
    if flags & TCP_CWR:
        gso_type |= VIRTIO_NET_HDR_GSO_ECN
    vnet = _VNET.pack(VIRTIO_NET_HDR_F_NEEDS_CSUM, gso_type, end, mss, l4, 16)
    return Packet(b"".join([hdr] + [f[end:] for f in frames]), vnet)


def coalesce(packets):
    """PACKETS (Packet objects or frames) with each run of mergeable TCP
    segments replaced by one super-packet."""
    out = None              # made on the first merge
    run = []                # the frames of the current run
    done = 0                # packets[:done] are in OUT or merged
    for i, p in enumerate(packets):
        if p.__class__ is Packet:
            data = p.data if p.vnet is None else b""
        else:
            data = p
        # (byte 23: IPv4's protocol; byte 20: IPv6's next header)
        s = (_segment(data) if len(data) >= MIN_LEN and (data[23] == 6 or data[20] == 6)
             else None)
        if s is not None and run:
            key, l4, end, seq, flags, ipid = s
            plen = len(data) - end
            if (key == rkey and seq == nseq and plen <= mss and not flags & TCP_CWR
                    and total + plen <= MAX_IP_LEN
                    and (ipid is None or ipid == (last_id + 1) & 0xffff)):
                run.append(data)
                total += plen
                nseq, last_id = (seq + plen) & 0xffffffff, ipid
                if plen < mss or flags & _END:
                    out = _flush(packets, out, done, i + 1, run, rl4, rend)
                    run, done = [], i + 1
                continue
        if len(run) > 1:
            out = _flush(packets, out, done, i, run, rl4, rend)
            done = i
        run = []
        if s is not None:
            rkey, rl4, rend, seq, flags, last_id = s
            mss = len(data) - rend
            if not flags & _END:
                run = [data]
                total = rend - 14 + mss
                nseq = (seq + mss) & 0xffffffff
    if len(run) > 1:
        out = _flush(packets, out, done, len(packets), run, rl4, rend)
        done = len(packets)
    if out is None:
        return packets
    out += packets[done:]
    return out


def _flush(packets, out, done, stop, run, l4, end):
    """OUT (made if None) extended with packets[done:stop], whose tail is
    RUN, merged if every segment of it verifies."""
    if out is None:
        out = []
    head = stop - len(run)
    out += packets[done:head]
    merged = _merge(run, l4, end)
    if _run_valid(run, merged.data, l4, end):
        out.append(merged)
    else:
        out += packets[head:stop]
    return out
