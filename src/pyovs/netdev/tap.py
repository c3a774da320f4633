"""Type "internal": a Linux tap device, the bridge's local port.

Opening creates the tap (/dev/net/tun, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR),
gives it a random locally administered Ethernet address as OVS does (the
bridge may set another with set_etheraddr) and brings it up, so the host can
put an IP address on it at once.  The device is not persistent: closing the
descriptor, which close() does, deletes it.

TUNSETOFFLOAD announces checksum and TCP segmentation offload, so the host
stack hands the switch whole super-packets with their virtio_net_hdr, exactly
as a system port with PACKET_VNET_HDR does; Packet.vnet travels both ways.
The kernel's counters are the host's view, so get_stats swaps rx and tx (as
OVS's netdev_tap_get_stats does).
"""

import errno
import fcntl
import os
import socket
import struct

from pyovs.netdev.base import (
    VNET_HDR_LEN, VNET_HDR_NONE, Netdev, Packet, open_error, random_mac,
    register_provider, vlog)
from pyovs.netdev.linux import (
    IFNAMSIZ, IFF_UP, MAX_FRAME, LinkIoctl, LinkQueries, kernel_stats)
from pyovs.netdev.linux import _MIN_READ

TUNSETIFF = 0x400454ca
TUNSETOFFLOAD = 0x400454d0
TUNSETVNETHDRSZ = 0x400454d8
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
TUN_F_CSUM = 0x01
TUN_F_TSO4 = 0x02
TUN_F_TSO6 = 0x04
TUN_F_TSO_ECN = 0x08


class NetdevTap(LinkQueries, Netdev):
    TYPE = "internal"

    def __init__(self, name, options=None):
        super().__init__(name, options)
        self.set_config(options)
        if len(name.encode()) >= IFNAMSIZ:
            raise open_error(name, errno.ENAMETOOLONG)
        try:
            fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as e:
            vlog.warn("opening \"/dev/net/tun\" failed: %s", os.strerror(e.errno))
            raise open_error(name, e.errno) from None
        self._ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            try:
                ifr = struct.pack("16sH22x", name.encode(),
                                  IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)
                fcntl.ioctl(fd, TUNSETIFF, ifr)
            except OSError as e:
                vlog.warn("%s: creating tap device failed: %s", name,
                          os.strerror(e.errno))
                raise open_error(name, e.errno) from None
            fcntl.ioctl(fd, TUNSETVNETHDRSZ, struct.pack("=i", VNET_HDR_LEN))
            try:
                fcntl.ioctl(fd, TUNSETOFFLOAD,
                            TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)
            except OSError:
                pass                # old kernel: the host segments for us
            self._link = LinkIoctl(name, self._ctl)
            self._link.set_etheraddr(random_mac())
            self._link.update_flags(0, IFF_UP)
        except BaseException:
            os.close(fd)
            self._ctl.close()
            raise
        self._fd = fd
        self._buf = bytearray(VNET_HDR_LEN + MAX_FRAME)
        self._mv = memoryview(self._buf)
        self._bufs = [self._buf]
        self.rx_dropped = self.rx_errors = self.tx_dropped = self.tx_errors = 0

    def fileno(self):
        return self._fd

    def rx_batch(self, max_n=32):
        out = []
        append = out.append
        readv, fd, bufs, buf, mv = os.readv, self._fd, self._bufs, self._buf, self._mv
        for _ in range(max_n):
            try:
                n = readv(fd, bufs)
            except BlockingIOError:
                break
            except InterruptedError:
                continue
            except OSError:
                self.rx_errors += 1
                break
            if n < _MIN_READ:
                self.rx_errors += 1
                continue
            append(Packet(bytes(mv[VNET_HDR_LEN:n]),
                          bytes(mv[:VNET_HDR_LEN]) if buf[0] or buf[1] else None))
        return out

    def send_batch(self, packets):
        write, writev, fd, none = os.write, os.writev, self._fd, VNET_HDR_NONE
        for p in packets:
            if type(p) is Packet:
                data, vnet = p.data, p.vnet or none
            else:
                data, vnet = p, none
            try:
                if len(data) <= 2048:
                    write(fd, vnet + data)
                else:
                    writev(fd, (vnet, data))
            except (BlockingIOError, InterruptedError):
                self.tx_dropped += 1
            except OSError as e:
                if e.errno == errno.EIO:      # device down: the kernel drops
                    self.tx_dropped += 1
                else:
                    self.tx_errors += 1

    def get_stats(self):
        s = kernel_stats(self._link.ifindex(), swap=True)
        for f in ("rx_dropped", "rx_errors", "tx_dropped", "tx_errors"):
            v = getattr(s, f)
            if v != 2 ** 64 - 1:
                setattr(s, f, v + getattr(self, f))
        return s

    def _destruct(self):
        os.close(self._fd)
        self._ctl.close()


register_provider("internal", NetdevTap)
