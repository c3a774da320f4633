"""The IDL core without sockets: requests it makes, updates it applies,
transactions it builds, and bad input it survives."""

import uuid

from hypothesis import given, settings, strategies as st

from pyovs.ovsdb import idl as idlmod
from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.idl import Idl, apply_diff
from pyovs.ovsdb.schema import DbSchema
from pyovs.ovsdb.types import Type
from pyovs.util.jsonrpc import Message

SCHEMA = DbSchema.from_json({
    "name": "D", "version": "1.0.0",
    "tables": {
        "P": {"isRoot": True, "columns": {
            "name": {"type": "string"},
            "n": {"type": "integer"},
            "opt": {"type": {"key": "string", "min": 0, "max": 1}},
            "tags": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
            "kv": {"type": {"key": "string", "value": "string", "min": 0,
                            "max": "unlimited"}},
            "kids": {"type": {"key": {"type": "uuid", "refTable": "C"},
                              "min": 0, "max": "unlimited"}}}},
        "C": {"columns": {"name": {"type": "string"}}},
    }})

U1, U2, U3 = (str(uuid.UUID(int=i)) for i in (1, 2, 3))


def _schema_reply(idl, schema_json=None):
    [req] = idl.on_connect()
    assert (req.method, req.params) == ("get_schema", ["D"])
    return idl.on_message(reply(req, schema_json or SCHEMA.to_json()))


def connected_idl():
    idl = Idl("D", SCHEMA)
    [req] = _schema_reply(idl)
    assert req.method == "monitor_cond_since"
    return idl, req


def reply(req, result):
    return Message.create_reply(result, req.id)


def initial(idl, req, rows):
    idl.on_message(reply(req, [False, "00000000-0000-0000-0000-000000000000",
                               rows]))


def test_monitor_request_covers_registered_columns():
    idl = Idl("D", SCHEMA, tables={"P": ["name", "kv"]},
              conditions={"P": [["n", ">", 1]]})
    [req] = _schema_reply(idl)
    db, monitor_id, requests, last = req.params
    assert (db, last) == ("D", "00000000-0000-0000-0000-000000000000")
    assert requests == {"P": [{"columns": ["name", "kv"], "where": [["n", ">", 1]]}]}


def test_older_server_schema_limits_the_request():
    """Columns and tables the server lacks are not asked for; rows show
    their default values there."""
    old = SCHEMA.to_json()
    del old["tables"]["C"]
    del old["tables"]["P"]["columns"]["kv"]
    del old["tables"]["P"]["columns"]["kids"]     # it refers to C
    idl = Idl("D", SCHEMA)
    [req] = _schema_reply(idl, old)
    requests = req.params[2]
    assert list(requests) == ["P"]
    assert "kv" not in requests["P"][0]["columns"]
    idl.on_message(reply(req, [False, U3, {"P": {U1: {"initial": {"name": "a"}}}}]))
    assert idl.get_row("P", U1).kv == {}


def test_falls_back_to_older_monitor_methods():
    idl, req = connected_idl()
    [req2] = idl.on_message(Message.create_error({"error": "unknown method"}, req.id))
    assert req2.method == "monitor_cond"
    assert len(req2.params) == 3
    [req3] = idl.on_message(Message.create_error({"error": "unknown method"}, req2.id))
    assert req3.method == "monitor"
    assert req3.params[2]["C"] == {"columns": ["name"]}
    idl.on_message(reply(req3, {"P": {U1: {"new": {"name": "a", "n": 1}}}}))
    assert idl.synced and idl.get_row("P", U1).n == 1
    idl.on_message(Message.create_notify("update", [idl.monitor_id, {
        "P": {U1: {"old": {"n": 1}, "new": {"name": "a", "n": 2}}}}]))
    assert idl.get_row("P", U1).n == 2
    idl.on_message(Message.create_notify("update", [idl.monitor_id, {
        "P": {U1: {"old": {"name": "a", "n": 2}}}}]))
    assert idl.rows("P") == []


