"""pyovs.ovsdb.log: the ovsdb(5) record log and its locking."""

import hashlib
import os

import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from pyovs.ovsdb import log
from pyovs.ovsdb.log import LogError, open_log, read_records

RECORDS = [
    {"name": "S", "version": "1.0.0", "tables": {"T": {"columns": {"i": {"type": "integer"}}}}},
    {"T": {"5b0e4d3c-0000-4000-8000-000000000001": {"i": 1}}, "_date": 1700000000000},
    {"T": {"5b0e4d3c-0000-4000-8000-000000000001": None}, "_comment": "bye \u00e9\n"},
]


def write_file(path, records):
    with open_log(str(path), "create_excl") as lg:
        for r in records:
            lg.write(r)
        lg.commit()
    return path.read_bytes()


def test_record_layout(tmp_path):
    data = write_file(tmp_path / "db", RECORDS[:1])
    header, body = data.split(b"\n", 1)
    magic, kind, length, sha1 = header.split(b" ")
    assert (magic, kind) == (b"OVSDB", b"JSON")
    # The length and the SHA-1 cover the JSON and its trailing new-line.
    assert int(length) == len(body) and body.endswith(b"}\n")
    assert sha1.decode() == hashlib.sha1(body).hexdigest()


def test_round_trip(tmp_path):
    write_file(tmp_path / "db", RECORDS)
    records, error = read_records(str(tmp_path / "db"))
    assert error is None
    assert records == RECORDS


def append(path, data):
    with open(path, "ab") as f:
        f.write(data)


def raw_record(body):
    return b"OVSDB JSON %d %s\n" % (len(body), hashlib.sha1(body).hexdigest().encode()) + body


@pytest.mark.parametrize("tail,message", [
    (b"garbage\n", 'parse error at offset {end} in header line "garbage"'),
    (raw_record(b"[1,2]\n"), "6 bytes starting at offset {data} are not a JSON object"),
    (raw_record(b'{"a":\n'), "6 bytes starting at offset {data} are not valid JSON "
                             "(line 1, column 0, byte 6: unexpected end of input)"),
    (b"OVSDB JSON 5 " + b"0" * 40 + b"\n{}xx\n",
     "5 bytes starting at offset {data} have SHA-1 hash "
     + hashlib.sha1(b"{}xx\n").hexdigest() + " but should have hash " + "0" * 40),
    (raw_record(b"{}\n")[:-2], "error reading 3 bytes starting at offset {data} (End of file)"),
])
def test_corrupt_tail_is_reported_and_prefix_kept(tmp_path, tail, message):
    path = tmp_path / "db"
    good = write_file(path, RECORDS)
    append(path, tail)
    records, error = read_records(str(path))
    assert records == RECORDS
    header_len = tail.index(b"\n") + 1
    expected = message.format(end=len(good), data=len(good) + header_len)
    assert str(error).endswith("%s: %s" % (path, expected))
    # Reading again after an error repeats the error.
    with open_log(str(path), "read") as lg:
        for _ in RECORDS:
            lg.read()
        with pytest.raises(LogError):
            lg.read()
        with pytest.raises(LogError):
            lg.read()


def test_writer_truncates_bad_tail(tmp_path):
    path = tmp_path / "db"
    good = write_file(path, RECORDS)
    append(path, b"OVSDB JSON 100 ")
    with open_log(str(path), "read_write") as lg:
        with pytest.raises(LogError):
            list(lg)
        lg.write({"_comment": "after"})
        lg.commit()
    records, error = read_records(str(path))
    assert error is None
    assert records == RECORDS + [{"_comment": "after"}]
    assert path.read_bytes().startswith(good)


def test_unread_then_write_overwrites(tmp_path):
    path = tmp_path / "db"
    write_file(path, RECORDS)
    with open_log(str(path), "read_write") as lg:
        assert lg.read() == RECORDS[0]
        assert lg.read() == RECORDS[1]
        lg.unread()
        lg.write({"x": 1})
    assert read_records(str(path)) == ([RECORDS[0], {"x": 1}], None)


