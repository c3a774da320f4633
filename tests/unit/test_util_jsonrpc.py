"""pyovs.util.jsonrpc: the codec, the incremental parser, the connections."""

import asyncio
import json
import socket
import threading

import pytest
from hypothesis import given, settings, strategies as st

from pyovs.util import jsonrpc
from pyovs.util.jsonrpc import JsonRpcError, Message, Parser, encode

# --- encoding as OVS writes it ---------------------------------------------


@pytest.mark.parametrize("msg, wire", [
    # Byte strings captured from Debian's ovsdb-client and ovsdb-server 3.1.
    (Message("request", method="list_dbs", params=[], id=0),
     b'{"id":0,"method":"list_dbs","params":[]}'),
    (Message.create_reply(["Open_vSwitch", "_Server"], 0),
     b'{"id":0,"result":["Open_vSwitch","_Server"],"error":null}'),
    (Message.create_error("unknown method", 1),
     b'{"id":1,"error":"unknown method"}'),
    (Message.create_notify("update", [None, {}]),
     b'{"id":null,"method":"update","params":[null,{}]}'),
])
def test_wire_bytes_match_ovs(msg, wire):
    assert encode(msg.to_json()) == wire
    assert Message.from_json(json.loads(wire)) == msg


def test_request_ids_are_fresh():
    a = Message.create_request("echo", [])
    b = Message.create_request("echo", [])
    assert isinstance(a.id, int) and b.id != a.id


@pytest.mark.parametrize("value, text", [
    ("a\"b\\c\n\x01é", '"a\\"b\\\\c\\n\\u0001é"'),
    # Reals as Debian's ovsdb-tool query prints them (%.15g).
    (1.5, "1.5"), (1.0, "1"), (0.1, "0.1"), (1e20, "1e+20"), (1e-7, "1e-07"),
    (1 / 3, "0.333333333333333"), (123456789012345680000.0, "1.23456789012346e+20"),
    (-(2 ** 63), str(-(2 ** 63))), (True, "true"), (None, "null"),
    ({"b": 1, "a": [1, 2]}, '{"b":1,"a":[1,2]}'),
])
def test_encode_values(value, text):
    assert jsonrpc.to_string(value) == text


# --- message validation (OVS's texts) ---------------------------------------


@pytest.mark.parametrize("obj, error", [
    ([1], "message is not a JSON object"),
    ({"method": 1, "params": [], "id": 1}, "method is not a JSON string"),
    ({"id": 5, "result": 1, "error": None, "extra": 1},
     'message has unexpected member "extra"'),
    ({"method": "x", "params": {}, "id": 1}, '"params" must be JSON array'),
    ({"method": "x", "id": 1}, 'request must have "params"'),
    ({"params": [], "id": 1}, 'request must have "method"'),
    ({"method": "x", "params": [], "result": 1, "id": 1},
     'reply must not have "method"'),
    ({"result": 1}, 'reply must have "id"'),
    ({"error": "e"}, 'error must have "id"'),
    ({"result": 1, "error": "e", "id": 1}, 'reply must not have "error"'),
    ({"method": "x"}, 'notification must have "params"'),
    ({}, 'notification must have "method"'),
])
def test_invalid_messages(obj, error):
    with pytest.raises(JsonRpcError) as e:
        Message.from_json(obj)
    assert str(e.value) == error


def test_types_and_null_members():
    assert Message.from_json({"method": "m", "params": [], "id": None}).type == "notify"
    assert Message.from_json({"id": 1, "result": None, "error": "x"}).type == "error"
    assert Message.from_json({"id": 1, "result": [], "error": None}).type == "reply"


# --- the incremental parser --------------------------------------------------


def test_parser_splits_a_stream_anywhere():
    msgs = [Message.create_request("transact", ["db", {"s": "}]\"\\{["}]),
            Message.create_notify("update", [None, {"é": [1, 2.5]}]),
            Message.create_reply({"x": []}, 3)]
    wire = b"".join(encode(m.to_json()) for m in msgs) + b"\n"
    for step in (1, 2, 3, 7, len(wire)):
        p = Parser()
        got = []
        for i in range(0, len(wire), step):
            got += p.feed(wire[i:i + step])
        assert [Message.from_json(v) for v in got] == msgs
        assert not p.pending()


