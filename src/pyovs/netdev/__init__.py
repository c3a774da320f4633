"""pyovs.netdev: port providers, the layer the datapath reads and writes
packets through (OVS's lib/netdev*).  Bytes in, bytes out; no flows.

    from pyovs import netdev
    dev = netdev.open("veth0", "system")      # or "internal", "dummy", "patch"
    for pkt in dev.rx_batch(32): ...           # Packet(data, vnet)
    dev.send_batch(pkts)
    dev.close()

The interface and its types are in netdev/base.py; the providers are
linux.py ("system", AF_PACKET), tap.py ("internal"), dummy.py ("dummy",
"dummy-internal", "dummy-pmd", plus the netdev-dummy/* unixctl commands), patch.py
("patch"); gso.py segments super-packets and completes checksums in
software for ports without offloads; pcap.py reads and writes the pcap
files netdev-dummy records; rtnetlink.py announces link changes (up/down,
MTU, address, an interface vanishing); forward.py is a two-port forwarder
used by tests and bench/netdev.py.
"""

from pyovs.netdev.base import (  # noqa: F401 (the package's public API)
    Netdev, NetdevError, NetdevStats, Packet, VirtioNetHdr, features_to_bps,
    lookup, mac_from_str, mac_to_str, netdev_open, open, open_netdevs,
    provider_types,
    random_mac, register_provider)
from pyovs.netdev import tunnel as _tunnel  # noqa: E402,F401 (registers vxlan, gre, geneve)
