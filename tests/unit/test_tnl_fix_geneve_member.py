"""The tun_geneve flow member (Geneve options raw, OVS's UDPIF form) and
its mask: to and from the option lists of the tunnel(...) key text."""

from hypothesis import given, strategies as st

from pyovs.odp import tunnel as T

_OPT = st.tuples(st.integers(0, 0xffff), st.integers(0, 0xff),
                 st.integers(0, 31).flatmap(lambda n: st.binary(min_size=4 * n,
                                                                max_size=4 * n)))
_OPTS = st.lists(_OPT, max_size=6)


@given(_OPTS)
def test_member_round_trip(opts):
    raw = T.geneve_to_member(opts)
    assert T.geneve_from_member(raw) == opts
    assert raw.bit_length() <= T.GENEVE_MEMBER_BITS or sum(4 + len(d) for *_, d in opts) > 252


@given(_OPTS, st.data())
def test_mask_round_trip(opts, data):
    masks = [(data.draw(st.integers(0, 0xffff)), data.draw(st.integers(0, 0xff)),
              data.draw(st.integers(0, 0x1f)),
              data.draw(st.binary(min_size=len(d), max_size=len(d)))) for *_, d in opts]
    raw = T.geneve_to_member(opts)
    m = T.geneve_mask_to_member(opts, masks)
    assert T.geneve_mask_from_member(raw, m) == masks


def test_cut_option_ends_the_list():
    raw = T.geneve_to_member([(1, 2, b"abcd"), (3, 4, b"efgh")])
    assert T.geneve_from_member(raw >> 8) == [(1, 2, b"abcd")]
    assert T.geneve_from_member(0) == []


def test_key_text_with_masks():
    body = ("tun_id=0x7b,src=1.1.2.92,dst=1.1.2.88,geneve({class=0xffff,type=0x80,len=4,"
            "0xa/0xff}{class=0x102,type=0x3/0xf,len=8,0x1}),flags(-df-csum+key)")
    value, mask = T.parse_tunnel(body)
    raw = T.geneve_to_member(value["geneve"])
    m = T.geneve_mask_to_member(value["geneve"], mask["geneve"])
    value["geneve"] = T.geneve_from_member(raw)
    mask["geneve"] = T.geneve_mask_from_member(raw, m)
    assert T.format_tunnel(value, mask) == body
