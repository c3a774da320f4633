"""Stream names and byte streams (OVS's lib/stream and lib/socket-util).

OVS names connections with short strings:

  active  ``unix:PATH``  ``tcp:HOST[:PORT]``  ``ssl:HOST[:PORT]``
  passive ``punix:PATH`` ``ptcp:[PORT][:IP]`` ``pssl:[PORT][:IP]``

(HOST may be ``[IPv6]``.)  ssl/pssl streams are TCP with mutual TLS as
configured in :mod:`pyovs.util.stream_ssl`.

A relative unix path is taken relative to the run directory, as OVS does.
Unix socket paths longer than the kernel's 108-byte limit are reached
through ``/proc/self/fd/N/NAME`` of an open directory descriptor.

API: parse_active(name, default_port) / parse_passive(name, default_port)
-> Address (raise StreamNameError, a ValueError with .errno, with OVS's
wording); ``await open_active(name, default_port=6640)`` -> (reader, writer);
``await open_passive(name, on_connect, default_port=6640)`` -> Listener
(.close(), .bound_name, .name); connect_blocking(name, timeout=None,
default_port=6640) -> socket; accept_blocking(name, timeout=None,
default_port=6640) -> socket (listen, accept one, stop listening);
is_valid_active(name), is_valid_passive(name).
Opening an ssl/pssl stream before keys are configured fails with
OSError(ENOPROTOOPT) ("Protocol not available"), as in OVS.
"""

import collections
import errno
import ipaddress
import itertools
import os
import socket

from pyovs.util import dirs, fatal_signal, stream_ssl
from pyovs.util.lazy import lazy_module

asyncio = lazy_module("asyncio", globals())

#: OVSDB's IANA port.
OVSDB_PORT = 6640
#: OpenFlow's IANA port.
OFP_PORT = 6653

_UNIX_PATH_MAX = 107


class StreamNameError(ValueError):
    """An unusable stream name; .errno says what OVS would report."""

    def __init__(self, text, err=errno.EAFNOSUPPORT):
        super().__init__(text)
        self.errno = err
        self.strerror = os.strerror(err)


class Address(collections.namedtuple("Address", "kind name path host port",
                                     defaults=(None, None, None))):
    """A parsed stream name (immutable).  kind: "unix", "tcp" or "ssl";
    name: the original name; path: unix: absolute socket path; host: tcp:
    IP address or host name (no brackets); port: tcp: port (0 = any, for
    passive).  A named tuple, not a dataclass: ovs-vsctl's start-up
    should not import dataclasses (and inspect)."""
    __slots__ = ()

    def family(self):
        if self.kind == "unix":
            return socket.AF_UNIX
        try:
            return socket.AF_INET6 if ipaddress.ip_address(self.host).version == 6 \
                else socket.AF_INET
        except ValueError:
            return socket.AF_UNSPEC


def _split_type(name):
    kind, sep, rest = name.partition(":")
    if not sep:
        raise StreamNameError("%s: not a valid stream name" % name)
    return kind, rest


def _parse_port(target, text):
    try:
        if not text.isdigit():
            raise ValueError
        port = int(text)
        if port > 65535:
            raise ValueError
    except ValueError:
        raise StreamNameError('%s: bad port number "%s"' % (target, text)) from None
    return port


def _split_host_port(target):
    """Split "HOST[:PORT]" / "[IPv6][:PORT]" -> (host, port_text or None)."""
    if target.startswith("["):
        end = target.find("]")
        if end < 0:
            return None, None
        host = target[1:end]
        rest = target[end + 1:]
        if rest and not rest.startswith(":"):
            return None, None
        return host, (rest[1:] if rest else None)
    host, sep, port = target.partition(":")
    if sep and ":" in port:
        # Bare IPv6 address without brackets: no port.
        return target, None
    return host, (port if sep else None)


def _check_ip(target, host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise StreamNameError('%s: bad IP address "%s"' % (target, host)) from None


def _unix_address(name, rest):
    if not rest:
        raise StreamNameError("%s: missing socket path" % name, errno.EINVAL)
    return Address("unix", name, path=dirs.abs_file_name(dirs.rundir(), rest))


def parse_active(name, default_port=OVSDB_PORT):
    """Parse an active stream name into an Address."""
    kind, rest = _split_type(name)
    if kind == "unix":
        return _unix_address(name, rest)
    if kind in ("tcp", "ssl"):
        host, port = _split_host_port(rest)
        if host is None:
            raise StreamNameError("%s: port must be specified" % rest)
        if port is None or port == "":
            if not default_port:
                raise StreamNameError("%s: port must be specified" % rest)
            port = default_port
        else:
            port = _parse_port(rest, port)
        if not host:
            raise StreamNameError("%s: host must be specified" % rest)
        return Address(kind, name, host=host, port=port)
    raise StreamNameError("%s: unknown stream type" % name)


def parse_passive(name, default_port=OVSDB_PORT):
    """Parse a passive stream name into an Address."""
    kind, rest = _split_type(name)
    if kind == "punix":
        return _unix_address(name, rest)
    if kind in ("ptcp", "pssl"):
        # ptcp:[PORT][:IP]
        port_text, sep, host = rest.partition(":")
        if port_text == "":
            port = default_port or 0
        else:
            port = _parse_port(rest, port_text)
        if not sep or host == "":
            host = "0.0.0.0"
        else:
            if host.startswith("[") and host.endswith("]"):
                host = host[1:-1]
            _check_ip(rest, host)
        return Address(kind[1:], name, host=host, port=port)
    raise StreamNameError("%s: unknown stream type" % name)


def is_valid_active(name):
    try:
        parse_active(name)
        return True
    except ValueError:
        return False


def is_valid_passive(name):
    try:
        parse_passive(name)
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------------------
# Unix socket paths of any length.

class _ShortPath:
    """A path usable with bind/connect even past the 108-byte limit."""

    def __init__(self, path):
        self.path = path
        self.fd = None
        self.short = path
        if len(os.fsencode(path)) > _UNIX_PATH_MAX:
            d, base = os.path.split(path)
            self.fd = os.open(d or ".", os.O_RDONLY | os.O_DIRECTORY)
            self.short = "/proc/self/fd/%d/%s" % (self.fd, base)
            if len(os.fsencode(self.short)) > _UNIX_PATH_MAX:
                self.close()
                raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG))

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self.short

    def __exit__(self, *exc):
        self.close()


