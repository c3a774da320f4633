"""The bridge layer (pyovs.vswitchd.bridge) in-process, on a replica of
pyovs's ovsdb-server, with providers that record every call: a
reconfiguration touches only what changed."""

import os

import pytest

from pyovs.ovsdb.idl import BlockingIdl, SUCCESS, UNCHANGED
from pyovs.vswitchd import bridge as bridge_mod
from pyovs.vswitchd.bridge import OFPP_LOCAL, Bridge, BridgeLayer, Providers
from tests.conftest import REAL, pyovs_bin, run
from tests.daemons.test_ovsdb_server_util import start_server


class RecordingProviders(Providers):
    """Providers that log (operation, name) for every call."""

    def __init__(self):
        super().__init__(dummy_override="override")
        self.calls = []

    def open_netdev(self, name, type_, options):
        self.calls.append(("open", name))
        return super().open_netdev(name, type_, options)

    def close_netdev(self, dev):
        self.calls.append(("close", dev.name))
        super().close_netdev(dev)

    def set_config(self, dev, options):
        self.calls.append(("set_config", dev.name))
        super().set_config(dev, options)

    def create_ofproto(self, name, datapath_type, datapath_id=None):
        self.calls.append(("create_ofproto", name))
        return super().create_ofproto(name, datapath_type, datapath_id)

    def destroy_ofproto(self, ofproto):
        self.calls.append(("destroy_ofproto", ofproto.name))

    def add_port(self, ofproto, name, dev, ofp_port):
        self.calls.append(("add_port", name, ofp_port))
        return super().add_port(ofproto, name, dev, ofp_port)

    def del_port(self, ofproto, ofp_port):
        self.calls.append(("del_port", ofproto.ports[ofp_port].name, ofp_port))
        super().del_port(ofproto, ofp_port)

    def take(self):
        calls, self.calls = self.calls, []
        return calls