@pytest.mark.parametrize("data", [
    b"1", b'"x"', b"{]", b'{"a":NaN}', b'{"a":Infinity}', b'{"a":tru}',
    b"{\"a\":\"\xff\"}", b'{"a":1}}', b'{"a":"\\ud800"}', b'{"a":"\x01"}',
])
def test_parser_rejects_malformed(data):
    p = Parser()
    with pytest.raises(JsonRpcError):
        p.feed(data)
        p.feed(b"")         # an error after good values is raised next time


def test_parser_bounds_sizes():
    p = Parser(max_size=100)
    with pytest.raises(JsonRpcError):
        p.feed(b'{"a":"' + b"x" * 200)
    assert Parser(max_size=100).feed(b'{"a":"' + b"x" * 80 + b'"}') == [{"a": "x" * 80}]
    with pytest.raises(JsonRpcError):
        Parser(max_depth=10).feed(b"[" * 11)


def test_parser_big_integers_become_reals():
    assert Parser().feed(b"[9223372036854775807,9223372036854775808]") == \
        [[9223372036854775807, 9223372036854775808.0]]


# OVS refuses NUL in strings ("null bytes not supported in quoted strings").
_texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2 ** 63), 2 ** 63 - 1)
    # (An integral real prints like an integer and OVS reads it back as one,
    # exactly only below 2**53.)
    | st.floats(-1e300, 1e300).map(lambda x: float("%.15g" % x))
    .filter(lambda x: x != int(x) or abs(x) < 2 ** 53)
    | _texts,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(_texts.filter(lambda t: len(t) <= 8), children, max_size=4),
    max_leaves=20)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(json_values, max_size=3) | st.dictionaries(
    _texts.filter(lambda t: len(t) <= 5), json_values, max_size=3), min_size=1, max_size=4),
    st.integers(1, 50))
def test_parser_roundtrips_any_values(values, step):
    wire = b" ".join(encode(v) for v in values)
    p = Parser()
    got = []
    for i in range(0, len(wire), step):
        got += p.feed(wire[i:i + step])
    assert got == values


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_parser_never_crashes_on_garbage(data):
    p = Parser(max_size=150)
    try:
        values = p.feed(data)
    except JsonRpcError:
        return
    for v in values:
        assert isinstance(v, (dict, list))
        try:
            Message.from_json(v)
        except JsonRpcError:
            pass


# --- connections -------------------------------------------------------------


def test_asyncio_connection_and_blocking_connection(tmp_path):
    """An asyncio echo-ish server and a BlockingConnection client."""
    path = str(tmp_path / "s")
    from pyovs.util import stream
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    listener = {}

    async def handle(reader, writer):
        conn = jsonrpc.Connection(reader, writer, name="punix")
        conn.send(Message.create_request("echo", ["ping"]))   # probe the client
        while True:
            msg = await conn.recv()
            if msg is None:
                break
            if msg.type == "request":
                conn.send(Message.create_notify("note", [1]))
                conn.send(Message.create_reply(msg.params, msg.id))
            elif msg.type == "reply":
                conn.send(Message.create_notify("echoed", [msg.result]))
        conn.close()

    async def main():
        listener["l"] = await stream.open_passive("punix:" + path, handle)
        ready.set()
        while not listener.get("stop"):
            await asyncio.sleep(0.01)
        listener["l"].close()

    t = threading.Thread(target=lambda: loop.run_until_complete(main()))
    t.start()
    try:
        assert ready.wait(10)
        assert listener["l"].bound_name == "punix:" + path
        with jsonrpc.BlockingConnection.open("unix:" + path) as c:
            req = Message.create_request("hello", ["a", 1])
            reply = c.transact_block(req, timeout=10)
            assert reply.type == "reply" and reply.result == ["a", 1]
            # The server's echo request was answered for us; it says so.
            seen = []
            while not seen:
                m = c.recv(timeout=10)
                if m.method == "echoed":
                    seen.append(m)
            assert seen[0].params == [["ping"]]
    finally:
        listener["stop"] = True
        t.join(10)
        loop.close()


