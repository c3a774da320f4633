"""The connection manager: OpenFlow connections to an OFProto.

What it does
------------
An :class:`OFConn` is one OpenFlow peer -- a controller the switch connects
to, or a tool that connected to ``BR.mgmt`` or a ``ptcp:`` listener.  It is
sans-I/O: ``receive(data, now)`` takes bytes from the peer, ``run(now)``
handles time (inactivity probes), ``deadline()`` says when run() is next
needed, and everything the switch has to say is collected by
``take_output()``.  ``closed`` (with ``last_error``) tells the shell to drop
the connection.

Per connection it keeps what OVS keeps in struct ofconn: the negotiated
version, the role (equal/master/slave, with the connection manager's
master generation id), the flow format (OpenFlow 1.0 or NXM, set by
NXT_SET_FLOW_FORMAT, and the table-id extension), the packet-in format,
miss_send_len (service connections start at 0 and so receive no
asynchronous messages until they set one, as OVS's), and the async
configuration (which packet-in, port-status and flow-removed reasons the
role receives).

:class:`ConnMgr` owns the OFProto and the connections: it dispatches the
ofproto's events (flow-removed, port-status) and packet-ins to the
connections that asked for them, and enforces "one master".  The asyncio
shell (:class:`ConnMgrShell`) serves passive streams (``punix:``, ``ptcp:``)
and keeps active controller connections (``tcp:``, ``unix:``) up with the
reconnect FSM, feeding bytes and the clock into the cores.

Requests: echo, features, get/set-config, barrier, flow_mod, packet-out
(handed to ConnMgr.on_packet_out), port-mod, table-mod, group-mod,
meter-mod, role, get/set-async (1.3), NXT set-flow-format / flow-mod-table-id /
set-packet-in-format / set-controller-id, bundles (OpenFlow 1.4+: open,
add, commit all-or-nothing through OFProto.snapshot, discard), and the
stats: desc, flow, aggregate, table, port, port-desc, queue, group,
group-desc, group-features, meter, meter-config, table-features (tables without feature
lists) and table-desc.  Async messages go out as the connection asked:
packet-ins standard or NXT_PACKET_IN2, and always whole (nothing is
buffered, so, as OVS, max_len and miss_send_len do not truncate);
flow-removed as NXT_FLOW_REMOVED on NXM connections.

Get-async/set-async read and set the async masks (defaults as OVS's; 1.3
as six masks, 1.4+ as properties, a set changing only what it names).
Requests a connection does not implement (NXT role, ...) are answered
OFPBRC_BAD_TYPE; malformed ones get the decoder's error with the request
quoted, as OVS.  Flow monitor requests and cancels go to ofmonitor.py
(ConnMgr.monitors), which hears of flow changes through the ofproto's
flow_updates.  NXT_RESUME (the packet and continuation of a
controller(pause) packet-in, openflow/continuation.py) goes to
on_packet_out as a PacketIn, as a packet-out does.

Public API:
  OFConn(connmgr, name, kind="service"|"primary", now=0.0,
    probe_interval=None): .hello() -> bytes to send first; receive(data, now);
    run(now); deadline(); take_output() -> bytes; .closed, .last_error,
    .version, .role, .protocol, .packet_in_format, .miss_send_len,
    .controller_id, .backlog (bytes the shell could not write yet: flow
    monitors pause above 128 kB), status(now) -> dict (is_connected, role, state,
    last_error, sec_since_connect, sec_since_disconnect)
  ConnMgr(ofproto, versions=(1, 3, 4, 5, 6), on_packet_out=None):
    .conns; .on_change (called once the messages of a read changed the
    ofproto: its ``changed`` moved); add_conn(conn); remove_conn(conn); dispatch(now) (drains ofproto
    events into the connections); send_packet_in(PacketIn);
    has_controller(); run(now); deadline()
  encode_packet_in2(version, PacketIn) -> NXT_PACKET_IN2 bytes;
  encode_nx_flow_removed(FlowRemoved) -> NXT_FLOW_REMOVED bytes
  ConnMgrShell(connmgr, clock=time.monotonic): await listen(name) ->
    Listener; add_controller(name); controller_status(name) -> dict
    (is_connected, role, status: state/last_error/sec_since_connect/
    sec_since_disconnect, for the Controller table); await run_forever();
    close()
"""

import asyncio
import dataclasses
import errno
import os
import struct
import time

from ..openflow import tlv_table as TLV
from ..openflow import async_msgs as A
from ..openflow import table_features as TF
from ..openflow import groups as G
from ..openflow import meters as MT
from ..openflow import messages as M
from ..openflow import protocols as P
from ..openflow import switch_replies as SR
from ..openflow.errors import DecodeError, OFPError, Unsupported
from ..openflow.requests import decode_request
from ..util import reconnect as R
from ..util import stream
from ..util.vlog import Vlog
from .ofmonitor import OFMonitors
from ..openflow import continuation as CONT

vlog = Vlog("connmgr")

OFP_DEFAULT_MISS_SEND_LEN = 128
ROLE_NOCHANGE, ROLE_EQUAL, ROLE_MASTER, ROLE_SLAVE = 0, 1, 2, 3
ROLE_NAMES = {ROLE_EQUAL: "other", ROLE_MASTER: "master", ROLE_SLAVE: "slave"}
OFP_PORT = 6653

