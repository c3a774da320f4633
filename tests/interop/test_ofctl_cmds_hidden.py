"""ovs-ofctl's hidden commands (those `ovs-ofctl list-commands` names but
the manual does not): pyovs's against Debian's real ovs-ofctl, same
arguments and stdin, same stdout, stderr (log lines aside) and status."""

import subprocess

import pytest

from tests.conftest import real_bin, pyovs_bin

pytestmark = pytest.mark.interop


def _run(exe, args, stdin=b""):
    p = subprocess.run([exe, *args], input=stdin, capture_output=True, timeout=30)
    err = b"".join(l + b"\n" for l in p.stderr.splitlines() if b"|" not in l)
    return p.returncode, p.stdout, err


def assert_same(*args, stdin=b""):
    real = _run(real_bin("ovs-ofctl"), args, stdin)
    ours = _run(pyovs_bin("ovs-ofctl"), args, stdin)
    assert ours == real, args
    return real


@pytest.mark.parametrize("bitmap", ["0x2", "0x12", "0x3e", "0x40", "0x7e", "0x20",
                                    "0x16", "18", "022", " 0x12zz", "0", "abc", "1"])
def test_encode_hello(bitmap):
    assert_same("encode-hello", bitmap)


def test_encode_hello_args():
    assert_same("encode-hello")
    assert_same("encode-hello", "1", "2")


COMPOSE = [
    "udp", "tcp", "icmp", "arp", "sctp", "ipv6", "tcp6", "udp6,ipv6_src=::1",
    "tcp,tp_dst=80", "tp_dst=80,tcp", "tcp,tcp_flags=syn", "tcp,tcp_flags=fin",
    "tcp,tcp_flags=+syn", "icmp,icmp_type=8,icmp_code=0", "ip,nw_frag=first",
    "ip,nw_frag=later", "udp,udp_dst=53,udp_src=9", "ip,nw_ttl=5,nw_tos=4",
    "ip,nw_ecn=3,nw_tos=4", "udp,nw_tos=255", "dl_vlan=5,dl_vlan_pcp=3,udp",
    "dl_src=01:02:03:04:05:06,dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=2",
    "arp,arp_sha=01:02:03:04:05:06,arp_tpa=1.2.3.4", "ipv6,ipv6_label=5,nw_proto=17",
    "icmp6,icmpv6_type=135,nd_target=::1",
    # refused, or composed but extracted differently (status 1)
    "ipv6,udp", "tcp,udp", "tcp,nw_proto=6", "tcp,tp_dst=80,tp_dst=81",
    "udp,nw_src=1.2.3.4,tp_dst=80", "icmp6,icmp_type=135,nd_target=::1",
    "ip,nw_src=1.2.3.4/8", "bogus=1", "in_port=1,tcp", "in_port=1,dl_vlan=5,ip",
    "pkt_mark=5,ip", "tun_id=5,ip", "reg0=1,ip", "metadata=3",
]


@pytest.mark.parametrize("flow", COMPOSE)
def test_compose_packet(flow):
    assert_same("compose-packet", flow)


@pytest.mark.parametrize("args", [["udp", "0102"], ["udp", "01020"], ["udp", "zz"],
                                  ["tcp", ""], ["icmp", "00 01 02"]])
def test_compose_packet_l7(args):
    assert_same("compose-packet", *args)


@pytest.mark.parametrize("flow", ["udp", "tcp,tp_dst=80", "arp", "dl_vlan=5,udp",
                                  "icmp6,icmpv6_type=135,nd_target=::1",
                                  "ip,nw_frag=later", "sctp"])
def test_compose_pcap_then_parse_packet(flow):
    rc, real, _ = _run(real_bin("ovs-ofctl"), ["compose-packet", "--pcap", flow])
    rc2, ours, _ = _run(pyovs_bin("ovs-ofctl"), ["compose-packet", "--pcap", flow])
    assert rc == rc2 == 0
    # The record's timestamp (bytes 24..31) is the time of writing.
    assert ours[:24] + ours[32:] == real[:24] + real[32:]
    assert_same("parse-packet", stdin=real[40:])


@pytest.mark.parametrize("data", [b"", b"\x00\x01", b"\xff" * 100, bytes(range(60))])
def test_parse_packet_odd_input(data):
    assert_same("parse-packet", stdin=data)


@pytest.mark.parametrize("args", [["list-commands"], ["list-commands", "x"],
                                  ["help"], ["help", "x"]])
def test_list_commands_and_help(args):
    assert_same(*args)


@pytest.mark.parametrize("args", [
    ["a=b,c(d),e:f"], ["a"], ["a=,b"], ["x(y(z),w)=1"], [""], ["a b c"],
    ["k:v:w,(x)"], ["a=b c=d"], ["a=b(c,d)"], ["  ,a  ,  b=c("], ["a:b=c"],
    ["a=b=c"], ["a(b)c"], ["a=1", "b=2"], []])
def test_parse_key_value(args):
    assert_same("parse-key-value", *args)