def test_connection_recv_none_on_bad_input(tmp_path):
    async def main():
        r, w = socket.socketpair()
        reader, writer = await asyncio.open_connection(sock=r)
        conn = jsonrpc.Connection(reader, writer, name="test")
        w.sendall(b'{"id":1,"result":1,"error":null,"bogus":2}')
        assert await conn.recv() is None
        assert conn.error == "Protocol error"
        w.close()
    asyncio.run(main())


def test_connection_recv_none_at_eof():
    async def main():
        r, w = socket.socketpair()
        reader, writer = await asyncio.open_connection(sock=r)
        conn = jsonrpc.Connection(reader, writer, name="test")
        w.sendall(b'{"id":1,"result":1,"error":null}')
        w.close()
        assert (await conn.recv()).result == 1
        assert await conn.recv() is None
        assert conn.error == "End of file"
    asyncio.run(main())


def test_blocking_recv_eof_and_timeout():
    a, b = socket.socketpair()
    c = jsonrpc.BlockingConnection(a, "pair")
    with pytest.raises(TimeoutError):
        c.recv(timeout=0.05)
    b.close()
    with pytest.raises(jsonrpc.ConnectionEOF) as e:
        c.recv(timeout=5)
    assert str(e.value) == "End of file"
    c.close()


@pytest.mark.parametrize("pieces, values", [
    # The first piece ends in a bracket but is incomplete (fast path fails).
    ([b'{"a":{"b":1}', b'}'], [{"a": {"b": 1}}]),
    ([b'[1,[2]', b'] {"x":"}"}'], [[1, [2]], {"x": "}"}]),
    # Whole messages plus the start of the next one.
    ([b'{"a":1} {"b":2} {"c":', b'3}'], [{"a": 1}, {"b": 2}, {"c": 3}]),
    # A long string split across pieces is scanned once, byte-wise.
    ([b'{"s":"' + b"x" * 5000, b"y" * 5000 + b'"}'], [{"s": "x" * 5000 + "y" * 5000}]),
    ([b'{"s":"\xc3', b'\xa9"}'], [{"s": "é"}]),
])
def test_parser_fast_and_slow_paths_agree(pieces, values):
    p = Parser()
    got = []
    for piece in pieces:
        got += p.feed(piece)
    assert got == values and not p.pending()


@pytest.mark.parametrize("data", [b'{"a":1} x]', b'{"a":1} {"b":NaN}', b'{"a":1}{"b":1}}'])
def test_parser_returns_good_values_before_an_error(data):
    p = Parser()
    assert p.feed(data)[0] == {"a": 1}
    assert p.pending()
    with pytest.raises(JsonRpcError):
        p.feed(b"")
    with pytest.raises(JsonRpcError):
        p.feed(b"{}")


def test_connection_delivers_good_message_then_drops_bad_stream():
    async def main():
        r, w = socket.socketpair()
        reader, writer = await asyncio.open_connection(sock=r)
        conn = jsonrpc.Connection(reader, writer, name="test")
        w.sendall(b'{"id":1,"result":1,"error":null} garbage')
        assert (await conn.recv()).result == 1
        assert await asyncio.wait_for(conn.recv(), 10) is None
        assert conn.error == "Protocol error"
        w.close()
    asyncio.run(main())


# --- the official OVS Python library's JSON parser as an oracle --------------

ovs_json = pytest.importorskip("ovs.json")

