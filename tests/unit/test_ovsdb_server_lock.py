"""pyovs.ovsdb.lock: the lock queue, as ovsdb-server runs it."""

import pytest
from hypothesis import given, settings, strategies as st

from pyovs.ovsdb.lock import LockError, LockServer, is_valid_lock_name


def test_lock_queue_and_handover():
    ls = LockServer()
    a, b = object(), object()
    assert ls.lock(a, "L") is True
    assert ls.lock(b, "L") is False
    assert ls.owner("L") is a
    assert ls.unlock(a, "L") is b          # b now owns it: "locked" to b
    assert ls.is_owner(b, "L")
    assert ls.unlock(b, "L") is None
    assert ls.owner("L") is None


def test_steal_keeps_victim_queued():
    ls = LockServer()
    a, b, c = object(), object(), object()
    ls.lock(a, "L")
    ls.lock(c, "L")
    assert ls.steal(b, "L") is a           # "stolen" to a
    assert ls.is_owner(b, "L")
    assert ls.unlock(b, "L") is a          # a gets it back, not c
    assert ls.unlock(a, "L") is c


def test_errors_have_ovs_wording():
    ls = LockServer()
    a = object()
    ls.lock(a, "L")
    with pytest.raises(LockError) as e:
        ls.lock(a, "L")
    assert e.value.details == 'must issue "unlock" before new "lock"'
    with pytest.raises(LockError) as e:
        ls.steal(a, "L")
    assert e.value.details == 'must issue "unlock" before new "steal"'
    with pytest.raises(LockError) as e:
        ls.unlock(a, "M")
    assert e.value.details == '"unlock" without "lock" or "steal"'


def test_remove_session_hands_locks_over():
    ls = LockServer()
    a, b = object(), object()
    ls.lock(a, "x")
    ls.lock(a, "y")
    ls.lock(b, "y")
    assert ls.remove_session(a) == [("y", b)]
    assert ls.owner("x") is None and ls.is_owner(b, "y")
    assert ls.remove_session(a) == []


def test_lock_names():
    assert is_valid_lock_name("my_lock1")
    for bad in ("", "a b", "1x", None, 3, "x-y"):
        assert not is_valid_lock_name(bad)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("lsuq"), st.integers(0, 3), st.sampled_from("AB")),
                max_size=40))
def test_random_ops_keep_one_owner(ops):
    """Whatever the sequence, each lock has one owner iff someone waits."""
    ls = LockServer()
    sessions = [object() for _ in range(4)]
    waiting = {"A": [], "B": []}
    for op, i, name in ops:
        s = sessions[i]
        try:
            if op == "l":
                ls.lock(s, name)
                waiting[name].append(s)
            elif op == "s":
                ls.steal(s, name)
                waiting[name].insert(0, s)
            elif op == "u":
                ls.unlock(s, name)
                waiting[name].remove(s)
            else:
                ls.remove_session(s)
                for q in waiting.values():
                    if s in q:
                        q.remove(s)
        except LockError:
            pass
        for n, q in waiting.items():
            assert ls.owner(n) is (q[0] if q else None)
