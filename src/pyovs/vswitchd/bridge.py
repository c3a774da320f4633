"""The bridge layer: ovs-vswitchd following the Open_vSwitch database
(OVS's vswitchd/bridge.c).

What it does
------------
:class:`BridgeLayer` turns the IDL's replica of the Open_vSwitch database
into running bridges, ports and interfaces, and writes their status back.
It is sans-I/O: ``reconfigure(idl)`` reads the replica and changes the
running objects; ``write_status(idl, txn, ...)`` puts what must be reported
into an IDL transaction the caller commits.

Reconfiguration follows bridge_reconfigure():

* Wanted bridges are those the Open_vSwitch row's ``bridges`` column names
  (a Bridge row nobody references is ignored); names with '/' or '\\' are
  ignored and a name given twice counts once, with OVS's warnings.
* A bridge whose datapath_type changed is destroyed and created again;
  bridges no longer wanted are destroyed.
* In each bridge, the wanted interfaces are those of its Port rows.  An
  interface that is gone, moved to another port or bridge, changed type, or
  whose ofport_request names a different port number than it has is
  removed (unless that number is taken: then it keeps its own rather than
  flapping); one whose options changed is reconfigured in place; new ones are
  opened and added.  Nothing else is touched, so an unchanged port never
  notices a reconfiguration.
* An interface that cannot be opened (unknown type, bad options) is not
  added; its row gets OVS's error text and ofport -1.

OpenFlow port numbers are chosen as OVS's ofproto does (alloc_ofp_port):
the interface's ofport_request, else the ofport its row already shows, if
free; else the next number after the last one handed out (below 32768,
wrapping to 1), skipping numbers in use and, for an hour, recently freed
ones (the least recently freed is reused when nothing else is left).  The
bridge's own interface (named as the bridge) is OFPP_LOCAL and always of
type internal (dummy on a dummy datapath), whatever its row says.

The bridge's Ethernet address is other_config:hwaddr, else the lowest
universal unicast address among its ports (a port's ``mac`` or its
alphabetically first interface's), else a random one; the datapath ID is
other_config:datapath-id, else that address (bridge_pick_local_hw_addr()
and bridge_pick_datapath_id()).

Status
------
write_status() fills what OVS writes: Interface ofport, ifindex,
mac_in_use, admin_state, link_state, link_resets, link_speed, duplex, mtu,
status (the device's driver facts), statistics and error (a failed interface: error, ofport -1, the rest
cleared); Bridge datapath_id and datapath_version; Open_vSwitch cur_cfg,
datapath_types, iface_types, dpdk_initialized and dpdk_version.  Columns
OVS leaves to its init scripts (ovs_version, db_version, system_type,
system_version) are left alone, as the real daemon does.  Only values that
differ from the replica become writes, so an idle switch writes nothing;
needs_reconfigure() tells the daemon when a change is only its own status
coming back (OVS's omitted alerts).

Providers
---------
Everything is created through a :class:`Providers` object:
``open_netdev``/``close_netdev`` (pyovs.netdev), ``create_ofproto`` /
``destroy_ofproto`` and ``add_port``/``del_port`` (pyovs.ofproto.OFProto).
Tests wrap it to record calls.  As in OVS, the dummy types (and the dummy
datapath type) exist only with --enable-dummy; with
--enable-dummy=override the system, internal and tap types are served by
the dummy netdev (=system: only the system type).

Public API:
  BridgeLayer(providers=None): .bridges (name -> Bridge), .reconfigure(idl)
    -> bool (something changed), .write_status(idl, txn, cur_cfg=True),
    .vanished(idl=None) -> bool (a kernel interface disappeared or, with
    IDL, a missing one appeared: reconfigure),
    .close(); Bridge (.name .datapath_type .ofproto .ifaces name -> Iface),
    Iface (.name .type .port_name .uuid .netdev .ofp_port);
  needs_reconfigure(idl.tracked()) -> bool; STATUS_COLUMNS.
  Providers(dummy_override=None|"system"|"override", now=time.monotonic,
    enable_dummy=None, disable_system=False): .datapath_types(),
    .iface_types(), .netdev_type(t), open_netdev/set_config/close_netdev,
    create_ofproto/destroy_ofproto, add_port/del_port.
"""

import errno as errno_mod
import os
import socket
import time

from pyovs import netdev as netdev_mod
from pyovs.netdev import base as netdev_base
from pyovs.ovsdb.data import Datum
from pyovs.util.vlog import Vlog

