"""pyovs.util.command_line: getopt_long (permuting, or in "+" mode) with
glibc's texts (the tools that use it are compared with Debian's in
tests/interop/test_ovsdb_tool_options.py)."""

import pytest
from hypothesis import given, settings, strategies as st

from pyovs.util.command_line import (NO_ARGUMENT, OPTIONAL_ARGUMENT,
                                     REQUIRED_ARGUMENT, GetoptError,
                                     LongOption, getopt_long)

LONG = [LongOption("target", REQUIRED_ARGUMENT, "t"),
        LongOption("help", NO_ARGUMENT, "h"),
        LongOption("verbose", OPTIONAL_ARGUMENT, "v"),
        LongOption("log-file", OPTIONAL_ARGUMENT),
        LongOption("timeout", REQUIRED_ARGUMENT, "T")]
SHORT = "+t:hv::T:"


@pytest.mark.parametrize("argv, opts, rest", [
    (["-t", "x", "cmd", "-h"], [("t", "x")], ["cmd", "-h"]),
    (["-tx", "-hv", "cmd"], [("t", "x"), ("h", None), ("v", None)], ["cmd"]),
    (["-vjsonrpc:dbg", "c"], [("v", "jsonrpc:dbg")], ["c"]),
    (["--targ=y", "--verbose", "--log-file=/f", "c"],
     [("t", "y"), ("v", None), ("--log-file", "/f")], ["c"]),
    (["--target", "z", "--", "-h"], [("t", "z")], ["-h"]),
    (["--ti", "5", "-", "x"], [("T", "5")], ["-", "x"]),
    ([], [], []),
])
def test_parses(argv, opts, rest):
    assert getopt_long(argv, SHORT, LONG) == (opts, rest)


@pytest.mark.parametrize("argv, text", [
    (["--foo"], "unrecognized option '--foo'"),
    (["-x"], "invalid option -- 'x'"),
    (["-t"], "option requires an argument -- 't'"),
    (["--target"], "option '--target' requires an argument"),
    (["--help=3"], "option '--help' doesn't allow an argument"),
    (["--t"], "option '--t' is ambiguous; possibilities: '--target' '--timeout'"),
])
def test_errors_read_like_glibc(argv, text):
    with pytest.raises(GetoptError) as e:
        getopt_long(argv, SHORT, LONG)
    assert str(e.value) == text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["-t", "-h", "-v", "-vx", "--t", "--target=a",
                                 "--help", "--log-file", "--", "cmd", "-", "-Z",
                                 "--verbose=q", "x"]), max_size=8))
def test_never_crashes(argv):
    try:
        opts, rest = getopt_long(argv, SHORT, LONG)
    except GetoptError:
        return
    assert len(rest) <= len(argv)
    assert not rest or argv[len(argv) - len(rest):] == rest


@pytest.mark.parametrize("argv, opts, rest", [
    (["cmd", "-h", "x"], [("h", None)], ["cmd", "x"]),
    (["a", "-t", "x", "b", "--", "-h"], [("t", "x")], ["a", "b", "-h"]),
    (["a", "-v", "b"], [("v", None)], ["a", "b"]),
    (["-", "--ti=3", "c"], [("T", "3")], ["-", "c"]),
])
def test_permutes_without_plus(argv, opts, rest, monkeypatch):
    monkeypatch.delenv("POSIXLY_CORRECT", raising=False)
    assert getopt_long(argv, SHORT[1:], LONG) == (opts, rest)
    monkeypatch.setenv("POSIXLY_CORRECT", "1")
    assert getopt_long(argv, SHORT[1:], LONG)[1] == argv[argv.index(rest[0]):]
