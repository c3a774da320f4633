"""Datapath actions and their text, as OVS's odp-util prints and parses them.

An action list is a Python list of ``(name, arg)`` tuples:

==================  ==========================================================
``output``          port number (printed bare: ``2``)
``push_vlan``       ``(tpid, tci)`` -- tci includes the CFI bit (0x1000)
``pop_vlan``        None
``set``             a key attribute ``(name, value, mask)`` from pyovs.odp.keys;
                    mask None is OVS's plain set, otherwise a masked set
``userspace``       dict: pid, cookie (see below), actions (bool),
                    tunnel_out_port (int or None)
``recirc``          recirculation id
``ct``              dict: commit, force_commit, zone, mark, mark_mask, label,
                    label_mask, helper, timeout, nat (None or a dict: type
                    "src"/"dst"/None, addr_min, addr_max (ints), ipv6,
                    port_min, port_max, persistent, hash, random)
``ct_clear``        None
``pop_eth``         None (the packet becomes layer 3: its packet_type (1, Ethertype))
``push_nsh``        dict: the nsh key's fields (pyovs.odp.keys.NSH_FIELDS)
                    and, for MD type 2, ``md2``: the metadata TLVs (bytes)
``pop_nsh``         None
``push_eth``        ``(src, dst)``: the new Ethernet header's addresses
``clone``           nested action list
``sample``          ``(probability, actions)``; probability out of 2**32-1
``check_pkt_len``   ``(size, gt_actions, le_actions)``
``tnl_pop``         tunnel port number
``tnl_push``        dict: tnl_port, header_type, header (bytes), out_port
``trunc``           int (so are ``meter`` and ``lb_output``)
``push_mpls``       ``(lse, eth_type)``; lse = label<<12 | tc<<9 | bos<<8 | ttl
``pop_mpls``        the Ethertype after the pop
``hash``            ``(algorithm, basis)``: algorithm "l4" or "sym_l4"
==================  ==========================================================

``push_mpls``, ``pop_mpls`` and ``hash`` are printed as OVS prints them (in
``ofproto/trace`` and dumps), though OVS 3.1's own parser refuses them;
pyovs parses them back, and ``recirc(0x1)`` and a nested ``drop``
(``le(drop)``, ``clone(drop)``) too, which OVS prints but does not read.
Otherwise the parser refuses what OVS's refuses.

A userspace cookie is None (OVS's zeroed cookie), ``("userdata", bytes)``,
``("slow_path", reasons)``, or ``(kind, {field: int})`` for ``sFlow``,
``flow_sample`` (plus an optional ``direction`` of "ingress"/"egress"),
``ipfix`` and ``controller``.

An empty list prints as ``drop``, and the text ``drop`` parses to it.

Public API: parse_actions(text, port_names=None) -> list;
format_actions(actions, port_names=None) -> str; SLOW_PATH_REASONS;
TNL_TYPE_GRE, TNL_TYPE_VXLAN, TNL_TYPE_GENEVE, TNL_TYPE_IP6GRE;
tnl_header_parse(text) -> (header_type, bytes); tnl_header_format(type, bytes) -> str.
"""

import struct

from ..packet import headers as h
from ..packet.csum import csum
from . import keys as odp_keys
from . import lex

SLOW_PATH_REASONS = {0x01: "cfm", 0x02: "bfd", 0x04: "lacp", 0x08: "stp", 0x10: "lldp",
                     0x20: "action", 0x40: "match"}

#: The zeroed cookie OVS builds for userspace() without userdata (its size).
USER_ACTION_COOKIE_LEN = 48

#: Typed userspace cookies: field names and formats, in printing order.
COOKIE_FIELDS = {
    "sFlow": (("vid", "u"), ("pcp", "u"), ("output", "u")),
    "flow_sample": (("probability", "u"), ("collector_set_id", "u"), ("obs_domain_id", "u"),
                    ("obs_point_id", "u"), ("output_port", "u")),
    "ipfix": (("output_port", "u"),),
    "controller": (("reason", "u"), ("dont_send", "u"), ("continuation", "u"),
                   ("recirc_id", "u"), ("rule_cookie", "x"), ("controller_id", "u"),
                   ("max_len", "u")),
}

TNL_TYPE_GRE = 3
TNL_TYPE_VXLAN = 4
TNL_TYPE_GENEVE = 5
TNL_TYPE_IP6GRE = 109

