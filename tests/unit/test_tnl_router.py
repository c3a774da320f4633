"""ovs-router core: parsing, priorities, LPM against brute force, texts."""

from hypothesis import given, settings, strategies as st

from pyovs.tnl import ovs_router as R

ADDRS = {"br0": ["192.168.10.1/24", "2001:db8::1/64", "fe80::1/64"],
         "br1": ["10.0.0.5/8", "10.1.0.5/16"]}


def router(use_system=True):
    return R.Router(lambda name: ADDRS.get(name), use_system)


def cmd(r, line):
    name, *args = line.split()
    return R.HANDLERS[name](r, args)


def test_parse():
    assert R.scan_route("1.2.3.4") == (R.mapped("1.2.3.4"), 128)
    assert R.scan_route("10.0.0.0/08") == (R.mapped("10.0.0.0"), 104)
    assert R.scan_route("10.0.0.0/255.255.0.0") == (R.mapped("10.0.0.0"), 112)
    assert R.scan_route("10.0.0.0/255.0.255.0") is None
    assert R.scan_route("1.2.3.4/33") is None
    assert R.scan_route("2001:db8::/129") is None
    assert R.scan_route("::/0") == (0, 0)
    assert R.scan_route("x") is None
    assert R.scan_pkt_mark("pkt_mark=0x10") == 16
    assert R.scan_pkt_mark("pkt_mark=-1") == 0xFFFFFFFF
    assert R.scan_pkt_mark("pkt_mark=010") == 8
    assert R.scan_pkt_mark("pkt_mark=x") is None
    assert R.scan_pkt_mark("mark=5") is None


def test_texts_like_ovs():
    # Sequence and answers observed on Debian's ovs-vswitchd 3.1
    # (--disable-system-route, br0 with 192.168.10.1/24 and 2001:db8::1/64).
    r = router(use_system=False)
    script = [
        ("ovs/route/add 10.0.0.0/8 br0 192.168.10.254", None, "OK"),
        ("ovs/route/add 10.1.0.0/16 br0 pkt_mark=5", "Error while inserting route.", None),
        ("ovs/route/add 10.1.0.0/16 br0 192.168.10.9 pkt_mark=5", None, "OK"),
        ("ovs/route/add 172.16.0.0/12 br0 192.168.10.254 src=192.168.10.1", "Invalid pkt_mark", None),
        ("ovs/route/add 1.2.3.4 br0", "Error while inserting route.", None),
        ("ovs/route/add 1.2.3.4/33 br0", "Invalid parameters", None),
        ("ovs/route/add 5.0.0.0/8 nodev", "Error while inserting route.", None),
        ("ovs/route/add 6.0.0.0/8 br0 zz", "Invalid pkt_mark or gateway", None),
        ("ovs/route/add 6.0.0.0/8 br0 1.1.1.1 zz", "Invalid pkt_mark", None),
        ("ovs/route/add 192.168.10.5/24 br0", None, "OK"),
        ("ovs/route/add 0.0.0.0/0 br0 192.168.10.1", None, "OK"),
        ("ovs/route/add 2001:db9::/32 br0 2001:db8::fe", None, "OK"),
        ("ovs/route/add ::/0 br0 2001:db8::2", None, "OK"),
        ("ovs/route/lookup 192.168.10.7", None, "src 192.168.10.1\ngateway ::\ndev br0\n"),
        ("ovs/route/lookup 192.168.10.7/24", "Invalid parameters", None),
        ("ovs/route/lookup 3.3.3.3 pkt_mark=x", "Invalid pkt_mark", None),
        ("ovs/route/lookup 10.1.2.3 pkt_mark=5", None, "src 192.168.10.1\ngateway 192.168.10.9\ndev br0\n"),
        ("ovs/route/lookup 10.1.2.3", None, "src 192.168.10.1\ngateway 192.168.10.254\ndev br0\n"),
        ("ovs/route/lookup ::1", None, "src 2001:db8::1\ngateway 2001:db8::2\ndev br0\n"),
        ("ovs/route/lookup 8.8.8.8 pkt_mark=9", "Not found", None),
    ]
    for line, err, out in script:
        assert cmd(r, line) == (err, out), line
    assert r.show() == (
        "Route Table:\n"
        "User: 192.168.10.0/24 dev br0 SRC 192.168.10.1\n"
        "User: 10.1.0.0/16 MARK 5 dev br0 GW 192.168.10.9 SRC 192.168.10.1\n"
        "User: 10.0.0.0/8 dev br0 GW 192.168.10.254 SRC 192.168.10.1\n"
        "User: 0.0.0.0/0 dev br0 GW 192.168.10.1 SRC 192.168.10.1\n"
        "User: 2001:db9::/32 dev br0 GW 2001:db8::fe SRC 2001:db8::1\n"
        "User: ::/0 dev br0 GW 2001:db8::2 SRC 2001:db8::1\n")
    assert cmd(r, "ovs/route/del 10.0.0.0/8") == (None, "OK")
    assert cmd(r, "ovs/route/del 10.0.0.0/8") == ("Not found", None)
    assert cmd(r, "ovs/route/del 10.1.0.0/16") == ("Not found", None)
    assert cmd(r, "ovs/route/del 10.1.0.0/16 mark=5") == ("Invalid pkt_mark", None)
    assert cmd(r, "ovs/route/del 10.1.0.0/16 pkt_mark=5") == (None, "OK")
    assert cmd(r, "ovs/route/del zz") == ("Invalid parameters", None)


