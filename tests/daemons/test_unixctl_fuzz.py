"""A UnixctlServer fed random bytes and random JSON-RPC messages (in-process,
real unix socket): it answers or hangs up, and keeps serving."""

import asyncio
import json
import socket
import threading

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pyovs.util import unixctl


@pytest.fixture(scope="module")
def server_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("fuzz") / "fuzz.ctl")
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state = {}

    async def main():
        server = unixctl.UnixctlServer(path, program="fuzz")
        server.register("echo", "[ARG...]", 0, 3, lambda c, a: c.reply(" ".join(a)))
        server.register("fail", "", 1, 1, lambda c, a: 1 / 0)
        await server.start()
        state["stop"] = asyncio.Event()
        ready.set()
        await state["stop"].wait()
        server.close()

    t = threading.Thread(target=loop.run_until_complete, args=(main(),))
    t.start()
    assert ready.wait(10)
    yield path
    loop.call_soon_threadsafe(state["stop"].set)
    t.join(10)
    loop.close()


def _exchange(path, data):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk
    finally:
        s.close()


json_scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5)
messages = st.fixed_dictionaries(
    {}, optional={"method": st.sampled_from(["echo", "fail", "version", "nope"]) | json_scalars,
                  "params": st.lists(json_scalars, max_size=4) | json_scalars,
                  "id": json_scalars, "result": json_scalars, "error": json_scalars})


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(messages, min_size=1, max_size=3) | st.binary(max_size=60))
def test_server_survives(server_path, payload):
    if isinstance(payload, list):
        data = b"".join(json.dumps(m).encode() for m in payload)
    else:
        data = payload
    out = _exchange(server_path, data)
    assert len(out) < 100000
    assert _exchange(server_path, b'{"method":"version","params":[],"id":0}') == \
        b'{"id":0,"result":"fuzz (Open vSwitch) 3.1.0\\n","error":null}'


def test_handler_exception_is_an_error_reply(server_path):
    out = _exchange(server_path, b'{"method":"fail","params":["x"],"id":1}')
    reply = json.loads(out)
    assert reply["id"] == 1 and reply["error"].startswith("internal error: ")