UINT32_MAX = 0xffffffff
_MAX_DEPTH = 32


# --- printing ---------------------------------------------------------------------------------

def format_actions(actions, port_names=None):
    """format_odp_actions(): the text of an action list ('drop' when empty)."""
    if not actions:
        return "drop"
    return ",".join(_format_action(a, port_names) for a in actions)


def _format_action(action, port_names):
    name, arg = action
    if name == "output":
        return port_names.get(arg, str(arg)) if port_names else str(arg)
    if name in ("pop_vlan", "ct_clear", "pop_eth"):
        return name
    if name == "pop_nsh":
        return "pop_nsh()"
    if name == "push_nsh":
        text = "push_nsh(" + odp_keys.format_nsh(arg)
        if arg.get("mdtype") == 2:
            text += ",md2=0x" + arg.get("md2", b"").hex()
        return text + ")"
    if name == "push_eth":
        return "push_eth(src=%s,dst=%s)" % (lex.mac_to_text(arg[0]),
                                             lex.mac_to_text(arg[1]))
    if name == "tnl_pop":       # (tnl_push's ports stay numbers, as OVS)
        return "tnl_pop(%s)" % (port_names.get(arg, str(arg)) if port_names else arg)
    if name in ("trunc", "meter", "lb_output"):
        return "%s(%d)" % (name, arg)
    if name == "recirc":
        return "recirc(%s)" % lex.cx(arg)
    if name == "push_mpls":
        lse, eth_type = arg
        return "push_mpls(label=%d,tc=%d,ttl=%d,bos=%d,eth_type=0x%x)" % (
            lse >> 12, lse >> 9 & 7, lse & 0xff, lse >> 8 & 1, eth_type)
    if name == "pop_mpls":
        return "pop_mpls(eth_type=0x%x)" % arg
    if name == "hash":
        return "hash(%s(%d))" % arg
    if name == "push_vlan":
        tpid, tci = arg
        out = "push_vlan("
        if tpid != h.ETH_TYPE_VLAN_8021Q:
            out += "tpid=0x%04x," % tpid
        out += "vid=%d,pcp=%d" % (tci & 0xfff, tci >> 13)
        if not tci & h.VLAN_CFI:
            out += ",cfi=0"
        return out + ")"
    if name == "set":
        # A plain set prints its attribute verbosely; a masked one does not.
        return "set(%s)" % odp_keys.format_key_attr(arg, verbose=arg[2] is None)
    if name == "clone":
        return "clone(%s)" % format_actions(arg, port_names)
    if name == "sample":
        probability, nested = arg
        return "sample(sample=%.1f%%,actions(%s))" % (
            100.0 * probability / UINT32_MAX, format_actions(nested, port_names))
    if name == "check_pkt_len":
        size, gt, le = arg
        return "check_pkt_len(size=%d,gt(%s),le(%s))" % (
            size, format_actions(gt, port_names), format_actions(le, port_names))
    if name == "userspace":
        return _format_userspace(arg)
    if name == "ct":
        return _format_ct(arg)
    if name == "tnl_push":
        return "tnl_push(tnl_port(%d),%s,out_port(%d))" % (
            arg["tnl_port"], tnl_header_format(arg["header_type"], arg["header"]), arg["out_port"])
    raise ValueError(f"{name}: unknown datapath action")


def _format_userspace(arg):
    out = "userspace(pid=%d" % arg["pid"]
    cookie = arg.get("cookie")
    if cookie is None:
        out += ",userdata(%s)" % ("00" * USER_ACTION_COOKIE_LEN)
    else:
        kind, payload = cookie
        if kind == "userdata":
            out += ",userdata(%s)" % payload.hex()
        elif kind == "slow_path":
            out += ",slow_path(%s)" % lex.format_flags(SLOW_PATH_REASONS, payload, ",")
        else:
            parts = []
            for field, fmt in COOKIE_FIELDS[kind]:
                v = payload[field]
                parts.append("%s=%s" % (field, lex.cx(v) if fmt == "x" else str(v)))
            if kind == "flow_sample" and payload.get("direction"):
                parts.append(payload["direction"])
            out += ",%s(%s)" % (kind, ",".join(parts))
    if arg.get("actions"):
        out += ",actions"
    if arg.get("tunnel_out_port") is not None:
        out += ",tunnel_out_port=%d" % arg["tunnel_out_port"]
    return out + ")"


