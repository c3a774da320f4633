"""pyovs.util.reconnect: the FSM driven with explicit times (no clock)."""

import asyncio
import socket

import pytest
from hypothesis import given, settings, strategies as st

from pyovs.util import jsonrpc, reconnect, stream
from pyovs.util.reconnect import CONNECT, DISCONNECT, PROBE, Reconnect


def test_connect_probe_and_drop_idle_peer():
    r = Reconnect(0)
    r.receive_attempted(None)            # always receiving (asyncio)
    assert r.run(0) is None and not r.is_enabled()
    r.enable(0)
    assert r.run(0) == CONNECT
    r.connecting(0)
    assert r.state == reconnect.CONNECTING
    r.connected(10)
    assert r.is_connected() and r.seqno == 1
    assert r.timeout(10) == 5000
    assert r.run(5009) is None
    assert r.run(5010) == PROBE
    assert r.state == reconnect.IDLE
    assert r.timeout(5010) == 5000
    r.activity(6000)                     # the peer answered
    assert r.state == reconnect.ACTIVE and r.run(6000) is None
    assert r.run(11000) == PROBE
    assert r.run(16000) == DISCONNECT    # no answer to the probe
    r.disconnected(16000, 0)
    assert not r.is_connected() and r.seqno == 2
    assert r.state == reconnect.BACKOFF
    assert r.backoff == 1000
    assert r.run(16999) is None and r.run(17000) == CONNECT
    stats = r.get_stats(17000)
    assert stats["n_attempted_connections"] == 1
    assert stats["n_successful_connections"] == 1
    assert stats["total_connected_duration"] == 16000 - 10


def test_backoff_doubles_to_max():
    r = Reconnect(0)
    r.enable(0)
    now = 0
    seen = []
    for _ in range(6):
        assert r.run(now) == CONNECT
        r.connect_failed(now, 111)
        seen.append(r.backoff)
        now += r.timeout(now)
    assert seen == [1000, 2000, 4000, 8000, 8000, 8000]


def test_connecting_times_out_after_backoff():
    r = Reconnect(0)
    r.enable(0)
    r.connecting(0)
    assert r.run(999) is None and r.run(1000) == DISCONNECT


def test_custom_backoff_and_no_probes():
    r = Reconnect(0)
    r.set_backoff(2000, 3000)
    r.set_probe_interval(0)
    r.enable(0)
    r.connect_failed(0, 111)
    assert r.backoff == 2000
    r.connect_failed(2000, 111)
    assert r.backoff == 3000
    r.connected(5000)
    assert r.timeout(5000) is None and r.run(10 ** 9) is None


def test_force_reconnect_and_disable():
    r = Reconnect(0)
    r.enable(0)
    r.connected(0)
    r.force_reconnect(100)
    assert r.run(100) == DISCONNECT
    r.disconnected(100, 0)
    assert r.state == reconnect.BACKOFF
    r.disable(200)
    assert r.run(10 ** 6) is None and not r.is_enabled()


def test_long_lived_connection_resets_backoff():
    r = Reconnect(0)
    r.enable(0)
    for t in (0, 1000, 3000):
        r.connect_failed(t, 111)
    assert r.backoff == 4000
    r.connected(7000)
    r.activity(20000)
    r.disconnected(20000, reconnect.EOF)
    assert r.backoff == 1000


def test_max_tries():
    r = Reconnect(0)
    r.set_max_tries(1)
    r.enable(0)
    r.connect_failed(0, 111)
    assert not r.is_enabled()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(
    ["run", "connecting", "connected", "failed", "activity", "disconnected",
     "force", "enable", "disable"]), st.integers(0, 20000)), max_size=40))
def test_fsm_invariants(events):
    r = Reconnect(0)
    now = 0
    for name, dt in events:
        now += dt
        if name == "run":
            assert r.run(now) in (None, CONNECT, DISCONNECT, PROBE)
        elif name == "connecting":
            r.connecting(now)
        elif name == "connected":
            r.connected(now)
        elif name == "failed":
            r.connect_failed(now, 111)
        elif name == "activity":
            r.activity(now)
        elif name == "disconnected":
            r.disconnected(now, reconnect.EOF)
        elif name == "force":
            r.force_reconnect(now)
        elif name == "enable":
            r.enable(now)
        else:
            r.disable(now)
        assert 0 <= r.backoff <= r.max_backoff
        t = r.timeout(now)
        assert t is None or t >= 0
        assert r.seqno >= 0


