"""Asynchronous and controller-to-switch messages round-trip, and their
decoders refuse truncated input with an OpenFlow error."""

import pytest

from pyovs.openflow import async_msgs as A
from pyovs.openflow import messages as M
from pyovs.openflow.actions import parse_actions
from pyovs.openflow.errors import DecodeError
from pyovs.openflow.flow import parse_flow_mod

PORT = M.PhyPort(1, 0xaa55aa55000f, "p1", 1, 4, 0x802, 0x2820, 0x282f, 0,
                 1000000, 10000000)


def samples(version):
    fm, _ = parse_flow_mod("priority=7,tcp,in_port=1,tp_dst=80,actions=drop")
    out = [
        (A.FlowRemoved(fm.match, 5, 7, 1, 3 if version > 1 else 255, 5, 5 * 10**8,
                       10, 20 if version > 1 else 0, 3, 300), A.decode_flow_removed),
        (A.PortStatus(2, PORT if version > 1 else
                      M.PhyPort(1, 0xaa55aa55000f, "p1", 1, 4, 0x82, 0x280, 0x28f,
                                0, 0, 0)), A.decode_port_status),
        (A.PacketOut(parse_actions("output:2,mod_vlan_vid:3"), 1, 5), A.decode_packet_out),
        (A.PacketOut(parse_actions("output:2"), 0xfffe, data=b"\x01" * 60), A.decode_packet_out),
        (A.PortMod(1, 0xaa55aa55000f, 4, 5, 0x20), A.decode_port_mod),
        (A.SetConfig(1, 0xffff), A.decode_set_config),
    ]
    if version > 1:
        out += [(A.TableMod(1), A.decode_table_mod),
                (A.RoleMessage(2, 5), A.decode_role),
                (A.RoleMessage(3, 7, True), A.decode_role)]
    return out


@pytest.mark.parametrize("version", [1, 4])
def test_roundtrip(version):
    for obj, decode in samples(version):
        data = obj.encode(version, 9)
        back = decode(data)
        assert back.encode(version, 9) == data
        with pytest.raises(DecodeError):
            decode(data[:8])


@pytest.mark.parametrize("version", [1, 4])
def test_packet_in_roundtrip(version):
    pi = A.PacketIn(b"\xff" * 64, 3, 1, 7)
    back = A.decode_packet_in(pi.encode(version, 1))
    assert (back.data, back.in_port, back.reason, back.buffer_id) == (pi.data, 3, 1, 7)