def _format_u128_masked(value, mask):
    out = odp_keys._u128_hex(value)
    if mask != (1 << 128) - 1:
        out += "/" + odp_keys._u128_hex(mask)
    return out


def _format_ct(ct):
    parts = []
    if ct.get("commit"):
        parts.append("commit")
    if ct.get("force_commit"):
        parts.append("force_commit")
    if ct.get("zone"):
        parts.append("zone=%d" % ct["zone"])
    if ct.get("mark_mask"):
        parts.append("mark=%s/%s" % (lex.cx(ct["mark"]), lex.cx(ct["mark_mask"])))
    if ct.get("label_mask"):
        parts.append("label=" + _format_u128_masked(ct["label"], ct["label_mask"]))
    if ct.get("helper"):
        parts.append("helper=" + ct["helper"])
    if ct.get("timeout"):
        parts.append("timeout=" + ct["timeout"])
    nat = ct.get("nat")
    if nat is not None:
        parts.append(_format_nat(nat))
    return "ct(%s)" % ",".join(parts) if parts else "ct"


def _format_nat_addr(addr, ipv6):
    return "[%s]" % lex.ipv6_to_text(addr) if ipv6 else lex.ipv4_to_text(addr)


def _format_nat(nat):
    kind = nat.get("type")
    if not kind:
        return "nat"
    out = kind
    if nat.get("addr_min") is not None:
        ipv6 = nat.get("ipv6", False)
        out += "=" + _format_nat_addr(nat["addr_min"], ipv6)
        if nat.get("addr_max") is not None and nat["addr_max"] != nat["addr_min"]:
            out += "-" + _format_nat_addr(nat["addr_max"], ipv6)
        if nat.get("port_min"):
            out += ":%d" % nat["port_min"]
            if nat.get("port_max") and nat["port_max"] != nat["port_min"]:
                out += "-%d" % nat["port_max"]
    for flag in ("persistent", "hash", "random"):
        if nat.get(flag):
            out += "," + flag
    return "nat(%s)" % out


# --- parsing ----------------------------------------------------------------------------------

def parse_actions(text, port_names=None):
    """odp_actions_from_string(): text -> action list.  Raises ValueError."""
    if text.strip().lower() == "drop":
        return []
    return _parse_list(text, port_names, 0)


def _parse_list(text, port_names, depth):
    if depth > _MAX_DEPTH:
        raise ValueError("datapath actions nested too deeply")
    if not text.strip() or text.strip().lower() == "drop":
        return []
    return [_parse_action(item, port_names, depth) for item in lex.split_top(text)]


def _u32(text):
    if not text.isdigit():
        raise ValueError(f"{text!r}: expected a decimal number")
    value = int(text)
    if value > UINT32_MAX:
        raise ValueError(f"{text!r}: out of range")
    return value


def _kv(items):
    """['a=1', 'b', ...] -> list of (key, value or None)."""
    out = []
    for item in items:
        k, eq, v = item.partition("=")
        out.append((k.strip(), v if eq else None))
    return out