def test_initial_rows_and_python_values():
    idl, req = connected_idl()
    initial(idl, req, {"P": {U1: {"initial": {
        "name": "a", "tags": ["set", ["x", "y"]], "kv": ["map", [["k", "v"]]],
        "kids": ["uuid", U2]}}}, "C": {U2: {"initial": {"name": "c"}}}})
    assert idl.synced
    p = idl.get_row("P", U1)
    assert (p.name, p.n, p.opt, p.tags, p.kv) == ("a", 0, [], ["x", "y"], {"k": "v"})
    assert p.kids == [uuid.UUID(U2)]
    assert idl.lookup("P", "name", "a") is p
    assert idl.get_row("C", p.kids[0]).name == "c"
    assert {(c.kind, c.table) for c in idl.tracked()} == {("insert", "P"), ("insert", "C")}


def test_update3_modify_applies_diffs():
    idl, req = connected_idl()
    initial(idl, req, {"P": {U1: {"initial": {
        "name": "a", "opt": "o", "tags": ["set", ["x", "y"]],
        "kv": ["map", [["k", "v"], ["d", "1"]]]}}}})
    idl.clear_tracked()
    seqno = idl.change_seqno
    idl.on_message(Message.create_notify("update3", [idl.monitor_id, U3, {
        "P": {U1: {"modify": {
            "name": "b", "opt": "p", "tags": ["set", ["y", "z"]],
            "kv": ["map", [["k", "w"], ["d", "1"], ["new", "2"]]]}}}}]))
    p = idl.get_row("P", U1)
    assert (p.name, p.opt, p.tags, p.kv) == ("b", ["p"], ["x", "z"],
                                             {"k": "w", "new": "2"})
    assert idl.change_seqno == seqno + 1
    assert idl.last_id == U3
    [change] = idl.tracked()
    assert change.kind == "update"
    assert change.columns == {"name", "opt", "tags", "kv"}
    assert change.old.name == "a"
    # A column holding at most one value is replaced, not toggled.
    idl.on_message(Message.create_notify("update3", [idl.monitor_id, U3, {
        "P": {U1: {"modify": {"opt": ["set", []]}}}}]))
    assert idl.get_row("P", U1).opt == []


def _diff(old, new, type_):
    """The update2 diff ovsdb-server sends for OLD -> NEW (ovsdb(7))."""
    if type_.n_max == 1:
        return new
    if type_.value is None:
        return Datum(type_.with_counts(0, float("inf")),
                     set(old.keys()) ^ set(new.keys()))
    d = {}
    for k, v in old.items():
        if k not in new.values_dict():
            d[k] = v
    for k, v in new.items():
        if old.values_dict().get(k, object()) != v:
            d[k] = v
    return Datum(type_.with_counts(0, float("inf")), d)


small = st.text("abc", max_size=2)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(small, small, max_size=4), st.dictionaries(small, small, max_size=4),
       st.sets(small, max_size=4), st.sets(small, max_size=4))
def test_apply_diff_inverts_server_diff(m1, m2, s1, s2):
    mt = Type.from_json({"key": "string", "value": "string", "min": 0, "max": "unlimited"})
    st_ = Type.from_json({"key": "string", "min": 0, "max": "unlimited"})
    opt = Type.from_json({"key": "string", "min": 0, "max": 1})
    o1, o2 = sorted(s1)[:1], sorted(s2)[:1]
    for type_, a, b in ((mt, m1, m2), (st_, s1, s2), (opt, o1, o2)):
        old, new = Datum(type_, a), Datum(type_, b)
        assert apply_diff(old, _diff(old, new, type_), type_) == new