# Async config masks per message type (bit = reason), OVS's defaults.
# Reason masks per async message type (messages.ASYNC_TYPES), OVS's
# defaults: masters get packet-ins for all but invalid_ttl, every
# flow-removed; everyone gets port-status; nothing else.
_DEFAULT_MASTER = {"packet_in": 0x3b, "port_status": 0b111,
                   "flow_removed": 0x3f, "role_status": 0, "table_status": 0,
                   "requestforward": 0}
_DEFAULT_SLAVE = {"packet_in": 0, "port_status": 0b111, "flow_removed": 0,
                  "role_status": 0, "table_status": 0, "requestforward": 0}

OFPC_FLOW_STATS, OFPC_TABLE_STATS, OFPC_PORT_STATS = 1, 2, 4
OFPC_GROUP_STATS, OFPC_QUEUE_STATS, OFPC_ARP_MATCH_IP = 8, 64, 128
OFPC14_BUNDLES = 1 << 9
OFPFW10_ALL = (1 << 22) - 1
OFPTMPT14_EVICTION = 2
OFPTMPEF14_ALL = 7          # other | importance | lifetime
# OpenFlow 1.0 action bits: output enqueue set_vlan_vid ... mod_tp_dst.
_SLAVE_DENIED = ("flow_mod", "packet_out", "port_mod", "table_mod",
                 "group_mod", "meter_mod")

SW_DESC = dict(mfr="Nicira, Inc.", hw="Open vSwitch", sw="3.1.0",
               serial="None", dp="None")


def _versions_text(versions):
    vs = sorted(versions)
    word = "version" if len(vs) == 1 else "versions"
    return word + " " + ", ".join(f"0x{v:02x}" for v in vs)


