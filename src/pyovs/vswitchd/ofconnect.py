"""OpenFlow for ovs-vswitchd's bridges (OVS's bridge_configure_remotes()
and the controller half of bridge.c).

What it does
------------
Each running bridge gets a :class:`BridgeOpenFlow`: the connection manager
(pyovs.ofproto.connmgr) around the bridge's OFProto, its asyncio shell, and
the bridge's management socket ``punix:$OVS_RUNDIR/BRIDGE.mgmt`` through
which ``ovs-ofctl ... BRIDGE`` talks to it.  ``configure(br_row)`` applies
the Bridge row's OpenFlow columns:

* ``controller``: every Controller target is kept; an active one (tcp:,
  unix:) is connected to with the reconnect FSM (its ``max_backoff`` in ms,
  default 8000, and ``inactivity_probe`` in ms, default 5000, 0 disabling
  probes); a passive one (ptcp:, punix:) is listened on.  Targets no longer
  named are dropped; a target whose settings changed is started again.
* ``protocols``: the versions offered in hello (all of OpenFlow10..15 when
  empty, as OVS); a version the connection manager cannot serve (1.1) is
  left out of an otherwise usable set.  A change drops the connections
  made under the old set, as OVS.
* ``fail_mode``: handed to the OFProto (empty means standalone, as OVS).
* With no active controller and fail_mode standalone, table 0 gets OVS's
  "priority=0 actions=NORMAL" flow (removed again otherwise).
* A changed datapath ID makes the active controllers reconnect, as OVS.
* ``other_config:flow-eviction-threshold`` and ``flow_tables`` are not
  honoured (they are accepted and ignored).

``controller_status(row)`` is what the Controller row shows: as OVS, only
active targets report (is_connected, role while connected, and the status
map state/last_error/sec_since_connect/sec_since_disconnect); passive ones
show is_connected false, no role and an empty status.

A packet-out goes to ``on_packet_out`` (ovs-vswitchd gives the bridge's
pyovs.ofproto.ofproto_dpif.OFProtoDpif.packet_out: translated and run by
the datapath); without one its actions take effect only where they send
the packet to the controller (a packet-in, reason "action"), as
pyovs.ofproto.standalone does.

The shell's run_forever() drives OFProto.run(now)/next_deadline() (flow
expiry) and probes; ``wake()`` makes it dispatch events at once, which is
how port additions and removals reach connected controllers as port-status.

Public API:
  BridgeOpenFlow(ofproto, rundir): await start(); configure(br_row,
    controller_rows); controller_status(row) -> dict(is_connected, role,
    status); reconnect(); wake(); close().
  FULL_VERSIONS, bridge_versions(protocols) -> tuple.
"""

import asyncio
import errno
import os

from pyovs.ofproto import connmgr as CM
from pyovs.openflow import protocols as P
from pyovs.util import reconnect as R
from pyovs.util import stream
from pyovs.util.vlog import Vlog

vlog = Vlog("bridge")
vlog_connmgr = Vlog("connmgr")
vlog_rconn = Vlog("rconn")

FULL_VERSIONS = (1, 2, 3, 4, 5, 6)
DEFAULT_MAX_BACKOFF_MS = 8000
DEFAULT_PROBE_MS = 5000


def bridge_versions(protocols):
    """The versions a bridge offers for its ``protocols`` column."""
    if not protocols:
        return FULL_VERSIONS
    return tuple(sorted(set(P.parse_versions(",".join(protocols)))))


def _is_passive(target):
    return target.startswith(("ptcp:", "punix:", "pssl:"))


