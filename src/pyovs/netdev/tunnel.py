"""Tunnel ports: types "vxlan", "gre", "ip6gre" and "geneve" (OVS's netdev-vport).

A tunnel port is configuration, not a device: it has no packet queue and
is never read or written directly.  Output to it becomes a tnl_push
action (translation builds the outer header from this configuration,
the route table and the neighbor cache); packets for it arrive on the
underlay bridge and get tnl_pop to the *datapath* tunnel port its type
and destination port share (vxlan_sys_4789, gre_sys, ip6gre_sys,
genev_sys_6081),
then are matched back to the OpenFlow port by tnl/ofproto_tunnel.py.

set_config() parses the Interface options as OVS's set_tunnel_config():
remote_ip (an address or "flow"; required; multicast refused), local_ip
(an address or "flow", which needs remote_ip=flow), key / in_key /
out_key (a number or "flow"), dst_port (UDP types), tos (a DSCP value or
"inherit"), ttl (a number or "inherit"; default 64), df_default,
csum, packet_type (legacy_l2, legacy_l3 for GRE and VXLAN-GPE only -- not
ip6gre --, ptap), egress_pkt_mark and, for VXLAN, exts (gbp, gpe: the
userspace datapath of OVS 3.1 uses gpe only).  Errors have OVS's texts and make the port fail
(NetdevError, EINVAL); an unknown option or a bad tos/local_ip is only
logged, as in OVS.  get_config() gives back the options as OVS's
get_tunnel_config() prints them (dpif/show).

Public API: NetdevTunnel (and per-type subclasses registered as "vxlan",
"gre", "ip6gre", "geneve"): .cfg (TunnelConfig), .dpif_port_name(), .dst_port()
(0 for GRE), .get_config(), .config_text() (dpif/show), .get_status()
(tunnel_egress_iface, through the class hook NetdevTunnel.egress_lookup),
count_rx/count_tx (statistics), .on_change (callable or None: the
configuration changed); TUNNEL_TYPES; is_tunnel_type(type); TunnelConfig.
"""

import errno
import ipaddress
from dataclasses import dataclass

from pyovs.netdev.base import NetdevError, NetdevVport, lookup, register_provider
from pyovs.util.vlog import Vlog

vlog = Vlog("netdev_vport")

DEFAULT_TTL = 64
IP_DSCP_MASK = 0xfc
TUNNEL_TYPES = ("geneve", "gre", "ip6gre", "vxlan")
_DEFAULT_DST_PORT = {"vxlan": 4789, "geneve": 6081}
_DPIF_PORT = {"vxlan": "vxlan_sys", "geneve": "genev_sys", "gre": "gre_sys",
              "ip6gre": "ip6gre_sys"}
V4_MAPPED = 0xFFFF << 32


def is_tunnel_type(type_):
    return type_ in TUNNEL_TYPES


@dataclass
class TunnelConfig:
    """struct netdev_tunnel_config; addresses are IPv4-mapped ints."""
    ip_dst: int = 0
    ip_dst_flow: bool = False
    ip_src: int = 0
    ip_src_flow: bool = False
    in_key: int = 0
    in_key_present: bool = False
    in_key_flow: bool = False
    out_key: int = 0
    out_key_present: bool = False
    out_key_flow: bool = False
    dst_port: int = 0
    ttl: int = DEFAULT_TTL
    ttl_inherit: bool = False
    tos: int = 0
    tos_inherit: bool = False
    csum: bool = False
    dont_fragment: bool = True
    pt_mode: str = "legacy_l2"
    egress_pkt_mark: int = 0
    set_egress_pkt_mark: bool = False
    exts: frozenset = frozenset()   # VXLAN extensions: "gbp", "gpe"

    @property
    def ipv4(self):
        a = self.ip_dst or self.ip_src
        return not a or a >> 32 == 0xFFFF


def _c_strtoull(s):
    """strtoull(s, NULL, 0): leading number in C syntax, else 0."""
    s = s.strip()
    neg = s.startswith("-")
    if s[:1] in "+-":
        s = s[1:]
    base, digits = 10, "0123456789"
    if s[:2].lower() == "0x":
        base, digits, s = 16, "0123456789abcdefABCDEF", s[2:]
    elif s[:1] == "0":
        base, digits = 8, "01234567"
    n = 0
    while n < len(s) and s[n] in digits:
        n += 1
    v = int(s[:n], base) if n else 0
    if v > (1 << 64) - 1:
        v = (1 << 64) - 1
    return (-v) % (1 << 64) if neg else v


def _atoi(s):
    s = s.lstrip()
    neg = s[:1] == "-"
    if s[:1] in "+-":
        s = s[1:]
    n = 0
    while n < len(s) and s[n].isdigit():
        n += 1
    v = int(s[:n]) if n else 0
    return -v if neg else v