class OFConn:
    """One OpenFlow connection (see the module essay)."""

    def __init__(self, connmgr, name, kind="service", now=0.0,
                 probe_interval=None):
        self.mgr = connmgr
        self.name = name
        self.kind = kind
        self.version = None
        self.role = ROLE_EQUAL
        self.protocol = None
        self.flow_mod_table_id = False
        self.packet_in_format = 0
        self.controller_id = 0
        self.miss_send_len = (OFP_DEFAULT_MISS_SEND_LEN if kind == "primary"
                              else 0)
        self.async_master = dict(_DEFAULT_MASTER)
        self.async_slave = dict(_DEFAULT_SLAVE)
        self.framer = M.Framer()
        self.out = []
        self.closed = False
        self.last_error = None
        self.connected_at = now
        self.disconnected_at = None
        self._xid = 0
        self.bundles = {}           # bundle id -> (flags, [inner messages])
        self.backlog = 0            # bytes sent but not yet written (the shell's)
        if probe_interval is None:
            probe_interval = 5 if kind == "primary" else 0
        self.fsm = R.Reconnect(int(now * 1000))
        self.fsm.set_name(name)
        self.fsm.set_quiet(True)
        self.fsm.set_probe_interval(int(probe_interval * 1000))
        self.fsm.enable(int(now * 1000))
        self.fsm.connected(int(now * 1000))

    # --- I/O ---------------------------------------------------------------
    def hello(self):
        return M.encode_hello(self.mgr.versions, self._next_xid())

    def _next_xid(self):
        self._xid = (self._xid + 1) & 0xffffffff
        return self._xid

    def take_output(self):
        data, self.out = b"".join(self.out), []
        return data

    def send(self, msg):
        if not self.closed:
            self.out.append(msg)

    def close(self, error, now=None):
        if not self.closed:
            self.closed = True
            self.last_error = error
            self.disconnected_at = now

    def receive(self, data, now):
        """Handle bytes from the peer."""
        if self.closed:
            return
        self.fsm.activity(int(now * 1000))
        try:
            msgs = self.framer.feed(data)
        except DecodeError as e:
            vlog.warn("%s: %s, closing", self.name, e)
            self.close(f"protocol error ({e})", now)
            return
        # Packet-ins the messages raise (packet-out, NXT_RESUME) go after
        # the replies to all of them, as OVS queues its async messages.
        self.mgr.deferring += 1
        try:
            for msg in msgs:
                if self.closed:
                    break
                self._handle(msg, now)
        finally:
            self.mgr.deferring -= 1
        self.mgr.send_deferred()
        self.mgr.note_changes()

    def run(self, now):
        # The shell reads whenever bytes arrive, so a receive was always
        # attempted by the time run() is called.
        self.fsm.receive_attempted(int(now * 1000))
        action = self.fsm.run(int(now * 1000))
        if action == R.PROBE and self.version is not None:
            self.send(M.encode_simple(self.version, M.OFPT_ECHO_REQUEST,
                                      self._next_xid()))
        elif action == R.DISCONNECT:
            vlog.err("%s: no response to inactivity probe, disconnecting",
                     self.name)
            self.close("inactivity probe timeout", now)

    def deadline(self):
        d = self.fsm.deadline()
        return None if d is None else d / 1000.0

    def status(self, now):
        """What the Controller table's status column reports."""
        st = dict(is_connected=not self.closed,
                  role=ROLE_NAMES.get(self.role, "other"),
                  state="ACTIVE" if not self.closed else "BACKOFF",
                  sec_since_connect=int(now - self.connected_at))
        if self.last_error:
            st["last_error"] = self.last_error
        if self.disconnected_at is not None:
            st["sec_since_disconnect"] = int(now - self.disconnected_at)
        return st

    # --- requests ----------------------------------------------------------
    def _error(self, request, name_or_exc):
        if isinstance(name_or_exc, OFPError):
            self.send(SR.encode_decode_error(request, name_or_exc))
        else:
            self.send(SR.encode_error(self.version or M.OFP10,
                                      M.parse_header(request).xid,
                                      name_or_exc, request))

    def _negotiate(self, msg, now):
        h = M.parse_header(msg)
        if h.type != M.OFPT_HELLO:
            vlog.warn("%s: received %s before hello", self.name,
                      M.type_name(msg) if h.version else "message")
            self.close("protocol error", now)
            return
        theirs = M.decode_hello(msg)
        version = M.negotiate(self.mgr.versions, msg)
        if version is None:
            text = (f"{self.name}: version negotiation failed (we support "
                    f"{_versions_text(self.mgr.versions)}, peer supports "
                    f"{_versions_text(theirs)})")
            vlog.warn("%s", text)
            body = struct.pack("!HH", 0, 0) + text.encode()
            self.send(M._msg(min(h.version, max(self.mgr.versions)) or 1,
                             M.OFPT_ERROR, h.xid, body))
            self.close("version negotiation failed", now)
            return
        self.version = version
        self.protocol = P.from_versions({version}) if version != M.OFP10 \
            else P.OF10_STD

    def _handle(self, msg, now):
        if self.version is None:
            self._negotiate(msg, now)
            return
        h = M.parse_header(msg)
        if h.type == M.OFPT_ECHO_REQUEST:     # any version, as OVS's vconn
            self.send(SR.encode_echo_reply(msg))
            return
        if h.type in (M.OFPT_HELLO, M.OFPT_ERROR, M.OFPT_ECHO_REPLY):
            return
        if h.version != self.version:
            self._error(msg, DecodeError("bad version", 1, 0))
            return
        if self.mgr.monitors.handle(self, msg, now):
            return
        if CONT.is_resume(msg):
            self._resume(msg)
            return
        try:
            req = decode_request(msg)
        except OFPError as e:
            vlog.warn("%s: bad %s: %s", self.name, M.type_name(msg), e)
            self._error(msg, e)
            return
        except Unsupported as e:
            vlog.info("%s: %s", self.name, e)
            self._error(msg, DecodeError(str(e), 1, 1))
            return
        except Exception as e:          # a decoder bug must not kill us
            vlog.warn("%s: cannot decode %s: %s", self.name,
                      M.type_name(msg), e)
            self._error(msg, DecodeError(str(e), 1, 6))
            return
        if self.role == ROLE_SLAVE and req.kind in _SLAVE_DENIED:
            self._error(msg, "OFPBRC_IS_SLAVE")
            return
        handler = getattr(self, "_do_" + req.kind, None)
        if handler is None:
            self._error(msg, DecodeError(f"{req.kind} unsupported", 1, 1))
            return
        try:
            handler(req, now)
        except OFPError as e:
            self._error(msg, e)
        except Unsupported as e:
            self._error(msg, DecodeError(str(e), 1, 1))
        except Exception as e:          # a bug must not end the connection
            vlog.err("%s: %s failed: %r", self.name, req.kind, e)
            self._error(msg, DecodeError(str(e), 1, 6))

    def _reply(self, req, mtype, body=b""):
        self.send(M._msg(self.version, mtype, req.xid, body))

    def _do_hello(self, req, now):
        pass

    def _do_echo_request(self, req, now):
        self.send(SR.encode_echo_reply(req.raw))

    def _do_barrier_request(self, req, now):
        self.send(SR.encode_barrier_reply(self.version, req.xid))

    def _do_features_request(self, req, now):
        ofp = self.mgr.ofproto
        caps = (OFPC_FLOW_STATS | OFPC_TABLE_STATS | OFPC_PORT_STATS
                | OFPC_QUEUE_STATS)
        caps |= OFPC_ARP_MATCH_IP if self.version == M.OFP10 else OFPC_GROUP_STATS
        if self.version >= M.OFP14:
            caps |= OFPC14_BUNDLES
        f = M.SwitchFeatures(ofp.datapath_id, 0, len(ofp.tables), 0, caps,
                             0x0fff if self.version == M.OFP10 else 0,
                             ofp.phy_ports(self.version))
        self.send(SR.encode_features_reply(self.version, req.xid, f))

    def _do_get_config_request(self, req, now):
        flags = self.mgr.ofproto.frag_handling
        if self.version < M.OFP13 and \
                self.async_master["packet_in"] >> OFPR_INVALID_TTL & 1:
            flags |= OFPC_INVALID_TTL_TO_CONTROLLER
        self.send(SR.encode_get_config_reply(self.version, req.xid, flags,
                                             self.miss_send_len))

    def _do_set_config(self, req, now):
        sc = req.fields["message"]
        self.miss_send_len = sc.miss_send_len
        if self.kind != "primary" or self.role != ROLE_SLAVE:
            if sc.flags & 3 in (0, 1):
                self.mgr.ofproto.frag_handling = sc.flags & 3
            if self.version < M.OFP13:
                # OFPC_INVALID_TTL_TO_CONTROLLER (an OVS extension in 1.0)
                # is the invalid_ttl bit of the packet-in async mask.
                bit = 1 << OFPR_INVALID_TTL
                if sc.flags & OFPC_INVALID_TTL_TO_CONTROLLER:
                    self.async_master["packet_in"] |= bit
                else:
                    self.async_master["packet_in"] &= ~bit

    def _do_set_flow_format(self, req, now):
        nxm = req.fields["nxm"]
        self.protocol = P.OF10_NXM if nxm else P.OF10_STD
        self.protocol = P.set_tid(self.protocol, self.flow_mod_table_id)

    def _do_flow_mod_table_id(self, req, now):
        self.flow_mod_table_id = req.fields["enable"]
        self.protocol = P.set_tid(self.protocol, self.flow_mod_table_id)

    def _do_tlv_table_mod(self, req, now):
        self.mgr.ofproto.tlv_table_mod(req.fields["command"],
                                       req.fields["mappings"])

    def _do_tlv_table_request(self, req, now):
        self.send(TLV.encode_tlv_table_reply(self.version, req.xid,
                                             self.mgr.ofproto.tlv_table))

    def _do_set_packet_in_format(self, req, now):
        self.packet_in_format = req.fields["format"]

    def _do_set_controller_id(self, req, now):
        self.controller_id = req.fields["controller_id"]

    def _do_flow_mod(self, req, now):
        fm = req.fields["flow_mod"]
        if self.version == M.OFP10 and req.raw[1] == M.OFPT_FLOW_MOD and \
                not struct.unpack_from("!I", req.raw, 8)[0] & OFPFW10_ALL:
            # An OpenFlow 1.0 match without wildcards is an exact-match
            # flow, which OpenFlow 1.0 places above every wildcarded one.
            fm.priority = 0xffff
        if self.version == M.OFP10 and not self.flow_mod_table_id:
            if fm.table_id:
                raise OFPError(3, 4, name="OFPFMFC_BAD_COMMAND")
            fm.table_id = 0xff
        ofp = self.mgr.ofproto
        ofp.requester = (self, req.xid)     # (flow monitors' abbreviations)
        try:
            ofp.handle_flow_mod(fm, now)
        finally:
            ofp.requester = None
        if fm.buffer_id != A.NO_BUFFER:
            raise OFPError(1, 8, name="OFPBRC_BUFFER_UNKNOWN")
        self.mgr.dispatch(now)

    def _resume(self, msg):
        """NXT_RESUME: the packet and continuation of a paused packet-in,
        carried on by the datapath side (as a packet-out is)."""
        try:
            pin = A.decode_packet_in2(msg)
        except OFPError as e:
            self._error(msg, e)
            return
        if pin.continuation is None:
            self._error(msg, DecodeError("NXT_RESUME without continuation",
                                         1, 6))
        elif pin.continuation.bridge != self.mgr.ofproto.uuid.bytes:
            from ..openflow.flow_monitor import encode_nx_error
            self.send(encode_nx_error(self.version, M.parse_header(msg).xid,
                                      CONT.NXR_STALE, msg))
        elif self.mgr.on_packet_out is not None:
            self.mgr.on_packet_out(pin, self)

    def _do_packet_out(self, req, now):
        po = req.fields["message"]
        if po.buffer_id != A.NO_BUFFER:
            raise OFPError(1, 8, name="OFPBRC_BUFFER_UNKNOWN")
        if self.mgr.on_packet_out is not None:
            self.mgr.on_packet_out(po, self)

    def _do_port_mod(self, req, now):
        self.mgr.ofproto.port_mod(req.fields["message"])
        self.mgr.dispatch(now)

    def _do_table_mod(self, req, now):
        tm = req.fields["message"]
        ofp = self.mgr.ofproto
        if tm.table_id == len(ofp.tables):          # the hidden table
            raise OFPError(8, 2, name="OFPTMFC_EPERM")
        if tm.table_id != 0xff and tm.table_id > len(ofp.tables):
            raise OFPError(8, 0, name="OFPTMFC_BAD_TABLE")
        for t in (ofp.tables if tm.table_id == 0xff else [ofp.tables[tm.table_id]]):
            t.config = tm.config

    def _do_group_mod(self, req, now):
        self.mgr.ofproto.group_mod(req.fields["message"], now)
        self.mgr.dispatch(now)

    def _do_meter_mod(self, req, now):
        self.mgr.ofproto.meter_mod(req.fields["message"], now)
        self.mgr.dispatch(now)

    # --- async config ----------------------------------------------------
    def _do_set_async(self, req, now):
        f = req.fields
        if self.version >= M.OFP14:         # properties: change what they name
            self.async_master.update(f["master"])
            self.async_slave.update(f["slave"])
            return
        for t in M.ASYNC_TYPES:             # 1.3: the whole config, as OVS
            self.async_master[t], self.async_slave[t] = f.get(t, (0, 0))

    def _do_get_async_request(self, req, now):
        self._reply(req, 27, M.encode_async_config(
            self.version, self.async_master, self.async_slave))

    # --- bundles (OpenFlow 1.4+) -------------------------------------------
    _BUNDLE_KINDS = ("flow_mod", "group_mod", "meter_mod", "port_mod")

    def _do_bundle_control(self, req, now):
        f = req.fields
        bid, ctype, flags = f["bundle_id"], f["type"], f["flags"]
        if ctype == M.OFPBCT_OPEN_REQUEST:
            if bid in self.bundles:
                raise OFPError(17, 3, name="OFPBFC_BUNDLE_EXIST")
            self.bundles[bid] = (flags, [])
        elif ctype == 2:                                # close
            if bid not in self.bundles:
                raise OFPError(17, 2, name="OFPBFC_BAD_ID")
        elif ctype == M.OFPBCT_COMMIT_REQUEST:
            if bid not in self.bundles:
                raise OFPError(17, 2, name="OFPBFC_BAD_ID")
            _flags, inner = self.bundles.pop(bid)
            if not self._commit(inner, now):
                raise OFPError(17, 13, name="OFPBFC_MSG_FAILED")
        elif ctype == 6:                                # discard
            if self.bundles.pop(bid, None) is None:
                raise OFPError(17, 2, name="OFPBFC_BAD_ID")
        else:
            raise OFPError(17, 6, name="OFPBFC_BAD_TYPE")
        self.send(M.encode_bundle_control(self.version, req.xid, bid,
                                          ctype + 1, flags))

    def _do_bundle_add(self, req, now):
        f = req.fields
        inner = f["inner"]
        try:
            ireq = decode_request(inner)
        except OFPError as e:
            raise e
        except Unsupported:
            raise OFPError(17, 10, name="OFPBFC_MSG_UNSUP")
        if ireq.kind not in self._BUNDLE_KINDS:
            raise OFPError(17, 10, name="OFPBFC_MSG_UNSUP")
        if ireq.kind == "flow_mod":
            # What OVS checks when a flow_mod is added to a bundle (the rest
            # is checked at commit): the table.
            tid = ireq.fields["flow_mod"].table_id
            ntables = len(self.mgr.ofproto.tables)
            if ireq.fields["flow_mod"].command == 0 and tid != 0xff \
                    and tid >= ntables:
                self._error(inner, OFPError(
                    1, 5 if tid == ntables else 9,
                    name="OFPBRC_EPERM" if tid == ntables else "OFPBRC_BAD_TABLE_ID"))
                return
        if f["bundle_id"] not in self.bundles:       # implicitly opened
            self.bundles[f["bundle_id"]] = (f["flags"], [])
        if len(self.bundles[f["bundle_id"]][1]) >= 100000:
            raise OFPError(17, 12, name="OFPBFC_MSG_TOO_MANY")
        self.bundles[f["bundle_id"]][1].append(ireq)

    def _commit(self, inner, now):
        """Apply INNER requests all or none; on failure the first error
        goes out quoting its message."""
        ofp = self.mgr.ofproto
        saved = ofp.snapshot()
        for ireq in inner:
            try:
                if ireq.kind == "flow_mod":
                    ofp.requester = (self, ireq.xid)
                    try:
                        ofp.handle_flow_mod(ireq.fields["flow_mod"], now)
                    finally:
                        ofp.requester = None
                else:
                    getattr(ofp, ireq.kind)(ireq.fields["message"], *(
                        (now,) if ireq.kind != "port_mod" else ()))
            except OFPError as e:
                ofp.restore(saved)
                self._error(ireq.raw, e)
                return False
        self.mgr.dispatch(now)
        return True

    def _do_role_request(self, req, now):
        rm = req.fields["message"]
        if rm.role > ROLE_SLAVE:
            raise OFPError(11, 2, name="OFPRRFC_BAD_ROLE")
        if rm.role != ROLE_NOCHANGE:
            if rm.role != ROLE_EQUAL and not self.mgr.set_election_id(
                    rm.generation_id):
                raise OFPError(11, 0, name="OFPRRFC_STALE")
            self.mgr.set_role(self, rm.role)
        gen = self.mgr.election_id if self.mgr.election_id is not None else 0
        self.send(A.RoleMessage(self.role, gen, reply=True).encode(
            self.version, req.xid))

    def _proto_for(self, req):
        return req.fields["protocol"]

    def _do_flow_stats(self, req, now):
        f = req.fields
        stats = self.mgr.ofproto.flow_stats(
            f["table_id"], f["match"], f["out_port"], f["out_group"],
            f["cookie"], f["cookie_mask"], now)
        proto = self._proto_for(req)
        # Split into replies that fit a message, as OVS's ofpmp does.
        empty = len(SR.encode_flow_stats_reply(proto, req.xid, []))
        chunk, size = [], empty
        for fs in stats:
            n = len(SR.encode_flow_stats_reply(proto, req.xid, [fs])) - empty
            if chunk and size + n > M.MAX_MESSAGE:
                self.send(SR.encode_flow_stats_reply(proto, req.xid, chunk, True))
                chunk, size = [], empty
            chunk.append(fs)
            size += n
        self.send(SR.encode_flow_stats_reply(proto, req.xid, chunk))

    def _do_aggregate_stats(self, req, now):
        f = req.fields
        packets, bytes_, flows = self.mgr.ofproto.aggregate(
            f["table_id"], f["match"], f["out_port"], f["out_group"],
            f["cookie"], f["cookie_mask"])
        self.send(SR.encode_aggregate_reply(self._proto_for(req), req.xid,
                                            packets, bytes_, flows))

    def _do_desc_stats(self, req, now):
        self.send(SR.encode_desc_reply(self.version, req.xid, SW_DESC["mfr"],
                                       SW_DESC["hw"], SW_DESC["sw"],
                                       SW_DESC["serial"], SW_DESC["dp"]))

    def _do_table_stats(self, req, now):
        self.send(SR.encode_table_stats_reply(
            self.version, req.xid, self.mgr.ofproto.table_stats()))

    def _do_port_desc(self, req, now):
        self.send(SR.encode_port_desc_reply(
            self.version, req.xid, self.mgr.ofproto.phy_ports(self.version)))

    def _do_port_stats(self, req, now):
        ofp = self.mgr.ofproto
        port = req.fields.get("port", 0xffff)
        # LOCAL first, as OVS's port map happens to list a small bridge.
        ports = sorted(ofp.ports, key=lambda n: (n != 0xfffe, n))
        if port != 0xffff:
            if port not in ofp.ports:
                raise OFPError(1, 11, name="OFPBRC_BAD_PORT")
            ports = [port]
        stats = []
        for n in ports:
            st = dict(ofp.ports[n].stats, port_no=n)
            st["duration"] = _dur(now - ofp.ports[n].created)
            stats.append(st)
        self.send(SR.encode_port_stats_reply(self.version, req.xid, stats))

    def _do_table_features(self, req, now):
        # Every table's features as OVS's switch reports them
        # (openflow/table_features.py).  Setting features is refused.
        if len(req.raw) > 16:
            raise Unsupported("setting table features is not supported")
        for msg in TF.encode_table_features_replies(
                self.version, req.xid, len(self.mgr.ofproto.tables)):
            self.send(msg)

    def _do_table_desc(self, req, now):
        if self.version < M.OFP14:
            raise OFPError(1, 2, name="OFPBRC_BAD_STAT")
        body = b"".join(
            struct.pack("!HBxI", 16, t.table_id, t.config)
            + struct.pack("!HHI", OFPTMPT14_EVICTION, 8, OFPTMPEF14_ALL)
            for t in self.mgr.ofproto.tables)
        self.send(M._msg(self.version, 19, req.xid,
                         struct.pack("!HH4x", 14, 0) + body))

    def _do_queue_stats(self, req, now):
        # Every port has queue 0 (the default queue), whose counters a
        # device without queues does not know: all-ones, printed "?".
        ofp = self.mgr.ofproto
        body_ofs = 12 if self.version == M.OFP10 else 16
        qofs = body_ofs + (4 if self.version == M.OFP10 else 4)
        queue_id = (struct.unpack_from("!I", req.raw, qofs)[0]
                    if len(req.raw) >= qofs + 4 else M.OFPQ_ALL)
        port = req.fields.get("port", 0xffff)
        if port in (0xffff, 0xfffc):
            ports = sorted(ofp.ports, key=lambda n: (n != 0xfffe, n))
        elif port in ofp.ports:
            ports = [port]
        else:
            raise OFPError(9, 0, name="OFPQOFC_BAD_PORT")
        if queue_id not in (0, M.OFPQ_ALL):
            raise OFPError(9, 1, name="OFPQOFC_BAD_QUEUE")
        ones = (1 << 64) - 1
        queues = [dict(port_no=n, queue_id=0, tx_bytes=ones, tx_packets=ones,
                       tx_errors=ones) for n in ports]
        self.send(SR.encode_queue_stats_reply(self.version, req.xid, queues))

    def _do_group_desc(self, req, now):
        groups = [g for g, _ in self.mgr.ofproto.group_list(
            req.fields.get("id", G.OFPG_ALL))]
        self.send(G.encode_group_desc_reply(self.version, req.xid, groups))

    def _do_group_features(self, req, now):
        self.send(G.encode_group_features_reply(self.version, req.xid))

    def _do_group_stats(self, req, now):
        gid = req.fields.get("id", G.OFPG_ALL)
        self.send(SR.encode_group_stats_reply(
            self.version, req.xid, self.mgr.ofproto.group_stats(gid, now)))

    def _do_meter_config(self, req, now):
        mid = req.fields.get("id", MT.OFPM_ALL)
        meters = [m for m, _ in self.mgr.ofproto.meter_list(mid)]
        self.send(SR.encode_meter_config_reply(self.version, req.xid, meters))

    def _do_meter_stats(self, req, now):
        mid = req.fields.get("id", MT.OFPM_ALL)
        self.send(SR.encode_meter_stats_reply(
            self.version, req.xid, self.mgr.ofproto.meter_stats(mid, now)))

    # --- asynchronous messages -----------------------------------------------
    def receives(self, mtype, reason):
        if self.version is None or self.closed:
            return False
        if self.kind == "service" and not self.miss_send_len:
            return False
        masks = self.async_slave if self.role == ROLE_SLAVE else self.async_master
        return bool(masks[mtype] >> reason & 1)

    def send_async(self, mtype, msg_obj):
        """Encode MSG_OBJ (async_msgs object with encode()) for this peer."""
        if mtype == "packet_in" and self.packet_in_format == NXPIF_NXT_PACKET_IN2:
            self.send(encode_packet_in2(self.version, msg_obj))
        elif mtype == "flow_removed" and P.is_nxm(self.protocol or 0):
            self.send(encode_nx_flow_removed(msg_obj))
        else:
            # (The older NXT_PACKET_IN format is sent as the standard one.)
            self.send(msg_obj.encode(self.version, 0))


