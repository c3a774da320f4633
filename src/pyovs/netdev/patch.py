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

from pyovs.netdev.base import NetdevError, NetdevVport, register_provider


class NetdevPatch(NetdevVport):
    TYPE = "patch"

    def __init__(self, name, options=None):
        super().__init__(name, options)
        self.peer = None
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


register_provider("patch", NetdevPatch)
