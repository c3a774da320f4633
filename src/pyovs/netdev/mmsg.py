"""Batched socket I/O: one sendmmsg(2) or recvmmsg(2) per batch.

Python's socket module has neither call, so this module reaches libc through
ctypes.  Each Sender or Receiver is built once per socket with every array
the call needs preallocated (the mmsghdr vector, the iovecs, the receive
buffers); the per-packet work in the hot loop is a few item stores into
arrays that alias that memory, never a ctypes object created per packet.

A batch of frames goes out as a vector of messages of two iovecs each, the
10-byte virtio_net_hdr and the frame, so neither is copied to join them and
a TSO super-packet still leaves whole with its own header.

Sender.send(packets) (Packet objects or bytes-like frames) returns (sent, dropped, errors) as OVS's
netdev_linux_sock_batch_send counts them: the kernel sends the messages in
order and stops at the first failure; EAGAIN/ENOBUFS (no room in the
queue) end the batch and what was not sent is dropped; ENOMEM (no memory
for that frame, e.g. a super-packet the header describes wrongly) drops
that one frame and any other error (a frame the kernel refuses: EINVAL,
EMSGSIZE) counts it as an error; the rest of the batch is still sent.

Receiver.recv(max_n) returns a list of Packet objects read by one
recvmmsg(MSG_DONTWAIT | MSG_TRUNC), None on EAGAIN; frames shorter than
MIN_READ or truncated are counted in .errors.

``available()`` says whether libc has both calls; the providers fall back to
one system call per packet when it does not.

Public API: available(), Sender(fd, n, vnet_len), Receiver(fd, n, size,
vnet_len, min_read).
"""

import ctypes
import ctypes.util
import errno
import mmap
import struct

from pyovs.netdev.base import VNET_HDR_NONE, Packet

MSG_DONTWAIT = 0x40
MSG_TRUNC = 0x20
_QUEUE_FULL = (errno.EAGAIN, errno.ENOBUFS)

_SIZE_T = struct.calcsize("@N")
_PTR = struct.calcsize("@P")


class _IoVec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


class _MsgHdr(ctypes.Structure):
    _fields_ = [("msg_name", ctypes.c_void_p), ("msg_namelen", ctypes.c_uint),
                ("msg_iov", ctypes.c_void_p), ("msg_iovlen", ctypes.c_size_t),
                ("msg_control", ctypes.c_void_p),
                ("msg_controllen", ctypes.c_size_t), ("msg_flags", ctypes.c_int)]


class _MMsgHdr(ctypes.Structure):
    _fields_ = [("msg_hdr", _MsgHdr), ("msg_len", ctypes.c_uint)]


_MSG_LEN_WORD = _MMsgHdr.msg_len.offset // 4
_MSG_FLAGS_WORD = (_MMsgHdr.msg_hdr.offset + _MsgHdr.msg_flags.offset) // 4
_MMSG_WORDS = ctypes.sizeof(_MMsgHdr) // 4


def _load():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6",
                           use_errno=True)
        send, recv = libc.sendmmsg, libc.recvmmsg
    except (OSError, AttributeError):
        return None, None
    send.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
    send.restype = ctypes.c_int
    recv.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                     ctypes.c_void_p]
    recv.restype = ctypes.c_int
    return send, recv


_sendmmsg, _recvmmsg = _load()


def available():
    """True if libc has sendmmsg and recvmmsg."""
    return _sendmmsg is not None


