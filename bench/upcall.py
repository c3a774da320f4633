"""In-process micro-benchmark of ovs-vswitchd's two slow paths.

No processes, no namespaces, no root: one pyovs bridge (OFProto + the
userspace datapath, ofproto_dpif) on the dummy datapath with dummy ports,
driven directly, so the figures are steady enough to compare commits.

* ``setup``: megaflows set up per second.  NORMAL bridge, two ports; the
  destination MAC is learned first (as in bench/vswitchd.py, where ns2
  answered), then frames from N distinct source MACs arrive on port 1 in
  batches of 32 (a netdev rx batch).  After each batch the callbacks the
  datapath asked for with ``changed()`` run, as the daemon's loop runs
  them, and every RUN_INTERVAL of elapsed time run() runs (statistics,
  revalidation).  Reports megaflows installed per second of wall time
  and checks that every MAC got one megaflow and ns2's port got every frame.
* ``flows``: with MEGAFLOWS megaflows in the datapath (as after the
  setup measure), OpenFlow flow_mods per second, as ``ovs-ofctl add-flows``
  sends them: OFPT_FLOW_MOD messages (OpenFlow 1.0 as the real tool's
  default is), fed as bytes to a connection of the connection manager
  (decode -> OFProto.handle_flow_mod -> classifier insert), then the
  datapath's revalidation once at the end, as the daemon's loop would.

Usage:  .venv/bin/python bench/upcall.py [--quick] [--macs N] [--flows N]
        [--megaflows N]
        [--only setup|flows] [--gc-default] [--profile FILE]
"""

import argparse
import ipaddress
import cProfile
import gc
import os
import resource
import struct
import sys
import time

from pyovs.netdev.dummy import NetdevDummy
from pyovs.ofproto import ofproto_dpif as OD
from pyovs.ofproto.connmgr import ConnMgr, OFConn
from pyovs.ofproto.ofproto import OFProto
from pyovs.openflow import flow as FL
from pyovs.openflow import messages as M
from pyovs.openflow import protocols as P
from pyovs.openflow.ports import OFPP_LOCAL

BATCH = 32
PROTOCOL = P.OF10_STD
DST = bytes.fromhex("02000000bbbb")
NET = int(ipaddress.IPv4Address("172.16.0.0"))    # as bench/vswitchd.py's flows


class _Timer:
    def __init__(self, loop, when, cb, args):
        self.loop, self.when, self.cb, self.args = loop, when, cb, args

    def cancel(self):
        if self in self.loop.timers:
            self.loop.timers.remove(self)


class _Loop:
    """The asyncio loop calls ofproto_dpif makes, run by hand: run_soon()
    runs what is due, as the daemon's loop does between reads."""

    def __init__(self):
        self.timers = []

    def call_soon(self, cb, *args):
        return self.call_later(0, cb, *args)

    def call_later(self, delay, cb, *args):
        t = _Timer(self, time.monotonic() + delay, cb, args)
        self.timers.append(t)
        return t

    def run_soon(self, everything=False):
        while True:
            now = time.monotonic()
            due = [t for t in self.timers if everything or t.when <= now]
            if not due:
                return
            for t in due:
                self.timers.remove(t)
                t.cb(*t.args)


def make_bridge():
    ctx = OD.DpifContext()
    ofp = OFProto("br0")
    ofdp = ctx.create_bridge(ofp, "dummy")
    devs = {}
    for no, name in ((OFPP_LOCAL, "br0"), (1, "p1"), (2, "p2")):
        dev = NetdevDummy(name)
        if no != OFPP_LOCAL:
            ofp.add_port(name, no, dev.get_etheraddr())
        ofdp.add_port(no, dev)
        devs[no] = dev
    fm, _ = FL.parse_flow_mod("table=0,priority=0,actions=NORMAL")
    ofp.handle_flow_mod(fm, 0.0)
    loop = _Loop()
    ctx.loop = loop
    return ctx, ofp, ofdp, devs, loop


def frame(src, dst):
    """bench/vswitchd.py's generator's frame: a local experimental ethertype."""
    return dst + src + b"\x88\xb5" + bytes(46)


def learn_dst(ctx, ofdp, loop):
    """ns2 speaks first: its MAC is learned on port 2."""
    ofdp.backer.dp.receive(ofdp.ofp_to_odp(2), [frame(DST, b"\xff" * 6)])
    loop.run_soon()
    ctx.revalidate()


