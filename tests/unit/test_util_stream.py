"""pyovs.util.stream: stream names, long unix paths, tcp and unix I/O."""

import asyncio
import errno
import os
import socket

import pytest
from hypothesis import given, settings, strategies as st

from pyovs.util import stream
from pyovs.util.stream import StreamNameError, parse_active, parse_passive
from tests.conftest import free_tcp_port


@pytest.mark.parametrize("name, kind, host, port", [
    ("tcp:127.0.0.1:6641", "tcp", "127.0.0.1", 6641),
    ("tcp:127.0.0.1", "tcp", "127.0.0.1", 6640),
    ("tcp:[::1]:99", "tcp", "::1", 99),
    ("tcp:[::1]", "tcp", "::1", 6640),
    ("tcp:localhost:1", "tcp", "localhost", 1),
])
def test_parse_active_tcp(name, kind, host, port):
    a = parse_active(name)
    assert (a.kind, a.host, a.port) == (kind, host, port)


def test_parse_unix_relative_to_rundir(monkeypatch):
    monkeypatch.setenv("OVS_RUNDIR", "/some/run")
    assert parse_active("unix:db.sock").path == "/some/run/db.sock"
    assert parse_active("unix:/abs/db.sock").path == "/abs/db.sock"
    assert parse_passive("punix:x.ctl").path == "/some/run/x.ctl"


@pytest.mark.parametrize("name, host, port", [
    ("ptcp:6640", "0.0.0.0", 6640),
    ("ptcp:0:127.0.0.1", "127.0.0.1", 0),
    ("ptcp:", "0.0.0.0", 6640),
    ("ptcp:12:[::1]", "::1", 12),
    ("ptcp::127.0.0.1", "127.0.0.1", 6640),
])
def test_parse_passive_tcp(name, host, port):
    a = parse_passive(name)
    assert (a.host, a.port) == (host, port)


@pytest.mark.parametrize("name, text", [
    # OVS's own log texts for these names (socket_util).
    ("tcp:1.2.3.4:abc", '1.2.3.4:abc: bad port number "abc"'),
    ("tcp:[::1", "[::1: port must be specified"),
    ("tcp:1.2.3.4:70000", '1.2.3.4:70000: bad port number "70000"'),
    ("foo:bar", "foo:bar: unknown stream type"),
])
def test_bad_names(name, text):
    with pytest.raises(StreamNameError) as e:
        parse_active(name)
    assert str(e.value) == text
    assert e.value.errno == errno.EAFNOSUPPORT


def test_bad_passive_name():
    with pytest.raises(StreamNameError) as e:
        parse_passive("ptcp:1:1.2.3.4.5")
    assert str(e.value) == '1:1.2.3.4.5: bad IP address "1.2.3.4.5"'
    assert not stream.is_valid_passive("tcp:1.2.3.4:1")
    assert stream.is_valid_active("unix:/x") and not stream.is_valid_active("ptcp:1")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_parse_never_crashes(name):
    for parse in (parse_active, parse_passive):
        try:
            a = parse(name)
        except ValueError:
            continue
        assert a.kind in ("unix", "tcp")
        if a.kind == "tcp":
            assert 0 <= a.port <= 65535


def _echo_roundtrip(listen_name, connect_name_of):
    async def main():
        async def on_connect(reader, writer):
            data = await reader.read(100)
            writer.write(data.upper())
            await writer.drain()
            writer.close()
        listener = await stream.open_passive(listen_name, on_connect)
        try:
            reader, writer = await stream.open_active(connect_name_of(listener))
            writer.write(b"hello")
            data = await reader.read(100)
            writer.close()
            blocking = await asyncio.to_thread(
                stream.connect_blocking, connect_name_of(listener), 10)
            blocking.sendall(b"again")
            data2 = await asyncio.to_thread(blocking.recv, 100)
            blocking.close()
            return listener.bound_name, data, data2
        finally:
            listener.close()
    return asyncio.run(main())


def test_tcp_roundtrip_reports_bound_port():
    def active(listener):
        port = int(listener.bound_name.split(":")[1])
        return "tcp:127.0.0.1:%d" % port
    port = free_tcp_port()
    bound, data, data2 = _echo_roundtrip("ptcp:%d:127.0.0.1" % port, active)
    assert bound == "ptcp:%d:127.0.0.1" % port
    assert (data, data2) == (b"HELLO", b"AGAIN")


def test_unix_roundtrip_with_long_path(tmp_path):
    d = tmp_path / ("x" * 60) / ("y" * 60)
    d.mkdir(parents=True)
    path = str(d / "sock")
    assert len(path) > 108
    bound, data, data2 = _echo_roundtrip("punix:" + path, lambda l: "unix:" + path)
    assert bound == "punix:" + path
    assert (data, data2) == (b"HELLO", b"AGAIN")
    assert not os.path.exists(path)      # close() removes the socket file


def test_connect_refused_is_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        stream.connect_blocking("unix:" + str(tmp_path / "none"))
    with pytest.raises(ConnectionRefusedError):
        stream.connect_blocking("tcp:127.0.0.1:16003", timeout=5)


def test_ssl_names_parse_like_tcp():
    a = parse_active("ssl:[::1]:6641")
    assert (a.kind, a.host, a.port) == ("ssl", "::1", 6641)
    p = parse_passive("pssl:6642:127.0.0.1")
    assert (p.kind, p.host, p.port) == ("ssl", "127.0.0.1", 6642)


def test_ssl_unconfigured_is_protocol_not_available(monkeypatch):
    from pyovs.util import stream_ssl
    monkeypatch.setattr(stream_ssl, "_config", dict.fromkeys(stream_ssl._config))
    monkeypatch.setattr(stream_ssl, "_contexts", {})
    with pytest.raises(OSError) as e:
        stream.connect_blocking("ssl:127.0.0.1:16004")
    assert e.value.errno == errno.ENOPROTOOPT
    assert e.value.strerror == "Protocol not available"


def test_ipv6_roundtrip():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    bound, data, data2 = _echo_roundtrip("ptcp:16005:[::1]", lambda l: "tcp:[::1]:16005")
    assert bound == "ptcp:16005:[::1]"
    assert (data, data2) == (b"HELLO", b"AGAIN")