class Env:
    def __init__(self, request, tmp_path):
        self.srv = start_server(request, "pyovs", tmp_path)
        # Debian's ovs-vsctl when installed (pyovs's refuses "create Bridge
        # name=..."), else pyovs's.
        self.vsctl_bin = (REAL["ovs-vsctl"] if os.path.exists(REAL["ovs-vsctl"])
                          else pyovs_bin("ovs-vsctl"))
        self.vsctl("init")
        self.idl = BlockingIdl(self.srv.remote, "Open_vSwitch")
        request.addfinalizer(self.idl.close)
        self.idl.connect(timeout=10)
        self.idl.wait_for_sync(timeout=10)
        self.prov = RecordingProviders()
        self.layer = BridgeLayer(self.prov)
        request.addfinalizer(self.layer.close)

    def vsctl(self, *args):
        r = run([self.vsctl_bin, "--no-wait", "--db=" + self.srv.remote, *args],
                timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def change(self, *args):
        """Run ovs-vsctl ARGS, wait for the replica, reconfigure; the calls."""
        seqno = self.idl.idl.change_seqno
        self.vsctl(*args)
        self.idl.run_until(lambda: self.idl.idl.change_seqno != seqno, timeout=10)
        self.layer.reconfigure(self.idl.idl)
        return self.prov.take()

    def commit_status(self):
        txn = self.idl.idl.transaction()
        self.layer.write_status(self.idl.idl, txn)
        status = self.idl.commit_block(txn, timeout=10, wait_for_replica=True)
        assert status in (SUCCESS, UNCHANGED), txn.error
        return status

    def iface(self, name):
        return self.idl.idl.lookup("Interface", "name", name)


@pytest.fixture
def env(request, tmp_path):
    return Env(request, tmp_path)


def test_only_what_changed_is_touched(env):
    calls = env.change("add-br", "br0", "--", "set", "Bridge", "br0",
                       "datapath_type=dummy")
    assert calls == [("create_ofproto", "br0"), ("open", "br0")]
    calls = env.change("add-port", "br0", "p1", "--", "set", "Interface", "p1",
                       "type=dummy")
    assert calls == [("open", "p1"), ("add_port", "p1", 1)]
    calls = env.change("add-port", "br0", "p2", "--", "set", "Interface", "p2",
                       "type=dummy")
    assert calls == [("open", "p2"), ("add_port", "p2", 2)]
    # A new port: nothing else is touched.
    calls = env.change("add-port", "br0", "p3", "--", "set", "Interface", "p3",
                       "type=dummy")
    assert calls == [("open", "p3"), ("add_port", "p3", 3)]
    # Columns the bridge layer does not act on: no calls at all.
    assert env.change("set", "Interface", "p1", "external_ids:a=b") == []
    assert env.change("set", "Port", "p2", "other_config:x=y") == []
    # Options: the device is reconfigured in place.
    assert env.change("set", "Interface", "p2", "options:n=1") == [("set_config", "p2")]
    # A new ofport_request: that port (only) is re-added with the number.
    calls = env.change("set", "Interface", "p1", "ofport_request=9")
    assert calls == [("del_port", "p1", 1), ("close", "p1"), ("open", "p1"),
                     ("add_port", "p1", 9)]
    # Type change: reopened.
    calls = env.change("set", "Interface", "p3", "type=dummy-pmd")
    assert calls == [("del_port", "p3", 3), ("close", "p3"), ("open", "p3"),
                     ("add_port", "p3", 4)]
    calls = env.change("del-port", "p2")
    assert calls == [("del_port", "p2", 2), ("close", "p2")]
    br = env.layer.bridges["br0"]
    assert sorted(br.ofproto.ports) == [4, 9, OFPP_LOCAL]
    assert {i.name: i.ofp_port for i in br.ifaces.values()} == {
        "br0": OFPP_LOCAL, "p1": 9, "p3": 4}


def test_bridge_removal_and_datapath_type_change(env):
    env.change("add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=dummy",
               "--", "add-port", "br0", "p1", "--", "set", "Interface", "p1",
               "type=dummy", "--", "add-br", "br1", "--", "set", "Bridge", "br1",
               "datapath_type=dummy")
    calls = env.change("set", "Bridge", "br0", "datapath_type=netdev")
    assert sorted(calls) == sorted([
        ("del_port", "p1", 1), ("close", "p1"), ("close", "br0"),
        ("destroy_ofproto", "br0"), ("create_ofproto", "br0"), ("open", "br0"),
        ("open", "p1"), ("add_port", "p1", 1)])
    calls = env.change("del-br", "br0")
    assert sorted(calls) == sorted([("del_port", "p1", 1), ("close", "p1"),
                                    ("close", "br0"), ("destroy_ofproto", "br0")])
    assert list(env.layer.bridges) == ["br1"]


def test_badly_named_bridges_are_ignored(env):
    """A bridge named with '/' (a path in OVS's rundir) is ignored."""
    env.change("--", "--id=@b", "create", "Bridge", "name=a/b",
               "--", "add", "Open_vSwitch", ".", "bridges", "@b")
    assert env.layer.bridges == {}
    assert env.prov.take() == []


def test_status_written_back(env):
    env.change("add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=dummy",
               "--", "add-port", "br0", "p1", "--", "set", "Interface", "p1",
               "type=dummy", "ofport_request=5",
               "--", "add-port", "br0", "bad", "--", "set", "Interface", "bad",
               "type=nosuch")
    assert env.commit_status() == SUCCESS
    idl = env.idl.idl
    ovs = list(idl.rows("Open_vSwitch"))[0]
    assert ovs.cur_cfg == ovs.next_cfg
    assert ovs.datapath_types == ["dummy", "netdev", "system"]
    assert ovs.dpdk_initialized is False
    br_row = idl.lookup("Bridge", "name", "br0")
    br = env.layer.bridges["br0"]
    assert br_row.datapath_id == ["%016x" % br.ofproto.datapath_id]
    assert br_row.datapath_version == "<built-in>"
    p1 = env.iface("p1")
    assert p1.ofport == [5] and p1.error == [] and p1.admin_state == ["up"]
    assert p1.link_state == ["up"] and p1.mtu == [1500]
    mac = env.layer.bridges["br0"].ifaces["p1"].netdev.get_etheraddr()
    assert p1.mac_in_use == [":".join("%02x" % b for b in mac)]
    assert p1.statistics["rx_packets"] == 0
    bad = env.iface("bad")
    assert bad.ofport == [-1]
    assert bad.error == ["could not open network device bad "
                         "(Address family not supported by protocol)"]
    assert env.iface("br0").ofport == [OFPP_LOCAL]
    # Nothing changed since: the next status transaction is empty.
    assert env.commit_status() == UNCHANGED
    # The bad interface fixed: the error goes, an ofport comes.
    env.change("set", "Interface", "bad", "type=dummy")
    env.commit_status()
    bad = env.iface("bad")
    assert bad.error == [] and bad.ofport == [1]


def test_ofport_allocation_rotates_and_reuses_lru(monkeypatch):
    """OVS's alloc_ofp_port: numbers are not reused at once; when none is
    free the least recently freed one is; requests win when free."""
    monkeypatch.setattr(bridge_mod, "_ALLOC_LIMIT", 5)
    br = Bridge("br0", None, "dummy", None)
    assert [br.alloc_ofp_port("p%d" % i, 0) for i in range(4)] == [1, 2, 3, 4]
    assert br.alloc_ofp_port("p5", 0) is None
    br.free_ofp_port(2, 100)
    br.free_ofp_port(1, 200)
    assert br.alloc_ofp_port("a", 300) == 2
    assert br.alloc_ofp_port("b", 300) == 1
    br.free_ofp_port(3, 400)
    br.ofp_requests["c"] = 3
    assert br.alloc_ofp_port("c", 500) == 3
    br.ofp_requests["d"] = 4            # in use: a fresh number instead
    assert br.alloc_ofp_port("d", 500) is None
    br.free_ofp_port(4, 10 ** 9)
    assert br.alloc_ofp_port("e", 10 ** 9 + 1) == 4


# -- fuzzed configurations on a stand-in replica ------------------------------

import uuid as uuidlib                                  # noqa: E402
from types import SimpleNamespace                       # noqa: E402

from hypothesis import given, settings, strategies as st  # noqa: E402


class FakeIdl:
    """The part of the IDL's replica the bridge layer reads."""

    def __init__(self, config):
        """CONFIG: [(bridge, dp_type, [(port, [(iface, type, request, opts)])])]."""
        self.data = {t: {} for t in ("Open_vSwitch", "Bridge", "Port", "Interface")}
        ids = iter(uuidlib.UUID(int=i + 1) for i in range(10000))
        bridges = []
        for br_name, dp_type, ports in config:
            port_ids = []
            for port_name, ifaces in ports:
                iface_ids = []
                for name, type_, req, opts in ifaces:
                    u = next(ids)
                    self.data["Interface"][u] = SimpleNamespace(
                        uuid=u, name=name, type=type_, options=dict(opts),
                        ofport_request=[req] if req is not None else [],
                        ofport=[], mtu_request=[])
                    iface_ids.append(u)
                u = next(ids)
                self.data["Port"][u] = SimpleNamespace(uuid=u, name=port_name,
                                                       interfaces=iface_ids)
                port_ids.append(u)
            u = next(ids)
            self.data["Bridge"][u] = SimpleNamespace(
                uuid=u, name=br_name, datapath_type=dp_type, other_config={},
                ports=port_ids)
            bridges.append(u)
        u = next(ids)
        self.data["Open_vSwitch"][u] = SimpleNamespace(uuid=u, bridges=bridges)

    def rows(self, table):
        return list(self.data[table].values())

    def get_row(self, table, u):
        return self.data[table].get(u)


_names = st.sampled_from(["b0", "b1", "p0", "p1", "p2", "p3", "a/b"])
_iface = st.tuples(_names, st.sampled_from(["dummy", "internal", "", "nosuch",
                                            "patch", "dummy-pmd"]),
                   st.sampled_from([None, 1, 2, 7, 70000]),
                   st.sampled_from([{}, {"peer": "p1"}, {"n": "1"}]))
_port = st.tuples(_names, st.lists(_iface, min_size=0, max_size=2))
_bridge = st.tuples(st.sampled_from(["b0", "b1", "a/b"]),
                    st.sampled_from(["dummy", "netdev", ""]),
                    st.lists(_port, max_size=3))
_config = st.lists(_bridge, max_size=3)


def _state(layer):
    return {(b.name, i.name): (i.ofp_port, i.port_name, i.type, b.datapath_type)
            for b in layer.bridges.values() for i in b.ifaces.values()}


@settings(max_examples=60, deadline=None)
@given(_config, _config)
def test_fuzzed_reconfigurations(first, second):
    """Any configuration, then any other: no exception, unique ofports per
    bridge, a second pass over the same configuration changes nothing
    (interfaces in error are only tried again), and interfaces configured alike in both
    are not touched by the switch from one to the other."""
    prov = RecordingProviders()
    layer = BridgeLayer(prov)
    try:
        for config in (first, second):
            idl = FakeIdl(config)
            before = _state(layer)
            prov.take()
            layer.reconfigure(idl)
            calls = prov.take()
            after = _state(layer)
            for br in layer.bridges.values():
                ports = [i.ofp_port for i in br.ifaces.values()]
                assert len(ports) == len(set(ports))
                assert sorted(br.ofproto.ports) == sorted(set(ports) | {OFPP_LOCAL})
                assert "/" not in br.name
            # Unchanged interfaces: no call names them.
            for key, value in after.items():
                if before.get(key) == value:
                    assert not [c for c in calls if c[1] == key[1]
                                and c[0] in ("open", "close", "add_port", "del_port")], key
            # Again: only interfaces in error are tried again (as OVS does).
            failed = {idl.get_row("Interface", u).name for u in layer.iface_errors}
            layer.reconfigure(idl)
            assert all(c[0] == "open" and c[1] in failed for c in prov.take())
            assert _state(layer) == after
    finally:
        layer.close()


def test_needs_reconfigure():
    """Only changes confined to the status columns the switch writes are
    ignored (its own writes coming back)."""
    from pyovs.ovsdb.idl import TrackedChange
    from pyovs.vswitchd.bridge import needs_reconfigure
    row = object()
    u = uuidlib.uuid4()
    assert not needs_reconfigure([])
    assert not needs_reconfigure([
        TrackedChange("Interface", u, row, row, {"ofport", "statistics", "error"}),
        TrackedChange("Open_vSwitch", u, row, row, {"cur_cfg"})])
    assert needs_reconfigure([TrackedChange("Interface", u, row, row, {"type"})])
    assert needs_reconfigure([TrackedChange("Open_vSwitch", u, row, row,
                                            {"cur_cfg", "next_cfg"})])
    assert needs_reconfigure([TrackedChange("Port", u, None, row, {"name"})])
    assert needs_reconfigure([TrackedChange("Port", u, row, None, set())])