def _parse_action(item, port_names, depth):
    if not item:
        raise ValueError("empty datapath action")
    if item[0].isdigit():
        return ("output", _u32(item))
    name, body = lex.name_args(item)
    if body is None:
        if name in ("pop_vlan", "ct_clear", "pop_eth"):
            return (name, None)
        if name == "ct":
            return ("ct", _parse_ct(""))
        if port_names:
            by_name = {n: p for p, n in port_names.items()}
            if name in by_name:
                return ("output", by_name[name])
        raise ValueError(f"{item!r}: unknown datapath action")
    if name == "pop_nsh" and not body.strip():
        return (name, None)
    if name == "push_eth":
        f = _fields_of(name, body, ("src", "dst"))
        return (name, (lex.mac_from_text(f["src"]), lex.mac_from_text(f["dst"])))
    if name == "push_nsh":
        items = lex.split_top(body)
        md2 = [i for i in items if i.startswith("md2=")]
        value, _ = odp_keys.parse_nsh(",".join(i for i in items if i not in md2))
        if md2:
            digits = md2[0][4:]
            value["md2"] = bytes.fromhex(digits[2:] if digits[:2].lower() == "0x"
                                         else digits)
        return (name, value)
    if name == "recirc":
        # OVS prints recirc(0x1) but reads only decimal; pyovs reads both.
        value = lex.c_int(body.strip())
        if not 0 <= value <= UINT32_MAX:
            raise ValueError(f"{item!r}: out of range")
        return (name, value)
    if name in ("tnl_pop", "trunc", "meter", "lb_output"):
        return (name, _u32(body.strip()))
    if name == "push_mpls":
        f = _fields_of(name, body, ("label", "tc", "ttl", "bos", "eth_type"))
        lse = ((lex.c_int(f["label"]) & 0xfffff) << 12 | (lex.c_int(f["tc"]) & 7) << 9
               | (lex.c_int(f["bos"]) & 1) << 8 | lex.c_int(f["ttl"]) & 0xff)
        return ("push_mpls", (lse, lex.c_int(f["eth_type"], 16)))
    if name == "pop_mpls":
        return ("pop_mpls", lex.c_int(_fields_of(name, body, ("eth_type",))["eth_type"], 16))
    if name == "hash":
        alg, basis = lex.name_args(body.strip())
        if alg not in ("l4", "sym_l4") or basis is None:
            raise ValueError(f"{item!r}: expected hash(l4(N)) or hash(sym_l4(N))")
        return ("hash", (alg, _u32(basis.strip())))
    if name == "push_vlan":
        tpid, tci, cfi = h.ETH_TYPE_VLAN_8021Q, 0, 1
        for k, v in _kv(lex.split_top(body)):
            if v is None:
                raise ValueError(f"push_vlan: {k!r} needs a value")
            if k == "tpid":
                tpid = lex.c_int(v, 16)
            elif k == "vid":
                tci |= lex.c_int(v) & 0xfff
            elif k == "pcp":
                tci |= (lex.c_int(v) & 7) << 13
            elif k == "cfi":
                cfi = lex.c_int(v) & 1
            else:
                raise ValueError(f"push_vlan: unknown field {k!r}")
        return ("push_vlan", (tpid, tci | (h.VLAN_CFI if cfi else 0)))
    if name == "set":
        attr = odp_keys.parse_attr(body.strip(), port_names)
        if odp_keys._attr_is_exact(attr[0], attr[2]):
            attr = (attr[0], attr[1], None)
        return ("set", attr)
    if name == "clone":
        return ("clone", _parse_list(body, port_names, depth + 1))
    if name == "sample":
        items = lex.split_top(body)
        if len(items) != 2 or not items[0].startswith("sample=") or not items[0].endswith("%"):
            raise ValueError(f"{item!r}: expected sample(sample=P%,actions(...))")
        pct = float(items[0][7:-1])
        if not 0.0 <= pct <= 100.0:
            raise ValueError(f"{item!r}: probability out of range")
        aname, abody = lex.name_args(items[1])
        if aname != "actions" or abody is None:
            raise ValueError(f"{item!r}: expected actions(...)")
        return ("sample", (int(pct / 100.0 * UINT32_MAX),
                           _parse_list(abody, port_names, depth + 1)))
    if name == "check_pkt_len":
        items = lex.split_top(body)
        if len(items) != 3 or not items[0].startswith("size="):
            raise ValueError(f"{item!r}: expected check_pkt_len(size=N,gt(...),le(...))")
        gname, gbody = lex.name_args(items[1])
        lname, lbody = lex.name_args(items[2])
        if gname != "gt" or lname != "le" or gbody is None or lbody is None:
            raise ValueError(f"{item!r}: expected gt(...),le(...)")
        return ("check_pkt_len", (int(items[0][5:]), _parse_list(gbody, port_names, depth + 1),
                                  _parse_list(lbody, port_names, depth + 1)))
    if name == "userspace":
        return ("userspace", _parse_userspace(body))
    if name == "ct":
        return ("ct", _parse_ct(body))
    if name == "tnl_push":
        return ("tnl_push", _parse_tnl_push(body))
    raise ValueError(f"{item!r}: unknown or unsupported datapath action")


def _fields_of(name, body, names):
    """'a=1,b=2' with exactly the fields NAMES, in that order."""
    pairs = _kv(lex.split_top(body))
    if [k for k, _ in pairs] != list(names) or any(v is None for _, v in pairs):
        raise ValueError(f"{name}: expected {'=,'.join(names)}=")
    return dict(pairs)