vlog = Vlog("bridge")

OFPP_LOCAL = 0xfffe
OFPP_MAX = 0xff00
#: Automatically assigned port numbers stay below this (ofproto.c).
_ALLOC_LIMIT = 32768
_REUSE_AFTER_MS = 60 * 60 * 1000

#: Datapath types a bridge may have; pyovs's datapath is userspace only.
DATAPATH_TYPES = ("dummy", "netdev", "system")
DATAPATH_VERSION = "<built-in>"

#: netdev_features_is_full_duplex()'s bits.
_FULL_DUPLEX = (netdev_base.NETDEV_F_10MB_FD | netdev_base.NETDEV_F_100MB_FD
                | netdev_base.NETDEV_F_1GB_FD | netdev_base.NETDEV_F_10GB_FD
                | netdev_base.NETDEV_F_40GB_FD | netdev_base.NETDEV_F_100GB_FD
                | netdev_base.NETDEV_F_1TB_FD)


#: The columns ovs-vswitchd writes rather than reads (OVS omits alerts for
#: them): a change confined to these needs no reconfiguration.
STATUS_COLUMNS = {
    "Open_vSwitch": {"cur_cfg", "datapath_types", "iface_types",
                     "dpdk_initialized", "dpdk_version", "statistics"},
    "Bridge": {"datapath_id", "datapath_version", "status", "rstp_status"},
    "Controller": {"is_connected", "role", "status"},
    "Port": {"statistics", "status", "rstp_status", "rstp_statistics",
             "bond_active_slave"},
    "Interface": {"ofport", "ifindex", "mac_in_use", "admin_state",
                  "link_state", "link_resets", "link_speed", "duplex", "mtu",
                  "statistics", "error", "status", "lacp_current",
                  "cfm_fault", "cfm_fault_status", "cfm_flap_count",
                  "cfm_health", "cfm_remote_mpids", "cfm_remote_opstate",
                  "bfd_status"},
}


def needs_reconfigure(tracked):
    """Whether the IDL's tracked changes touch configuration (anything
    but STATUS_COLUMNS)."""
    for change in tracked:
        if change.old is None or change.new is None:
            return True
        if not change.columns <= STATUS_COLUMNS.get(change.table, set()):
            return True
    return False


#: Interface status columns and their value when the interface is not up.
_EMPTY_STATUS = {
    "admin_state": [], "link_state": [], "link_resets": [], "link_speed": [],
    "duplex": [], "mtu": [], "mac_in_use": [], "ifindex": [], "statistics": {},
    "status": {},
}


