"""ovs-ofctl ofp-parse-pcap: pyovs's against Debian's real ovs-ofctl over the
same capture of real OpenFlow traffic.

The capture is of the real ovs-ofctl talking to the real ovs-vswitchd (dummy
datapath, no root): the test puts a recording TCP relay between them that
writes every segment either side sends, with its Ethernet/IPv4/TCP headers,
sequence numbers and SYN/FIN handshakes, into a pcap file (what tcpdump on
the loopback would show).  Segments are cut at odd sizes so that messages
straddle segments, and some are sent twice (a retransmission), which the
reassembly must ignore as OVS's tcp_reader does.
"""

import os
import select
import socket
import subprocess
import threading

import pytest

from pyovs.netdev.pcap import PcapWriter
from pyovs.packet import build, headers as h
from tests.conftest import real_bin, run, pyovs_bin
from tests.interop.test_ofctl_switch import Switch

pytestmark = pytest.mark.interop

PORT_BASE = 16550           # 16550..16599: this file's (team D's range)


def _port(offset):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = "".join(c for c in worker if c.isdigit()) or "0"
    return PORT_BASE + (int(digits) % 8) * 6 + offset


class Recorder:
    """A TCP relay from 127.0.0.1:LISTEN to 127.0.0.1:UPSTREAM that records
    both directions into PCAP as segments of at most SEG bytes, every
    DUP-th segment sent twice."""

    def __init__(self, listen, upstream, pcap, seg=37, dup=5, server_port=6653):
        self.server = ("10.0.0.2", server_port)
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", listen))
        self.lsock.listen(4)
        self.upstream, self.seg, self.dup = upstream, seg, dup
        self.writer = PcapWriter(pcap)
        self.n = 0
        self.client_port = 41000
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _frame(self, src, dst, flags, seq, ack, payload=b""):
        macs = ("00:00:00:00:00:01", "00:00:00:00:00:02")
        if src == self.server:
            macs = macs[::-1]
        seg = build.tcp(src[0], dst[0], src[1], dst[1], flags, payload,
                        seq=seq, ack=ack)
        return build.eth(macs[1], macs[0], h.ETH_TYPE_IP,
                         build.ipv4(src[0], dst[0], h.IPPROTO_TCP, seg))

    def _serve(self):
        peer = {}           # socket -> (other socket, src, dst, seq dict)
        while not self.stop:
            r, _, _ = select.select([self.lsock, *peer], [], [], 0.1)
            for s in r:
                if s is self.lsock:
                    self._accept(peer)
                elif s in peer:
                    self._forward(s, peer)
        for s in peer:
            s.close()

    def _accept(self, peer):
        conn, _ = self.lsock.accept()
        up = socket.create_connection(("127.0.0.1", self.upstream), 10)
        cli, srv = ("10.0.0.1", self.client_port), self.server
        self.client_port += 1
        seq = {cli: 1000, srv: 50000}
        w = self.writer
        w.write(self._frame(cli, srv, h.TCP_SYN, seq[cli] - 1, 0))
        w.write(self._frame(srv, cli, h.TCP_SYN | h.TCP_ACK, seq[srv] - 1, seq[cli]))
        w.write(self._frame(cli, srv, h.TCP_ACK, seq[cli], seq[srv]))
        peer[conn] = (up, cli, srv, seq)
        peer[up] = (conn, srv, cli, seq)

    def _forward(self, s, peer):
        other, src, dst, seq = peer[s]
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.writer.write(self._frame(src, dst, h.TCP_FIN | h.TCP_ACK,
                                          seq[src], seq[dst]))
            for x in (s, other):
                del peer[x]
                x.close()
            return
        try:
            other.sendall(data)
        except OSError:
            pass
        for i in range(0, len(data), self.seg):
            chunk = data[i:i + self.seg]
            frame = self._frame(src, dst, h.TCP_ACK | h.TCP_PSH,
                                seq[src], seq[dst], chunk)
            self.writer.write(frame)
            self.n += 1
            if self.n % self.dup == 0:
                self.writer.write(frame)            # a retransmission
            seq[src] = (seq[src] + len(chunk)) & 0xffffffff

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.lsock.close()
        self.writer.close()


def _ofctl(sw, *args):
    return subprocess.run([real_bin("ovs-ofctl"), *args], capture_output=True,
                          text=True, env=sw.env, timeout=30)


