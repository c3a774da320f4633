"""MAC-learning switches on the userspace datapath, for tests and bench/dpif.py.

This is the smallest useful owner of a DpifNetdev: its upcall learns the
source MAC of each missed packet on its input port and answers with
"output to the learned port" or "flood", matching on in_port, Ethernet
source and destination (so a new source always comes up to be learned).
When a MAC is learned or moves, the datapath is revalidated: megaflows
whose answer changed (a flood that now has a known destination) are fixed
in place.  It is not OVS's NORMAL (no VLANs, no aging; that is ofproto's
xlate): it exercises the datapath with a realistic upcall.

NormalSwitch is the same with OVS's NORMAL as ofproto/xlate.py (B's)
translates it: the upcall is xlate() on a bridge with no OpenFlow flows
and a standalone table miss, its learned MACs go into a MacLearning table,
and a change of that table revalidates every megaflow by translating its
flow again (a changed mask deletes it, changed actions fix it), as OVS's
revalidators do.

(ovs-vswitchd itself is assembled in pyovs.ofproto.ofproto_dpif: bridges
sharing a datapath, OpenFlow tables, statistics, packet-ins; these two are
the minimal owners bench/dpif.py and the datapath tests use.)

    python -m pyovs.dpif.learning [--normal] [TYPE:]NAME...   (default TYPE system)

prints "ready" once the ports are open, forwards until SIGTERM/SIGINT, then
prints one JSON line of counters (hit, missed, lost, flows, upcalls,
revalidations) and exits 0.

Public API: LearningSwitch(dp) (sets dp.upcall); .macs; .translate(flow)
-> actions; .revalidate(); NormalSwitch(dp) (the same API; .ml, .bridge);
main(argv=None).
"""

import asyncio
import json
import signal
import sys
import time

from pyovs import netdev
from pyovs.dpif.netdev import DpifNetdev

_MAC = (1 << 48) - 1
MASK = {"dl_src": _MAC, "dl_dst": _MAC}


def _multicast(mac):
    return mac >> 40 & 1


class LearningSwitch:
    def __init__(self, dp):
        self.dp = dp
        self.macs = {}
        self.n_upcalls = 0
        self.n_revalidations = 0
        self._pending = False
        dp.upcall = self.upcall

    def translate(self, flow):
        in_port = flow.get("in_port", 0)
        dst = flow.get("dl_dst", 0)
        out = None if _multicast(dst) else self.macs.get(dst)
        if out is None or out not in self.dp.ports:
            return [("output", no) for no, p in sorted(self.dp.ports.items())
                    if no != in_port and p.netdev is not None]
        return [] if out == in_port else [("output", out)]

    def upcall(self, flow, packet):
        self.n_upcalls += 1
        src, in_port = flow.get("dl_src", 0), flow.get("in_port", 0)
        if not _multicast(src) and self.macs.get(src) != in_port:
            self.macs[src] = in_port
            self._schedule_revalidation()
        return self.translate(flow), MASK

    def _schedule_revalidation(self):
        if self._pending:
            return
        self._pending = True
        try:
            asyncio.get_running_loop().call_soon(self.revalidate)
        except RuntimeError:        # no loop (unit tests): at once
            self.revalidate()

    def revalidate(self):
        self._pending = False
        self.n_revalidations += 1
        self.dp.revalidate(lambda mf: self.translate(mf.value))


class NormalSwitch(LearningSwitch):
    """NORMAL through ofproto/xlate.py (see the module essay)."""

    def __init__(self, dp):
        from pyovs.ofproto.mac_learning import MacLearning
        from pyovs.ofproto import xlate as xl
        self._xl = xl
        self.ml = MacLearning()
        ports = {no: xl.XPort(no, no, name=p.name) for no, p in dp.ports.items()
                 if no != 0 and p.netdev is not None}
        self.bridge = xl.XBridge("br0", {}, ports, ml=self.ml, miss="normal")
        super().__init__(dp)

    def _xlate(self, flow, side_effects):
        return self._xl.xlate(self.bridge, dict(flow), time.monotonic(), side_effects)

    def translate(self, flow):
        return self._xlate(flow, False).actions

    def upcall(self, flow, packet):
        self.n_upcalls += 1
        r = self._xlate(flow, True)
        seqno = self.ml.seqno
        self._xl.apply_side_effects(r, self.ml, time.monotonic())
        if self.ml.seqno != seqno:
            self._schedule_revalidation()
        return r.actions, r.wc

    def revalidate(self):
        from pyovs.dpif.dpcls import Megaflow
        self._pending = False
        self.n_revalidations += 1
        self.ml.run(time.monotonic())

        def check(mf):
            flow = self.dp.flow_key(mf)[0]
            r = self._xlate(flow, False)
            wc = dict(r.wc, in_port=mf.mask.get("in_port"), recirc_id=mf.mask.get("recirc_id"))
            if Megaflow(flow, wc).mask != mf.mask:
                return None         # the decision now looks at other bits
            return r.actions
        self.dp.revalidate(check)


def _open(spec):
    kind, _, name = spec.rpartition(":")
    return netdev.open(name, kind or "system")


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    normal = "--normal" in argv
    if normal:
        argv.remove("--normal")
    if not argv:
        print("usage: python -m pyovs.dpif.learning [--normal] [TYPE:]NAME...",
              file=sys.stderr)
        return 2
    try:
        devs = [_open(a) for a in argv]
    except netdev.NetdevError as e:
        print("learning: %s" % e, file=sys.stderr)
        return 1
    dp = DpifNetdev()
    for dev in devs:
        dp.add_port(dev)
    sw = (NormalSwitch if normal else LearningSwitch)(dp)
    loop = asyncio.new_event_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

    def periodic():
        dp.run_periodic()
        loop.call_later(1.0, periodic)
    dp.attach(loop)
    loop.call_later(1.0, periodic)
    print("ready", flush=True)
    try:
        loop.run_until_complete(stop)
    finally:
        dp.detach()
        print(json.dumps({"hit": dp.n_hit, "missed": dp.n_missed, "lost": dp.n_lost,
                          "flows": len(dp), "upcalls": sw.n_upcalls,
                          "revalidations": sw.n_revalidations}), flush=True)
        dp.close()
        for dev in devs:
            dev.close()
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