class Providers:
    """How the bridge layer creates netdevs and OpenFlow switches."""

    _OVERRIDDEN = {"": "dummy", "system": "dummy", "tap": "dummy",
                   "internal": "dummy-internal"}

    def __init__(self, dummy_override=None, now=time.monotonic,
                 enable_dummy=None, disable_system=False, dpif=None):
        #: None, "system" (only the system type is dummy) or "override"
        #: (system, internal and tap are), as --enable-dummy=LEVEL.
        self.dummy_override = dummy_override
        #: --enable-dummy given: the "dummy" datapath type exists.
        self.enable_dummy = (dummy_override is not None if enable_dummy is None
                             else enable_dummy)
        #: --disable-system: no "system" datapath type, unless the dummy
        #: one stands in for it (--enable-dummy=override|system).
        self.disable_system = disable_system and dummy_override is None
        self.now = now
        #: The datapath side (ofproto.ofproto_dpif.DpifContext), or None:
        #: OpenFlow switches without a datapath.
        self.dpif = dpif

    def datapath_types(self):
        return [t for t in DATAPATH_TYPES
                if (t != "dummy" or self.enable_dummy)
                and (t != "system" or not self.disable_system)]

    def netdev_type(self, iface_type):
        if self.dummy_override == "override" and iface_type in self._OVERRIDDEN:
            return self._OVERRIDDEN[iface_type]
        if self.dummy_override == "system" and iface_type in ("", "system"):
            return "dummy"
        return iface_type or "system"

    def _available(self, netdev_type):
        """Dummy types exist only with --enable-dummy, as in OVS."""
        return self.enable_dummy or not netdev_type.startswith("dummy")

    def iface_types(self):
        return sorted(t for t in set(netdev_mod.provider_types())
                      | {"system", "internal"} if self._available(t))

    def open_netdev(self, name, type_, options):
        ntype = self.netdev_type(type_)
        if not self._available(ntype):
            raise netdev_mod.NetdevError(
                "could not create netdev %s of unknown type %s" % (name, ntype),
                errno_mod.EAFNOSUPPORT)
        dev = netdev_mod.open(name, ntype, options)
        if ntype == "dummy" and (type_ or "system") != "dummy":
            # OVS registers the dummy class under the type it stands for:
            # dpif/show says "(system)", dpctl/show no type
            dev.type = type_ or "system"
        try:
            dev.set_config(options)
        except netdev_mod.NetdevError:
            dev.close()
            raise
        return dev

    def set_config(self, dev, options):
        dev.set_config(options)

    def close_netdev(self, dev):
        dev.close()

    def create_ofproto(self, name, datapath_type, datapath_id=None):
        from pyovs.ofproto.ofproto import OFProto
        ofproto = OFProto(name, datapath_id=datapath_id, now=self.now())
        if self.dpif is not None:
            self.dpif.create_bridge(ofproto, datapath_type)
        return ofproto

    def _ofdp(self, ofproto):
        ofdp = self.dpif.bridges.get(ofproto.name) if self.dpif is not None else None
        return ofdp if ofdp is not None and ofdp.ofproto is ofproto else None

    def destroy_ofproto(self, ofproto):
        ofdp = self._ofdp(ofproto)
        if ofdp is not None:
            self.dpif.destroy_bridge(ofdp)

    def add_local_port(self, ofproto, dev):
        """The bridge's own interface (OFPP_LOCAL) joins the datapath."""
        ofdp = self._ofdp(ofproto)
        if ofdp is not None:
            ofdp.add_port(OFPP_LOCAL, dev)

    def configure_port(self, ofproto, ofp_port, port_row):
        """The Port row's VLAN settings, for translation's NORMAL."""
        ofdp = self._ofdp(ofproto)
        if ofdp is not None:
            ofdp.set_port_config(ofp_port, **port_vlan_config(port_row))

    def configure_bridge(self, ofproto, br_row):
        """The Bridge row's MAC learning and BPDU settings."""
        ofdp = self._ofdp(ofproto)
        if ofdp is not None:
            ofdp.configure(**bridge_l2_config(br_row))

    def add_port(self, ofproto, name, dev, ofp_port):
        hw = None
        if dev is not None:
            try:
                hw = int.from_bytes(dev.get_etheraddr(), "big")
            except netdev_mod.NetdevError:
                hw = None
        ofproto.add_port(name, ofp_port, hw, now=self.now())
        ofdp = self._ofdp(ofproto)
        if ofdp is not None:
            ofdp.add_port(ofp_port, dev)
        return ofp_port

    def del_port(self, ofproto, ofp_port):
        ofdp = self._ofdp(ofproto)
        if ofdp is not None:
            ofdp.del_port(ofp_port)
        if ofp_port != OFPP_LOCAL:
            ofproto.del_port(ofp_port)


def _int_or(text, default):
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


def port_vlan_config(row):
    """XPort's VLAN keywords from a Port row (tag, trunks, vlan_mode,
    cvlans, other_config:qinq-ethtype), as OVS's port_configure() reads them."""
    tag = row.tag[0] if row.tag and 0 <= row.tag[0] <= 4095 else None
    mode = row.vlan_mode[0] if row.vlan_mode else None
    qinq = (row.other_config or {}).get("qinq-ethtype", "802.1ad")
    return dict(tag=tag, trunks=sorted(row.trunks) or None, vlan_mode=mode,
                cvlans=sorted(row.cvlans) or None,
                qinq_ethtype=0x8100 if qinq == "802.1q" else 0x88a8)


def bridge_l2_config(row):
    """MacLearning and forward-bpdu settings from a Bridge row's other_config."""
    from pyovs.ofproto import mac_learning as ML
    oc = row.other_config or {}
    return dict(mac_table_size=_int_or(oc.get("mac-table-size"), ML.MAC_DEFAULT_MAX),
                mac_aging_time=_int_or(oc.get("mac-aging-time"),
                                       ML.MAC_ENTRY_DEFAULT_IDLE_TIME),
                forward_bpdu=oc.get("forward-bpdu") == "true")