def _appctl(sw, *args):
    subprocess.run(["/usr/bin/ovs-appctl", "-t", sw.dir + "/vswitchd.ctl", *args],
                   env=sw.env, capture_output=True, timeout=30, check=True)


# Frames the dummy ports receive while a monitor listens: packet-ins.
_ICMP = ("in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),"
         "eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=1,tos=0,"
         "ttl=64,frag=no),icmp(type=8,code=0)")
_UDP = ("in_port(2),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),"
        "eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,"
        "ttl=64,frag=no),udp(src=1,dst=2)")
_TCP_FRAME = ("5054000000025054000000010800450000140000000040060000"
              "0000000000000000000000")


_FLOWS = ("in_port=1,actions=controller,output:2\n"
          "in_port=2,udp,actions=controller(reason=no_match)\n"
          "cookie=0x5,ip,nw_src=10.0.0.0/8,tcp,tp_dst=80,"
          "actions=mod_vlan_vid:20,output:2\n")


def _traffic(sw, target, ver, more):
    """One session of typical controller traffic in OpenFlow version VER:
    flows and packet-ins; with MORE, also a round of requests.  (In 1.3+
    ovs-ofctl fetches the table features, 1.2 MB, for any command that may
    name a table: few of those keep the capture small.)"""
    o = ["-O", ver]
    watch = "watch:!own,out_port=2,udp" if more else "watch:table=0"
    mon = subprocess.Popen([real_bin("ovs-ofctl"), *o, "monitor", target, "65534", watch],
                           env=sw.env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        _ofctl(sw, *o, "probe", target)     # the monitor is connected by now
        subprocess.run([real_bin("ovs-ofctl"), *o, "add-flows", target, "-"],
                       input=_FLOWS, env=sw.env, text=True, capture_output=True,
                       timeout=30)
        _appctl(sw, "netdev-dummy/receive", "p1", _ICMP)
        _appctl(sw, "netdev-dummy/receive", "p2", _UDP)
        _appctl(sw, "netdev-dummy/set-admin-state", "p1", "down")
        _appctl(sw, "netdev-dummy/set-admin-state", "p1", "up")
        cmds = [["mod-port", "p2", "no-flood"]]
        if more:
            cmds += [["packet-out",
                      f"in_port=LOCAL,packet={_TCP_FRAME},actions=output:2"],
                     ["add-group", "group_id=5,type=all,bucket=output:1"],
                     ["dump-groups"], ["dump-group-stats"],
                     ["del-groups", "group_id=5"], ["dump-flows"], ["dump-aggregate"], ["show"], ["dump-ports"],
                     ["dump-desc"], ["queue-stats"], ["get-frags"], ["ping", "2"],
                     ["add-flow", "actions=bogus"], ["del-flows"]]
        for cmd in cmds:
            _ofctl(sw, *o, cmd[0], target, *cmd[1:])
    finally:
        mon.terminate()
        mon.wait(10)


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    real_bin("ovs-vswitchd")
    sw = Switch()
    sw.tcp_port = _port(0)
    pcap = str(tmp_path_factory.mktemp("pcap") / "of.pcap")
    rec = None
    try:
        sw.start()
        rec = Recorder(_port(1), sw.tcp_port, pcap, seg=257, dup=4)
        target = f"tcp:127.0.0.1:{_port(1)}"
        _traffic(sw, target, "OpenFlow10", True)
        _traffic(sw, target, "OpenFlow13", False)
        for cmd in (["dump-ports"], ["dump-ports-desc"], ["meter-stats"],
                    ["dump-meters"], ["dump-desc"]):
            _ofctl(sw, "-O", "OpenFlow15", cmd[0], target, *cmd[1:])
        _ofctl(sw, "-O", "OpenFlow13", "--bundle", "add-flow", target, "actions=drop")
        _ofctl(sw, "-O", "OpenFlow14", "--bundle", "add-flows", target, "-")
    finally:
        if rec is not None:
            rec.close()
        sw.stop()
    return pcap


def _diff(a, b):
    import difflib
    return "".join(list(difflib.unified_diff(a.splitlines(True), b.splitlines(True),
                                             "real", "ours"))[:60])


def _both(*args):
    real = run([real_bin("ovs-ofctl"), *args])
    ours = run([pyovs_bin("ovs-ofctl"), *args])
    strip = lambda e: "".join(l + "\n" for l in e.splitlines() if "|" not in l)
    warn = lambda e: [l.split("|", 4)[-1] for l in e.splitlines() if "|" in l]
    return ((real.returncode, real.stdout, strip(real.stderr), warn(real.stderr)),
            (ours.returncode, ours.stdout, strip(ours.stderr), warn(ours.stderr)))


@pytest.mark.parametrize("opts", [[], ["--timestamp"], ["-m"]],
                         ids=["plain", "timestamp", "more"])
def test_parse_pcap_same_as_ovs(capture, opts):
    real, ours = _both(*opts, "ofp-parse-pcap", capture)
    assert real[0] == 0 and "PACKET_IN" in real[1] and "OFPT_PORT_STATUS" in real[1]
    assert "FLOW_MONITOR request" in real[1] and "NXST_FLOW_MONITOR reply" in real[1]
    assert ours == real, _diff(real[1], ours[1])


@pytest.mark.parametrize("ports", [["6653"], ["6633"], ["41001", "41003"], ["x"]])
def test_parse_pcap_ports(capture, ports):
    real, ours = _both("ofp-parse-pcap", capture, *ports)
    assert ours == real


def test_parse_pcap_bad_files(tmp_path, capture):
    data = open(capture, "rb").read()
    cases = {"missing": None, "empty": b"", "short": data[:10],
             "magic": b"garbage!" * 4, "cut": data[:24 + 16 + 30],
             "cut_header": data[:24 + 9]}
    os.mkdir(tmp_path / "dir")
    paths = [str(tmp_path / "dir")]
    for name, content in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        paths.append(str(path))
    for path in paths:
        real, ours = _both("ofp-parse-pcap", path)
        assert ours == real, path


# OVS's tcp_reader rules, the real tool as the oracle: streams without a
# handshake, gaps, retransmissions, FIN/RST (any sequence number), SYN again.
def _stream_cases():
    from tests.unit.test_ofctl_cmds_pcap_stream import _seg, CLI, SRV, ECHO as E, PSH
    syn, fin, rst = h.TCP_SYN, h.TCP_FIN | h.TCP_ACK, h.TCP_RST
    return {
        "no-syn": [_seg(CLI, SRV, PSH, 100, E[0]), _seg(CLI, SRV, PSH, 108, E[1])],
        "gap": [_seg(CLI, SRV, PSH, 100, E[0]), _seg(CLI, SRV, PSH, 200, E[1]),
                _seg(CLI, SRV, PSH, 108, E[2])],
        "ack-first": [_seg(CLI, SRV, h.TCP_ACK, 100), _seg(CLI, SRV, PSH, 100, E[0])],
        "syn-then-out-of-order": [_seg(CLI, SRV, syn, 99), _seg(CLI, SRV, PSH, 108, E[1]),
                                  _seg(CLI, SRV, PSH, 100, E[0])],
        "fin-with-data": [_seg(CLI, SRV, syn, 99), _seg(CLI, SRV, fin, 100, E[0]),
                          _seg(CLI, SRV, PSH, 108, E[1])],
        "fin-wrong-seq": [_seg(CLI, SRV, syn, 99), _seg(CLI, SRV, PSH, 100, E[0][:4]),
                          _seg(CLI, SRV, fin, 500), _seg(CLI, SRV, PSH, 104, E[0][4:])],
        "rst": [_seg(CLI, SRV, PSH, 100, E[0]), _seg(CLI, SRV, rst, 108),
                _seg(CLI, SRV, PSH, 108, E[1])],
        "syn-again": [_seg(CLI, SRV, PSH, 1, E[0][:4]), _seg(CLI, SRV, syn, 500),
                      _seg(CLI, SRV, PSH, 501, E[1])],
        "syn-with-data": [_seg(CLI, SRV, syn, 99, E[0]), _seg(CLI, SRV, PSH, 100, E[1])],
        "split-and-retransmitted": [_seg(CLI, SRV, PSH, 100, E[0][:4]),
                                    _seg(CLI, SRV, PSH, 100, E[0][:4]),
                                    _seg(CLI, SRV, PSH, 104, E[0][4:] + E[1])],
    }


@pytest.mark.parametrize("name", sorted(_stream_cases()))
def test_stream_rules_as_ovs(tmp_path, name):
    path = str(tmp_path / "s.pcap")
    w = PcapWriter(path)
    for frame in _stream_cases()[name]:
        w.write(frame, ts=1)
    w.close()
    real, ours = _both("ofp-parse-pcap", path)
    assert real[0] == 0
    assert ours == real