def test_session_reconnects_and_answers_echo(tmp_path):
    """A jsonrpc.Session against a server that hangs up on it once."""
    path = str(tmp_path / "s")

    async def main():
        conns = []
        got = asyncio.Queue()

        async def on_connect(reader, writer):
            conn = jsonrpc.Connection(reader, writer, "server")
            conns.append(conn)
            conn.send(jsonrpc.Message("request", method="echo",
                                      params=["hi"], id="e%d" % len(conns)))
            conn.send(jsonrpc.Message.create_notify("hello", [len(conns)]))
            while True:
                msg = await conn.recv()
                if msg is None:
                    return
                await got.put(msg)

        listener = await stream.open_passive("punix:" + path, on_connect)
        session = jsonrpc.Session("unix:" + path)
        try:
            session.start()
            first = await asyncio.wait_for(session.recv(), 10)
            assert first.method == "hello" and first.params == [1]
            echo = await asyncio.wait_for(got.get(), 10)
            assert echo.type == "reply" and echo.id == "e1" and echo.result == ["hi"]
            seqno = session.seqno
            conns[0].close()                      # server hangs up
            second = await asyncio.wait_for(session.recv(), 10)
            assert second.params == [2]
            assert session.seqno > seqno and session.is_connected()
            assert session.send(jsonrpc.Message.create_notify("x", []))
            msg = await asyncio.wait_for(got.get(), 10)
            while msg.type == "reply":             # the second echo reply
                msg = await asyncio.wait_for(got.get(), 10)
            assert msg.method == "x"
        finally:
            session.close()
            listener.close()

    asyncio.run(main())


def test_session_probes_drops_silent_peer_and_reconnects():
    """Over TCP (probed): a peer that never answers is dropped after a
    probe, and the session connects again; a refused first attempt is
    retried.  Uses port 16002 (engineer A's range)."""
    async def main():
        accepted = []
        received = asyncio.Queue()

        async def on_connect(reader, writer):
            accepted.append(writer)
            conn = jsonrpc.Connection(reader, writer, "silent")
            while True:
                msg = await conn.recv()          # read, never answer
                if msg is None:
                    return
                await received.put((len(accepted), msg))

        session = jsonrpc.Session("tcp:127.0.0.1:16002", probe_interval=1000)
        session.start()
        await asyncio.sleep(0.2)                 # first attempt is refused
        assert not session.is_connected()
        listener = await stream.open_passive("ptcp:16002:127.0.0.1", on_connect)
        try:
            await asyncio.wait_for(session.wait_connected(), 10)
            seqno = session.seqno
            n, probe = await asyncio.wait_for(received.get(), 10)
            assert (n, probe.method, probe.id, probe.params) == (1, "echo", "echo", [])
            await asyncio.wait_for(session.wait_seqno_change(seqno), 10)
            assert not session.is_connected()    # dropped: no answer
            await asyncio.wait_for(session.wait_connected(), 10)
            assert len(accepted) == 2
            stats = session.fsm.get_stats(session._clock())
            assert stats["n_successful_connections"] == 2
        finally:
            session.close()
            listener.close()

    asyncio.run(main())


def test_connection_probes_drop_silent_peer():
    """Connection.enable_probes (the server side): a peer that answers the
    probe stays; one that goes silent is closed after two intervals."""
    async def main():
        a, b = socket.socketpair()
        reader, writer = await asyncio.open_connection(sock=a)
        conn = jsonrpc.Connection(reader, writer, name="tcp:peer")
        peer_r, peer_w = await asyncio.open_connection(sock=b)
        peer = jsonrpc.Connection(peer_r, peer_w, name="peer")
        conn.enable_probes(1000)
        got = asyncio.get_running_loop().create_task(conn.recv())
        probe = await asyncio.wait_for(peer.recv(), 10)
        assert (probe.method, probe.id) == ("echo", "echo")
        peer.send(jsonrpc.Message.create_reply(probe.params, probe.id))
        peer.send(jsonrpc.Message.create_notify("hello", []))
        msg = await asyncio.wait_for(got, 10)       # the echo reply is eaten
        assert msg.method == "hello"
        probe = await asyncio.wait_for(peer.recv(), 10)   # probed again
        assert probe.id == "echo"
        assert await asyncio.wait_for(conn.recv(), 10) is None   # silence
        assert conn.error == "Connection timed out"
        peer.close()
    asyncio.run(main())


