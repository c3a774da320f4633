"""ofp-parse-pcap on a real capture: an AF_PACKET socket on the loopback
(what tcpdump -i lo records) while Debian's real ovs-ofctl talks to the real
ovs-vswitchd over TCP -- the kernel's own segments, with TCP options, pure
ACKs and window updates.  pyovs's ovs-ofctl ofp-parse-pcap must print what
the real one prints for that file (the switch's port given, as it is not
6653)."""

import socket
import struct
import subprocess
import threading

import pytest

from pyovs.netdev.pcap import PcapWriter
from tests.conftest import needs_root, real_bin, pyovs_bin, run
from tests.interop.test_ofctl_cmds_pcap import _port
from tests.interop.test_ofctl_switch import Switch

ETH_P_ALL, PACKET_OUTGOING = 0x0003, 4


class LoopbackCapture:
    """Record every frame received on lo (outgoing copies skipped, as
    libpcap does) into a pcap file until close()."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                  socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)   # SO_RCVBUFFORCE
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.1)
        self.writer = PcapWriter(path)
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                data, addr = self.sock.recvfrom(1 << 18)     # whole frames (lo: 64 kB)
            except socket.timeout:
                continue
            if addr[2] != PACKET_OUTGOING:
                self.writer.write(data)

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()
        self.writer.close()


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    needs_root()
    real_bin("ovs-vswitchd")
    sw = Switch()
    sw.tcp_port = _port(3)
    path = str(tmp_path_factory.mktemp("cap") / "lo.pcap")
    cap = None
    try:
        sw.start()
        cap = LoopbackCapture(path)
        target = f"tcp:127.0.0.1:{sw.tcp_port}"
        flows = "".join(f"in_port=1,ip,nw_src=10.0.{i // 256}.{i % 256},"
                        f"actions=mod_nw_tos:{i % 64 * 4},output:2\n"
                        for i in range(300))
        # OpenFlow 1.0 only: 1.3's table features replies (1.2 MB) would go
        # as 64 kB loopback frames, records OVS refuses (over 0xffff).
        for vers in (["-O", "OpenFlow10"], ["-O", "OpenFlow10", "--strict"]):
            of = [real_bin("ovs-ofctl"), *vers]
            subprocess.run([*of, "add-flows", target, "-"], input=flows, text=True,
                           env=sw.env, capture_output=True, timeout=60)
            for cmd in (["dump-flows"], ["show"], ["dump-ports"], ["del-flows"]):
                subprocess.run([*of, cmd[0], target], env=sw.env,
                               capture_output=True, timeout=60)
    finally:
        if cap is not None:
            cap.close()
        sw.stop()
    return path, sw.tcp_port


@pytest.mark.parametrize("opts", [[], ["-m"]], ids=["plain", "more"])
def test_parse_real_capture(capture, opts):
    path, port = capture
    real = run([real_bin("ovs-ofctl"), *opts, "ofp-parse-pcap", path, str(port)])
    ours = run([pyovs_bin("ovs-ofctl"), *opts, "ofp-parse-pcap", path, str(port)])
    # (a burst can overflow the capture socket: what it lost, both skip)
    assert real.returncode == 0 and real.stdout.count("OFPT_FLOW_MOD") >= 100
    assert not [l for l in real.stderr.splitlines() if "|WARN|" in l]
    assert "NXST_FLOW reply" in real.stdout
    assert (ours.returncode, ours.stdout) == (real.returncode, real.stdout)


def test_capture_has_kernel_segments(capture):
    """The capture is the kernel's: TCP options (timestamps) in headers."""
    path, _port_ = capture
    from pyovs.netdev.pcap import read_pcap
    tcp_header_lens = {(p[14 + (p[14] & 0xf) * 4 + 12] >> 4) * 4
                       for p in read_pcap(path)
                       if len(p) >= 54 and struct.unpack_from("!H", p, 12)[0] == 0x0800
                       and p[23] == 6}
    assert max(tcp_header_lens) > 20, tcp_header_lens
