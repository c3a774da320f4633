"""pyovs.packet.nsh: NSH headers built, parsed, pushed, popped and rewritten
(properties over random headers: what is built parses back, what is pushed
pops off, a masked set changes exactly the masked bits), and the NSH flow
members through flow extraction and the datapath key text."""

import random

from pyovs.odp import actions as odp_actions
from pyovs.odp import keys as odp_keys
from pyovs.packet import nsh
from pyovs.packet.flow import flow_extract

FRAME = bytes.fromhex(
    "1e2ce92a669e3a6dd2099cab0800450000548a53400040011addc0a80a0ac0a80a1e0800"
    "6f200a4d0001fc509a58000000002715020000000000101112131415161718191a1b1c1d")
WIDTHS = dict(odp_keys.NSH_FIELDS)


def _random_fields(rng, md_type):
    f = {k: rng.getrandbits(b) for k, b in odp_keys.NSH_FIELDS}
    f.update(flags=f["flags"] & 3, ttl=f["ttl"] & 0x3f, mdtype=md_type)
    if md_type != 1:
        f.update(c1=0, c2=0, c3=0, c4=0)
    return f


def _members(fields):
    return {"nsh_" + k: v for k, v in fields.items()}


def test_built_headers_parse_back():
    rng = random.Random(7)
    for _ in range(200):
        md_type = rng.choice((1, 2))
        fields = _random_fields(rng, md_type)
        md2 = bytes(rng.getrandbits(8) for _ in range(4 * rng.randrange(4)))
        hdr = nsh.build(fields, md2)
        got = nsh.extract(hdr + FRAME, 0)
        assert got.pop("_len") == len(hdr)
        assert got == _members(fields)


def test_bad_headers_are_not_parsed():
    hdr = nsh.build(dict(mdtype=1, ttl=63, np=3, spi=5, si=255))
    assert nsh.extract(hdr[:7], 0) is None                 # short
    assert nsh.extract(bytes([hdr[0] | 0x40]) + hdr[1:], 0) is None   # version
    assert nsh.extract(hdr[:20], 0) is None                # length past the end
    md1_short = bytes([hdr[0], (hdr[1] & 0xc0) | 5]) + hdr[2:]
    assert nsh.extract(md1_short, 0) is None               # MD1 is 6 words


def test_push_pop_nsh_and_ethernet():
    rng = random.Random(3)
    for _ in range(50):
        fields = _random_fields(rng, 1)
        src, dst = rng.getrandbits(48), rng.getrandbits(48)
        data, pt = nsh.apply("push_nsh", fields, FRAME, nsh.PT_ETH)
        assert pt == nsh.PT_NSH
        data, pt = nsh.apply("push_eth", (src, dst), data, pt)
        assert pt == nsh.PT_ETH
        flow = flow_extract(data)
        assert (flow["dl_src"], flow["dl_dst"], flow["dl_type"]) == (src, dst, 0x894f)
        assert {k: flow[k] for k in nsh.NSH_MEMBERS} == _members(fields)
        data, pt = nsh.apply("pop_eth", None, data, pt)
        assert pt == nsh.PT_NSH
        data, pt = nsh.apply("pop_nsh", None, data, pt)
        if fields["np"] in (1, 2, 3, 4):
            assert data == FRAME
        else:
            assert data is None          # an unknown next protocol: dropped


def test_push_eth_needs_an_ethertype_packet():
    assert nsh.apply("push_eth", (1, 2), FRAME, nsh.PT_ETH) == (None, nsh.PT_ETH)
    assert nsh.apply("pop_nsh", None, FRAME, nsh.PT_ETH) == (None, nsh.PT_ETH)


def test_masked_set_changes_the_masked_bits_only():
    rng = random.Random(11)
    for _ in range(200):
        md_type = rng.choice((1, 2))
        fields = _random_fields(rng, md_type)
        frame = nsh.push_eth(nsh.push_nsh(FRAME, fields, b"\x10\x00\x0a\x04abcd"),
                             1, 2, 0x894f)
        value = {k: rng.getrandbits(b) for k, b in odp_keys.NSH_FIELDS}
        mask = {k: rng.choice((0, (1 << b) - 1, rng.getrandbits(b)))
                for k, b in odp_keys.NSH_FIELDS}
        out = nsh.set_nsh(frame, value, mask)
        assert len(out) == len(frame)
        got = flow_extract(out)
        for k, bits in odp_keys.NSH_FIELDS:
            old = fields[k]
            want = old
            writable = k not in ("mdtype", "np") and (k[0] != "c" or md_type == 1)
            if writable:
                top = {"flags": 3, "ttl": 0x3f}.get(k, (1 << bits) - 1)
                want = ((old & ~mask[k]) | (value[k] & mask[k])) & top
            assert got["nsh_" + k] == want, k
        assert out[-len(FRAME):] == FRAME


def test_datapath_key_and_actions_text_round_trip():
    flow = flow_extract(nsh.push_eth(nsh.push_nsh(
        FRAME, dict(flags=1, ttl=63, mdtype=1, np=3, spi=0x1234, si=255,
                    c1=0x11223344)), 0, 0x112233445566, 0x894f), 1)
    key = odp_keys.flow_to_key(flow)
    text = odp_keys.format_flow(key)
    assert "nsh(flags=1,ttl=63,mdtype=1,np=3,spi=0x1234,si=255,c1=0x11223344" in text
    back, _mask = odp_keys.key_to_flow(odp_keys.parse_flow(text))
    assert {k: back[k] for k in nsh.NSH_MEMBERS} == {k: flow[k] for k in nsh.NSH_MEMBERS}
    acts = ("push_nsh(flags=0,ttl=63,mdtype=2,np=3,spi=0x1234,si=255,md2=0x10000a0412345678),"
            "push_eth(src=00:00:00:00:00:00,dst=11:22:33:44:55:66),"
            "set(nsh(flags=0x03/0x03,ttl=5,c3=0x7700/0x0000ff00)),pop_eth,pop_nsh(),2")
    assert odp_actions.format_actions(odp_actions.parse_actions(acts)) == acts
