"""A runnable OpenFlow switch without a datapath, for tools and tests.

    python -m pyovs.ofproto.standalone BRIDGE [--port NAME[=OFPORT]]...
        [--listen ptcp:PORT[:IP]]... [--controller tcp:IP:PORT]...
        [--fail-mode secure|standalone] [--datapath-id HEX]
        [--protocols OpenFlow10,OpenFlow13,...]

It serves ``punix:$OVS_RUNDIR/BRIDGE.mgmt`` (and any --listen stream), so
``ovs-ofctl dump-flows BRIDGE`` works against it.  Ports are names only;
no packet flows, except that a packet-out's output to the controller
comes back as a packet-in.  It prints "ready" on stdout once listening and runs until
killed (SIGTERM/SIGINT).
"""

import argparse
import asyncio
import os
import signal
import sys

from ..openflow import protocols as P
from ..openflow.actions import Controller, Output, OFPR_ACTION
from ..openflow.async_msgs import PacketIn
from ..openflow.ports import OFPP_CONTROLLER
from ..util import dirs
from .connmgr import ConnMgr, ConnMgrShell
from .ofproto import OFProto


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="pyovs.ofproto.standalone")
    ap.add_argument("bridge")
    ap.add_argument("--port", action="append", default=[])
    ap.add_argument("--listen", action="append", default=[])
    ap.add_argument("--controller", action="append", default=[])
    ap.add_argument("--fail-mode", choices=("secure", "standalone"),
                    default="secure")
    ap.add_argument("--datapath-id")
    ap.add_argument("--protocols",
                    default="OpenFlow10,OpenFlow12,OpenFlow13,OpenFlow14,"
                            "OpenFlow15")
    return ap.parse_args(argv)


def packet_out(mgr, po):
    """No datapath: of a packet-out's actions only those that send the
    packet to the controller take effect (a packet-in, reason "action")."""
    for a in po.actions:
        if isinstance(a, Controller) or (isinstance(a, Output)
                                         and a.port == OFPP_CONTROLLER):
            mgr.send_packet_in(PacketIn(po.data, po.in_port, OFPR_ACTION,
                                        table_id=0, cookie=(1 << 64) - 1))


async def main_async(args):
    loop = asyncio.get_running_loop()
    now = loop.time()
    dpid = int(args.datapath_id, 16) if args.datapath_id else None
    ofp = OFProto(args.bridge, dpid, now=now)
    ofp.fail_mode = args.fail_mode
    for spec in args.port:
        name, _, num = spec.partition("=")
        ofp.add_port(name, int(num) if num else None, now=now)
    ofp.take_events()
    versions = P.parse_versions(args.protocols)
    mgr = ConnMgr(ofp, versions)
    mgr.on_packet_out = lambda po, conn: packet_out(mgr, po)
    shell = ConnMgrShell(mgr, clock=loop.time)
    mgmt = os.path.join(dirs.rundir(), args.bridge + ".mgmt")
    listeners = [await shell.listen("punix:" + mgmt)]
    for name in args.listen:
        listeners.append(await shell.listen(name))
    for name in args.controller:
        shell.add_controller(name)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("ready " + " ".join(l.bound_name for l in listeners), flush=True)
    runner = asyncio.ensure_future(shell.run_forever())
    await stop.wait()
    runner.cancel()
    shell.close()
    try:
        os.unlink(mgmt)
    except OSError:
        pass


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