def set_up(ctx, ofdp, devs, loop, n_macs, start=0):
    """N_MACS new source MACs through the bridge; (megaflows made, frames
    out of port 2, wall seconds, CPU seconds)."""
    dp = ofdp.backer.dp
    odp1 = ofdp.ofp_to_odp(1)
    missed0, tx0 = dp.n_missed, devs[2].tx_packets
    frames = [frame(b"\x02\x01" + struct.pack("!I", i), DST)
              for i in range(start, start + n_macs)]
    t0 = time.perf_counter()
    c0 = time.process_time()
    next_run = t0 + OD.RUN_INTERVAL
    for i in range(0, n_macs, BATCH):
        dp.receive(odp1, frames[i:i + BATCH])
        loop.run_soon()
        now = time.perf_counter()
        if now >= next_run:
            ctx.run(time.monotonic())
            loop.run_soon()
            next_run = now + OD.RUN_INTERVAL
    loop.run_soon(everything=True)
    ctx.revalidate()
    return (dp.n_missed - missed0, devs[2].tx_packets - tx0,
            time.perf_counter() - t0, time.process_time() - c0)


def bench_setup(n_macs):
    ctx, ofp, ofdp, devs, loop = make_bridge()
    learn_dst(ctx, ofdp, loop)
    n, got, wall, cpu = set_up(ctx, ofdp, devs, loop, n_macs)
    ok = (n == n_macs and got == n_macs
          and len(ofdp.ml) == min(n_macs + 1, ofdp.ml.max_entries))
    print("setup: %d MACs -> %d upcalls, %d frames out of p2 in %.2f s "
          "(%.2f CPU s): %.0f megaflows/s (%.0f per CPU second)%s"
          % (n_macs, n, got, wall, cpu, n / wall, n / cpu,
             "" if ok else "  ** WRONG **"))
    return ok


def bench_flows(n_flows, n_megaflows):
    ctx, ofp, ofdp, devs, loop = make_bridge()
    learn_dst(ctx, ofdp, loop)
    set_up(ctx, ofdp, devs, loop, n_megaflows)
    n_mf = len(ofdp.backer.dp)
    mgr = ConnMgr(ofp)
    mgr.on_change = ctx.changed         # as ovs-vswitchd wires it
    conn = OFConn(mgr, "bench")
    mgr.add_conn(conn)
    conn.hello()
    conn.receive(struct.pack("!BBHI", 1, 0, 8, 1), 0.0)     # OFPT_HELLO 1.0
    conn.take_output()
    msgs = []
    for i in range(n_flows):
        fm, _ = FL.parse_flow_mod("priority=100,ip,nw_dst=%s,actions=drop"
                                  % ipaddress.IPv4Address(NET + i))
        msgs.append(M.encode_flow_mod(fm, PROTOCOL, i + 2))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    c0 = time.process_time()
    chunk = b""
    for i, m in enumerate(msgs):
        chunk += m
        if len(chunk) > 65536 or i == n_flows - 1:     # one socket read
            conn.receive(chunk, 0.0)
            mgr.note_changes()          # what the shell does after a read
            chunk = b""
            loop.run_soon()
    loop.run_soon(everything=True)
    ctx.revalidate()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    out = conn.take_output()
    print("  %d full revalidations" % ofdp.backer.n_revalidations)
    n = len(ofp.tables[0].cls) if hasattr(ofp.tables[0].cls, "__len__") else None
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ok = n == n_flows + 1 and not out
    print("flows: %d flow_mods with %d megaflows in %.2f s (%.2f CPU s): "
          "%.0f flow_mods/s (%.0f per CPU second); table 0 holds %s; "
          "max RSS %d -> %d MiB%s"
          % (n_flows, n_mf, wall, cpu, n_flows / wall, n_flows / cpu, n,
             rss0 >> 10, rss1 >> 10,
             "" if ok else "  ** WRONG ** (%d bytes of replies)" % len(out)))
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="5,000 MACs; 10,000 flows with 1,000 megaflows")
    ap.add_argument("--macs", type=int, default=50000)
    ap.add_argument("--flows", type=int, default=100000)
    ap.add_argument("--megaflows", type=int, default=5000,
                    help="megaflows in the datapath while flows are added")
    ap.add_argument("--only", choices=("setup", "flows"))
    ap.add_argument("--gc-default", action="store_true",
                    help="CPython's default collector thresholds, not ovs-vswitchd's")
    ap.add_argument("--profile", metavar="FILE",
                    help="write a cProfile of the run to FILE")
    args = ap.parse_args(argv)
    if not args.gc_default:
        gc.set_threshold(10000, 10, 100)    # as ovs-vswitchd sets them (cli/ovs_vswitchd.py)
    if args.quick:
        args.macs, args.flows, args.megaflows = 5000, 10000, 1000
    prof = cProfile.Profile() if args.profile else None
    if prof:
        prof.enable()
    ok = True
    if args.only in (None, "setup"):
        ok &= bench_setup(args.macs)
    if args.only in (None, "flows"):
        ok &= bench_flows(args.flows, args.megaflows)
    if prof:
        prof.disable()
        prof.dump_stats(args.profile)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
