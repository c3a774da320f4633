"""ovs-vswitchd: the switch daemon.  It follows the Open_vSwitch database
(holding OVS's "ovs_vswitchd" lock, as the real one does), keeps bridges,
ports and interfaces in step with it (pyovs.vswitchd.bridge) and writes
their status back: once per configuration change (setting cur_cfg to
next_cfg, which is what ovs-vsctl without --no-wait waits for) and, for
link and admin state, every STATUS_INTERVAL seconds, counters every
STATS_INTERVAL seconds.  Only values that changed are written.

Each bridge is an OpenFlow switch (pyovs.vswitchd.ofconnect): it serves
punix:$OVS_RUNDIR/BRIDGE.mgmt, connects to or listens for its controllers
and reports them in the Controller table.  Packets are forwarded by the
userspace datapath, one per datapath type shared by its bridges
(pyovs.ofproto.ofproto_dpif), whose ports are read from the asyncio loop.
"""

import argparse
import asyncio
import gc
import os
import signal
import sys
import time

import pyovs
from pyovs.util import dirs
from pyovs.vswitchd import coverage
from pyovs.util.vlog import Vlog

PROGRAM = "ovs-vswitchd"
vlog = Vlog("bridge")

#: OVS's default other_config:stats-update-interval (ms) / 1000.
STATS_INTERVAL = 5.0
#: How often link and admin state are looked at between counter updates.
STATUS_INTERVAL = 1.0
LOCK_NAME = "ovs_vswitchd"


def _usage():
    """OVS 3.1's ovs-vswitchd --help, line for line (--enable-dummy and
    --disable-system are hidden options there too)."""
    from pyovs.util import usage
    print(f"""{PROGRAM}: Open vSwitch daemon
usage: {PROGRAM} [OPTIONS] [DATABASE]
where DATABASE is a socket on which ovsdb-server is listening
      (default: "unix:{dirs.rundir()}/db.sock").
""" + usage.stream_usage("DATABASE", True, False, True) + usage.daemon_usage(PROGRAM)
          + usage.vlog_usage(PROGRAM) + """
DPDK options:
Configuration of DPDK via command-line is removed from this
version of Open vSwitch. DPDK is configured through ovsdb.

Other options:
  --unixctl=SOCKET          override default control socket name
  -h, --help                display this help message
  -V, --version             display version information""")


def build_parser():
    from pyovs.util import daemon
    p = argparse.ArgumentParser(prog=PROGRAM, add_help=False)
    p.add_argument("-h", "--help", action="store_true")
    p.add_argument("--enable-dummy", nargs="?", const="")
    p.add_argument("--disable-system", action="store_true")
    p.add_argument("--disable-system-route", action="store_true")
    p.add_argument("--mlockall", action="store_true")
    p.add_argument("database", nargs="*")
    daemon.add_daemon_options(p)
    return p