def _unix_connect(path, timeout=None):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        with _ShortPath(path) as p:
            sock.connect(p)
    except BaseException:
        sock.close()
        raise
    return sock


_tmp_ids = itertools.count()


def _unix_listen(path):
    """A listening unix socket at PATH.  It is bound under a temporary name
    and renamed into place once listening, so that whoever sees PATH appear
    can connect at once."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = os.path.join(os.path.dirname(path),
                       ".%d.%d.sock.tmp" % (os.getpid(), next(_tmp_ids)))
    try:
        # As OVS: on Linux the socket's own mode controls access; 0770
        # (less the umask) lets the owner and group in.
        os.fchmod(sock.fileno(), 0o770)
        with _ShortPath(tmp) as p:
            sock.bind(p)
        sock.listen(64)
        os.rename(tmp, path)       # replaces any stale socket file
    except BaseException:
        sock.close()
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return sock


def connect_blocking(name, timeout=None, default_port=OVSDB_PORT):
    """Connect to active stream NAME; return a blocking socket.

    Raises StreamNameError for a bad name and OSError if connecting fails."""
    addr = parse_active(name, default_port)
    if addr.kind == "unix":
        sock = _unix_connect(addr.path, timeout)
    else:
        ctx = stream_ssl.client_context() if addr.kind == "ssl" else None
        sock = socket.create_connection((addr.host, addr.port), timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ctx is not None:
            try:
                sock = ctx.wrap_socket(sock)
            except BaseException:
                sock.close()
                raise
    sock.settimeout(None)
    return sock


def accept_blocking(name, timeout=None, default_port=OVSDB_PORT):
    """Listen on passive stream NAME, accept one connection and stop
    listening (as OVS's tools do with a passive remote); return the blocking
    socket.  Raises StreamNameError, TimeoutError or OSError."""
    addr = parse_passive(name, default_port)
    if addr.kind == "unix":
        listener = _unix_listen(addr.path)
    else:
        ctx = stream_ssl.server_context() if addr.kind == "ssl" else None
        listener = socket.socket(addr.family(), socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        if addr.kind != "unix":
            listener.bind((addr.host, addr.port))
            listener.listen(1)
        listener.settimeout(timeout)
        try:
            sock, _ = listener.accept()
        except socket.timeout:
            raise TimeoutError("timed out waiting for a connection") from None
    finally:
        listener.close()
        if addr.kind == "unix":
            try:
                os.unlink(addr.path)
            except OSError:
                pass
    sock.settimeout(None)
    if addr.kind == "ssl":
        try:
            sock = ctx.wrap_socket(sock, server_side=True)
        except BaseException:
            sock.close()
            raise
    elif addr.kind == "tcp":
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


async def open_active(name, default_port=OVSDB_PORT, limit=2 ** 20):
    """Connect to active stream NAME; return asyncio (reader, writer)."""
    addr = parse_active(name, default_port)
    if addr.kind == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            with _ShortPath(addr.path) as p:
                await asyncio.get_running_loop().sock_connect(sock, p)
        except BaseException:
            sock.close()
            raise
        return await asyncio.open_unix_connection(sock=sock, limit=limit)
    ctx = stream_ssl.client_context() if addr.kind == "ssl" else None
    reader, writer = await asyncio.open_connection(
        addr.host, addr.port, limit=limit, ssl=ctx,
        server_hostname="" if ctx is not None else None)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return reader, writer


class Listener:
    """A passive stream accepting connections into asyncio streams."""

    def __init__(self, name, server, bound_name, path=None):
        self.name = name
        self.server = server
        self.bound_name = bound_name
        self.path = path

    def close(self):
        self.server.close()
        if self.path:
            fatal_signal.remove_file_to_unlink(self.path)
            try:
                os.unlink(self.path)
            except OSError:
                pass
            self.path = None

    async def wait_closed(self):
        await self.server.wait_closed()


async def open_passive(name, on_connect, default_port=OVSDB_PORT,
                       limit=2 ** 20):
    """Listen on passive stream NAME; call on_connect(reader, writer) (a
    function or coroutine function) for every accepted connection."""
    addr = parse_passive(name, default_port)
    if addr.kind == "unix":
        sock = _unix_listen(addr.path)
        fatal_signal.add_file_to_unlink(addr.path)
        server = await asyncio.start_unix_server(on_connect, sock=sock,
                                                 limit=limit)
        return Listener(name, server, "punix:" + addr.path, path=addr.path)
    ctx = stream_ssl.server_context() if addr.kind == "ssl" else None
    family = addr.family()
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((addr.host, addr.port))
        sock.listen(64)
    except BaseException:
        sock.close()
        raise
    server = await asyncio.start_server(on_connect, sock=sock, limit=limit,
                                        ssl=ctx)
    port = sock.getsockname()[1]
    host = "[%s]" % addr.host if family == socket.AF_INET6 else addr.host
    return Listener(name, server, "p%s:%d:%s" % (addr.kind, port, host))
