"""system and internal netdevs on real Linux interfaces (needs root).

Topology, all in private network namespaces named pa-<pid>-<n><role>:

    ns1: eth0 10.9.0.1 ==veth== fwd: p1 --forwarder-- p2 ==veth== ns2: eth0 10.9.0.2

The forwarder is ``python -m pyovs.netdev.forward`` running in the fwd
namespace on top of pyovs's netdevs; offloads stay on, so a TCP stream
crosses it as segmentation-offload super-packets.
"""

import itertools
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import needs_root, run, wait_for

IPERF_PORT = 16001
_seq = itertools.count()

PING = textwrap.dedent("""
    import os, socket, struct, sys, time
    def csum(b):
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        s = (s >> 16) + (s & 0xffff); s += s >> 16
        return ~s & 0xffff
    dst, count = sys.argv[1], int(sys.argv[2])
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 56
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(0.5)
    ok = 0
    ident = os.getpid() & 0xffff
    for seq in range(count * 6):
        payload = bytes(size)
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        s.sendto(struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, seq) + payload, (dst, 0))
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            try:
                data, addr = s.recvfrom(65535)
            except socket.timeout:
                break
            ihl = (data[0] & 15) * 4
            t, _, _, i, q = struct.unpack_from("!BBHHH", data, ihl)
            if t == 0 and i == ident and q == seq and addr[0] == dst:
                ok += 1
                break
        if ok >= count:
            break
    print(ok)
    sys.exit(0 if ok >= count else 1)
""")