def test_user_beats_cached_and_local():
    r = router()
    m = R.mapped
    assert r.insert_system(0, m("10.0.0.0"), 104, False, "br1") == 0
    assert r.insert_system(0, m("10.0.0.5"), 128, True, "br1") == 0
    assert r.lookup(0, m("10.2.3.4")).output_bridge == "br1"
    assert cmd(r, "ovs/route/add 10.0.0.0/8 br0 192.168.10.1") == (None, "OK")
    assert r.lookup(0, m("10.2.3.4")).output_bridge == "br0"
    assert r.lookup(0, m("10.0.0.5")).local
    # Source chosen by the longest matching subnet of the device.
    assert R.format_mapped(r.lookup(0, m("10.0.0.5")).src_addr) == "10.0.0.5"
    r.insert_system(0, m("10.1.0.0"), 112, False, "br1")
    assert R.format_mapped(r.get_src_addr(m("10.1.9.9"), "br1")[1]) == "10.1.0.5"
    # A /8 user route (priority 136) beats a /16 cached one (112).
    assert r.lookup(0, m("10.1.9.9")).output_bridge == "br0"
    lines = r.show().splitlines()
    assert lines[0] == "Route Table:"
    assert "Cached: 10.0.0.5/32 dev br1 SRC 10.0.0.5 local" in lines
    assert "User: 10.0.0.0/8 dev br0 GW 192.168.10.1 SRC 192.168.10.1" in lines
    # Kernel re-dump keeps user routes; deleting cannot remove cached ones.
    assert cmd(r, "ovs/route/del 10.1.0.0/16") == ("Not found", None)
    r.flush_system()
    assert [e.user for e in r.entries()] == [True]


def test_disable_system_route():
    r = router(use_system=False)
    assert r.insert_system(0, R.mapped("10.0.0.0"), 104, False, "br1") == 0
    assert r.show() == "Route Table:\n"


addr4 = st.integers(0, 2**32 - 1).map(lambda x: R.V4_MAPPED_PREFIX | x)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(addr4, st.integers(96, 128), st.integers(0, 2),
                          st.booleans(), st.booleans()), max_size=20),
       st.lists(st.tuples(addr4, st.integers(0, 2)), min_size=1, max_size=10))
def test_lpm_vs_brute_force(routes, probes):
    r = R.Router(lambda name: ["0.0.0.0/0", "::/0"])
    for dst, plen, mark, user, local in routes:
        if user:
            assert r.insert_user(mark, dst, plen, "d") == 0
        else:
            assert r.insert_system(mark, dst, plen, local, "d") == 0
    for ip, mark in probes:
        best = r.lookup(mark, ip)
        cands = [e for e in r.entries() if e.mark == mark
                 and (ip ^ e.nw_addr) >> (128 - e.plen) == 0]
        if not cands:
            assert best is None
        else:
            assert best.priority == max(e.priority for e in cands)
            assert best in cands


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=4))
def test_fuzz_commands(args):
    r = router()
    for name in ("ovs/route/add", "ovs/route/del", "ovs/route/lookup"):
        err, out = R.HANDLERS[name](r, args)
        assert (err is None) != (out is None)
