"""check_pkt_len, the datapath action xlate emits for check_pkt_larger:
frames longer than SIZE take the gt() actions, the others the le() ones,
and the actions after it see every frame unchanged (as a clone)."""

from pyovs.odp.actions import parse_actions

from tests.unit.test_dpif_netdev import dp, sent, udp  # noqa: F401  (dp: fixture)


def test_longer_frames_take_gt_the_others_le(dp):
    small = udp()
    big = udp() + b"\0" * 100
    size = len(small)
    dp.execute([small, big], parse_actions(
        "check_pkt_len(size=%d,gt(2),le(1))" % size), 1)
    assert sent(dp, 2) == [big]
    assert sent(dp, 1) == [small]


def test_nested_sets_do_not_leak_to_later_actions(dp):
    pkt = udp()
    dp.execute([pkt], parse_actions(
        "check_pkt_len(size=10,gt(set(eth(src=00:00:00:00:00:09)),2),le(1)),1"), 1)
    out2, out1 = sent(dp, 2), sent(dp, 1)
    assert len(out2) == 1 and out2[0][6:12] == bytes.fromhex("000000000009")
    assert out1 == [pkt]