_PIECES = ['{', '}', '[', ']', ',', ':', ' ', '"a"', '"\\u0000"', '"\\\\u0000"',
           '"\\ud83d\\ude00"', '"\\ud800"', '"\\x"', '"\x01"', '"é"', '0', '01', '-',
           '1.5', '1.', '1e5', '1e', '-0', '9223372036854775808', '1e400', 'true',
           'tru', 'null', 'x', '"k":', '"\\n"']


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=12))
def test_parser_accepts_what_ovs_accepts(pieces):
    text = "".join(pieces)
    theirs = ovs_json.from_string(text)       # an error text, or the value
    p = Parser()
    try:
        values = p.feed(text.encode("utf-8"))
        p.feed(b"")
        ours = values[0] if len(values) == 1 and not p.pending() else None
    except JsonRpcError:
        ours = None
    if isinstance(theirs, str):
        assert ours is None, (text, theirs)
    else:
        assert ours == theirs, text


@settings(max_examples=150, deadline=None)
@given(st.lists(json_values, max_size=4) | st.dictionaries(st.text(max_size=5), json_values,
                                                           max_size=4)
       | st.lists(st.text(max_size=3) | st.floats(allow_nan=False, allow_infinity=False)
                  | st.integers(-2 ** 70, 2 ** 70), max_size=4),
       st.booleans())
def test_parser_values_match_ovs(value, ascii_only):
    text = json.dumps(value, ensure_ascii=ascii_only)
    theirs = ovs_json.from_string(text)
    try:
        ours = Parser().feed(text.encode("utf-8"))
    except JsonRpcError:
        ours = None
    if isinstance(theirs, str):               # an error text
        assert ours is None, (text, theirs)
    else:
        assert ours == [theirs]


ovs_jsonrpc = pytest.importorskip("ovs.jsonrpc")

_member_values = st.none() | st.integers(0, 3) | st.sampled_from(["m", "echo", ""]) \
    | st.lists(st.integers(0, 2), max_size=2) | st.dictionaries(st.sampled_from("ab"),
                                                               st.integers(0, 2), max_size=1)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["method", "params", "result", "error", "id",
                                        "extra"]), _member_values, max_size=5))
def test_message_validation_matches_ovs(obj):
    """Message.from_json accepts what ovs.jsonrpc accepts, with its texts."""
    theirs = ovs_jsonrpc.Message.from_json(dict(obj))
    try:
        ours = Message.from_json(dict(obj))
    except JsonRpcError as e:
        assert str(e) == theirs
        return
    assert not isinstance(theirs, str), (obj, theirs)
    kinds = {ovs_jsonrpc.Message.T_REQUEST: "request", ovs_jsonrpc.Message.T_NOTIFY: "notify",
             ovs_jsonrpc.Message.T_REPLY: "reply", ovs_jsonrpc.Message.T_ERROR: "error"}
    assert ours.type == kinds[theirs.type]
    assert (ours.method, ours.params, ours.result, ours.error, ours.id) == \
        (theirs.method, theirs.params, theirs.result, theirs.error, theirs.id)


def test_session_state_callbacks_and_no_stale_messages(tmp_path):
    """add_state_callback() reports each connect and disconnect before the
    new connection's messages; a message of a dropped connection that was
    not read yet is never delivered (as jsonrpc_session_recv())."""
    path = str(tmp_path / "s")

    async def main():
        peers = asyncio.Queue()

        async def on_client(reader, writer):
            await peers.put(writer)

        server = await asyncio.start_unix_server(on_client, path)
        session = jsonrpc.Session("unix:" + path, max_backoff=100)
        events = []
        session.add_state_callback(
            lambda connected: events.append((connected, session.seqno)))
        session.start()
        try:
            first = await asyncio.wait_for(peers.get(), 10)
            await asyncio.wait_for(session.wait_connected(), 10)
            assert events == [(True, 1)]
            first.write(encode(Message.create_notify("stale", []).to_json()))
            await first.drain()
            await asyncio.sleep(0)
            first.close()
            second = await asyncio.wait_for(peers.get(), 10)
            await asyncio.wait_for(session.wait_seqno_change(2), 10)
            second.write(encode(Message.create_notify("fresh", []).to_json()))
            await second.drain()
            msg = await asyncio.wait_for(session.recv(), 10)
            assert msg.method == "fresh"
            assert [c for c, _ in events] == [True, False, True]
            assert events[-1][1] == session.seqno == 3
            second.close()
        finally:
            session.close()
            server.close()
    asyncio.run(main())