NXPIF_NXT_PACKET_IN2 = 2
NXT_PACKET_IN2 = 30
NXPINT_PACKET, NXPINT_FULL_LEN, NXPINT_TABLE_ID = 0, 1, 3
NXPINT_COOKIE, NXPINT_REASON, NXPINT_METADATA = 4, 5, 6
NXPINT_USERDATA = 7


def _prop(ptype, value):
    data = struct.pack("!HH", ptype, 4 + len(value)) + value
    return data + b"\0" * (-len(data) % 8)


def encode_packet_in2(version, pin):
    """PIN (async_msgs.PacketIn) as NXT_PACKET_IN2: properties for the
    packet, its full length when truncated, table, cookie, reason and the
    pipeline metadata (in_port at least) as OXM."""
    from ..openflow.match import Match
    from ..openflow.nx_match import put_nxm
    match = pin.match.copy() if pin.match is not None else Match()
    match.set_storage("in_port", pin.in_port)
    total = len(pin.data) if pin.total_len is None else pin.total_len
    body = _prop(NXPINT_PACKET, pin.data)
    if total != len(pin.data):
        body += _prop(NXPINT_FULL_LEN, struct.pack("!I", total))
    body += _prop(NXPINT_TABLE_ID, bytes([pin.table_id]))
    # 64-bit property values sit 8-aligned, after 4 bytes of padding.
    body += _prop(NXPINT_COOKIE, struct.pack("!4xQ", pin.cookie))
    body += _prop(NXPINT_REASON, bytes([pin.reason]))
    body += _prop(NXPINT_METADATA, put_nxm(match, M.OFP13))
    if pin.userdata:
        body += _prop(NXPINT_USERDATA, pin.userdata)
    if pin.continuation is not None:
        body += pin.continuation.encode(version)
    return M._msg(version, M.OFPT_VENDOR, 0,
                  struct.pack("!II", M.NX_VENDOR_ID, NXT_PACKET_IN2) + body)