def test_full_resync_reports_vanished_rows():
    idl, req = connected_idl()
    initial(idl, req, {"P": {U1: {"initial": {"name": "a"}},
                             U2: {"initial": {"name": "b"}}}})
    idl.clear_tracked()
    idl.on_disconnect()
    assert not idl.synced
    [req] = _schema_reply(idl)
    idl.on_message(reply(req, [False, U3, {"P": {U2: {"initial": {"name": "B"}}}}]))
    assert [r.name for r in idl.rows("P")] == ["B"]
    kinds = sorted((c.kind, str(c.uuid)) for c in idl.tracked())
    assert kinds == [("delete", U1), ("update", U2)]
    # found=true: only the changes are sent, the replica stays.
    idl.on_disconnect()
    [req] = _schema_reply(idl)
    assert req.params[3] == U3
    idl.on_message(reply(req, [True, U3, {}]))
    assert idl.synced and [r.name for r in idl.rows("P")] == ["B"]


def test_transaction_ops():
    idl, req = connected_idl()
    initial(idl, req, {"P": {U1: {"initial": {"name": "a", "n": 5}}}})
    p = idl.get_row("P", U1)
    txn = idl.transaction()
    c = txn.insert("C")
    c.name = "kid"
    row = txn.update(p)
    row.verify("n")
    row.kids = [c]
    row.kv = {"x": "y"}
    txn.increment(p, "n")
    txn.add_comment("hello")
    [msg] = idl.commit(txn)
    assert txn.status == idlmod.INCOMPLETE
    db, *ops = msg.params
    assert db == "D"
    assert [op["op"] for op in ops] == ["wait", "insert", "update", "mutate",
                                        "select", "comment"]
    assert ops[0]["rows"] == [{"n": 5}] and ops[0]["until"] == "=="
    name = ops[1]["uuid-name"]
    assert ops[2]["row"] == {"kids": ["named-uuid", name],
                             "kv": ["map", [["x", "y"]]]}
    assert ops[3]["mutations"] == [["n", "+=", 1]]
    new_c = str(uuid.uuid4())
    idl.on_message(reply(msg, [{}, {"uuid": ["uuid", new_c]}, {"count": 1},
                               {"count": 1}, {"rows": [{"n": 6}]}, {}]))
    assert txn.status == idlmod.SUCCESS
    assert txn.get_insert_uuid(c) == uuid.UUID(new_c)
    assert txn.increment_new_value == 6


def test_transaction_statuses():
    idl, req = connected_idl()
    initial(idl, req, {"P": {U1: {"initial": {"name": "a"}}}})
    p = idl.get_row("P", U1)
    assert idl.commit(idl.transaction()) == [] and True

    def attempt(result):
        txn = idl.transaction()
        r = txn.update(p)
        r.verify("name")
        r.name = "z"
        [msg] = idl.commit(txn)
        idl.on_message(reply(msg, result))
        return txn

    assert attempt([{"error": "timed out"}]).status == idlmod.TRY_AGAIN
    t = attempt([{}, {"error": "constraint violation", "details": "x"}])
    assert t.status == idlmod.ERROR and "constraint violation" in t.error
    assert attempt([{"error": "not owner"}]).status == idlmod.NOT_LOCKED
    # A transaction in flight when the connection drops must be retried.
    txn = idl.transaction()
    txn.update(p).name = "q"
    idl.commit(txn)
    idl.on_disconnect()
    assert txn.status == idlmod.TRY_AGAIN
    # Nothing to do: unchanged, and no request.
    txn = idl.transaction()
    txn.update(p).name = "a"
    assert idl.commit(txn) == [] and txn.status == idlmod.UNCHANGED


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=4) |
    st.sampled_from([U1, U2, "P", "C", "initial", "modify", "delete", "insert"]),
    lambda ch: st.lists(ch, max_size=3) | st.dictionaries(
        st.sampled_from(["P", "C", U1, U2, "initial", "modify", "delete", "insert",
                         "name", "tags", "kv", "old", "new"]), ch, max_size=3),
    max_leaves=15)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["update", "update2", "update3"]), json_values, json_values)