def sh(*cmd, check=True):
    r = run(list(cmd), timeout=30)
    if check and r.returncode != 0:
        raise AssertionError("%s failed: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


def nsexec(ns, *cmd, check=True, timeout=60):
    r = run(["ip", "netns", "exec", ns] + list(cmd), timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s in %s failed (%d): %s %s"
                             % (" ".join(cmd), ns, r.returncode, r.stdout, r.stderr))
    return r


def ping(ns, dst, count=3, size=56):
    return nsexec(ns, sys.executable, "-c", PING, dst, str(count), str(size),
                  check=False, timeout=30)


def pyexec(ns, code):
    """Run CODE in namespace NS with pyovs importable; return its JSON output."""
    r = nsexec(ns, sys.executable, "-c", textwrap.dedent(code))
    return json.loads(r.stdout.strip().splitlines()[-1])


class Topo:
    def __init__(self):
        needs_root()
        if not shutil.which("ip"):
            pytest.skip("iproute2 (ip) not installed")
        base = "pa-%d-%d" % (os.getpid(), next(_seq))
        self.ns1, self.ns2, self.fwd = base + "a", base + "b", base + "f"
        self.procs = []
        self.namespaces = []
        for ns in (self.ns1, self.ns2, self.fwd):
            r = run(["ip", "netns", "add", ns])
            if r.returncode != 0:
                self.close()
                pytest.skip("cannot create network namespaces: %s" % r.stderr.strip())
            self.namespaces.append(ns)
        for i, ns in ((1, self.ns1), (2, self.ns2)):
            sh("ip", "-n", self.fwd, "link", "add", "p%d" % i, "type", "veth",
               "peer", "name", "eth0", "netns", ns)
            sh("ip", "-n", ns, "addr", "add", "10.9.0.%d/24" % i, "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", self.fwd, "link", "set", "p%d" % i, "up")
        sh("ip", "-n", self.fwd, "link", "set", "lo", "up")
        for port in ("p1", "p2"):    # carrier (IFF_RUNNING) follows via linkwatch
            wait_for(lambda: json.loads(sh("ip", "-n", self.fwd, "-j", "link", "show", port)
                                        .stdout)[0]["operstate"] == "UP",
                     what="%s operstate UP" % port)

    def start(self, ns, *cmd, ready=None):
        p = subprocess.Popen(["ip", "netns", "exec", ns] + list(cmd),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        if ready is not None:
            line = p.stdout.readline().strip()
            if line != ready:
                p.kill()
                raise AssertionError("%s did not start: %r %s"
                                     % (cmd, line, p.stderr.read()))
        return p

    def forwarder(self, a="p1", b="p2", *opts):
        return self.start(self.fwd, sys.executable, "-m", "pyovs.netdev.forward",
                          *opts, a, b, ready="ready")

    @staticmethod
    def stop_forwarder(p):
        p.terminate()
        out, err = p.communicate(timeout=10)
        assert p.returncode == 0, err
        return json.loads(out.strip().splitlines()[-1])

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for ns in self.namespaces:
            run(["ip", "netns", "del", ns])


@pytest.fixture
def topo():
    t = Topo()
    yield t
    t.close()


def test_ping_through_forwarder(topo):
    fwd = topo.forwarder()
    r = ping(topo.ns1, "10.9.0.2", 3)
    assert r.returncode == 0, r.stdout + r.stderr
    counters = topo.stop_forwarder(fwd)
    assert counters["p1"]["packets"] >= 3 and counters["p2"]["packets"] >= 3


def test_no_forwarder_no_ping(topo):
    """The control: without the forwarder nothing crosses."""
    assert ping(topo.ns1, "10.9.0.2", 1).returncode != 0


def test_big_icmp_fragments_cross(topo):
    fwd = topo.forwarder()
    assert ping(topo.ns1, "10.9.0.2", 2, size=4000).returncode == 0
    topo.stop_forwarder(fwd)


VLAN_RECV = textwrap.dedent("""
    import json, select, socket, struct, sys, time
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.setsockopt(263, 8, 1)                           # PACKET_AUXDATA
    s.bind(("eth0", 3))
    print("ready", flush=True)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        if not select.select([s], [], [], 0.2)[0]:
            continue
        data, anc, _, _ = s.recvmsg(65535, 1024)
        if b"pyovs-vlan" not in data:
            continue
        for level, kind, c in anc:
            if level == 263 and kind == 8:
                status, _, _, _, _, tci, tpid = struct.unpack_from("=IIIHHHH", c)
                print(json.dumps([status & 0x10 != 0, tci, tpid, data.hex()]))
                sys.exit(0)
    sys.exit(1)
""")

VLAN_SEND = textwrap.dedent("""
    import socket, time
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.bind(("eth0", 0))
    frame = (bytes.fromhex("ffffffffffff020000000001" "8100" "a00a" "88b5")
             + b"pyovs-vlan" + bytes(40))
    for _ in range(5):
        s.send(frame)
        time.sleep(0.1)
""")


def test_vlan_tags_restored_from_auxdata(topo):
    """The kernel strips a VLAN tag before a packet socket sees the frame;
    the tag must be back in the frame the forwarder sends, so ns2 sees it on
    the wire (reported in its own PACKET_AUXDATA, read by plain sockets)."""
    fwd = topo.forwarder()
    rx = topo.start(topo.ns2, sys.executable, "-c", VLAN_RECV, ready="ready")
    nsexec(topo.ns1, sys.executable, "-c", VLAN_SEND)
    out, err = rx.communicate(timeout=20)
    assert rx.returncode == 0, err
    valid, tci, tpid, hexdata = json.loads(out.strip().splitlines()[-1])
    assert valid and tci == 0xa00a and tpid == 0x8100
    assert hexdata.startswith("ffffffffffff02000000000188b5")    # tag stripped again
    topo.stop_forwarder(fwd)


def iperf(topo, server_ns, server_ip, seconds=2):
    """One iperf3 TCP run from ns1 to SERVER_IP; the parsed JSON result."""
    if not shutil.which("iperf3"):
        pytest.skip("iperf3 not installed")
    server = topo.start(server_ns, "iperf3", "-s", "-p", str(IPERF_PORT), "-B", server_ip)
    attempts = []

    def client():
        r = nsexec(topo.ns1, "iperf3", "-c", server_ip, "-p", str(IPERF_PORT),
                   "-t", str(seconds), "-J", check=False, timeout=60)
        try:
            result = json.loads(r.stdout)
        except ValueError:
            result = {}
        if r.returncode == 0 and "sum_received" in result.get("end", {}):
            return result
        attempts.append(result.get("error") or r.stderr.strip())
        return None
    try:
        return wait_for(client, timeout=30, interval=0.2, what="a complete iperf3 run")
    except AssertionError as e:
        raise AssertionError("%s; attempts: %s" % (e, attempts[-3:])) from None
    finally:
        server.kill()


def test_iperf3_tcp_with_tso_super_packets(topo):
    fwd = topo.forwarder()
    result = iperf(topo, topo.ns2, "10.9.0.2")
    counters = topo.stop_forwarder(fwd)
    received = result["end"]["sum_received"]["bytes"]
    assert received > 10 * 1000 * 1000
    # ns1 -> ns2 is the data direction: super-packets arrived whole on p1
    # and left whole on p2 (they carried the bulk of the stream).
    assert counters["p1"]["gso"] > 0
    assert counters["p1"]["max"] > 1514
    assert counters["p1"]["bytes"] >= received


def test_iperf3_with_software_segmentation(topo):
    """The forwarder resolves offloads in software (netdev/gso.py) before
    sending: ns2's kernel receives plain MTU-sized segments and checks every
    IP and TCP checksum, so a completed transfer proves the segmentation."""
    fwd = topo.forwarder("p1", "p2", "--segment")
    result = iperf(topo, topo.ns2, "10.9.0.2", seconds=1)
    counters = topo.stop_forwarder(fwd)
    assert result["end"]["sum_received"]["bytes"] > 1000 * 1000
    assert counters["p1"]["gso"] > 0
    link = json.loads(sh("ip", "-n", topo.ns2, "-j", "-s", "link", "show", "eth0").stdout)[0]
    assert link["stats64"]["rx"]["errors"] == 0
    snmp = nsexec(topo.ns2, "cat", "/proc/net/snmp").stdout.splitlines()
    tcp = dict(zip(*[l.split()[1:] for l in snmp if l.startswith("Tcp:")]))
    assert tcp["InCsumErrors"] == "0" and int(tcp["InSegs"]) > 500


def test_link_queries_match_ip_link(topo):
    got = pyexec(topo.fwd, """
        import json
        from pyovs import netdev
        d = netdev.open("p1", "system")
        out = dict(mac=netdev.mac_to_str(d.get_etheraddr()), mtu=d.get_mtu(),
                   ifindex=d.get_ifindex(), carrier=d.get_carrier(),
                   up=d.get_admin_state(), speed=d.get_speed(),
                   features=d.get_features())
        out["status"] = d.get_status()
        d.set_mtu(1400)
        d.set_etheraddr("02:00:00:aa:bb:01")
        out["stats"] = d.get_stats().interface_statistics()
        print(json.dumps(out))
    """)
    link = json.loads(sh("ip", "-n", topo.fwd, "-j", "-s", "link", "show", "p1").stdout)[0]
    assert got["ifindex"] == link["ifindex"]
    assert got["carrier"] is True and got["up"] is True
    assert got["speed"] == 10 * 1000 * 1000 * 1000      # veth: ethtool says 10000 Mb/s
    assert link["mtu"] == 1400 and got["mtu"] == 1500
    assert link["address"] == "02:00:00:aa:bb:01"
    assert got["status"]["driver_name"] == "veth"
    assert set(got["status"]) == {"driver_name", "driver_version", "firmware_version"}
    assert got["stats"]["rx_packets"] <= link["stats64"]["rx"]["packets"]
    assert set(got["stats"]) >= {"rx_packets", "tx_packets", "rx_bytes", "tx_bytes"}


def test_admin_state_and_carrier(topo):
    got = pyexec(topo.fwd, """
        import json
        from pyovs import netdev
        d = netdev.open("p1", "system")
        d.set_admin_state(False)
        out = [d.get_admin_state(), d.get_carrier()]
        d.set_admin_state(True)
        out += [d.get_admin_state()]
        print(json.dumps(out))
    """)
    assert got == [False, False, True]


def test_own_transmissions_are_not_received(topo):
    got = pyexec(topo.fwd, """
        import json, time
        from pyovs import netdev
        d = netdev.open("p1", "system")
        frame = bytes.fromhex("ffffffffffff020000000001" "88b5") + b"pyovs-own" + bytes(40)
        d.send_batch([frame] * 3)
        time.sleep(0.2)
        seen = [p.data for p in d.rx_batch(1000)]
        print(json.dumps([frame in seen, d.get_stats().tx_packets]))
    """)
    assert got[0] is False and got[1] >= 3


def test_missing_interface_error(topo):
    got = pyexec(topo.fwd, """
        import json
        from pyovs import netdev
        try:
            netdev.open("nosuch9", "system")
        except netdev.NetdevError as e:
            print(json.dumps([str(e), e.errno]))
    """)
    assert got == ["could not open network device nosuch9 (No such device)", 19]


def link_exists(ns, name):
    return run(["ip", "-n", ns, "link", "show", name]).returncode == 0


def test_internal_tap_port_reachable_by_ip(topo):
    fwd = topo.forwarder("p1", "internal:br0")
    link = json.loads(sh("ip", "-n", topo.fwd, "-j", "link", "show", "br0").stdout)[0]
    mac0 = int(link["address"].split(":")[0], 16)
    assert mac0 & 2 and not mac0 & 1, link["address"]      # local, unicast
    assert "UP" in link["flags"]
    sh("ip", "-n", topo.fwd, "addr", "add", "10.9.0.254/24", "dev", "br0")
    r = ping(topo.ns1, "10.9.0.254", 3)
    assert r.returncode == 0, r.stdout + r.stderr
    # A TCP stream between ns1 and the host side of the tap, offloads on.
    result = iperf(topo, topo.fwd, "10.9.0.254", seconds=1)
    assert result["end"]["sum_received"]["bytes"] > 1000 * 1000
    counters = topo.stop_forwarder(fwd)
    assert counters["p1"]["max"] > 1514 and counters["p1"]["gso"] > 0
    # The tap lives as long as the netdev: gone once the forwarder exits.
    assert not link_exists(topo.fwd, "br0")


def test_tap_stats_are_the_switch_s_view(topo):
    got = pyexec(topo.fwd, """
        import json
        from pyovs import netdev
        d = netdev.open("tap7", "internal")
        frame = bytes.fromhex("ffffffffffff020000000001" "88b5") + bytes(50)
        d.send_batch([frame] * 4)
        s = d.get_stats()
        print(json.dumps([s.tx_packets, s.rx_packets, d.get_mtu(),
                          d.get_status().get("driver_name")]))
        d.close()
    """)
    # The kernel counts our 4 frames as received; the switch sees them as sent.
    assert got[0] == 4 and got[2] == 1500 and got[3] == "tun"
    assert not link_exists(topo.fwd, "tap7")


def test_bad_frames_are_counted_not_raised(topo):
    got = pyexec(topo.fwd, """
        import json
        from pyovs import netdev
        d = netdev.open("p1", "system")
        eth = bytes.fromhex("ffffffffffff020000000001" "88b5")
        bad_gso = netdev.Packet(eth + bytes(3000), bytes.fromhex("0101" "4200" "a005" "2200" "1000"))
        d.send_batch([b"short", eth + bytes(3000), bad_gso, eth + bytes(46)])
        s = d.get_stats()
        print(json.dumps([d.tx_errors + d.tx_dropped, s.tx_packets]))
    """)
    # the short frame, the oversized one without offload metadata and the
    # super-packet whose header does not describe it fail; the good one leaves.
    assert got[0] == 3 and got[1] >= 1


def test_interface_vanishing_under_the_forwarder(topo):
    fwd = topo.forwarder()
    assert ping(topo.ns1, "10.9.0.2", 1).returncode == 0
    sh("ip", "-n", topo.fwd, "link", "del", "p2")
    assert ping(topo.ns1, "10.9.0.2", 1).returncode != 0      # frames still read on p1
    assert fwd.poll() is None
    counters = topo.stop_forwarder(fwd)
    assert counters["p1"]["packets"] >= 2
    got = pyexec(topo.fwd, """
        import json
        from pyovs import netdev
        try:
            netdev.open("p2", "system")
        except netdev.NetdevError as e:
            print(json.dumps(str(e)))
    """)
    assert got == "could not open network device p2 (No such device)"


ASYNC_FORWARDER = textwrap.dedent("""
    import asyncio, signal, sys
    from pyovs import netdev
    async def main():
        a, b = netdev.open(sys.argv[1], sys.argv[2]), netdev.open(sys.argv[3], "system")
        loop = asyncio.get_running_loop()
        moved = [0]
        def pump(src, dst):
            pkts = src.rx_batch(64)
            dst.send_batch(pkts)
            moved[0] += len(pkts)
        loop.add_reader(a.fileno(), pump, a, b)
        loop.add_reader(b.fileno(), pump, b, a)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        print("ready", flush=True)
        await stop.wait()
        print(moved[0], flush=True)
    asyncio.run(main())
""")


@pytest.mark.parametrize("first", ["system:p1", "internal:br9"])
def test_netdevs_in_an_asyncio_loop(topo, first):
    """The datapath's shell: fileno() (an epoll descriptor for system ports,
    the tap's for internal ones) driven by asyncio's add_reader."""
    kind, name = first.split(":")
    p = topo.start(topo.fwd, sys.executable, "-c", ASYNC_FORWARDER, name, kind, "p2",
                   ready="ready")
    if kind == "system":
        target, src = "10.9.0.2", topo.ns1
    else:
        sh("ip", "-n", topo.fwd, "addr", "add", "10.9.0.253/24", "dev", name)
        target, src = "10.9.0.253", topo.ns2
    r = ping(src, target, 3)
    assert r.returncode == 0, r.stdout + r.stderr
    p.terminate()
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    assert int(out.split()[-1]) >= 6


GARBAGE_SEND = textwrap.dedent("""
    import random, socket, struct
    rnd = random.Random(5)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.bind(("eth0", 0))
    sent = 0
    for i in range(300):
        n = rnd.choice([1, 5, 13, 14, 15, 60, 61, 1514, rnd.randrange(0, 1515)])
        frame = bytes(rnd.getrandbits(8) for _ in range(n))
        if i % 3 == 0 and n >= 18:            # a VLAN tag with a random TCI
            frame = frame[:12] + b"\\x81\\x00" + frame[14:]
        try:
            s.send(frame)
            sent += 1
        except OSError:
            pass
    print(sent)
""")


def test_garbage_frames_do_not_hurt(topo):
    """Random frames of every length (shorter than an Ethernet header too,
    which root may send) and random VLAN tags: the forwarder keeps running
    and still carries traffic."""
    fwd = topo.forwarder()
    r = nsexec(topo.ns1, sys.executable, "-c", GARBAGE_SEND)
    assert int(r.stdout) > 200
    assert ping(topo.ns1, "10.9.0.2", 2).returncode == 0
    assert fwd.poll() is None
    counters = topo.stop_forwarder(fwd)
    assert counters["p1"]["packets"] >= 200


def test_link_notifier_sees_changes_and_vanishing(topo):
    got = pyexec(topo.fwd, """
        import json, subprocess, time
        from pyovs.netdev.rtnetlink import LinkNotifier
        n = LinkNotifier()
        for cmd in (["ip", "link", "set", "p1", "down"], ["ip", "link", "set", "p1", "mtu", "1400"],
                    ["ip", "link", "del", "p2"]):
            subprocess.run(cmd, check=True)
        changes = []
        end = time.monotonic() + 5
        while time.monotonic() < end and not any(c.kind == "del" for c in changes):
            changes += n.poll()
            time.sleep(0.05)
        print(json.dumps([(c.kind, c.name, c.up, c.mtu) for c in changes]))
    """)
    assert ["new", "p1", False, 1500] in got
    assert ["new", "p1", False, 1400] in got
    assert ["del", "p2"] == got[-1][:2]


@pytest.mark.parametrize("batched", [True, False])
def test_batch_of_frames_and_a_super_packet_cross_whole(topo, batched):
    """send_batch through sendmmsg (or, where libc lacks it, one send per
    frame) and rx_batch through recvmmsg: every frame of a batch longer
    than one system call's vector arrives once, in order, and a TSO
    super-packet crosses the veth whole with its segmentation header."""
    sh("ip", "-n", topo.fwd, "link", "add", "pix0a", "type", "veth", "peer", "name", "pix0b")
    for dev in ("pix0a", "pix0b"):
        sh("ip", "-n", topo.fwd, "link", "set", dev, "up")
    got = pyexec(topo.fwd, """
        import json, struct, time
        from pyovs import netdev
        from pyovs.netdev import mmsg
        a = netdev.open("pix0a", "system")
        b = netdev.open("pix0b", "system")
        if not %r:
            a._tx = b._rx = None
        elif not mmsg.available():
            print(json.dumps("no mmsg"))
            raise SystemExit
        eth = bytes.fromhex("020000000002" "020000000001")
        frames = [eth + bytes.fromhex("88b5") + struct.pack("!I", i) + bytes(42 + i)
                  for i in range(70)]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 20 + 8000, 1, 0x4000, 64, 6,
                         0, bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2]))
        tcp = struct.pack("!HHIIBBHHH", 5000, 5001, 1, 0, 0x50, 0x18, 1000, 0, 0)
        sp = eth + b"\\x08\\x00" + ip + tcp + bytes(range(250)) * 32
        vnet = struct.pack("=BBHHHH", 1, 1, 54, 1000, 34, 16)
        a.send_batch(frames[:10] + [netdev.Packet(sp, vnet)] + frames[10:])
        seen, deadline = [], time.monotonic() + 5
        while len(seen) < 71 and time.monotonic() < deadline:
            seen += [p for p in b.rx_batch(32)
                     if p.data[12:14] in (b"\\x88\\xb5", b"\\x08\\x00")]
        kinds = [list(struct.unpack("=BBHHHH", p.vnet))[1:4:2] if p.vnet else None
                 for p in seen]
        print(json.dumps([[p.data.hex() for p in seen], kinds,
                          a.tx_dropped + a.tx_errors, b.rx_errors]))
    """ % batched)
    if got == "no mmsg":
        pytest.skip("libc has no sendmmsg")
    data, kinds, tx_bad, rx_bad = got
    eth = "020000000002" "020000000001"
    want = [eth + "88b5" + "%08x" % i + "00" * (42 + i) for i in range(70)]
    assert [d for d in data if d[24:28] == "88b5"] == want
    big = [(d, k) for d, k in zip(data, kinds) if d[24:28] == "0800"]
    assert len(big) == 1 and len(big[0][0]) // 2 == 14 + 40 + 8000
    assert big[0][1] == [1, 1000]            # GSO TCPV4, gso_size kept
    assert tx_bad == 0 and rx_bad == 0


def test_tcp_segments_leave_merged_unless_tso_is_off(topo):
    """A batch of MTU-sized segments of one TCP stream crosses a veth as one
    GRO super-packet (netdev/gro), which cuts back into the same segments;
    with TSO turned off on the sending device they cross one by one."""
    if shutil.which("ethtool") is None:
        pytest.skip("ethtool not installed")
    sh("ip", "-n", topo.fwd, "link", "add", "pix1a", "type", "veth", "peer", "name", "pix1b")
    for dev in ("pix1a", "pix1b"):
        sh("ip", "-n", topo.fwd, "link", "set", dev, "up")
    got = pyexec(topo.fwd, """
        import json, struct, subprocess, time
        from pyovs import netdev
        from pyovs.netdev import gso
        a = netdev.open("pix1a", "system")
        b = netdev.open("pix1b", "system")
        eth = bytes.fromhex("020000000002" "020000000001")
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 20 + 8000, 1, 0x4000, 64, 6,
                         0, bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2]))
        tcp = struct.pack("!HHIIBBHHH", 5000, 5001, 1, 7, 0x50, 0x18, 1000, 0, 0)
        sp = eth + b"\\x08\\x00" + ip + tcp + bytes(range(250)) * 32
        segs = gso.segment_tcp(sp, struct.pack("=BBHHHH", 1, 1, 54, 1000, 34, 16))
        out = []
        for tso in ("on", "off"):
            subprocess.run(["ethtool", "-K", "pix1a", "tso", tso], capture_output=True)
            a.get_stats()
            a.send_batch([netdev.Packet(s) for s in segs])
            seen, deadline = [], time.monotonic() + 5
            while sum(len(gso.resolve(p.data, p.vnet)) for p in seen) < len(segs) \\
                    and time.monotonic() < deadline:
                seen += [p for p in b.rx_batch(32) if p.data[12:14] == b"\\x08\\x00"]
            back = []
            for p in seen:
                back += gso.resolve(p.data, p.vnet)
            out.append([len(seen), back == segs])
        print(json.dumps(out))
    """)
    assert got == [[1, True], [8, True]]