def _strtol_full(s):
    """strtol(s, &end, 0) with *end == '\\0' required -> int or None."""
    t = s.strip() if s[:1].isspace() else s
    try:
        if t.lower().startswith(("0x", "-0x", "+0x")):
            return int(t, 16)
        if len(t.lstrip("+-")) > 1 and t.lstrip("+-").startswith("0"):
            return int(t, 8)
        return int(t, 10)
    except ValueError:
        return None if t else 0


def _parse_ip(value, accept_mcast):
    """parse_tunnel_ip() -> (mapped int | "flow", err) err None/ENOENT/EINVAL."""
    if value == "flow":
        return "flow", None
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None, errno.ENOENT
    if not accept_mcast and ip.is_multicast:
        return None, errno.EINVAL
    if ip.version == 4:
        return V4_MAPPED | int(ip), None
    return int(ip), None


def _format_ip(a):
    if a >> 32 == 0xFFFF:
        return str(ipaddress.IPv4Address(a & 0xFFFFFFFF))
    return str(ipaddress.IPv6Address(a))


class NetdevTunnel(NetdevVport):
    """A tunnel port (see the module essay)."""
    TYPE = None
    #: cfg -> the device the route to the remote leaves by, or None; set by
    #: the switch's route table (pyovs.tnl.tunneling) for the status column.
    egress_lookup = None
    #: called after set_config() changed the configuration (the switch
    #: re-registers the port and re-translates), or None
    on_change = None

    def __init__(self, name, options=None):
        super().__init__(name, options)
        self.cfg = TunnelConfig(dst_port=_DEFAULT_DST_PORT.get(self.TYPE, 0))
        if options:
            self.set_config(options)

    # -- configuration ---------------------------------------------------
    def set_config(self, options):
        options = {k: str(v) for k, v in dict(options or {}).items()}
        name, type_ = self.name, self.type
        cfg = TunnelConfig(dst_port=_DEFAULT_DST_PORT.get(type_, 0))
        warnings, fatal = [], None
        dst_v4 = src_v4 = None
        if type_ == "vxlan" and "exts" in options:
            exts = set()
            for ext in (e for e in options["exts"].split(",") if e):
                if ext in ("gbp", "gpe"):
                    exts.add(ext)
                else:
                    warnings.append(f"{name}: unknown extension '{ext}'")
            cfg.exts = frozenset(exts)
        for key in sorted(options):          # smap order does not matter here
            value = options[key]
            if key == "exts" and type_ == "vxlan":
                pass
            elif key == "remote_ip":
                addr, err = _parse_ip(value, False)
                if err == errno.ENOENT:
                    warnings.append(f"{name}: bad {type_} 'remote_ip'")
                elif err == errno.EINVAL:
                    fatal = f"{name}: multicast remote_ip={value} not allowed"
                    break
                elif addr == "flow":
                    cfg.ip_dst_flow = True
                else:
                    cfg.ip_dst, dst_v4 = addr, addr >> 32 == 0xFFFF
            elif key == "local_ip":
                addr, err = _parse_ip(value, True)
                if err:
                    warnings.append(f"{name}: bad {type_} 'local_ip'")
                elif addr == "flow":
                    cfg.ip_src_flow = True
                else:
                    cfg.ip_src, src_v4 = addr, addr >> 32 == 0xFFFF
            elif key == "tos":
                if value == "inherit":
                    cfg.tos_inherit = True
                else:
                    tos = _strtol_full(value)
                    if tos is not None and tos == tos & IP_DSCP_MASK:
                        cfg.tos = tos
                    else:
                        warnings.append(f"{name}: invalid TOS {value}")
            elif key == "ttl":
                if value == "inherit":
                    cfg.ttl_inherit = True
                else:
                    cfg.ttl = _atoi(value) & 0xff
            elif key == "dst_port" and type_ in _DEFAULT_DST_PORT:
                cfg.dst_port = _atoi(value) & 0xffff
            elif key == "csum":
                if value == "true":
                    cfg.csum = True
            elif key == "df_default":
                if value == "false":
                    cfg.dont_fragment = False
            elif key in ("key", "in_key", "out_key"):
                pass
            elif key == "packet_type":
                if value in ("legacy_l2", "ptap"):
                    cfg.pt_mode = value
                elif value == "legacy_l3":
                    if type_ == "vxlan" and "gpe" not in cfg.exts:
                        fatal = (f"{name}: legacy_l3 configured on VXLAN (without GPE) "
                                 "tunnel that cannot carry L3 traffic")
                        break
                    if type_ not in ("gre", "vxlan"):
                        fatal = (f"{name}: legacy_l3 configured on {type_} tunnel "
                                 "that cannot carry L3 traffic")
                        break
                    cfg.pt_mode = value
                else:
                    fatal = f"{name}: unknown packet_type '{value}'"
                    break
            elif key == "egress_pkt_mark":
                cfg.egress_pkt_mark = _c_strtoull(value) & 0xffffffff
                cfg.set_egress_pkt_mark = True
            else:
                warnings.append(f"{name}: unknown {type_} argument '{key}'")
        if fatal is None:
            if not cfg.ip_dst and not cfg.ip_dst_flow:
                fatal = f"{name}: {type_} type requires valid 'remote_ip' argument"
            elif cfg.ip_src_flow and not cfg.ip_dst_flow:
                fatal = (f"{name}: {type_} type requires 'remote_ip=flow' "
                         "with 'local_ip=flow'")
            elif dst_v4 is not None and src_v4 is not None and dst_v4 != src_v4:
                fatal = (f"{name}: 'remote_ip' and 'local_ip' has to be of the "
                         "same address family")
        if fatal is not None:
            text = "\n".join(warnings + [fatal])
            vlog.warn("%s", text)
            raise NetdevError(text, errno.EINVAL)
        if warnings:
            vlog.warn("%s", "\n".join(warnings))
        if not cfg.ttl:
            cfg.ttl = DEFAULT_TTL
        for which in ("in_key", "out_key"):
            s = options.get(which, options.get("key"))
            if s is None:
                continue
            setattr(cfg, which + "_present", True)
            if s == "flow":
                setattr(cfg, which + "_flow", True)
            else:
                setattr(cfg, which, _c_strtoull(s))
        changed, self.cfg = cfg != self.cfg, cfg
        self._options = options
        if changed and self.on_change is not None:
            self.on_change()

    def get_config(self):
        """The options as OVS's get_tunnel_config() gives them back."""
        c, out = self.cfg, {}
        if c.ip_dst:
            out["remote_ip"] = _format_ip(c.ip_dst)
        elif c.ip_dst_flow:
            out["remote_ip"] = "flow"
        if c.ip_src:
            out["local_ip"] = _format_ip(c.ip_src)
        elif c.ip_src_flow:
            out["local_ip"] = "flow"
        if c.in_key_flow and c.out_key_flow:
            out["key"] = "flow"
        elif (c.in_key_present and c.out_key_present and c.in_key == c.out_key
              and not c.in_key_flow and not c.out_key_flow):
            out["key"] = str(c.in_key)
        else:
            for which in ("in_key", "out_key"):
                if getattr(c, which + "_flow"):
                    out[which] = "flow"
                elif getattr(c, which + "_present"):
                    out[which] = str(getattr(c, which))
        if c.ttl_inherit:
            out["ttl"] = "inherit"
        elif c.ttl != DEFAULT_TTL:
            out["ttl"] = str(c.ttl)
        if c.tos_inherit:
            out["tos"] = "inherit"
        elif c.tos:
            out["tos"] = "0x%x" % c.tos
        if c.dst_port and c.dst_port != _DEFAULT_DST_PORT.get(self.type, c.dst_port):
            out["dst_port"] = str(c.dst_port)
        if c.csum:
            out["csum"] = "true"
        if c.pt_mode != "legacy_l2":
            out["packet_type"] = c.pt_mode
        if not c.dont_fragment:
            out["df_default"] = "false"
        if c.set_egress_pkt_mark:
            out["egress_pkt_mark"] = str(c.egress_pkt_mark)
        return out

    def config_text(self):
        """dpif/show's "(vxlan: key=123, remote_ip=1.1.2.92)" body."""
        cfg = self.get_config()
        if not cfg:
            return self.type
        return "%s: %s" % (self.type, ", ".join(
            "%s=%s" % (k, cfg[k]) for k in sorted(cfg)))

    def get_status(self):
        """tunnel_egress_iface and its carrier, as OVS's tunnel_get_status()."""
        look = NetdevTunnel.egress_lookup
        iface = look(self.cfg) if look is not None else None
        if not iface:
            return {}
        dev = lookup(iface)
        try:
            carrier = dev is not None and dev.get_carrier()
        except NetdevError:
            carrier = False
        return {"tunnel_egress_iface": iface,
                "tunnel_egress_iface_carrier": "up" if carrier else "down"}

    # -- the datapath port -----------------------------------------------
    def dst_port(self):
        return self.cfg.dst_port if self.type in _DEFAULT_DST_PORT else 0

    def dpif_port_name(self):
        """netdev_vport_get_dpif_port(): the shared datapath port's name."""
        base = _DPIF_PORT[self.type]
        if self.type in _DEFAULT_DST_PORT:
            return "%s_%d" % (base, self.cfg.dst_port)
        return base

    # -- I/O: none -------------------------------------------------------
    def send_batch(self, packets):
        raise NetdevError("%s: tunnel ports are output through tnl_push"
                          % self.name, errno.EOPNOTSUPP)


class NetdevVxlan(NetdevTunnel):
    TYPE = "vxlan"


class NetdevGre(NetdevTunnel):
    TYPE = "gre"


class NetdevIp6gre(NetdevTunnel):
    """GRE over IPv6 (its own datapath port, ip6gre_sys; the header is
    GRE's, of header type 109)."""
    TYPE = "ip6gre"


class NetdevGeneve(NetdevTunnel):
    TYPE = "geneve"


for _cls in (NetdevVxlan, NetdevGre, NetdevIp6gre, NetdevGeneve):
    register_provider(_cls.TYPE, _cls)
