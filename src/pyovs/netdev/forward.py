"""A two-port forwarder over netdevs: everything in on one port goes out of
the other.  The smallest switch there is; tests and bench/netdev.py use it to
prove the providers carry real traffic (super-packets included).

    python -m pyovs.netdev.forward [--segment] [TYPE:]NAME [TYPE:]NAME

TYPE defaults to "system".  With --segment, offloads are resolved in
software (netdev/gso.py) before sending: super-packets leave as MTU-sized
segments with complete checksums.  Prints "ready" once both ports are open; on
SIGTERM or SIGINT prints one JSON line of counters (per direction: packets,
bytes, super-packets (GSO), largest frame) and exits 0.
"""

import json
import select
import signal
import sys

from pyovs import netdev
from pyovs.netdev import gso

BATCH = 64


class Forwarder:
    def __init__(self, a, b, segment=False):
        self.ports = (a, b)
        self.segment = segment
        self.counters = {}
        for dev in self.ports:
            self.counters[dev.name] = {"packets": 0, "bytes": 0, "gso": 0, "max": 0}
        self.stopping = False

    def run(self):
        a, b = self.ports
        peer = {a.fileno(): (a, b), b.fileno(): (b, a)}
        ep = select.epoll()
        for fd in peer:
            ep.register(fd, select.EPOLLIN)
        try:
            while not self.stopping:
                try:
                    events = ep.poll(0.5)
                except InterruptedError:
                    continue
                for fd, _ in events:
                    src, dst = peer[fd]
                    c = self.counters[src.name]
                    while True:
                        pkts = src.rx_batch(BATCH)
                        if not pkts:
                            break
                        if self.segment:
                            dst.send_batch(_resolved(pkts))
                        else:
                            dst.send_batch(pkts)
                        c["packets"] += len(pkts)
                        nbytes = big = gso = 0
                        for p in pkts:
                            n = len(p.data)
                            nbytes += n
                            if n > 1514:
                                big = max(big, n)
                                if p.vnet is not None and p.vnet[1]:
                                    gso += 1
                        c["bytes"] += nbytes
                        c["gso"] += gso
                        if big > c["max"]:
                            c["max"] = big
                        if len(pkts) < BATCH:
                            break
        finally:
            ep.close()


def _resolved(pkts):
    out = []
    for p in pkts:
        if p.vnet is None:
            out.append(p.data)
        else:
            out.extend(gso.resolve(p.data, p.vnet) or ())
    return out


def _open(spec):
    kind, _, name = spec.rpartition(":")
    return netdev.open(name, kind or "system")


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    segment = "--segment" in argv
    if segment:
        argv.remove("--segment")
    if len(argv) != 2:
        print("usage: python -m pyovs.netdev.forward [--segment] [TYPE:]NAME [TYPE:]NAME",
              file=sys.stderr)
        return 2
    try:
        a = _open(argv[0])
        b = _open(argv[1])
    except netdev.NetdevError as e:
        print("forward: %s" % e, file=sys.stderr)
        return 1
    fwd = Forwarder(a, b, segment)

    def stop(*_):
        fwd.stopping = True
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)
    try:
        fwd.run()
    finally:
        print(json.dumps(fwd.counters), flush=True)
        a.close()
        b.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