class _Shell(CM.ConnMgrShell):
    """ConnMgrShell plus what the bridge needs: removable controllers and
    per-controller max_backoff / inactivity_probe."""

    def __init__(self, mgr, clock, bridge="br"):
        super().__init__(mgr, clock)
        self.bridge = bridge
        self.controller_tasks = {}      # target -> Task
        self.settings = {}              # target -> (max_backoff_ms, probe_ms)

    def add_controller(self, name, max_backoff=DEFAULT_MAX_BACKOFF_MS,
                       probe=DEFAULT_PROBE_MS):
        stream.parse_active(name, CM.OFP_PORT)
        self.settings[name] = (max_backoff, probe)
        task = asyncio.ensure_future(self._controller(name))
        self.controller_tasks[name] = task
        self.tasks.append(task)

    def remove_controller(self, name):
        task = self.controller_tasks.pop(name, None)
        if task is not None:
            task.cancel()
            if task in self.tasks:
                self.tasks.remove(task)
        conn = self.controller_conns.pop(name, None)
        if conn is not None:
            conn.close("removed", self.clock())
            self._flush()
        self.controllers.pop(name, None)
        self.controller_errors.pop(name, None)
        self.settings.pop(name, None)

    def controller_status(self, name):
        st = super().controller_status(name)
        conn = self.controller_conns.get(name)
        if conn is not None and conn.version is None:
            st["is_connected"], st["role"] = False, None
        return st

    def drop_connections(self):
        """bridge/reconnect: every active controller connection is closed
        (and so reconnected by its FSM)."""
        now = self.clock()
        for conn in list(self.controller_conns.values()):
            conn.close("reconnect requested", now)
        self._flush()

    def _failed(self, fsm, log, err):
        """An attempt failed: back off, logging as rconn does."""
        before = fsm.backoff
        # No error to the FSM: it would log the failure itself (ours is
        # rconn's wording, above); the text is kept in controller_errors.
        fsm.connect_failed(int(self.clock() * 1000), None)
        if fsm.backoff >= fsm.max_backoff:
            if before < fsm.max_backoff:
                vlog_rconn.info("%s: continuing to retry connections in the "
                                "background but suppressing further logging",
                                log)
        else:
            vlog_rconn.info("%s: waiting %d seconds before reconnect", log,
                            fsm.backoff // 1000)

    async def _controller(self, name):
        max_backoff, probe = self.settings.get(
            name, (DEFAULT_MAX_BACKOFF_MS, DEFAULT_PROBE_MS))
        fsm = R.Reconnect(int(self.clock() * 1000))
        fsm.set_name(name)
        fsm.set_quiet(True)
        fsm.set_backoff(1000, max(1000, max_backoff))
        fsm.set_probe_interval(0)       # the OFConn probes while connected
        fsm.enable(int(self.clock() * 1000))
        self.controllers[name] = fsm
        log = "%s<->%s" % (self.bridge, name)
        while True:
            now_ms = int(self.clock() * 1000)
            action = fsm.run(now_ms)
            if action == R.CONNECT:
                if fsm.backoff < fsm.max_backoff:
                    vlog_rconn.info("%s: connecting...", log)
                fsm.connecting(now_ms)
                try:
                    reader, writer = await asyncio.wait_for(
                        stream.open_active(name, CM.OFP_PORT), 10)
                except (OSError, ValueError, asyncio.TimeoutError) as e:
                    err = getattr(e, "errno", None) or errno.ETIMEDOUT
                    self.controller_errors[name] = os.strerror(err)
                    vlog_rconn.warn("%s: connection failed (%s)", log,
                                    os.strerror(err))
                    self._failed(fsm, log, err)
                    continue
                conn = CM.OFConn(self.mgr, name, "primary", self.clock(),
                                 probe_interval=probe / 1000.0)
                self.controller_conns[name] = conn
                serve = asyncio.ensure_future(self._serve(reader, writer, conn))
                try:
                    # As rconn: connected once hello is through, within the
                    # current backoff (at least a second).
                    limit = self.clock() + max(1000, fsm.backoff) / 1000.0
                    while (conn.version is None and not serve.done()
                           and self.clock() < limit):
                        await asyncio.sleep(0.05)
                    if conn.version is None:
                        if not conn.closed:
                            conn.close("Connection timed out", self.clock())
                            self._flush()
                        await serve
                        self.controller_errors[name] = (
                            "Connection timed out"
                            if conn.last_error == "Connection timed out"
                            else "Protocol error")
                        vlog_rconn.info("%s: connection timed out", log)
                        # rconn counts a connection that was open (though
                        # not yet through hello) as a disconnection.
                        fsm.last_disconnected = int(self.clock() * 1000)
                        self._failed(fsm, log, errno.ETIMEDOUT)
                        continue
                    fsm.connected(int(self.clock() * 1000))
                    vlog_rconn.info("%s: connected", log)
                    await serve
                finally:
                    if not serve.done():
                        serve.cancel()
                    if self.controller_conns.get(name) is conn:
                        del self.controller_conns[name]
                error = conn.last_error or "EOF"
                self.controller_errors[name] = (
                    "End of file" if error == "EOF" else error)
                if error == "EOF":
                    vlog_rconn.info("%s: connection closed by peer", log)
                else:
                    vlog_rconn.info("%s: connection dropped (%s)", log, error)
                fsm.disconnected(int(self.clock() * 1000), R.EOF)
                continue
            timeout = fsm.timeout(now_ms)
            await asyncio.sleep(1.0 if timeout is None
                                else max(0.01, timeout / 1000.0))


class BridgeOpenFlow:
    """One bridge's OpenFlow side (see the module essay)."""

    def __init__(self, ofproto, rundir, on_packet_out=None):
        self.ofproto = ofproto
        self.mgmt = os.path.join(rundir, ofproto.name + ".mgmt")
        self.mgr = CM.ConnMgr(ofproto, bridge_versions(()),
                              on_packet_out=on_packet_out)
        if on_packet_out is None:
            # No datapath yet: a packet-out reaches only the controller.
            from pyovs.ofproto import standalone
            self.mgr.on_packet_out = (
                lambda po, conn: standalone.packet_out(self.mgr, po))
        loop = asyncio.get_running_loop()
        self.shell = _Shell(self.mgr, loop.time, ofproto.name)
        self.runner = None
        self.passive = {}           # target -> Listener
        self.active = {}            # target -> (max_backoff, probe)
        self.datapath_id = ofproto.datapath_id

    async def start(self):
        try:
            os.unlink(self.mgmt)
        except OSError:
            pass
        await self.shell.listen("punix:" + self.mgmt)
        vlog_connmgr.info('%s: added service controller "punix:%s"',
                          self.ofproto.name, self.mgmt)
        self.runner = asyncio.ensure_future(self.shell.run_forever())

    def configure(self, br_row, controller_rows):
        """Apply BR_ROW's protocols and fail_mode and its CONTROLLER_ROWS."""
        if self.ofproto.datapath_id != self.datapath_id:
            # No message tells a controller of a new datapath ID: OVS makes
            # every active connection reconnect.
            self.datapath_id = self.ofproto.datapath_id
            self.reconnect()
        protocols = [p for p in (br_row.datum("protocols").keys())]
        try:
            versions = bridge_versions(protocols)
        except ValueError as e:
            vlog.warn("bridge %s: %s", self.ofproto.name, e)
            versions = bridge_versions(())
        if versions != self.mgr.versions:
            # As OVS, connections made under the old versions are dropped
            # (controllers reconnect).
            self.mgr.versions = versions
            now = self.shell.clock()
            for conn in list(self.mgr.conns):
                conn.close("OpenFlow versions changed", now)
            self.shell._flush()
        fail = [m for m in br_row.datum("fail_mode").keys()]
        self.ofproto.fail_mode = fail[0] if fail else "standalone"
        self._configure_normal_flow(
            self.ofproto.fail_mode == "standalone"
            and not any(not _is_passive(r.target) for r in controller_rows))
        wanted_active, wanted_passive = {}, set()
        for row in controller_rows:
            target = row.target
            if _is_passive(target):
                wanted_passive.add(target)
                continue
            mb = list(row.datum("max_backoff").keys())
            pr = list(row.datum("inactivity_probe").keys())
            wanted_active[target] = (
                mb[0] if mb else DEFAULT_MAX_BACKOFF_MS,
                pr[0] if pr else DEFAULT_PROBE_MS)
        for target in list(self.active):
            if self.active[target] != wanted_active.get(target):
                self.shell.remove_controller(target)
                del self.active[target]
                vlog_connmgr.info('%s: removed primary controller "%s"',
                                  self.ofproto.name, target)
        for target, settings in wanted_active.items():
            if target not in self.active:
                try:
                    self.shell.add_controller(target, *settings)
                except ValueError as e:
                    vlog.warn("bridge %s: %s", self.ofproto.name, e)
                    continue
                self.active[target] = settings
                vlog_connmgr.info('%s: added primary controller "%s"',
                                  self.ofproto.name, target)
        for target in list(self.passive):
            if target not in wanted_passive:
                self._unlisten(target)
                vlog_connmgr.info('%s: removed service controller "%s"',
                                  self.ofproto.name, target)
        for target in sorted(wanted_passive - set(self.passive)):
            vlog_connmgr.info('%s: added service controller "%s"',
                              self.ofproto.name, target)
            asyncio.ensure_future(self._listen(target))
            self.passive[target] = None

    def _configure_normal_flow(self, wanted):
        """Without (active) controllers a standalone bridge is a learning
        switch: OVS adds "priority=0 actions=NORMAL" to table 0, and deletes
        it again once a controller is configured or fail_mode is secure."""
        from pyovs.openflow import flow as FL
        now = asyncio.get_running_loop().time()
        fm, _ = FL.parse_flow_mod("table=0,priority=0,actions=NORMAL")
        rules = self.ofproto.collect_rules(0, fm.match, priority=0, strict=True)
        if wanted:
            if len(rules) != 1 or rules[0].actions != fm.actions:
                self.ofproto.handle_flow_mod(fm, now)
        elif rules:
            dm, _ = FL.parse_flow_mod("table=0,priority=0",
                                      command=FL.OFPFC_DELETE_STRICT)
            self.ofproto.handle_flow_mod(dm, now)

    async def _listen(self, target):
        try:
            listener = await self.shell.listen(target)
        except (OSError, ValueError) as e:
            vlog.err("%s: listen failed (%s)", target, e)
            self.passive.pop(target, None)
            return
        if target in self.passive:
            self.passive[target] = listener
        else:
            self._close_listener(listener)

    def _close_listener(self, listener):
        listener.close()
        if listener in self.shell.listeners:
            self.shell.listeners.remove(listener)

    def _unlisten(self, target):
        listener = self.passive.pop(target)
        if listener is not None:
            self._close_listener(listener)

    def controller_status(self, row):
        target = row.target
        if target not in self.shell.controllers:
            return dict(is_connected=False, role=None, status={})
        return self.shell.controller_status(target)

    def reconnect(self):
        self.shell.drop_connections()

    def wake(self):
        self.shell._wake.set()

    def close(self):
        if self.runner is not None:
            self.runner.cancel()
        self.shell.close()
        for conn in list(self.mgr.conns):
            conn.close("bridge destroyed")
        try:
            os.unlink(self.mgmt)
        except OSError:
            pass
