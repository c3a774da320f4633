"""pyovs.util.vlog: patterns, -v specs, levels, the log file, list texts."""

import calendar
import re

import pytest
from hypothesis import given, settings, strategies as st

from pyovs.util import vlog
from pyovs.util.vlog import Vlog


@pytest.fixture(autouse=True)
def restore_vlog():
    """vlog's settings are process-global: put them back after each test."""
    levels = {name: list(lv) for name, lv in vlog._modules.items()}
    defaults = list(vlog._defaults)
    patterns = dict(vlog._patterns)
    state = dict(vlog._state)
    yield
    for name, lv in levels.items():
        vlog._modules[name][:] = lv
    vlog._defaults[:] = defaults
    vlog._patterns.update(patterns)
    if vlog._state["log_file"] is not None and vlog._state["log_file"] is not state["log_file"]:
        vlog._state["log_file"].close()
    vlog._state.update(state)


T = calendar.timegm((2026, 11, 24, 7, 40, 1)) + 0.123   # 2026-11-24T07:40:01.123Z


def test_default_patterns_produce_ovs_lines():
    assert vlog.format_message(vlog.DEFAULT_PATTERNS["console"], "jsonrpc",
                               vlog.WARN, "hello", 7, T) == \
        "2026-11-24T07:40:01Z|00007|jsonrpc|WARN|hello"
    assert vlog.format_message(vlog.DEFAULT_PATTERNS["file"], "reconnect",
                               vlog.INFO, "x", 123456, T) == \
        "2026-11-24T07:40:01.123Z|123456|reconnect|INFO|x"
    assert vlog.format_message(vlog.DEFAULT_PATTERNS["syslog"], "vlog",
                               vlog.DBG, "m", 1, T) == "ovs|00001|vlog|DBG|m"


@pytest.mark.parametrize("pattern, expected", [
    ("%-10c|", "mod       |"), ("%10c|", "       mod|"), ("%p%%", "EMER%"),
    ("%m%n", "msg\n"), ("%D{%H:%M}", "07:40"), ("%t%T", "main"),
    ("%B", str(16 * 8 + 1)), ("%A", "prog"), ("%5N", "   42"),   # local0 by default
])
def test_pattern_escapes(pattern, expected):
    vlog.set_program_name("/usr/bin/prog")
    assert vlog.format_message(pattern, "mod", vlog.EMER, "msg", 42, T) == expected


@pytest.mark.parametrize("spec, error", [
    ("foo", 'no destination, level, or module "foo"'),
    ("jsonrpc:console:bar", 'no destination, level, or module "bar"'),
    ("console:file", "cannot specify multiple destinations"),
    ("info:dbg", "cannot specify multiple levels"),
    ("jsonrpc:vlog", "cannot specify multiple modules"),
    ("PATTERN", "missing destination"),
    ("PATTERN:nowhere:%m", 'unknown destination "nowhere"'),
    ("FACILITY:nowhere", "invalid facility"),
])
def test_spec_errors(spec, error):
    Vlog("jsonrpc")
    assert vlog.set_levels_from_string(spec) == error


def test_spec_semantics():
    vlog._defaults[:] = [vlog.INFO] * 3     # (other modules' tests may have set them)
    a, b = Vlog("test_a"), Vlog("test_b")
    a.levels[:] = b.levels[:] = [vlog.INFO] * 3
    assert vlog.set_levels_from_string("test_a:file:warn") is None
    assert a.levels == [vlog.INFO, vlog.INFO, vlog.WARN]
    assert vlog.set_levels_from_string("console:off") is None
    assert a.levels[0] == b.levels[0] == vlog.OFF
    assert vlog.set_levels_from_string("test_b") is None        # level dbg
    assert b.levels == [vlog.DBG] * 3
    assert vlog.set_levels_from_string("ANY:syslog:EMER") is None
    assert a.levels[1] == b.levels[1] == vlog.EMER
    assert vlog.set_levels_from_string("PATTERN:console:%c: %m") is None
    assert vlog._patterns["console"] == "%c: %m"
    assert vlog.set_levels_from_string("PATTERN:ANY:[%p] %m") is None
    assert set(vlog._patterns.values()) == {"[%p] %m"}
    assert vlog.set_levels_from_string("FACILITY:local3") is None
    assert vlog._state["facility"] == 19


def test_handle_verbose_exits_on_error(capsys):
    vlog.set_program_name("ovs-test")
    with pytest.raises(SystemExit) as e:
        vlog.handle_verbose("nonsense:x")
    assert e.value.code == 1
    assert capsys.readouterr().err == \
        'ovs-test: processing "nonsense:x": no destination, level, or module "nonsense"\n'
    vlog.handle_verbose(None)
    assert all(lv == [vlog.DBG] * 3 for lv in vlog._modules.values())