def _parse_userspace(body):
    items = lex.split_top(body)
    if not items or not items[0].startswith("pid="):
        raise ValueError("userspace: expected pid=")
    arg = {"pid": _u32(items[0][4:]), "cookie": None, "actions": False, "tunnel_out_port": None}
    for item in items[1:]:
        if item == "actions":
            arg["actions"] = True
            continue
        if item.startswith("tunnel_out_port="):
            arg["tunnel_out_port"] = _u32(item[16:])
            continue
        kind, inner = lex.name_args(item)
        if inner is None or arg["cookie"] is not None:
            raise ValueError(f"userspace: unexpected {item!r}")
        if kind == "userdata":
            data = bytes.fromhex(inner)
            arg["cookie"] = ("userdata", data.ljust(8, b"\0"))
        elif kind == "slow_path":
            reasons = 0
            by_name = {v: k for k, v in SLOW_PATH_REASONS.items()}
            for part in inner.split("|") if inner else ():
                if part not in by_name:
                    raise ValueError(f"slow_path: unknown reason {part!r}")
                reasons |= by_name[part]
            arg["cookie"] = ("slow_path", reasons)
        elif kind in COOKIE_FIELDS:
            fields = COOKIE_FIELDS[kind]
            pairs = _kv(lex.split_top(inner))
            payload = {}
            for (k, v), (field, _fmt) in zip(pairs, fields):
                if k != field or v is None:
                    raise ValueError(f"{kind}: expected {field}=")
                payload[field] = lex.c_int(v)
            extra = pairs[len(fields):]
            if len(payload) != len(fields):
                raise ValueError(f"{kind}: missing fields")
            if kind == "flow_sample" and len(extra) == 1 and extra[0][0] in ("ingress", "egress"):
                payload["direction"] = extra[0][0]
            elif extra:
                raise ValueError(f"{kind}: unexpected {extra[0][0]!r}")
            arg["cookie"] = (kind, payload)
        else:
            raise ValueError(f"userspace: unknown cookie {kind!r}")
    return arg


def _parse_ct(body):
    ct = {"commit": False, "force_commit": False, "zone": 0, "mark": 0, "mark_mask": 0,
          "label": 0, "label_mask": 0, "helper": None, "timeout": None, "nat": None}
    for item in lex.split_top(body) if body.strip() else ():
        if item in ("commit", "force_commit"):
            ct[item] = True
            continue
        if item == "nat" or item.startswith("nat("):
            ct["nat"] = _parse_nat(lex.name_args(item)[1])
            continue
        k, eq, v = item.partition("=")
        if not eq:
            raise ValueError(f"ct: unknown option {item!r}")
        if k == "zone":
            ct["zone"] = lex.c_int(v, 16)
        elif k == "mark":
            value, mask = lex.value_mask(v)
            ct["mark"] = lex.c_int(value, 32)
            ct["mark_mask"] = UINT32_MAX if mask is None else lex.c_int(mask, 32)
        elif k == "label":
            value, mask = lex.value_mask(v)
            ct["label"] = lex.c_int(value, 128)
            ct["label_mask"] = (1 << 128) - 1 if mask is None else lex.c_int(mask, 128)
        elif k in ("helper", "timeout"):
            if not v or len(v) > 64:
                raise ValueError(f"ct: bad {k}")
            ct[k] = v
        else:
            raise ValueError(f"ct: unknown option {k!r}")
    return ct


def _parse_nat_addr(text):
    if text.startswith("["):
        if not text.endswith("]"):
            raise ValueError(f"{text!r}: expected ']'")
        return lex.ipv6_from_text(text[1:-1])
    return lex.ipv4_from_text(text)


def _parse_nat(body):
    nat = {"type": None, "addr_min": None, "addr_max": None, "ipv6": False, "port_min": 0,
           "port_max": 0, "persistent": False, "hash": False, "random": False}
    for item in lex.split_top(body) if body else ():
        if item in ("persistent", "hash", "random"):
            nat[item] = True
            continue
        kind, eq, spec = item.partition("=")
        if kind not in ("src", "dst") or nat["type"]:
            raise ValueError(f"nat: unexpected {item!r}")
        nat["type"] = kind
        if not eq:
            continue
        # addresses: A, A-B, [A6], [A6]-[B6]; then optional :P or :P-Q
        if spec.startswith("["):
            end = spec.rfind("]")
            addrs, ports = spec[:end + 1], spec[end + 1:]
            lo, _, hi = addrs.partition("]-[")
            if hi:
                lo, hi = lo + "]", "[" + hi
        else:
            addrs, _, ports = spec.partition(":")
            ports = ":" + ports if ports else ""
            lo, _, hi = addrs.partition("-")
        nat["ipv6"] = lo.startswith("[")
        if hi and hi.startswith("[") != nat["ipv6"]:
            raise ValueError(f"nat: mixed address families in {spec!r}")
        nat["addr_min"] = _parse_nat_addr(lo)
        nat["addr_max"] = _parse_nat_addr(hi) if hi else None
        if ports:
            if not ports.startswith(":"):
                raise ValueError(f"nat: bad port range {ports!r}")
            p_lo, _, p_hi = ports[1:].partition("-")
            nat["port_min"] = lex.c_int(p_lo, 16)
            nat["port_max"] = lex.c_int(p_hi, 16) if p_hi else 0
    return nat


