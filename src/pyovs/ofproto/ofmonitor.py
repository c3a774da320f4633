"""Flow monitors: the switch's side of ``ovs-ofctl monitor SWITCH watch:``.

What it does
------------
A connection asks, with a flow monitor request (NXST_FLOW_MONITOR in
OpenFlow 1.0, ONFST_FLOW_MONITOR in 1.3, OFPMP_FLOW_MONITOR in 1.4+; the
codec is openflow/flow_monitor.py), to hear of the flows that match a
pattern, optionally only in one table or only those that output to a port.
The reply lists the flows there are now (unless ``!initial``); from then on
every flow added, modified or deleted that the monitor covers is reported
to the connection in unsolicited replies (xid 0), as OVS's connmgr does:

* OFProto queues (flow_updates) a ``FlowChange`` per flow added (also
  when it replaces one), modified (only when its actions or cookie
  changed) or deleted (with the reason); ConnMgr.dispatch() hands them to
  report() and calls flush(), which sends what gathered for each
  connection as one message (more if it does not fit) -- so one flow_mod
  gives one message, however many flows it touched.
* A change is reported to a connection if one of its monitors wants that
  kind of event (flags ADD/DELETE/MODIFY), covers the flow's table, sees
  the flow output to its out_port (before or after a modification) and
  has a pattern the flow's match is at least as specific as (OVS's loose
  match).  The update carries the flow's actions if one of the matching
  monitors asked for them (ACTIONS).
* A connection's own flow_mods are reported to it in full only if a
  matching monitor has OWN; otherwise by one "abbreviated" update per
  message naming the xid of the flow_mod.
* NXT/ONFT_FLOW_MONITOR_CANCEL (and OpenFlow 1.4's DELETE command) removes
  a monitor; 1.4's MODIFY replaces one.  Errors are OVS's
  (OFPMOFC_MONITOR_EXISTS, OFPMOFC_UNKNOWN_MONITOR, OFPMOFC_BAD_FLAGS).

A connection that does not read its updates is paused, as OVS's: once
more than 128 kB wait unsent (``OFConn.backlog``, kept by the shell) it
gets NXT/ONFT_FLOW_MONITOR_PAUSED (OpenFlow 1.4: a PAUSED event) and from
then on only the deletions of flows it had heard of; when its backlog is
gone (run()), it gets every flow added or modified meanwhile (by the
seqnos OFProto stamps on rules) and RESUMED.

Public API:
  OFMonitors(connmgr): handle(conn, msg, now) -> True if MSG was a flow
    monitor message (handled: replies or errors sent on CONN);
    report(FlowChange); flush(); run() (resumes paused connections);
    forget(conn); monitors(conn) -> {id: req}; PAUSE_BACKLOG
"""

from ..openflow import flow_monitor as FM
from ..openflow.errors import DecodeError, OFPError
from .classifier import match_to_dicts
from .ofproto import actions_output_to, next_monitor_seqno

PAUSE_BACKLOG = 128 * 1024
_EVENT_FLAG = {FM.NXFME_ADDED: FM.NXFMF_ADD, FM.NXFME_DELETED: FM.NXFMF_DELETE,
               FM.NXFME_MODIFIED: FM.NXFMF_MODIFY}


class _Monitor:
    """One monitor: the request and its pattern as classifier dicts."""

    __slots__ = ("req", "value", "mask")

    def __init__(self, req):
        self.req = req
        self.value, self.mask = match_to_dicts(req.match)

    def covers(self, rule, actions, old_actions):
        req = self.req
        return ((req.table_id == 0xff or req.table_id == rule.table_id)
                and (actions_output_to(actions, req.out_port)
                     or (old_actions is not None
                         and actions_output_to(old_actions, req.out_port)))
                and rule.cr.is_loose_match(self.value, self.mask))


class _ConnState:
    __slots__ = ("monitors", "updates", "sent_abbrev", "paused")

    def __init__(self):
        self.monitors = {}          # id -> _Monitor
        self.updates = []           # encoded updates waiting for flush()
        self.sent_abbrev = False
        self.paused = 0             # the seqno it was paused at, or 0