def test_levels_filter_destinations(capsys, tmp_path):
    m = Vlog("test_filter")
    vlog.set_levels("test_filter", "syslog", "off")
    vlog.set_levels("test_filter", "console", "warn")
    vlog.set_levels("test_filter", "file", "dbg")
    assert vlog.set_log_file(str(tmp_path / "x.log")) is None
    m.info("quiet %d", 1)
    m.warn("loud %s", "two")
    m.dbg("deep")
    err = capsys.readouterr().err
    assert "quiet" not in err and re.search(r"\|test_filter\|WARN\|loud two$", err, re.M)
    text = (tmp_path / "x.log").read_text()
    lines = [line.split("|", 2)[2] for line in text.splitlines()]
    assert lines == ["vlog|INFO|opened log file %s" % (tmp_path / "x.log"),
                     "test_filter|INFO|quiet 1", "test_filter|WARN|loud two",
                     "test_filter|DBG|deep"]
    seqs = [int(line.split("|")[1]) for line in text.splitlines()]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert m.is_enabled("DBG") and not Vlog("test_quiet").is_enabled(vlog.DBG)


def test_reopen_and_close(tmp_path):
    m = Vlog("test_reopen")
    path = tmp_path / "r.log"
    vlog.set_log_file(str(path))
    m.info("one")
    (tmp_path / "r.log").rename(tmp_path / "r.log.1")
    assert vlog.reopen_log_file() is None
    m.info("two")
    vlog.close_log_file()
    m.info("three")
    assert "two" in path.read_text() and "one" not in path.read_text()
    assert "three" not in path.read_text()
    assert vlog.log_file_name() == str(path)


def test_list_levels_format():
    Vlog("test_list_module_name_long")
    vlog.set_levels("test_list_module_name_long", "console", "off")
    text = vlog.list_levels()
    lines = text.splitlines()
    assert lines[0] == " " * 17 + "console    syslog    file"
    assert lines[1] == " " * 17 + "-------    ------    ------"
    names = [line.split()[0] for line in lines[2:]]
    assert names == sorted(names) == sorted(vlog._modules)
    assert "test_list_module_name_long   OFF       INFO       INFO" in lines


def test_list_patterns_reflects_changes():
    vlog.set_pattern("file", "%m")
    lines = vlog.list_patterns().splitlines()
    assert lines[4] == "FILE     none                              %m"
    assert lines[2].startswith("SYSLOG   <%B> %D{%h %e %T} %E %A:          ovs|")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_any_spec_either_applies_or_explains(spec):
    levels = {name: list(lv) for name, lv in vlog._modules.items()}
    defaults = list(vlog._defaults)
    patterns = dict(vlog._patterns)
    try:
        result = vlog.set_levels_from_string(spec)
        assert result is None or isinstance(result, str)
        for lv in vlog._modules.values():
            assert all(0 <= x <= vlog.DBG for x in lv)
    finally:
        for name, lv in levels.items():
            vlog._modules[name][:] = lv
        vlog._defaults[:] = defaults
        vlog._patterns.update(patterns)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30))
def test_any_pattern_formats(pattern):
    out = vlog.format_message(pattern, "m", vlog.INFO, "msg", 1, T)
    assert isinstance(out, str)


def test_rate_limit_drops_and_summarises(tmp_path):
    now = [1000.0]
    rl = vlog.RateLimit(rate=60, burst=2, clock=lambda: now[0])   # 1 msg/s
    m = Vlog("test_rl")
    vlog.set_log_file(str(tmp_path / "rl.log"))
    for i in range(5):
        m.warn_rl(rl, "burst %d", i)
    now[0] += 1.0
    m.warn_rl(rl, "later")
    text = (tmp_path / "rl.log").read_text()
    assert "burst 0" in text and "burst 1" in text and "burst 2" not in text
    assert re.search(r"\|test_rl\|WARN\|Dropped 3 log messages in last \d+ seconds "
                     r"\(most recently, \d+ seconds ago\) due to excessive rate\n"
                     r".*\|test_rl\|WARN\|later\n", text)
    vlog._no_rate_limit.add("test_rl")
    try:
        for i in range(5):
            m.warn_rl(rl, "unlimited %d", i)
    finally:
        vlog._no_rate_limit.discard("test_rl")
    assert "unlimited 4" in (tmp_path / "rl.log").read_text()


def test_reopen_same_file_is_a_no_op(tmp_path):
    path = tmp_path / "same.log"
    vlog.set_log_file(str(path))
    assert vlog.reopen_log_file() is None
    assert path.read_text().count("opened log file") == 1


@pytest.mark.parametrize("pattern", ["%²", "%D{\x00}", "%99999999999m", "%-", "%"])
def test_odd_patterns(pattern):
    out = vlog.format_message(pattern, "m", vlog.INFO, "msg", 1, T)
    assert len(out) <= 4096 + 10


def test_bad_format_is_logged_not_raised(tmp_path):
    vlog.set_log_file(str(tmp_path / "bad.log"))
    Vlog("test_bad").warn("%d items", "not a number")
    assert "|test_bad|WARN|%d items ('not a number',)" in (tmp_path / "bad.log").read_text()


def test_settings_for_all_modules_reach_modules_registered_later():
    """-vconsole:off before a module is imported still silences it (in OVS
    every module exists from the start)."""
    assert vlog.set_levels_from_string("console:off") is None
    Vlog("test_vlog_registered_later")
    assert vlog.get_level("test_vlog_registered_later", "console") == "OFF"
    assert vlog.get_level("test_vlog_registered_later", "file") == "INFO"