class Iface:
    """A running interface."""

    def __init__(self, name, type_, port_name, uuid, netdev, ofp_port, options):
        self.name = name
        self.type = type_
        self.port_name = port_name
        self.uuid = uuid
        self.netdev = netdev
        self.ofp_port = ofp_port
        self.options = options
        self.link_resets = 0
        self.mtu_request = None


class Bridge:
    """A running bridge: its OpenFlow switch and interfaces."""

    def __init__(self, name, uuid, datapath_type, ofproto):
        self.name = name
        self.uuid = uuid
        self.datapath_type = datapath_type
        self.ofproto = ofproto
        self.ifaces = {}
        self.alloc_port_no = 0
        self.port_usage = {}        # ofp_port -> ms last used (None: in use)
        self.ofp_requests = {}      # iface name -> requested ofp_port
        #: The random address used when no port offers one (br->default_ea).
        self.default_ea = ofproto.local_mac if ofproto is not None else 0

    def alloc_ofp_port(self, name, now_ms):
        """OVS's alloc_ofp_port()."""
        req = self.ofp_requests.get(name)
        if req is not None and 1 <= req < OFPP_MAX \
                and self.port_usage.get(req, 0) is not None:
            self.port_usage[req] = None
            return req
        end = self.alloc_port_no
        lru, lru_port = None, 0
        while True:
            self.alloc_port_no += 1
            if self.alloc_port_no >= _ALLOC_LIMIT:
                self.alloc_port_no = 1
            n = self.alloc_port_no
            used = self.port_usage.get(n, 0)
            if used == 0:
                break
            if used is not None and used < now_ms - _REUSE_AFTER_MS:
                break
            if used is not None and (lru is None or used < lru):
                lru, lru_port = used, n
            if n == end or (end == 0 and n == _ALLOC_LIMIT - 1):
                if lru_port:
                    n = lru_port
                    break
                return None
        self.port_usage[n] = None
        return n

    def free_ofp_port(self, ofp_port, now_ms):
        if ofp_port != OFPP_LOCAL:
            self.port_usage[ofp_port] = now_ms


def _vanished(iface):
    """Whether IFACE's kernel device is gone (an existing Linux interface
    deleted under the bridge): it is then removed and opened again, which
    fails with OVS's "No such device" error in its row."""
    dev = iface.netdev
    if getattr(dev, "type", None) != "system":
        return False
    try:
        dev.get_ifindex()
    except netdev_mod.NetdevError as e:
        return e.errno == errno_mod.ENODEV
    except OSError:
        return False
    return False


def _requested_ofport(row):
    req = row.ofport_request
    if req and 1 <= req[0] < OFPP_MAX:
        return req[0]
    return None


def _pick_ofport(row):
    """iface_pick_ofport(): ofport_request, else the row's valid ofport."""
    req = _requested_ofport(row)
    if req is not None:
        return req
    cur = row.ofport
    if cur and 1 <= cur[0] < OFPP_MAX:
        return cur[0]
    return None


def _iface_type(row, br):
    """OVS's iface_get_type(): a bridge's local port is always "internal"
    ("dummy" on a dummy datapath), whatever its row says."""
    if row.name == br.name:
        return "dummy" if br.datapath_type == "dummy" else "internal"
    return row.type or "system"


def _configured_dpid(br_row):
    """other_config:datapath-id: 16 hex digits (optionally 0x-prefixed),
    nonzero, as dpid_from_string() accepts."""
    text = (br_row.other_config or {}).get("datapath-id", "")
    if text.startswith(("0x", "0X")):
        text = text[2:]
    if len(text) != 16:
        return None
    try:
        dpid = int(text, 16)
    except ValueError:
        return None
    return dpid or None


def _datapath_type(br_row):
    return br_row.datapath_type or "system"


def _errno_text(e):
    err = getattr(e, "errno", 0) or errno_mod.EINVAL
    return os.strerror(err)


def _mac_str(raw):
    return ":".join("%02x" % b for b in raw)


