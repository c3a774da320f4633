"""Micro benchmark of the per-packet fast path: EMC, dpcls, and the
OpenFlow classifier used at upcall time.

Run: .venv/bin/python bench/dpcls.py [--quick]
Prints nanoseconds per operation (best of several runs, one core).  There is
no reference to compare with here (OVS's dpcls is C inside ovs-vswitchd), so
it prints no ratios; the figures are for tracking pyovs against itself.
"""

import argparse
from itertools import cycle
import random
import sys
import timeit

from pyovs.dpif.dpcls import Dpcls, Megaflow
from pyovs.packet import build
from pyovs.packet.flow import flow_extract
from pyovs.dpif.emc import Emc, flow_key
from pyovs.ofproto.classifier import Classifier, Rule

FULL32 = 0xffffffff


def frame(i):
    """A TCP/IPv4 frame of one of a few hundred connections."""
    return build.tcp_packet(f"02:00:00:00:00:{i % 64:02x}",
                            "02:00:00:00:01:01", "10.0.0.1",
                            f"10.0.{i % 200 // 100}.{i % 100 + 1}",
                            10000 + i % 5000, 80, flags=0x10)


def packet(i):
    """The flow of frame(i), as the datapath extracts it."""
    return flow_extract(frame(i), in_port=1 + i % 4)


# Masks as NORMAL and typical L3/L4 pipelines produce them.
MASKS = [
    {"recirc_id": FULL32, "in_port": FULL32, "dl_src": (1 << 48) - 1,
     "dl_dst": (1 << 48) - 1, "dl_type": 0xffff},
    {"recirc_id": FULL32, "in_port": FULL32, "dl_type": 0xffff,
     "nw_dst": 0xffffff00, "nw_frag": 0xff},
    {"recirc_id": FULL32, "in_port": FULL32, "dl_type": 0xffff,
     "nw_proto": 0xff, "tp_dst": 0xffff, "nw_frag": 0xff},
    {"recirc_id": FULL32, "in_port": FULL32, "dl_type": 0xffff,
     "nw_src": FULL32, "nw_dst": FULL32, "nw_proto": 0xff,
     "tp_src": 0xffff, "tp_dst": 0xffff, "nw_frag": 0xff},
]


def best(stmt, number, repeat=5, **ns):
    t = min(timeit.repeat(stmt, globals=ns, number=number, repeat=repeat))
    return t / number * 1e9


def build_dpcls(n_subtables, hit_last):
    """A dpcls whose packet hits in the first or the last subtable."""
    dp = Dpcls()
    pkts = [packet(i) for i in range(256)]
    masks = []
    for k in range(n_subtables):
        mask = dict(MASKS[k % len(MASKS)])
        mask["reg0"] = FULL32 ^ k        # make each subtable's mask distinct
        masks.append(mask)
    hit_mask = masks[-1] if hit_last else masks[0]
    for mask in masks:
        if mask is hit_mask:
            for p in pkts:
                dp.insert(Megaflow(p, hit_mask, actions="output:2"))
        else:
            dp.insert(Megaflow({"in_port": 99}, mask, actions="drop"))
    return dp, pkts


def main():
    ap = argparse.ArgumentParser(
        description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--quick", action="store_true",
                    help="2,000 instead of 20,000 operations per timing")
    quick = ap.parse_args().quick
    n = 2000 if quick else 20000
    out = []

    for n_sub, last in ((1, False), (4, True), (16, True)):
        dp, pkts = build_dpcls(n_sub, last)
        it = cycle(pkts)
        ns = best("lookup(next(it))", n, lookup=dp.lookup, it=it)
        where = "last" if last else "first"
        out.append((f"dpcls lookup, {n_sub} subtable(s), hit in {where}",
                    ns))

    for n_sub, last in ((1, False), (4, True)):
        dp, pkts = build_dpcls(n_sub, last)
        batches = cycle([pkts[i:i + 32] for i in range(0, len(pkts), 32)])
        ns = best("lookup_batch(next(it))", n // 32,
                  lookup_batch=dp.lookup_batch, it=batches) / 32
        where = "last" if last else "first"
        out.append((f"dpcls lookup_batch (32), {n_sub} subtable(s), "
                    f"hit in {where}, per packet", ns))

    dp, pkts = build_dpcls(1, False)
    emc = Emc(insert_inv_prob=1)
    keys = [flow_key(p) for p in pkts]
    for k, p in zip(keys, pkts):
        emc.insert(k, dp.lookup(p))
    it = cycle(keys)
    out.append(("EMC lookup, prebuilt key",
                best("lookup(next(it))", n, lookup=emc.lookup, it=it)))
    it = cycle(pkts)
    out.append(("emc.flow_key(flow) of an extracted TCP flow",
                best("flow_key(next(it))", n, flow_key=flow_key, it=it)))
    it = cycle(pkts)
    out.append(("EMC lookup incl. flow_key",
                best("lookup(flow_key(next(it)))", n, lookup=emc.lookup,
                     flow_key=flow_key, it=it)))

    frames = [(frame(i), 1 + i % 4) for i in range(256)]
    it = cycle(frames)
    out.append(("packet.flow.flow_extract (TCP/IPv4 frame, for scale)",
                best("f, p = next(it); extract(f, in_port=p)", n,
                     extract=flow_extract, it=it)))

    # Generated key builder vs. a generic loop over (member, mask) pairs.
    items = tuple(MASKS[3].items())
    it = cycle(pkts)
    out.append(("generic loop key build (for comparison)",
                best("f = next(it); g = f.get; "
                     "tuple([g(m, 0) & k for m, k in items])", n,
                     items=items, it=it)))

    # OpenFlow classifier (upcall time): 1000 rules over 4 masks.
    rnd = random.Random(1)
    cls = Classifier()
    t_ins = timeit.default_timer()
    for i in range(1000):
        mask = MASKS[i % len(MASKS)]
        cls.replace(Rule(packet(rnd.randrange(100000)), mask, i % 10))
    t_ins = (timeit.default_timer() - t_ins) / 1000 * 1e9
    out.append(("classifier insert (1000 rules, 4 masks)", t_ins))
    it = cycle(pkts)
    out.append(("classifier lookup with wc (1000 rules)",
                best("lookup(next(it), {})", n // 4, lookup=cls.lookup,
                     it=it)))

    width = max(len(name) for name, _ in out)
    for name, ns in out:
        print(f"{name:<{width}}  {ns:8.0f} ns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
