"""parse-nxm's text and byte paths never fail other than as OVS does
(Fatal for bad syntax, DecodeError for a bad match), and what they print
parses back to the same bytes."""

from hypothesis import given, settings, strategies as st

from pyovs.cli import ovs_ofctl as O
from pyovs.openflow.errors import DecodeError
from pyovs.openflow.nx_match import pull_nxm, put_nxm

NAMES = ["NXM_OF_IN_PORT", "NXM_OF_ETH_TYPE", "NXM_OF_IP_SRC_W", "NXM_NX_REG0",
         "NXM_NX_REG0_W", "OXM_OF_IPV4_DST", "NXM_NX_COOKIE", "BOGUS", "00010004"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(NAMES), st.binary(max_size=9),
                          st.binary(max_size=9), st.sampled_from(["", " ", ","])),
                max_size=5), st.text(max_size=6))
def test_fuzz_text(entries, junk):
    text = "".join(f"{n}({v.hex()}{'/' + m.hex() if m else ''}){sep}"
                   for n, v, m, sep in entries) + junk
    try:
        data = O._nxm_from_string(text)
    except O.Fatal:
        return
    try:
        O._check_wildcards(data)
        match, cookie, mask = pull_nxm(O._loose(data), 1)
    except DecodeError:
        return
    out = put_nxm(match, 1, cookie, mask)
    again = O._nxm_from_string(O._nxm_to_string(out)) if out else b""
    assert again == out


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_fuzz_bytes_print(data):
    text = O._nxm_to_string(data)
    assert isinstance(text, str)
    try:
        O._check_wildcards(data)
        pull_nxm(O._loose(data), 1)
    except DecodeError:
        pass