class BridgeLayer:
    """Running bridges kept in step with the database (module essay)."""

    def __init__(self, providers=None):
        self.providers = providers or Providers()
        self.bridges = {}
        self.iface_errors = {}      # Interface UUID -> error text
        self.ovs_version = None
        self._port_rows = {}        # Port name -> row, at the last reconfigure

    # -- reading the configuration --------------------------------------------
    def _wanted(self, idl):
        """{bridge name: (Bridge row, {iface name: (port name, Iface row)})}."""
        ovs_rows = list(idl.rows("Open_vSwitch"))
        wanted = {}
        self._port_rows = {}
        if not ovs_rows:
            return wanted
        seen_ifaces = {}
        for bu in ovs_rows[0].bridges:
            br = idl.get_row("Bridge", bu)
            if br is None:
                continue
            if "/" in br.name or "\\" in br.name:
                vlog.warn('ignoring bridge with invalid name "%s"', br.name)
                continue
            if br.name in wanted:
                vlog.warn("bridge %s specified twice", br.name)
                continue
            ifaces = {}
            port_names = set()
            for pu in br.ports:
                port = idl.get_row("Port", pu)
                if port is None:
                    continue
                if port.name in port_names:
                    vlog.warn("bridge %s: %s specified twice as bridge port",
                              br.name, port.name)
                    continue
                port_names.add(port.name)
                self._port_rows[port.name] = port
                if not port.interfaces:
                    vlog.warn("port %s: no interfaces", port.name)
                    continue
                for iu in port.interfaces:
                    iface = idl.get_row("Interface", iu)
                    if iface is None:
                        continue
                    if iface.name in seen_ifaces:
                        vlog.warn("bridge %s: interface %s specified twice",
                                  br.name, iface.name)
                        continue
                    seen_ifaces[iface.name] = br.name
                    ifaces[iface.name] = (port.name, iface)
            wanted[br.name] = (br, ifaces)
        return wanted

    # -- reconfiguration --------------------------------------------------------
    def reconfigure(self, idl):
        """Bring the running bridges in line with IDL's replica."""
        wanted = self._wanted(idl)
        changed = False
        for name in list(self.bridges):
            br = self.bridges[name]
            w = wanted.get(name)
            if w is None or _datapath_type(w[0]) != br.datapath_type:
                self._del_bridge(br)
                changed = True
        live_names = set()
        for name, (br_row, ifaces) in wanted.items():
            br = self.bridges.get(name)
            if br is None:
                br = self._add_bridge(br_row)
                changed = True
            br.uuid = br_row.uuid
            changed |= self._reconfigure_ports(br, ifaces)
            self._configure_mac(br, br_row, idl)
            self._configure_l2(br, br_row, ifaces)
            live_names.update(ifaces)
        for u in list(self.iface_errors):
            row = idl.get_row("Interface", u)
            if row is None or row.name not in live_names:
                del self.iface_errors[u]
        return changed

    def _configure_l2(self, br, br_row, ifaces):
        """Hand the Bridge and Port rows' L2 settings to the datapath side."""
        if not hasattr(self.providers, "configure_bridge"):
            return
        try:
            self.providers.configure_bridge(br.ofproto, br_row)
        except Exception as e:      # a bad value must not stop the bridge
            vlog.warn("bridge %s: %s", br.name, e)
        for name, (port_name, _) in ifaces.items():
            iface = br.ifaces.get(name)
            port_row = self._port_rows.get(port_name)
            if iface is None or port_row is None:
                continue
            try:
                self.providers.configure_port(br.ofproto, iface.ofp_port, port_row)
            except Exception as e:
                vlog.warn("port %s: %s", port_name, e)

    @staticmethod
    def _usable_ea(ea):
        """Neither multicast, local, reserved (01:80:c2:00:00:0X) nor zero."""
        return (ea and not ea & (1 << 40) and not ea & (1 << 41)
                and ea >> 8 != 0x0180c20000)

    def _pick_local_hw_addr(self, br, br_row, idl):
        """OVS's bridge_pick_local_hw_addr(): other_config:hwaddr, else the
        lowest usable address among the ports (each port represented by its
        Port mac or its alphabetically first interface), else random."""
        text = (br_row.other_config or {}).get("hwaddr", "")
        try:
            ea = netdev_mod.mac_from_str(text) if text else None
        except (ValueError, netdev_mod.NetdevError):
            ea = None
        if ea is not None:
            ea = int.from_bytes(ea, "big")
            if ea & (1 << 40):
                vlog.err("bridge %s: cannot set MAC address to multicast "
                         "address %s", br.name, _mac_str(ea.to_bytes(6, "big")))
            elif ea == 0:
                vlog.err("bridge %s: cannot set MAC address to zero", br.name)
            else:
                return ea
        best = br.default_ea
        by_port = {}
        for iface in br.ifaces.values():
            by_port.setdefault(iface.port_name, []).append(iface)
        for port_name, ifaces in by_port.items():
            port_row = idl.lookup("Port", "name", port_name) \
                if hasattr(idl, "lookup") else None
            port_mac = port_row.mac if port_row is not None else []
            ea = None
            if port_mac:
                try:
                    ea = int.from_bytes(netdev_mod.mac_from_str(port_mac[0]), "big")
                except (ValueError, netdev_mod.NetdevError):
                    ea = None
            if ea is None:
                iface = min(ifaces, key=lambda i: i.name)
                if iface.ofp_port == OFPP_LOCAL:
                    continue
                try:
                    ea = int.from_bytes(iface.netdev.get_etheraddr(), "big")
                except netdev_mod.NetdevError:
                    continue
            if self._usable_ea(ea) and ea < best:
                best = ea
        return best

    def _configure_mac(self, br, br_row, idl):
        """The bridge's address and, unless other_config:datapath-id sets
        it, its datapath ID (bridge_configure_datapath_id())."""
        ea = self._pick_local_hw_addr(br, br_row, idl)
        ofproto = br.ofproto
        if ea != ofproto.local_mac:
            ofproto.local_mac = ea
            local = ofproto.ports.get(OFPP_LOCAL)
            if local is not None:
                local.hw_addr = ea
            iface = br.ifaces.get(br.name)
            if iface is not None:
                try:
                    iface.netdev.set_etheraddr(ea.to_bytes(6, "big"))
                except netdev_mod.NetdevError as e:
                    vlog.err("bridge %s: failed to set MAC address (%s)",
                             br.name, e)
        dpid = _configured_dpid(br_row)
        dpid = ea if dpid is None else dpid
        if dpid != ofproto.datapath_id:
            ofproto.datapath_id = dpid
            vlog.info("bridge %s: using datapath ID %016x", br.name, dpid)

    def _add_bridge(self, row):
        dp_type = _datapath_type(row)
        ofproto = self.providers.create_ofproto(row.name, dp_type,
                                                _configured_dpid(row))
        ofproto.uuid = row.uuid         # (continuations name their bridge by it)
        br = Bridge(row.name, row.uuid, dp_type, ofproto)
        self.bridges[row.name] = br
        vlog.info("bridge %s: using datapath ID %016x",
                  row.name, ofproto.datapath_id)
        return br

    def _del_bridge(self, br):
        for iface in list(br.ifaces.values()):
            self._del_iface(br, iface)
        self.providers.destroy_ofproto(br.ofproto)
        del self.bridges[br.name]

    def _now_ms(self):
        return int(self.providers.now() * 1000)

    def _reconfigure_ports(self, br, wanted):
        changed = False
        # Gone, moved to another port, or of another type: removed.
        for name in list(br.ifaces):
            iface = br.ifaces[name]
            w = wanted.get(name)
            if (w is None or w[0] != iface.port_name
                    or _iface_type(w[1], br) != iface.type or _vanished(iface)):
                self._del_iface(br, iface)
                changed = True
        # A requested ofport that is free (perhaps only now): re-added there.
        # Repeated, since each removal may free another one's request.
        again = True
        while again:
            again = False
            for name in list(br.ifaces):
                iface = br.ifaces[name]
                req = _requested_ofport(wanted[name][1])
                if (req is not None and req != iface.ofp_port
                        and iface.ofp_port != OFPP_LOCAL
                        and br.port_usage.get(req, 0) is not None):
                    self._del_iface(br, iface)
                    changed = again = True
        for name in list(br.ifaces):
            iface = br.ifaces[name]
            row = wanted[name][1]
            iface.uuid = row.uuid       # matched by name, as OVS does
            self._apply_mtu(iface, row)
            options = dict(row.options)
            if options != iface.options:
                try:
                    self.providers.set_config(iface.netdev, options)
                    iface.options = options
                except netdev_mod.NetdevError as e:
                    vlog.warn("%s", e)
                    self._del_iface(br, iface)
                    self.iface_errors[row.uuid] = str(e)
                changed = True
        # Interfaces that moved away from another bridge are freed first.
        for other in self.bridges.values():
            if other is br:
                continue
            for name in list(other.ifaces):
                if name in wanted and name not in br.ifaces:
                    self._del_iface(other, other.ifaces[name])
        # The bridge's own interface first (OVS's ofproto opens it with the
        # datapath), then those with a requested number, so that none of
        # them loses its number to one that would take any; each group in
        # OVS's bridge_add_ports() order (_add_order()).
        for name in sorted(self._add_order(wanted),
                           key=lambda n: (n != br.name,
                                          _pick_ofport(wanted[n][1]) is None)):
            if name in br.ifaces:
                continue
            port_name, row = wanted[name]
            changed = True
            self._add_iface(br, port_name, row)
        return changed

    def _add_order(self, wanted):
        """WANTED's interface names as OVS's bridge_add_ports() visits them:
        its wanted-ports shash (the Port names, inserted in UUID order, as
        the Bridge row's set holds them) in hash-table order, and each
        port's interfaces in UUID order.  So the ports of one transaction
        get their OpenFlow and datapath numbers in the real switch's order."""
        from pyovs.util.json import hash_string, hmap_order
        ports = {}
        for name, (port_name, row) in wanted.items():
            ports.setdefault(port_name, []).append((str(row.uuid), name))
        rows = self._port_rows
        by_uuid = sorted(ports, key=lambda p: (p not in rows,
                                               str(getattr(rows.get(p), "uuid", "")), p))
        return [name for p in hmap_order([(p, hash_string(p)) for p in by_uuid])
                for _, name in sorted(ports[p])]

    def _add_iface(self, br, port_name, row):
        options = dict(row.options)
        try:
            dev = self.providers.open_netdev(row.name, _iface_type(row, br),
                                             options)
        except netdev_mod.NetdevError as e:
            if "unknown type" in str(e):
                vlog.warn("%s", e)
                text = "could not open network device %s (%s)" % (
                    row.name, _errno_text(e))
            else:
                text = str(e)
            vlog.warn("%s", text)
            self.iface_errors[row.uuid] = text
            return None
        if row.name == br.name:
            ofp_port = OFPP_LOCAL
            try:
                dev.set_etheraddr(br.ofproto.local_mac.to_bytes(6, "big"))
            except (netdev_mod.NetdevError, AttributeError):
                pass
            add_local = getattr(self.providers, "add_local_port", None)
            if add_local is not None:
                add_local(br.ofproto, dev)
        else:
            req = _pick_ofport(row)
            if req is not None:
                br.ofp_requests[row.name] = req
            ofp_port = br.alloc_ofp_port(row.name, self._now_ms())
            if ofp_port is None:
                self.providers.close_netdev(dev)
                text = "could not add network device %s to ofproto (%s)" % (
                    row.name, os.strerror(errno_mod.EFBIG))
                vlog.warn("%s", text)
                self.iface_errors[row.uuid] = text
                return None
            try:
                self.providers.add_port(br.ofproto, row.name, dev, ofp_port)
            except ValueError as e:
                br.free_ofp_port(ofp_port, self._now_ms())
                self.providers.close_netdev(dev)
                text = "could not add network device %s to ofproto (%s)" % (
                    row.name, e)
                vlog.warn("%s", text)
                self.iface_errors[row.uuid] = text
                return None
        iface = Iface(row.name, _iface_type(row, br), port_name, row.uuid, dev,
                      ofp_port, options)
        self._apply_mtu(iface, row)
        br.ifaces[row.name] = iface
        self.iface_errors.pop(row.uuid, None)
        vlog.info("bridge %s: added interface %s on port %d",
                  br.name, row.name, ofp_port)
        return iface

    @staticmethod
    def _apply_mtu(iface, row):
        """Interface mtu_request, applied when it changes (iface_set_netdev_mtu)."""
        req = row.mtu_request[0] if row.mtu_request else None
        if req is None or req == iface.mtu_request:
            return
        iface.mtu_request = req
        try:
            iface.netdev.set_mtu(req)
        except netdev_mod.NetdevError as e:
            vlog.warn("failed to set MTU for network device %s: %s",
                      iface.name, _errno_text(e))

    def _del_iface(self, br, iface):
        if iface.ofp_port != OFPP_LOCAL:
            self.providers.del_port(br.ofproto, iface.ofp_port)
            br.free_ofp_port(iface.ofp_port, self._now_ms())
        elif getattr(self.providers, "dpif", None) is not None:
            self.providers.del_port(br.ofproto, OFPP_LOCAL)
        self.providers.close_netdev(iface.netdev)
        del br.ifaces[iface.name]
        vlog.info("bridge %s: deleted interface %s on port %d",
                  br.name, iface.name, iface.ofp_port)

    # -- status ------------------------------------------------------------------
    def iface_status(self, iface):
        """The Interface status columns of a running interface."""
        dev = iface.netdev
        st = {"ofport": [iface.ofp_port], "error": []}

        def get(fn, default):
            try:
                return fn()
            except (netdev_mod.NetdevError, OSError):
                return default
        carrier = get(dev.get_carrier, False)
        resets = getattr(dev, "get_carrier_resets", None)
        iface.link_resets = get(resets, 0) if resets is not None else 0
        admin = get(dev.get_admin_state, None)
        st["admin_state"] = [] if admin is None else ["up" if admin else "down"]
        st["link_state"] = ["up" if carrier else "down"]
        st["link_resets"] = [iface.link_resets]
        current = get(lambda: dev.get_features()[0], 0)
        speed = netdev_base.features_to_bps(current)
        st["link_speed"] = [speed] if speed else []
        st["duplex"] = ([("full" if current & _FULL_DUPLEX else "half")]
                        if speed else [])
        mtu = get(dev.get_mtu, None)
        st["mtu"] = [mtu] if mtu is not None else []
        mac = get(dev.get_etheraddr, None)
        st["mac_in_use"] = [_mac_str(mac)] if mac else []
        ifindex = get(dev.get_ifindex, 0)
        st["ifindex"] = [ifindex if ifindex and ifindex > 0 else 0]
        st["status"] = {str(k): str(v) for k, v in get(dev.get_status, {}).items()}
        stats = get(dev.get_stats, None)
        st["statistics"] = stats.interface_statistics() if stats is not None else {}
        return st

    def write_status(self, idl, txn, cur_cfg=True, stats=True):
        """Put the status OVS writes into TXN; with CUR_CFG, cur_cfg =
        next_cfg (the configuration just applied).  Only values that differ
        from the replica become writes."""
        ovs_rows = list(idl.rows("Open_vSwitch"))
        if ovs_rows:
            ovs = ovs_rows[0]
            if cur_cfg and ovs.cur_cfg != ovs.next_cfg:
                txn.set(ovs, "cur_cfg", ovs.next_cfg)
            self._set(txn, ovs, "datapath_types", self.providers.datapath_types())
            self._set(txn, ovs, "iface_types", self.providers.iface_types())
            self._set(txn, ovs, "dpdk_initialized", False)
            self._set(txn, ovs, "dpdk_version", ["none"])
        for br in self.bridges.values():
            row = idl.get_row("Bridge", br.uuid)
            if row is None:
                continue
            self._set(txn, row, "datapath_id", ["%016x" % br.ofproto.datapath_id])
            self._set(txn, row, "datapath_version", [DATAPATH_VERSION])
            for iface in br.ifaces.values():
                irow = idl.get_row("Interface", iface.uuid)
                if irow is None:
                    continue
                st = self.iface_status(iface)
                if not stats:
                    st.pop("statistics")
                for col, v in st.items():
                    self._set(txn, irow, col, v)
        for u, text in self.iface_errors.items():
            irow = idl.get_row("Interface", u)
            if irow is None:
                continue
            self._set(txn, irow, "error", [text])
            self._set(txn, irow, "ofport", [-1])
            for col, v in _EMPTY_STATUS.items():
                self._set(txn, irow, col, v)

    @staticmethod
    def _set(txn, row, column, value):
        """Write VALUE (a Python value: a scalar may also be given as a
        one-element list) unless ROW already holds it."""
        current = row.datum(column)
        if isinstance(value, list) and current.type.n_min == 1 \
                and current.type.n_max == 1 and len(value) == 1:
            value = value[0]
        if Datum.from_python(current.type, value) != current:
            txn.set(row, column, value)

    def vanished(self, idl=None):
        """Whether an interface's kernel device disappeared, or (with IDL)
        one that could not be opened for want of its device now exists
        (OVS's if-notifier: the daemon then reconfigures)."""
        if any(_vanished(i) for br in self.bridges.values()
               for i in br.ifaces.values()):
            return True
        if idl is None:
            return False
        for u, text in self.iface_errors.items():
            row = idl.get_row("Interface", u)
            if (row is not None and "(No such device)" in text
                    and self.providers.netdev_type(row.type) == "system"):
                try:
                    socket.if_nametoindex(row.name)
                    return True
                except OSError:
                    continue
        return False

    def close(self):
        for br in list(self.bridges.values()):
            self._del_bridge(br)