# --- the official OVS Python library as an oracle ---------------------------

ovs_reconnect = pytest.importorskip("ovs.reconnect")

EVENTS = ["run", "connecting", "connected", "failed", "failed0", "activity",
          "eof", "dropped", "force", "enable", "disable", "listening",
          "listen_error", "passive", "active", "receive"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(EVENTS), st.integers(0, 12000)),
                max_size=40),
       st.sampled_from([0, 1000, 2500, 5000]), st.integers(1000, 9000),
       st.integers(0, 3), st.sampled_from([None, 1, 3]))
def test_fsm_matches_ovs_python_library(events, probe, max_backoff, free, tries):
    """The same events on pyovs's FSM and on ovs.reconnect give the same
    actions, timeouts, states, backoffs and statistics.  (Times start at
    1000: the library mistakes a time of 0 for "never".)"""
    now = 1000
    ours, theirs = Reconnect(now), ovs_reconnect.Reconnect(now)
    for fsm in (ours, theirs):
        fsm.set_probe_interval(probe)
        fsm.set_backoff(1000, max_backoff)
        fsm.set_backoff_free_tries(free)
        fsm.set_max_tries(tries)
    ovs_eof = ovs_reconnect.EOF
    for name, dt in events:
        now += dt
        if name == "run":
            a, b = ours.run(now), theirs.run(now)
            assert a == b, (name, now)
            continue
        for fsm in (ours, theirs):
            eof = reconnect.EOF if fsm is ours else ovs_eof
            if name == "connecting":
                fsm.connecting(now)
            elif name == "connected":
                fsm.connected(now)
            elif name == "failed":
                fsm.connect_failed(now, 111)
            elif name == "failed0":
                fsm.connect_failed(now, 0)
            elif name == "activity":
                if fsm.is_connected():       # as real callers do
                    fsm.activity(now)
            elif name == "eof":
                fsm.disconnected(now, eof)
            elif name == "dropped":
                fsm.disconnected(now, 104)
            elif name == "force":
                fsm.force_reconnect(now)
            elif name == "enable":
                fsm.enable(now)
            elif name == "disable":
                fsm.disable(now)
            elif name == "listening":
                fsm.listening(now)
            elif name == "listen_error":
                fsm.listen_error(now, 98)
            elif name == "passive":
                fsm.set_passive(True, now)
            elif name == "active":
                fsm.set_passive(False, now)
            elif name == "receive":
                fsm.receive_attempted(now)
        st_ours, st_theirs = ours.get_stats(now), theirs.get_stats(now)
        assert ours.state == theirs.state.name, (name, now)
        assert ours.timeout(now) == theirs.timeout(now), (name, now)
        for key in ("backoff", "seqno", "is_connected", "last_connected",
                    "last_disconnected", "n_attempted_connections",
                    "n_successful_connections", "total_connected_duration",
                    "state_elapsed"):
            assert st_ours[key] == getattr(st_theirs, key), (key, name, now)


def test_failed_attempt_is_logged_at_info_as_ovs_31(capsys):
    from pyovs.util import vlog
    saved = vlog.get_level("reconnect", "console")
    vlog.set_levels("reconnect", "console", "dbg")
    try:
        r = Reconnect(0)
        r.name = "tcp:127.0.0.1:1"
        r.enable(0)
        assert r.run(0) == CONNECT
        r.connecting(0)
        r.connect_failed(0, 111)
    finally:
        vlog.set_levels("reconnect", "console", saved)
    err = capsys.readouterr().err
    assert "|reconnect|INFO|tcp:127.0.0.1:1: connection attempt failed (Connection refused)" \
        in err