class Sender:
    """sendmmsg on descriptor FD, N frames per call at most, each preceded
    by a VNET_LEN-byte header (0: frames alone)."""

    def __init__(self, fd, n=32, vnet_len=10):
        self.fd = fd
        self.n = n
        self.vnet_len = vnet_len
        per = 2 if vnet_len else 1
        self._iov = (_IoVec * (n * per))()
        self._msgs = (_MMsgHdr * n)()
        base = ctypes.addressof(self._iov)
        for i in range(n):
            h = self._msgs[i].msg_hdr
            h.msg_iov = base + i * per * ctypes.sizeof(_IoVec)
            h.msg_iovlen = per
            if vnet_len:
                self._iov[i * per].iov_len = vnet_len
        # Aliases of the iovec memory: bases[2k] is iovec k's pointer
        # (c_char_p keeps the bytes object alive while the kernel reads
        # it), lens[2k + 1] its length.
        words = len(self._iov) * 2
        self._bases = (ctypes.c_char_p * words).from_buffer(self._iov)
        self._lens = memoryview(self._iov).cast("B").cast("N" if _SIZE_T == 8 else "I")
        self._addr = ctypes.addressof(self._msgs)
        self._msg_size = ctypes.sizeof(_MMsgHdr)

    def send(self, packets):
        """Send PACKETS (Packet objects or bytes-like frames); return
        (sent, dropped, errors)."""
        sent = dropped = errors = 0
        n, vnet_len, none = self.n, self.vnet_len, VNET_HDR_NONE
        bases, lens = self._bases, self._lens
        for start in range(0, len(packets), n):
            chunk = packets[start:start + n] if len(packets) > n else packets
            j = 0
            for p in chunk:
                if type(p) is Packet:
                    data, vnet = p.data, p.vnet
                else:
                    data, vnet = p, None
                if type(data) is not bytes:
                    data = bytes(data)
                if vnet_len:
                    bases[j] = vnet or none
                    j += 2
                bases[j] = data
                lens[j + 1] = len(data)
                j += 2
            s, d, e = self._send_all(len(chunk))
            sent += s
            dropped += d
            errors += e
        return sent, dropped, errors

    def _send_all(self, count):
        ofs = sent = dropped = errors = 0
        fd, addr, size = self.fd, self._addr, self._msg_size
        while ofs < count:
            r = _sendmmsg(fd, addr + ofs * size, count - ofs, MSG_DONTWAIT)
            if r > 0:
                ofs += r
                sent += r
                continue
            err = ctypes.get_errno() if r < 0 else errno.EAGAIN
            if err == errno.EINTR:
                continue
            if err in _QUEUE_FULL:
                return sent, dropped + count - ofs, errors
            if err == errno.ENOMEM:
                dropped += 1       # no memory for this one frame
            else:
                errors += 1        # this frame is refused
            ofs += 1               # send the rest
        return sent, dropped, errors


class Receiver:
    """recvmmsg on descriptor FD into N preallocated buffers of SIZE bytes
    (header included: VNET_LEN bytes of virtio_net_hdr then the frame)."""

    def __init__(self, fd, n=32, size=65536, vnet_len=10, min_read=0):
        self.fd = fd
        self.n = n
        self.size = size
        self.vnet_len = vnet_len
        self.min_read = min_read
        self.errors = 0
        # One anonymous mapping for all the buffers: the pages a batch of
        # small frames never touches cost no memory.
        self._buf = mmap.mmap(-1, n * size)
        self._mv = memoryview(self._buf)
        self._iov = (_IoVec * n)()
        self._msgs = (_MMsgHdr * n)()
        base = ctypes.addressof((ctypes.c_char * len(self._buf)).from_buffer(self._buf))
        for i in range(n):
            self._iov[i].iov_base = base + i * size
            self._iov[i].iov_len = size
            h = self._msgs[i].msg_hdr
            h.msg_iov = ctypes.addressof(self._iov) + i * ctypes.sizeof(_IoVec)
            h.msg_iovlen = 1
        self._words = memoryview(self._msgs).cast("B").cast("I")
        self._addr = ctypes.addressof(self._msgs)

    def recv(self, max_n):
        """Up to MAX_N frames as Packet objects; [] when none are waiting;
        None on an error other than EAGAIN/EINTR."""
        while True:
            r = _recvmmsg(self.fd, self._addr, min(max_n, self.n),
                          MSG_DONTWAIT | MSG_TRUNC, None)
            if r >= 0:
                break
            err = ctypes.get_errno()
            if err == errno.EINTR:
                continue
            if err == errno.EAGAIN:
                return []
            return None
        out = []
        append = out.append
        words, mv, buf, size = self._words, self._mv, self._buf, self.size
        vl, min_read = self.vnet_len, self.min_read
        for i in range(r):
            w = i * _MMSG_WORDS
            n = words[w + _MSG_LEN_WORD]
            if n > size or n < min_read or words[w + _MSG_FLAGS_WORD] & MSG_TRUNC:
                self.errors += 1
                continue
            at = i * size
            append(Packet(bytes(mv[at + vl:at + n]),
                          bytes(mv[at:at + vl]) if vl and (buf[at] or buf[at + 1]) else None))
        return out