NXT_FLOW_REMOVED = 14


def encode_nx_flow_removed(fr):
    """FR (async_msgs.FlowRemoved) as NXT_FLOW_REMOVED, what OpenFlow 1.0
    connections that chose the NXM flow format receive."""
    from ..openflow.nx_match import put_nxm
    nxm = put_nxm(fr.match, M.OFP10)
    # The table is sent plus one (0 means "unknown" in this message).
    body = struct.pack("!QHBBIIHHQQ", fr.cookie, fr.priority, fr.reason,
                       (fr.table_id + 1) & 0xff, fr.duration_sec, fr.duration_nsec,
                       fr.idle_timeout, len(nxm), fr.packet_count,
                       fr.byte_count)
    body += nxm + b"\0" * (-len(nxm) % 8)
    return M._msg(M.OFP10, M.OFPT_VENDOR, 0,
                  struct.pack("!II", M.NX_VENDOR_ID, NXT_FLOW_REMOVED) + body)


def _dur(seconds):
    seconds = max(0.0, seconds)
    return int(seconds), int((seconds - int(seconds)) * 1e9)


OFPR_NO_MATCH, OFPR_ACTION, OFPR_EXPLICIT_MISS = 0, 1, 6
OFPR_INVALID_TTL = 2
OFPC_INVALID_TTL_TO_CONTROLLER = 4