# --- tunnel headers (tnl_push) ---------------------------------------------------------------

def tnl_header_format(header_type, data):
    """The 'header(...)' text of a tnl_push header (raw bytes)."""
    size = len(data)
    if size < h.ETH_HEADER_LEN:
        raise ValueError("tunnel header too short")
    dst, src, dl_type = h.ETH_HEADER.unpack_from(data, 0)
    out = "header(size=%d,type=%d,eth(dst=%s,src=%s,dl_type=0x%04x)," % (
        size, header_type, lex.mac_to_text(dst), lex.mac_to_text(src), dl_type)
    ofs = h.ETH_HEADER_LEN
    if dl_type == h.ETH_TYPE_IPV6:
        vtl, _plen, proto, hlimit, s6, d6 = h.IPV6_HEADER.unpack_from(data, ofs)
        out += "ipv6(src=%s,dst=%s,label=%d,proto=%d,tclass=0x%x,hlimit=%d)," % (
            lex.ipv6_to_text(s6), lex.ipv6_to_text(d6), vtl & 0xfffff, proto,
            (vtl >> 20) & 0xff, hlimit)
        ofs += h.IPV6_HEADER_LEN
    else:
        _v, tos, _l, _i, frag_off, ttl, proto, _c, s4, d4 = h.IPV4_HEADER.unpack_from(data, ofs)
        out += "ipv4(src=%s,dst=%s,proto=%d,tos=%s,ttl=%d,frag=0x%x)," % (
            lex.ipv4_to_text(int.from_bytes(s4, "big")),
            lex.ipv4_to_text(int.from_bytes(d4, "big")),
            proto, lex.cx(tos), ttl, frag_off)
        ofs += h.IP_HEADER_LEN
    if header_type in (TNL_TYPE_VXLAN, TNL_TYPE_GENEVE):
        sport, dport, _len, ucsum = h.UDP_HEADER.unpack_from(data, ofs)
        out += "udp(src=%d,dst=%d,csum=0x%x)," % (sport, dport, ucsum)
        ofs += h.UDP_HEADER_LEN
        if header_type == TNL_TYPE_VXLAN:
            flags, vni = h.VXLAN_HEADER.unpack_from(data, ofs)
            out += "vxlan(flags=0x%x,vni=0x%x)" % (flags, vni >> 8)
        else:
            ver_opt, flags, _proto, vni = h.GENEVE_HEADER.unpack_from(data, ofs)
            parts = []
            if flags & h.GENEVE_OAM:
                parts.append("oam")
            if flags & h.GENEVE_CRIT:
                parts.append("crit")
            parts.append("vni=0x%x" % (vni >> 8))
            opt_len = (ver_opt & 0x3f) * 4
            if opt_len:
                parts.append("options(%s)" % _format_geneve_opts(
                    data[ofs + h.GENEVE_HEADER_LEN:ofs + h.GENEVE_HEADER_LEN + opt_len]))
            out += "geneve(%s)" % ",".join(parts)
    elif header_type in (TNL_TYPE_GRE, TNL_TYPE_IP6GRE):
        flags, proto = h.GRE_BASE_HEADER.unpack_from(data, ofs)
        out += "gre((flags=0x%x,proto=0x%x)" % (flags, proto)
        ofs += h.GRE_BASE_HEADER_LEN
        for bit, label, width in ((h.GRE_CSUM, "csum", 16), (h.GRE_KEY, "key", 32),
                                  (h.GRE_SEQ, "seq", 32)):
            if flags & bit:
                word = struct.unpack_from("!I", data, ofs)[0]
                out += ",%s=0x%x" % (label, word >> 16 if width == 16 else word)
                ofs += 4
        out += ")"
    else:
        raise ValueError(f"tunnel header type {header_type} not supported")
    return out + ")"


