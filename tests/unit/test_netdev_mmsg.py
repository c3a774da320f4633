"""Batched socket I/O (netdev/mmsg.py) over a Unix datagram socket pair:
message boundaries are kept, so each frame sent by sendmmsg arrives as one
datagram, header first, and recvmmsg reads them back one per slot."""

import os
import socket

import pytest

from pyovs.netdev import mmsg
from pyovs.netdev.base import VNET_HDR_NONE, Packet

pytestmark = pytest.mark.skipif(not mmsg.available(), reason="no sendmmsg in libc")

VNET = bytes([1, 0, 0, 0, 0, 0, 34, 0, 16, 0])   # NEEDS_CSUM, start 34 off 16


@pytest.fixture
def pair():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    a.setblocking(False)
    b.setblocking(False)
    yield a, b
    a.close()
    b.close()


def drain(sock):
    out = []
    while True:
        try:
            out.append(sock.recv(70000))
        except BlockingIOError:
            return out


def frames(n, size=60):
    return [os.urandom(size) for _ in range(n)]


def test_batch_arrives_in_order_with_headers(pair):
    a, b = pair
    data = frames(5)
    pkts = [Packet(d, VNET if i % 2 else None) for i, d in enumerate(data)]
    assert mmsg.Sender(a.fileno(), 32, 10).send(pkts) == (5, 0, 0)
    got = drain(b)
    assert got == [(VNET if i % 2 else VNET_HDR_NONE) + d for i, d in enumerate(data)]


def test_batches_larger_than_the_vector_and_bytes_like_frames(pair):
    a, b = pair
    data = frames(11, 100)
    pkts = [bytearray(d) if i % 3 else memoryview(d) for i, d in enumerate(data)]
    assert mmsg.Sender(a.fileno(), 4, 0).send(pkts) == (11, 0, 0)
    assert drain(b) == data


def test_refused_frame_is_an_error_and_the_rest_still_go(pair):
    a, b = pair
    sndbuf = a.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    data = frames(3)
    pkts = [data[0], bytes(sndbuf * 4), data[1], data[2]]   # EMSGSIZE
    assert mmsg.Sender(a.fileno(), 32, 0).send(pkts) == (3, 0, 1)
    assert drain(b) == data


def test_full_socket_drops_what_was_not_sent(pair):
    a, b = pair
    tx = mmsg.Sender(a.fileno(), 32, 0)
    sent = dropped = 0
    for _ in range(2000):
        s, d, e = tx.send(frames(32, 1000))
        assert e == 0 and s + d == 32
        sent += s
        dropped += d
        if dropped:
            break
    assert dropped, "the receive queue never filled"
    assert len(drain(b)) == sent


def test_receiver_reads_a_batch_and_flags_short_frames(pair):
    a, b = pair
    data = frames(6, 80)
    for i, d in enumerate(data):
        a.send((VNET if i == 2 else VNET_HDR_NONE) + d)
    a.send(b"short")
    rx = mmsg.Receiver(b.fileno(), 4, 2048, 10, 24)
    first = rx.recv(32)
    assert [p.data for p in first] == data[:4]
    assert [p.vnet for p in first] == [None, None, VNET, None]
    rest = rx.recv(32)
    assert [p.data for p in rest] == data[4:]
    assert rx.errors == 1                      # the 5-byte datagram
    assert rx.recv(32) == []


def test_receiver_counts_truncated_frames(pair):
    a, b = pair
    a.send(bytes(3000))
    a.send(VNET_HDR_NONE + b"x" * 50)
    rx = mmsg.Receiver(b.fileno(), 8, 1024, 10, 24)
    got = rx.recv(8)
    assert [p.data for p in got] == [b"x" * 50]
    assert rx.errors == 1


def test_receiver_error_is_none(pair):
    a, b = pair
    rx = mmsg.Receiver(b.fileno(), 2, 256, 10, 0)
    b.close()
    assert rx.recv(2) is None