class Daemon:
    """One ovs-vswitchd process: IDL, bridge layer, control socket."""

    def __init__(self, remote, dummy_override, enable_dummy=False,
                 disable_system=False, disable_system_route=False):
        from pyovs.ofproto.ofproto_dpif import DpifContext
        from pyovs.tnl.ofproto_hooks import OfprotoTunnels
        from pyovs.vswitchd.bridge import BridgeLayer, Providers
        self.remote = remote
        self.dpif = DpifContext(dummy_override)
        #: native tunneling: route table, neighbor cache, tunnel ports
        self.tunnels = OfprotoTunnels(self.dpif, not disable_system_route)
        self.layer = BridgeLayer(Providers(dummy_override,
                                           enable_dummy=enable_dummy,
                                           disable_system=disable_system,
                                           dpif=self.dpif))
        self.exit_event = None
        self.cleanup = False
        self.idl = None
        self.reconfigures = 0
        self.enable_dummy = enable_dummy
        self.openflow = {}          # bridge name -> BridgeOpenFlow

    # -- unixctl -----------------------------------------------------------------
    def register_commands(self, unixctl):
        unixctl.register("exit", "[--cleanup]", 0, 1, self._cmd_exit)
        unixctl.register("bridge/reconnect", "[bridge]", 0, 1, self._cmd_reconnect)
        unixctl.register("ofproto/list", "", 0, 0, self._cmd_ofproto_list)
        from pyovs.ofproto import ofproto_dpif
        ofproto_dpif.register_unixctl_commands(unixctl, self.dpif)
        self.tunnels.register_unixctl_commands(unixctl, self.enable_dummy)
        unixctl.register("memory/show", "", 0, 0, self._cmd_memory_show)
        if self.enable_dummy:
            from pyovs.netdev import dummy
            dummy.register_unixctl_commands(unixctl, ofproto_dpif.flow_to_packet)

    def _cmd_exit(self, conn, args):
        if args and args[0] != "--cleanup":
            conn.reply_error("%s: unknown option" % args[0])
            return
        self.cleanup = bool(args)
        conn.reply(None)
        self.exit_event.set()

    def _cmd_reconnect(self, conn, args):
        if args and args[0] not in self.layer.bridges:
            conn.reply_error("Unknown bridge")
            return
        for name, bof in self.openflow.items():
            if not args or args[0] == name:
                bof.reconnect()
        conn.reply(None)

    def _cmd_memory_show(self, conn, args):
        ports = sum(len(b.ofproto.ports) for b in self.layer.bridges.values())
        rules = sum(len(t.cls) for b in self.layer.bridges.values()
                    for t in b.ofproto.tables)
        conn.reply("ports:%d rules:%d" % (ports, rules))

    def _cmd_ofproto_list(self, conn, args):
        conn.reply("".join(name + "\n" for name in sorted(self.openflow)))

    # -- OpenFlow ------------------------------------------------------------------
    async def sync_openflow(self, idl):
        """Give every running bridge its OpenFlow side and apply the
        Bridge rows' controller, protocols and fail_mode columns."""
        from pyovs.vswitchd.ofconnect import BridgeOpenFlow
        for name in list(self.openflow):
            br = self.layer.bridges.get(name)
            if br is None or br.ofproto is not self.openflow[name].ofproto:
                self.openflow.pop(name).close()
        for name, br in self.layer.bridges.items():
            bof = self.openflow.get(name)
            if bof is None:
                ofdp = self.dpif.bridges.get(name)
                if ofdp is not None and ofdp.ofproto is not br.ofproto:
                    ofdp = None
                bof = BridgeOpenFlow(br.ofproto, dirs.rundir(),
                                     on_packet_out=ofdp and ofdp.packet_out)
                if ofdp is not None:
                    ofdp.connmgr, ofdp.wake = bof.mgr, bof.wake
                    bof.mgr.on_change = self.dpif.changed
                try:
                    await bof.start()
                except OSError as e:
                    vlog.err("%s: OpenFlow management socket: %s", name, e)
                self.openflow[name] = bof
            row = idl.get_row("Bridge", br.uuid)
            if row is None:
                continue
            ctl_rows = [r for r in (idl.get_row("Controller", u)
                                    for u in row.datum("controller").keys())
                        if r is not None]
            try:
                bof.configure(row, ctl_rows)
            except Exception as e:          # a bad row must not stop the switch
                vlog.err("bridge %s: OpenFlow configuration failed: %s", name, e)
            bof.wake()

    def write_controller_status(self, idl, txn, stats=True):
        """Controller rows' is_connected, role and status.  The seconds
        alone changing are written only with the counters (STATS_INTERVAL),
        so a steady connection does not rewrite its row every second."""
        from pyovs.vswitchd.bridge import BridgeLayer

        def steady(m):
            return {k: v for k, v in dict(m).items()
                    if not k.startswith("sec_since_")}
        for name, bof in self.openflow.items():
            br = self.layer.bridges.get(name)
            row = br and idl.get_row("Bridge", br.uuid)
            if row is None:
                continue
            for u in row.datum("controller").keys():
                crow = idl.get_row("Controller", u)
                if crow is None:
                    continue
                st = bof.controller_status(crow)
                BridgeLayer._set(txn, crow, "is_connected", st["is_connected"])
                BridgeLayer._set(txn, crow, "role",
                                 [st["role"]] if st["role"] else [])
                if stats or steady(st["status"]) != steady(
                        crow.datum("status").items()):
                    BridgeLayer._set(txn, crow, "status", st["status"])

    # -- the main loop -------------------------------------------------------------
    async def _commit_status(self, cur_cfg, stats=True):
        from pyovs.ovsdb import idl as idl_mod
        idl = self.idl.idl
        txn = idl.transaction()
        try:
            self.layer.write_status(idl, txn, cur_cfg=cur_cfg, stats=stats)
            self.write_controller_status(idl, txn, stats)
        except Exception as e:              # a bug must not stop the switch
            vlog.err("writing status failed: %s", e)
            return False
        status = await self.idl.commit(txn)
        if status not in (idl_mod.SUCCESS, idl_mod.UNCHANGED):
            vlog.warn("status update failed (%s)", txn.error or status)
            return False
        return True

    async def main_loop(self):
        from pyovs.vswitchd.bridge import needs_reconfigure
        idl = self.idl.idl
        seqno = None
        dirty = False
        next_stats = time.monotonic() + STATS_INTERVAL
        next_status = time.monotonic() + STATUS_INTERVAL
        contended = False
        while not self.exit_event.is_set():
            ready = idl.synced and idl.has_lock
            if idl.is_lock_contended and not contended:
                vlog.err("another ovs-vswitchd process is running, disabling "
                         "this process (pid %d) until it goes away", os.getpid())
                for bof in self.openflow.values():
                    bof.close()
                self.openflow.clear()
                self.layer.close()
            contended = idl.is_lock_contended
            if not ready:
                seqno = None                # reconfigure in full when ready
            elif idl.change_seqno != seqno and seqno is not None \
                    and not dirty and not needs_reconfigure(idl.tracked()):
                # Only our own status came back: nothing to reconfigure.
                seqno = idl.change_seqno
                idl.clear_tracked()
            elif (idl.change_seqno != seqno
                  or (dirty and time.monotonic() >= next_status)):
                seqno = idl.change_seqno
                idl.clear_tracked()
                try:
                    self.layer.reconfigure(idl)
                    self.reconfigures += 1
                    coverage.inc("bridge_reconfigure")
                except Exception as e:      # keep running on any bad config
                    vlog.err("reconfiguration failed: %s", e)
                await self.sync_openflow(idl)
                dirty = not await self._commit_status(cur_cfg=True)
                next_status = time.monotonic() + STATUS_INTERVAL
                continue
            now = time.monotonic()
            if ready and now >= next_status and self.layer.vanished(idl):
                # A kernel interface went away (its row gets the error) or
                # a missing one appeared (it joins the bridge).
                try:
                    self.layer.reconfigure(idl)
                except Exception as e:
                    vlog.err("reconfiguration failed: %s", e)
                await self.sync_openflow(idl)
            if ready and now >= min(next_stats, next_status):
                stats = now >= next_stats
                await self._commit_status(cur_cfg=False, stats=stats)
                next_status = time.monotonic() + STATUS_INTERVAL
                if stats:
                    next_stats = time.monotonic() + STATS_INTERVAL
            waits = [asyncio.ensure_future(self.exit_event.wait()),
                     asyncio.ensure_future(self.idl.wait_until(
                         lambda s=idl.change_seqno, r=ready: idl.change_seqno != s
                         or (idl.synced and idl.has_lock) != r))]
            timeout = max(0.05, min(next_stats, next_status) - time.monotonic())
            _, pending = await asyncio.wait(waits, timeout=timeout,
                                            return_when=asyncio.FIRST_COMPLETED)
            for t in pending:
                t.cancel()

    async def run(self, args):
        from pyovs.ovsdb.idl import AsyncIdl
        from pyovs.util import daemon, unixctl, vlog as vlog_mod
        self.exit_event = asyncio.Event()
        vlog.info("%s (Open vSwitch) %s", PROGRAM, pyovs.OVS_VERSION)
        self.idl = AsyncIdl(self.remote, "Open_vSwitch", lock_name=LOCK_NAME)
        await self.idl.start()
        server = unixctl.UnixctlServer(
            path=args.unixctl, program=PROGRAM,
            version="%s (Open vSwitch) %s" % (PROGRAM, pyovs.OVS_VERSION))
        self.register_commands(server)
        vlog_mod.register_unixctl_commands(server)
        await server.start()
        loop = asyncio.get_running_loop()
        self.dpif.attach(loop)
        self.tunnels.start(loop)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, self.exit_event.set)
        daemon.daemonize_complete()
        try:
            await self.main_loop()
        finally:
            server.close()
            for bof in self.openflow.values():
                bof.close()
            if self.cleanup:
                self.layer.close()
            self.dpif.detach()
            self.tunnels.close()
            await self.idl.close()
        return 0