def _format_geneve_opts(opts):
    out = []
    ofs = 0
    while ofs + 4 <= len(opts):
        cls, typ, length = h.GENEVE_OPT_HEADER.unpack_from(opts, ofs)
        dlen = (length & 0x1f) * 4
        body = opts[ofs + 4:ofs + 4 + dlen]
        text = "{class=0x%x,type=0x%x,len=%d" % (cls, typ, dlen)
        if dlen:
            text += ",0x%x" % int.from_bytes(body, "big") if any(body) else ",0"
        out.append(text + "}")
        ofs += 4 + dlen
    return "".join(out)


def _fields(body):
    """'a=1,b=2' -> {'a': '1', 'b': '2'}; every item needs a value."""
    if body is None:
        raise ValueError("tunnel header: expected (...)")
    out = {}
    for k, v in _kv(lex.split_top(body)):
        if v is None or k in out:
            raise ValueError(f"tunnel header: bad field {k!r}")
        out[k] = v
    return out


def _need(fields, *names):
    try:
        return [fields[n] for n in names]
    except KeyError as e:
        raise ValueError(f"tunnel header: missing {e.args[0]}=") from None


def tnl_header_parse(text):
    """'header(size=...,type=...,eth(...),ipv4(...),udp(...),vxlan(...))' -> (type, bytes)."""
    name, body = lex.name_args(text)
    if name != "header" or body is None:
        raise ValueError("expected header(...)")
    items = lex.split_top(body)
    if len(items) < 5 or not items[0].startswith("size=") or not items[1].startswith("type="):
        raise ValueError("tunnel header: expected size=,type=,eth(),ip(),...")
    size, header_type = _u32(items[0][5:]), _u32(items[1][5:])
    ename, ebody = lex.name_args(items[2])
    if ename != "eth":
        raise ValueError("tunnel header: expected eth(...)")
    dst, src, dl_type = _need(_fields(ebody), "dst", "src", "dl_type")
    dl_type = lex.c_int(dl_type, 16)
    out = bytearray(struct.pack("!6s6sH", lex.mac_from_text(dst).to_bytes(6, "big"),
                                lex.mac_from_text(src).to_bytes(6, "big"), dl_type))
    iname, ibody = lex.name_args(items[3])
    f = _fields(ibody)
    if iname == "ipv4" and dl_type == h.ETH_TYPE_IP:
        s, d, proto, tos, ttl, frag = _need(f, "src", "dst", "proto", "tos", "ttl", "frag")
        ip = bytearray(h.IPV4_HEADER.pack(
            0x45, lex.c_int(tos, 8), 0, 0, lex.c_int(frag, 16), lex.c_int(ttl, 8),
            lex.c_int(proto, 8), 0, lex.ipv4_from_text(s).to_bytes(4, "big"),
            lex.ipv4_from_text(d).to_bytes(4, "big")))
        struct.pack_into("!H", ip, 10, csum(ip))
        out += ip
    elif iname == "ipv6" and dl_type == h.ETH_TYPE_IPV6:
        s, d, label, proto, tclass, hlimit = _need(f, "src", "dst", "label", "proto", "tclass",
                                                   "hlimit")
        out += h.IPV6_HEADER.pack(6 << 28 | (lex.c_int(tclass, 8) << 20)
                                  | (lex.c_int(label) & 0xfffff), 0, lex.c_int(proto, 8),
                                  lex.c_int(hlimit, 8), lex.ipv6_from_text(s).to_bytes(16, "big"),
                                  lex.ipv6_from_text(d).to_bytes(16, "big"))
    else:
        raise ValueError("tunnel header: expected ipv4(...) or ipv6(...) matching dl_type")
    rest = items[4:]
    if header_type in (TNL_TYPE_VXLAN, TNL_TYPE_GENEVE):
        uname, ubody = lex.name_args(rest[0])
        if uname != "udp" or len(rest) != 2:
            raise ValueError("tunnel header: expected udp(...) and a tunnel header")
        sport, dport, ucsum = _need(_fields(ubody), "src", "dst", "csum")
        out += h.UDP_HEADER.pack(lex.c_int(sport, 16), lex.c_int(dport, 16), 0,
                                 lex.c_int(ucsum, 16))
        tname, tbody = lex.name_args(rest[1])
        if tbody is None:
            raise ValueError("tunnel header: expected vxlan(...) or geneve(...)")
        if header_type == TNL_TYPE_VXLAN and tname == "vxlan":
            flags, vni = _need(_fields(tbody), "flags", "vni")
            out += h.VXLAN_HEADER.pack(lex.c_int(flags, 32), (lex.c_int(vni) & 0xffffff) << 8)
        elif header_type == TNL_TYPE_GENEVE and tname == "geneve":
            flags, vni, opts = 0, None, b""
            for raw in lex.split_top(tbody):
                if raw.startswith("options("):
                    opts = _parse_geneve_opts(lex.name_args(raw)[1])
                    continue
                k, eq, v = raw.partition("=")
                v = v if eq else None
                if k == "oam" and v is None:
                    flags |= h.GENEVE_OAM
                elif k == "crit" and v is None:
                    flags |= h.GENEVE_CRIT
                elif k == "vni" and v is not None:
                    vni = lex.c_int(v) & 0xffffff
                else:
                    raise ValueError(f"geneve: unexpected {k!r}")
            if vni is None:
                raise ValueError("geneve: missing vni=")
            out += h.GENEVE_HEADER.pack(len(opts) // 4, flags, h.ETH_TYPE_TEB, vni << 8) + opts
        else:
            raise ValueError(f"tunnel header: {tname!r} does not match type {header_type}")
    elif header_type in (TNL_TYPE_GRE, TNL_TYPE_IP6GRE):
        gname, gbody = lex.name_args(rest[0])
        if gname != "gre" or len(rest) != 1:
            raise ValueError("tunnel header: expected gre(...)")
        if gbody is None:
            raise ValueError("tunnel header: expected gre(...)")
        gitems = lex.split_top(gbody)
        base = _fields(gitems[0][1:-1] if gitems and gitems[0].startswith("(") else "")
        flags, proto = _need(base, "flags", "proto")
        flags = lex.c_int(flags, 16)
        out += h.GRE_BASE_HEADER.pack(flags, lex.c_int(proto, 16))
        extra = _fields(",".join(gitems[1:]))
        for bit, label in ((h.GRE_CSUM, "csum"), (h.GRE_KEY, "key"), (h.GRE_SEQ, "seq")):
            if flags & bit:
                value = lex.c_int(extra.pop(label, "0"), 32)
                out += struct.pack("!I", value << 16 if label == "csum" else value)
        if extra:
            raise ValueError(f"gre: unexpected {next(iter(extra))!r}")
    else:
        raise ValueError(f"tunnel header type {header_type} not supported")
    if len(out) != size:
        raise ValueError(f"tunnel header: size={size} but the header is {len(out)} bytes")
    return header_type, bytes(out)


def _parse_geneve_opts(body):
    out = b""
    rest = body.strip()
    while rest:
        end = rest.find("}")
        if not rest.startswith("{") or end < 0:
            raise ValueError(f"geneve options: bad option list {body!r}")
        parts, rest = rest[1:end].split(","), rest[end + 1:]
        f = _fields(",".join(parts[:3]))
        cls, typ, length = _need(f, "class", "type", "len")
        dlen = lex.c_int(length)
        if dlen % 4 or dlen > 124:
            raise ValueError("geneve options: bad len")
        data = (lex.c_int(parts[3], dlen * 8).to_bytes(dlen, "big") if len(parts) > 3
                else bytes(dlen))
        out += h.GENEVE_OPT_HEADER.pack(lex.c_int(cls, 16), lex.c_int(typ, 8), dlen // 4) + data
    return out


def _parse_tnl_push(body):
    items = lex.split_top(body)
    if len(items) != 3:
        raise ValueError("tnl_push: expected tnl_port(N),header(...),out_port(N)")
    pname, pbody = lex.name_args(items[0])
    oname, obody = lex.name_args(items[2])
    if pname != "tnl_port" or oname != "out_port" or pbody is None or obody is None:
        raise ValueError("tnl_push: expected tnl_port(N),header(...),out_port(N)")
    header_type, header = tnl_header_parse(items[1])
    return {"tnl_port": _u32(pbody), "header_type": header_type, "header": header,
            "out_port": _u32(obody)}