def test_bad_updates_never_crash(method, a, b):
    idl, req = connected_idl()
    initial(idl, req, {"P": {U1: {"initial": {"name": "a"}}}})
    params = {"update": [idl.monitor_id, a], "update2": [idl.monitor_id, a],
              "update3": [idl.monitor_id, b, a]}[method]
    assert idl.on_message(Message.create_notify(method, params)) == []
    idl.on_message(Message.create_reply(a, req.id))
    for row in idl.rows("P"):
        assert isinstance(row.name, str)


def test_partial_writes_fold_into_inserts_and_full_writes():
    idl, req = connected_idl()
    initial(idl, req, {"P": {U1: {"initial": {"name": "a",
                                              "kv": ["map", [["k", "v"]]],
                                              "tags": ["set", ["x"]]}}}})
    p = idl.get_row("P", U1)
    txn = idl.transaction()
    new = txn.insert("P")
    txn.setkey(new, "kv", "a", "b")
    txn.addvalue(new, "tags", "t")
    txn.update(p).kv = {"z": "1"}
    txn.setkey(p, "kv", "y", "2")
    txn.addvalue(p, "tags", "q")
    txn.delvalue(p, "tags", "x")
    [msg] = idl.commit(txn)
    ops = msg.params[1:]
    insert = [op for op in ops if op["op"] == "insert"][0]
    assert insert["row"] == {"kv": ["map", [["a", "b"]]], "tags": "t"}
    update = [op for op in ops if op["op"] == "update"][0]
    assert update["row"] == {"kv": ["map", [["y", "2"], ["z", "1"]]]}
    mutate = [op for op in ops if op["op"] == "mutate"][0]
    # Mutation arguments are always ["set", ...]/["map", ...], as OVS's IDL.
    assert mutate["mutations"] == [["tags", "delete", ["set", ["x"]]],
                                   ["tags", "insert", ["set", ["q"]]]]


def test_has_changes():
    idl, req = connected_idl()
    initial(idl, req, {"P": {U1: {"initial": {"name": "a", "n": 5}}}})
    p = idl.get_row("P", U1)
    txn = idl.transaction()
    txn.verify(p, "n")
    txn.add_comment("only a comment")
    assert not txn.has_changes()
    txn.set(p, "name", "a")             # the value it already has
    assert not txn.has_changes()
    assert idl.commit(txn) == [] and txn.status == idlmod.UNCHANGED
    txn = idl.transaction()
    txn.addvalue(p, "tags", "t")
    assert txn.has_changes()
    assert txn.has_changes()            # asking changes nothing
    txn = idl.transaction()
    txn.set(p, "n", 6)
    assert txn.has_changes()
    txn = idl.transaction()
    txn.insert("C")
    assert txn.has_changes()


def test_increment_of_a_row_inserted_in_the_same_transaction():
    """As OVS's IDL (ovs-vsctl bumping next_cfg of the Open_vSwitch row its
    "init" creates): the new row is named in the mutate and the select."""
    idl, req = connected_idl()
    initial(idl, req, {})
    txn = idl.transaction()
    p = txn.insert("P")
    p.name = "new"
    assert txn.has_changes()
    txn.increment(p, "n")
    [msg] = idl.commit(txn)
    _, *ops = msg.params
    assert [op["op"] for op in ops] == ["insert", "mutate", "select"]
    named = [["_uuid", "==", ["named-uuid", ops[0]["uuid-name"]]]]
    assert ops[1]["where"] == named and ops[2]["where"] == named
    assert ops[1]["mutations"] == [["n", "+=", 1]]
    idl.on_message(reply(msg, [{"uuid": ["uuid", U2]}, {"count": 1},
                               {"rows": [{"n": 1}]}]))
    assert txn.status == idlmod.SUCCESS and txn.increment_new_value == 1
