"""Type "patch": one end of a pair of ports joining two bridges.

A patch port has no device and no packet queue: the datapath short-circuits
it, handing whatever is output to it straight to its peer's bridge.  The
netdev only keeps what OVS's netdev-vport keeps for it: the required
``options:peer`` (checked with OVS's texts), a random Ethernet address the
bridge may change, no MTU, admin state and the counters the datapath bumps through
``count_rx``/``count_tx``.  ``send_batch`` is refused: nothing should reach
it without the datapath's short-circuit.
"""

import errno

from pyovs.netdev.base import (
    Netdev, NetdevError, NetdevStats, as_mac, random_mac, register_provider)


class NetdevPatch(Netdev):
    TYPE = "patch"

    def __init__(self, name, options=None):
        super().__init__(name, options)
        self.peer = None
        self._hwaddr = random_mac()         # as netdev-vport's construct
        self._up = True
        self.rx_packets = self.rx_bytes = self.tx_packets = self.tx_bytes = 0
        self.set_config(options)

    def set_config(self, options):
        options = {k: str(v) for k, v in dict(options or {}).items()}
        for key in options:
            if key != "peer":
                raise NetdevError("%s: patch type takes only a 'peer' argument"
                                  % self.name, errno.EINVAL)
        peer = options.get("peer")
        if not peer:
            raise NetdevError("%s: patch type requires valid 'peer' argument"
                              % self.name, errno.EINVAL)
        if peer == self.name:
            raise NetdevError("%s: patch peer must not be self" % self.name,
                              errno.EINVAL)
        self.peer = peer
        self._options = options

    def send_batch(self, packets):
        raise NetdevError("%s: patch ports are short-circuited by the datapath"
                          % self.name, errno.EOPNOTSUPP)

    def count_rx(self, n_packets, n_bytes):
        self.rx_packets += n_packets
        self.rx_bytes += n_bytes

    def count_tx(self, n_packets, n_bytes):
        self.tx_packets += n_packets
        self.tx_bytes += n_bytes

    def get_etheraddr(self):
        return self._hwaddr

    def set_etheraddr(self, mac):
        self._hwaddr = as_mac(mac)

    def get_admin_state(self):
        return self._up

    def set_admin_state(self, up):
        self._up = bool(up)

    def get_carrier(self):
        return self._up

    def get_stats(self):
        return NetdevStats(rx_packets=self.rx_packets, rx_bytes=self.rx_bytes,
                           tx_packets=self.tx_packets, tx_bytes=self.tx_bytes)


register_provider("patch", NetdevPatch)
