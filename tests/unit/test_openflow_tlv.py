"""The TLV map as a sans-I/O table: text, messages and OVS's rules."""

import pytest

from pyovs.openflow import tlv_table as TLV
from pyovs.openflow.errors import FlowParseError, OFPError, DecodeError
from pyovs.openflow.flow import parse_flow_mod


def maps(text):
    return TLV.parse_tlv_mappings(text)


def test_text_reads_as_ovs_scanf():
    m = maps("{class=0xfffff,type=300,len=256}->tun_metadata7")
    assert m == [TLV.TlvMapping(0xffff, 300 & 0xff, 0, 7)]
    assert maps("") == []
    for bad in ("class=1", "{class=1,type=0,len=4}", "{class=1,type=0,len=4}->reg0",
                "{class=1,type=0,len=4}->tun_metadata1;x"):
        with pytest.raises(FlowParseError, match="invalid tlv mapping"):
            maps(bad)


def test_messages_round_trip():
    m = maps("{class=0xffff,type=0,len=4}->tun_metadata0,"
             "{class=0x102,type=0x80,len=8}->tun_metadata5")
    msg = TLV.encode_tlv_table_mod(4, 9, TLV.NXTTMC_ADD, m)
    assert TLV.decode_tlv_table_mod(msg) == (TLV.NXTTMC_ADD, m)
    table = TLV.TlvTable()
    table.mod(TLV.NXTTMC_ADD, m)
    space, fields, got = TLV.decode_tlv_table_reply(
        TLV.encode_tlv_table_reply(1, 3, table))
    assert (space, fields, got) == (256, 64, m)
    assert "allocated option space=12" in TLV.format_tlv_table_reply(
        TLV.encode_tlv_table_reply(1, 3, table))


@pytest.mark.parametrize("text,name", [
    ("{class=1,type=0,len=4}->tun_metadata64", "NXTTMFC_BAD_FIELD_IDX"),
    ("{class=1,type=0,len=6}->tun_metadata1", "NXTTMFC_BAD_OPT_LEN"),
    ("{class=1,type=0,len=128}->tun_metadata1", "NXTTMFC_BAD_OPT_LEN"),
])
def test_bad_mods_fail_to_decode(text, name):
    msg = TLV.encode_tlv_table_mod(1, 2, TLV.NXTTMC_ADD, maps(text))
    with pytest.raises(DecodeError) as e:
        TLV.decode_tlv_table_mod(msg)
    assert e.value.name == name


def test_table_rules_all_or_nothing():
    t = TLV.TlvTable()
    t.mod(TLV.NXTTMC_ADD, maps("{class=1,type=0,len=4}->tun_metadata0"))
    for text, name in (("{class=2,type=0,len=4}->tun_metadata0", "ALREADY_MAPPED"),
                       ("{class=1,type=0,len=4}->tun_metadata1", "DUP_ENTRY"),
                       ("{class=3,type=0,len=124}->tun_metadata2,"
                        "{class=3,type=1,len=124}->tun_metadata3,"
                        "{class=3,type=2,len=8}->tun_metadata4", "TABLE_FULL")):
        with pytest.raises(OFPError) as e:
            t.mod(TLV.NXTTMC_ADD, maps(text))
        assert e.value.name == "NXTTMFC_" + name
        assert sorted(t.mappings) == [0]
    with pytest.raises(OFPError) as e:
        t.mod(TLV.NXTTMC_CLEAR, [], in_use=lambda i: i == 0)
    assert e.value.name == "NXTTMFC_INVALID_TLV_DEL"
    t.mod(TLV.NXTTMC_DELETE, maps("{class=9,type=9,len=4}->tun_metadata9"))
    t.mod(TLV.NXTTMC_CLEAR, [])
    assert t.mappings == {} and t.allocated == 0


def test_flows_name_the_indexes_they_use():
    fm, _ = parse_flow_mod("tun_metadata3=1,actions=set_field:1->tun_metadata4,"
                           "clone(move:tun_metadata5[0..3]->reg0[0..3])")
    assert TLV.tun_metadata_used(fm.match, fm.actions) == {3, 4, 5}
