"""Table-features replies: decoding is bounded (every truncation or bad
length is a DecodeError, never another exception), and the printer folds
equal tables as OVS does."""

import random

import pytest

from pyovs.openflow import messages as M
from pyovs.openflow import table_features as T
from pyovs.openflow.errors import DecodeError


def _body(version, n_tables):
    return T.encode_table_features_replies(version, 1, n_tables)[0][16:]


@pytest.mark.parametrize("version", [M.OFP13, M.OFP14, M.OFP15])
def test_round_trip_and_ditto(version):
    tfs = T.decode_table_features(version, _body(version, 4))
    assert [tf.table_id for tf in tfs] == [0, 1, 2, 3]
    assert tfs[1].same_as(tfs[0]) and not tfs[3].same_as(tfs[2])
    p = T.DumpPrinter()
    text = "".join(p.add(tf) for tf in tfs) + p.finish()
    assert "  tables 1...2: ditto\n" in text
    assert text.count("  table ") == 2 and "(same matching)" in text
    assert ("eviction: not supported" in text) == (version >= M.OFP14)


def test_truncations_and_corruptions_are_decode_errors():
    body = _body(M.OFP13, 2)
    rnd = random.Random(7)
    for n in list(range(0, 200)) + [rnd.randrange(len(body)) for _ in range(200)]:
        try:
            T.decode_table_features(M.OFP13, body[:n])
        except DecodeError:
            pass
    for _ in range(300):
        b = bytearray(body)
        for _ in range(4):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        try:
            T.decode_table_features(M.OFP13, bytes(b))
        except DecodeError:
            pass