class OFMonitors:
    """The flow monitors of a ConnMgr's connections (see the module essay)."""

    def __init__(self, connmgr):
        self.mgr = connmgr
        self.state = {}             # OFConn -> _ConnState

    def monitors(self, conn):
        st = self.state.get(conn)
        return {} if st is None else {i: m.req for i, m in st.monitors.items()}

    def forget(self, conn):
        self.state.pop(conn, None)

    # --- requests ------------------------------------------------------------
    def handle(self, conn, msg, now):
        kind = FM.monitor_message_kind(msg)
        if kind is None:
            return False
        xid = int.from_bytes(msg[4:8], "big")
        try:
            if kind == "cancel":
                self._delete(conn, FM.decode_flow_monitor_cancel(msg))
            else:
                self._request(conn, msg, xid)
        except DecodeError as e:
            if e.name in FM.MONITOR_ERRORS:
                conn.send(FM.encode_monitor_error(conn.version, xid, e.name,
                                                  msg))
            else:
                conn._error(msg, e)
        except OFPError as e:
            conn._error(msg, e)
        return True

    def _delete(self, conn, mid):
        st = self.state.get(conn)
        if st is None or mid not in st.monitors:
            raise DecodeError(f"no flow monitor {mid}",
                              name="OFPMOFC_UNKNOWN_MONITOR")
        del st.monitors[mid]

    def _request(self, conn, msg, xid):
        reqs = FM.decode_flow_monitor_request(msg)
        ofp = self.mgr.ofproto
        st = self.state.setdefault(conn, _ConnState())
        new = {}
        for req in reqs:
            if req.table_id != 0xff and req.table_id > len(ofp.tables):
                raise OFPError(1, 9, name="OFPBRC_BAD_TABLE_ID")
            if req.command == FM.OFPFMC14_DELETE:
                self._delete(conn, req.id)
                continue
            if req.command == FM.OFPFMC14_MODIFY:
                self._delete(conn, req.id)
            elif req.id in st.monitors or req.id in new:
                raise DecodeError(f"flow monitor {req.id} exists",
                                  name="OFPMOFC_MONITOR_EXISTS")
            new[req.id] = _Monitor(req)
        st.monitors.update(new)
        # The initial flows: each once, with the union of what the
        # monitors that see it ask for (OVS's monitor_flags).
        found = {}
        for m in new.values():
            if not m.req.flags & FM.NXFMF_INITIAL:
                continue
            for rule in ofp.collect_rules(m.req.table_id, m.req.match,
                                          out_port=m.req.out_port):
                found[rule] = found.get(rule, 0) | (
                    m.req.flags & FM.NXFMF_ACTIONS)
        event = FM.EVENT_INITIAL if conn.version >= FM.F.OFP14 \
            else FM.NXFME_ADDED
        updates = [FM.encode_flow_update(conn.version, _update(
            event, rule, rule.actions if flags else None, rule.cookie))
            for rule, flags in found.items()]
        for reply in FM.encode_flow_monitor_replies(conn.version, xid, updates):
            conn.send(reply)

    # --- changes -------------------------------------------------------------
    def report(self, change):
        """FlowChange CHANGE (OFProto's event) to the monitors that see it
        (OVS's ofmonitor_report())."""
        want = _EVENT_FLAG[change.event]
        abbrev_conn, abbrev_xid = change.requester or (None, 0)
        for conn, st in self.state.items():
            if conn.closed or not st.monitors:
                continue
            if st.paused and (change.event != FM.NXFME_DELETED
                              or change.rule.add_seqno > st.paused):
                continue            # (only what it knew of goes away)
            flags = 0
            for m in st.monitors.values():
                if m.req.flags & want and m.covers(change.rule, change.actions,
                                                   change.old_actions):
                    flags |= m.req.flags
            if not flags:
                continue
            if not st.updates:
                st.sent_abbrev = False
            if flags & FM.NXFMF_OWN or conn is not abbrev_conn or st.paused:
                u = _update(change.event, change.rule,
                            change.actions if flags & FM.NXFMF_ACTIONS else None,
                            change.cookie, change.reason)
            elif not st.sent_abbrev:
                u = FM.FlowUpdate(FM.NXFME_ABBREV, xid=abbrev_xid)
                st.sent_abbrev = True
            else:
                continue
            st.updates.append(FM.encode_flow_update(conn.version, u))

    def flush(self):
        """Send each connection what report() gathered for it."""
        for conn, st in self.state.items():
            if st.updates:
                for msg in FM.encode_flow_monitor_replies(conn.version, 0,
                                                          st.updates):
                    conn.send(msg)
                st.updates = []
                if not st.paused and conn.backlog > PAUSE_BACKLOG:
                    st.paused = next_monitor_seqno()
                    conn.send(FM.encode_flow_monitor_pause(conn.version, True))

    def run(self):
        """Resume the paused connections whose backlog is gone: the flows
        added or modified meanwhile, then RESUMED (OVS's
        ofmonitor_resume())."""
        for conn, st in self.state.items():
            if not st.paused or conn.backlog or conn.closed:
                continue
            found = {}
            for m in st.monitors.values():
                for rule in self.mgr.ofproto.collect_rules(
                        m.req.table_id, m.req.match, out_port=m.req.out_port):
                    if rule.add_seqno > st.paused:
                        update = FM.NXFMF_ADD | FM.NXFMF_MODIFY
                    elif rule.modify_seqno > st.paused:
                        update = FM.NXFMF_MODIFY
                    else:
                        continue
                    if m.req.flags & update:
                        found[rule] = found.get(rule, 0) | update | (
                            m.req.flags & FM.NXFMF_ACTIONS)
            updates = [FM.encode_flow_update(conn.version, _update(
                FM.NXFME_ADDED if flags & FM.NXFMF_ADD else FM.NXFME_MODIFIED,
                rule, rule.actions if flags & FM.NXFMF_ACTIONS else None,
                rule.cookie)) for rule, flags in found.items()]
            if updates:
                for msg in FM.encode_flow_monitor_replies(conn.version, 0,
                                                          updates):
                    conn.send(msg)
            conn.send(FM.encode_flow_monitor_pause(conn.version, False))
            st.paused = 0


def _update(event, rule, actions, cookie, reason=0):
    return FM.FlowUpdate(event, reason, rule.table_id, rule.idle_timeout,
                         rule.hard_timeout, rule.priority, cookie, rule.match,
                         list(actions or []))