def wire_reason(version, reason):
    """A packet-in reason as VERSION says it (OVS's wire_reason()): the
    OpenFlow 1.4 refinements of "action" (action set, group, packet-out)
    are "action" before 1.4; a table-miss flow's is "no match" from 1.3
    (where table-miss flows are defined) and "action" before."""
    if reason == OFPR_EXPLICIT_MISS:
        return OFPR_NO_MATCH if (version or 0) >= M.OFP13 else OFPR_ACTION
    if 3 <= reason <= 5 and (version or 0) < M.OFP13 + 1:
        return OFPR_ACTION
    return reason


class ConnMgr:
    """The OFProto's connections and the dispatch of async messages."""

    def __init__(self, ofproto, versions=(1, 3, 4, 5, 6), on_packet_out=None):
        self.ofproto = ofproto
        self.versions = tuple(sorted(versions))
        self.on_packet_out = on_packet_out
        self.conns = []
        self.election_id = None
        #: Called after OpenFlow messages changed the ofproto (the datapath
        #: revalidates its flows then).
        self.on_change = None
        self._changed = ofproto.changed
        self.monitors = OFMonitors(self)
        self.deferring = 0          # > 0: packet-ins wait (OFConn.receive)
        self._deferred = []

    def note_changes(self):
        if self.ofproto.changed != self._changed:
            self._changed = self.ofproto.changed
            if self.on_change is not None:
                self.on_change()

    def add_conn(self, conn):
        self.conns.append(conn)

    def remove_conn(self, conn):
        if conn in self.conns:
            self.conns.remove(conn)
        self.monitors.forget(conn)

    def has_controller(self):
        return any(c.kind == "primary" and not c.closed and c.version
                   for c in self.conns)

    def set_election_id(self, gen):
        if self.election_id is not None and \
                ((gen - self.election_id) & (1 << 63)):
            return False
        self.election_id = gen
        return True

    def set_role(self, conn, role):
        if role == ROLE_MASTER:
            for c in self.conns:
                if c is not conn and c.role == ROLE_MASTER:
                    c.role = ROLE_SLAVE
        conn.role = role

    def dispatch(self, now):
        """Send the ofproto's pending events to the connections that want them."""
        for ev in self.ofproto.take_events():
            if ev[0] == "flow_removed":
                fr = ev[1]
                for c in self.conns:
                    if c.receives("flow_removed", fr.reason):
                        c.send_async("flow_removed", fr)
            elif ev[0] == "port_status":
                port, reason = ev[1], ev[2]
                for c in self.conns:
                    if c.receives("port_status", reason):
                        c.send_async("port_status",
                                     A.PortStatus(reason, port.phy(c.version)))
        for change in self.ofproto.take_flow_updates():
            if change is None:
                self.monitors.flush()
            else:
                self.monitors.report(change)
        self.monitors.flush()

    def send_packet_in(self, pin):
        """PIN (async_msgs.PacketIn): to every connection with its
        controller id that wants its reason, as the connection's version
        names it (wire_reason()).  The
        switch buffers nothing, so the whole packet goes, as OVS sends it
        (max_len and miss_send_len limit buffered packets)."""
        if self.deferring:
            self._deferred.append(pin)
            return
        for c in self.conns:
            if c.controller_id != pin.controller_id:
                continue
            reason = wire_reason(c.version, pin.reason)
            if c.receives("packet_in", reason):
                c.send_async("packet_in", pin if reason == pin.reason
                             else dataclasses.replace(pin, reason=reason))

    def send_deferred(self):
        if not self.deferring:
            pins, self._deferred = self._deferred, []
            for pin in pins:
                self.send_packet_in(pin)

    def run(self, now):
        self.ofproto.run(now)
        for c in list(self.conns):
            c.run(now)
        self.dispatch(now)
        self.monitors.run()

    def deadline(self):
        ds = [d for d in [self.ofproto.next_deadline()] +
              [c.deadline() for c in self.conns] if d is not None]
        return min(ds) if ds else None