def _register_vlog_modules():
    """Import every module the daemon logs from, so that -v settings (as
    -vconsole:off) find their vlog modules registered, as OVS's are from
    the start."""
    import pyovs.ovsdb.idl  # noqa: F401
    import pyovs.util.jsonrpc  # noqa: F401
    import pyovs.util.reconnect  # noqa: F401
    import pyovs.util.stream  # noqa: F401
    import pyovs.util.unixctl  # noqa: F401
    import pyovs.netdev  # noqa: F401
    import pyovs.ofproto.ofproto_dpif  # noqa: F401
    import pyovs.vswitchd.bridge  # noqa: F401
    import pyovs.vswitchd.ofconnect  # noqa: F401


def main(argv=None):
    from pyovs.util import daemon, vlog as vlog_mod
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # getopt_long's text, with argv[0] as the real one prints it.
        print("%s: unrecognized option '%s'" % (sys.argv[0], unknown[0]),
              file=sys.stderr)
        return 1
    if args.help:
        try:
            _usage()
            sys.stdout.flush()
        except BrokenPipeError:
            pass
        return 0
    vlog_mod.set_program_name(PROGRAM)
    _register_vlog_modules()
    daemon.apply_daemon_options(args, PROGRAM)
    if len(args.database) > 1:
        print("%s: at most one non-option argument accepted; use --help for "
              "usage" % PROGRAM, file=sys.stderr)
        return 1
    if args.enable_dummy not in (None, "", "override", "system"):
        print("%s: %s: unknown dummy level" % (PROGRAM, args.enable_dummy),
              file=sys.stderr)
        return 1
    remote = (args.database[0] if args.database
              else "unix:%s" % os.path.join(dirs.rundir(), "db.sock"))
    # --enable-dummy alone only adds the dummy types (OVS's DUMMY_OVERRIDE_NONE).
    override = args.enable_dummy or None
    # Megaflows, MAC entries and OpenFlow rules are many long-lived objects;
    # with CPython's default thresholds (700, 10, 10) the collector rescans
    # all of them every few thousand new ones: ~30% of the CPU of setting up
    # megaflows (bench/upcall.py).  Young garbage less often, the heap rarely.
    gc.set_threshold(10000, 10, 100)
    daemon.daemonize_start()
    d = Daemon(remote, override, enable_dummy=args.enable_dummy is not None,
               disable_system=args.disable_system,
               disable_system_route=args.disable_system_route)
    return asyncio.run(d.run(args))


if __name__ == "__main__":
    sys.exit(main())