def test_open_errors(tmp_path):
    with pytest.raises(LogError) as e:
        open_log(str(tmp_path / "missing"), "read")
    assert str(e.value) == "I/O error: %s: open failed (No such file or directory)" % (tmp_path / "missing")
    path = tmp_path / "db"
    write_file(path, RECORDS[:1])
    with pytest.raises(LogError) as e:
        open_log(str(path), "create_excl")
    assert str(e.value) == "I/O error: %s: create failed (File exists)" % path
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(LogError) as e:
        open_log(str(tmp_path / "empty"), "read", "JSON|CLUSTER")
    assert str(e.value) == "ovsdb error: %s: cannot identify file type" % (tmp_path / "empty")
    (tmp_path / "text").write_bytes(b"hello\n")
    with pytest.raises(LogError) as e:
        open_log(str(tmp_path / "text"), "read")
    assert str(e.value) == "ovsdb error: %s: unexpected file format" % (tmp_path / "text")


def test_cluster_magic_is_identified(tmp_path):
    path = tmp_path / "db"
    path.write_bytes(raw_record(b"{}\n").replace(b"JSON", b"CLUSTER", 1))
    with pytest.raises(LogError) as e:
        open_log(str(path), "read")
    assert "cannot identify file type" in str(e.value)
    with open_log(str(path), "read", "JSON|CLUSTER") as lg:
        assert lg.magic == log.CLUSTER_MAGIC
        assert lg.read() == {}


def test_lock_excludes_second_writer(tmp_path):
    path = tmp_path / "db"
    write_file(path, RECORDS[:1])
    with open_log(str(path), "read_write"):
        assert os.path.exists(tmp_path / ".db.~lock~")
        with pytest.raises(LogError) as e:
            open_log(str(path), "read_write")
        assert "failed to lock lockfile" in str(e.value)
        # Readers do not lock.
        with open_log(str(path), "read") as lg:
            assert lg.read() == RECORDS[0]
    with open_log(str(path), "read_write"):
        pass


def test_replace_is_atomic_and_appendable(tmp_path):
    path = tmp_path / "db"
    write_file(path, RECORDS)
    with open_log(str(path), "read_write") as lg:
        list(lg)
        lg.replace([RECORDS[0], {"_comment": "compacted"}])
        lg.write({"_comment": "next"})
        lg.commit()
    assert not os.path.exists(str(path) + ".tmp")
    assert read_records(str(path)) == (
        [RECORDS[0], {"_comment": "compacted"}, {"_comment": "next"}], None)


def test_oversized_record_is_rejected(tmp_path):
    path = tmp_path / "db"
    write_file(path, RECORDS[:1])
    append(path, b"OVSDB JSON 99999999999 " + b"0" * 40 + b"\n")
    with open_log(str(path), "read", max_record_size=1 << 20) as lg:
        assert lg.read() == RECORDS[0]
        with pytest.raises(LogError) as e:
            lg.read()
    assert "maximum" in str(e.value)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0), garbage=st.binary(max_size=200))
def test_fuzz_truncation_and_garbage(tmp_path, cut, garbage):
    path = tmp_path / "fuzz.db"
    if path.exists():
        path.unlink()
    data = write_file(path, RECORDS)
    # Record boundaries, to know which prefix must survive.
    ends, pos = [], 0
    for r in RECORDS:
        pos += len(log.compose_record(r))
        ends.append(pos)
    cut = cut % (len(data) + 1)
    path.write_bytes(data[:cut] + garbage)
    intact = sum(1 for e in ends if e <= cut)
    try:
        records, error = read_records(str(path))
    except LogError:
        # Only the very first header can make the file unopenable.
        assert intact == 0
        return
    assert records[:intact] == RECORDS[:intact]
    if error is None:
        assert len(records) >= intact


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_header_parser(line):
    # Never raises; accepts only well-formed headers.
    parsed = log._parse_header(line)
    if parsed is not None:
        assert line.startswith(b"OVSDB ") and line.endswith(b"\n")
