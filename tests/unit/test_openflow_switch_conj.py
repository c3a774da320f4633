"""Conjunctive flows added through OpenFlow reach the switch's classifier:
OFProto.handle_flow_mod keeps their conjunction(id, k/n) actions (OVS's
cls_rule conjunctions), so a lookup finds the conj_id flow only when every
clause matched."""

from pyovs.ofproto.ofproto import OFProto
from pyovs.openflow import flow as FL
from pyovs.openflow.fields import field_by_name


def _add(ofp, text):
    fm, _ = FL.parse_flow_mod(text, FL.OFPFC_ADD)
    ofp.handle_flow_mod(fm, 0.0)


def _lookup(ofp, **flow):
    rule = ofp.tables[0].cls.lookup(flow)
    return None if rule is None else rule.payload.actions


def _switch():
    ofp = OFProto("br0")
    _add(ofp, "priority=10,ip,nw_src=10.0.0.1,actions=conjunction(7,1/2)")
    _add(ofp, "priority=10,tcp,tp_dst=80,actions=conjunction(7,2/2)")
    _add(ofp, "priority=10,conj_id=7,ip,actions=output:2")
    _add(ofp, "priority=1,actions=output:3")
    return ofp


def _flow(src, dport):
    return {"dl_type": 0x0800, "nw_src": src, "nw_proto": 6, "tp_dst": dport}


def test_conjunction_matches_only_with_all_clauses():
    ofp = _switch()
    both = _lookup(ofp, **_flow(0x0a000001, 80))
    one = _lookup(ofp, **_flow(0x0a000001, 81))
    assert [a.format() for a in both] == ["output:2"]
    assert [a.format() for a in one] == ["output:3"]


def test_modified_flow_takes_its_new_conjunctions():
    ofp = _switch()
    fm, _ = FL.parse_flow_mod("tcp,tp_dst=80,actions=output:4",
                              FL.OFPFC_MODIFY)
    ofp.handle_flow_mod(fm, 1.0)
    acts = _lookup(ofp, **_flow(0x0a000001, 80))
    assert [a.format() for a in acts] == ["output:4"]