class ConnMgrShell:
    """asyncio shell: listeners, controller connections, timers."""

    def __init__(self, connmgr, clock=time.monotonic):
        self.mgr = connmgr
        self.clock = clock
        self.listeners = []
        self.tasks = []
        self.writers = {}
        self._wake = asyncio.Event()
        self.controllers = {}       # name -> Reconnect FSM
        self.controller_conns = {}  # name -> OFConn while connected
        self.controller_errors = {}  # name -> last error text

    def _flush(self):
        for conn, writer in list(self.writers.items()):
            data = conn.take_output()
            if data:
                try:
                    writer.write(data)
                except (OSError, RuntimeError):
                    conn.close("write failed", self.clock())
            try:
                conn.backlog = writer.transport.get_write_buffer_size()
            except (AttributeError, RuntimeError):
                conn.backlog = 0
            if conn.closed:
                writer.close()

    async def _serve(self, reader, writer, conn):
        self.mgr.add_conn(conn)
        self.writers[conn] = writer
        conn.send(conn.hello())
        self._flush()
        try:
            while not conn.closed:
                data = await reader.read(65536)
                if not data:
                    conn.close("EOF", self.clock())
                    break
                conn.receive(data, self.clock())
                self._flush()
                self._wake.set()
        except (OSError, asyncio.IncompleteReadError) as e:
            conn.close(str(e), self.clock())
        finally:
            self.mgr.remove_conn(conn)
            self.writers.pop(conn, None)
            try:
                writer.close()
            except Exception:
                pass

    async def listen(self, name):
        """Serve passive stream NAME (punix:PATH, ptcp:PORT[:IP])."""
        kind = "service"

        async def on_connect(reader, writer):
            peer = name
            conn = OFConn(self.mgr, peer, kind, self.clock())
            await self._serve(reader, writer, conn)

        listener = await stream.open_passive(name, on_connect,
                                             default_port=OFP_PORT)
        self.listeners.append(listener)
        return listener

    def add_controller(self, name):
        """Keep an active connection to controller NAME (tcp:/unix:)."""
        stream.parse_active(name, OFP_PORT)
        self.tasks.append(asyncio.ensure_future(self._controller(name)))

    async def _controller(self, name):
        fsm = R.Reconnect(int(self.clock() * 1000))
        fsm.set_name(name)
        fsm.set_probe_interval(0)       # the OFConn probes while connected
        fsm.enable(int(self.clock() * 1000))
        self.controllers[name] = fsm
        while True:
            now_ms = int(self.clock() * 1000)
            action = fsm.run(now_ms)
            if action == R.CONNECT:
                fsm.connecting(now_ms)
                try:
                    reader, writer = await asyncio.wait_for(
                        stream.open_active(name, OFP_PORT), 10)
                except (OSError, ValueError, asyncio.TimeoutError) as e:
                    err = getattr(e, "errno", None) or errno.ETIMEDOUT
                    self.controller_errors[name] = os.strerror(err)
                    fsm.connect_failed(int(self.clock() * 1000), err)
                    continue
                fsm.connected(int(self.clock() * 1000))
                conn = OFConn(self.mgr, name, "primary", self.clock())
                self.controller_conns[name] = conn
                try:
                    await self._serve(reader, writer, conn)
                finally:
                    self.controller_conns.pop(name, None)
                error = conn.last_error or "EOF"
                self.controller_errors[name] = ("End of file" if error == "EOF"
                                                else error)
                fsm.disconnected(int(self.clock() * 1000), R.EOF)
                continue
            timeout = fsm.timeout(now_ms)
            await asyncio.sleep(1.0 if timeout is None else timeout / 1000.0)

    def controller_status(self, name):
        """What OVS writes to a Controller row: is_connected, role and the
        status map (state, last_error, sec_since_connect/disconnect)."""
        fsm = self.controllers[name]
        now_ms = int(self.clock() * 1000)
        conn = self.controller_conns.get(name)
        connected = conn is not None and not conn.closed
        status = {"state": fsm.state}
        if name in self.controller_errors:
            status["last_error"] = self.controller_errors[name]
        if fsm.last_connected is not None:
            status["sec_since_connect"] = str(
                (now_ms - fsm.last_connected) // 1000)
        if fsm.last_disconnected is not None:
            status["sec_since_disconnect"] = str(
                (now_ms - fsm.last_disconnected) // 1000)
        role = ROLE_NAMES.get(conn.role, "other") if connected else None
        return dict(is_connected=connected, role=role, status=status)

    async def run_forever(self):
        """Timers: expiries, probes, event dispatch."""
        while True:
            now = self.clock()
            self.mgr.run(now)
            self._flush()
            d = self.mgr.deadline()
            delay = 1.0 if d is None else min(1.0, max(0.01, d - now))
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except asyncio.TimeoutError:
                pass

    def close(self):
        for t in self.tasks:
            t.cancel()
        for listener in self.listeners:
            listener.close()
        for w in self.writers.values():
            w.close()
