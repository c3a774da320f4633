"""Datapath flow keys and masks, and their text (OVS's odp-util format).

A datapath flow key is an ordered list of attributes, each a tuple
``(name, value, mask)``:

- scalar attributes (``recirc_id``, ``in_port``, ``eth_type``, ``vlan``,
  ``ct_state``, ``tcp_flags``, ...) have an int value and an int mask;
- struct attributes (``eth``, ``ipv4``, ``tcp``, ``arp``, ``nd``, ...) have a
  dict value ``{field: atom}`` and a dict mask of the same fields;
- ``encap`` holds a nested attribute list as its value (mask None).

A mask of None means exact (an unmasked key, as in ``set(...)`` or a packet's
key).  Atoms: MACs and IPv6 addresses are ``bytes``, IPv4 addresses and
everything else ints; ``frag`` is the ODP enumeration (0 no, 1 first,
2 later).

One table, ``KEY_ATTRS``, says for every attribute how its text is formed,
and drives both ``parse_flow`` and ``format_flow``.  Printing follows
odp_flow_format(): without ``verbose`` an attribute whose mask is all zero is
left out, and inside an attribute a field whose mask is zero is left out;
partially masked values print as ``value/mask``.

``flow_to_key(flow)`` turns a flow dict from pyovs.packet.flow into the key
list in the order OVS's datapath serialises it, so a dump of a flow pyovs's
datapath extracted prints like OVS's.

Public API: KEY_ATTRS, parse_flow(text, port_names=None) -> list,
format_flow(attrs, verbose=False, port_names=None) -> str,
format_key_attr(attr, verbose=False, port_names=None) -> str,
flow_to_key(flow, mask=None) -> list, frag_from_nw_frag(nw_frag),
TCP_FLAG_NAMES, CT_STATE_NAMES.
"""

from . import lex

# --- field formats -------------------------------------------------------------------------
# name -> (width in bits, parse(text) -> atom, parse_mask(text) -> atom, print(atom) -> text,
#          print_mask(atom) -> text)

_FULL = {}


def _ones(bits):
    return (1 << bits) - 1


def _u8u_fmt():
    return (8, lambda t: lex.c_int(t, 8), lambda t: lex.c_int(t, 8), str, lex.cx)


FIELD_FORMATS = {
    "eth": (48, lex.mac_from_text, lex.mac_from_text, lex.mac_to_text, lex.mac_to_text),
    "ipv4": (32, lex.ipv4_from_text, lex.ipv4_mask_from_text, lex.ipv4_to_text, lex.ipv4_to_text),
    "ipv6": (128, lex.ipv6_from_text, lex.ipv6_mask_from_text, lex.ipv6_to_text, lex.ipv6_to_text),
    "u8u": _u8u_fmt(),
    "u8x": (8, lambda t: lex.c_int(t, 8), lambda t: lex.c_int(t, 8), lex.cx, lex.cx),
    "be16": (16, lambda t: lex.c_int(t, 16), lambda t: lex.c_int(t, 16), str, lex.cx),
    "be16x": (16, lambda t: lex.c_int(t, 16), lambda t: lex.c_int(t, 16), lex.cx, lex.cx),
    "label": (20, lambda t: lex.c_int(t, 32), lambda t: lex.c_int(t, 32), lex.cx, lex.cx),
}

FRAG_NAMES = ("no", "first", "later")


def _is_zero(atom):
    return not any(atom) if isinstance(atom, bytes) else atom == 0


def _is_full(fmt, atom):
    if isinstance(atom, bytes):
        return all(b == 0xff for b in atom)
    if fmt == "label":
        return atom & 0xfffff == 0xfffff
    if fmt == "frag":
        return atom & 0x3 == 0x3 or atom == 0xff
    return atom == _ones(FIELD_FORMATS[fmt][0])


def _zero_atom(fmt):
    if fmt == "eth":
        return bytes(6)
    if fmt == "ipv6":
        return bytes(16)
    return 0


def _full_atom(fmt):
    if fmt == "eth":
        return b"\xff" * 6
    if fmt == "ipv6":
        return b"\xff" * 16
    if fmt == "frag":
        return 0xff
    return _ones(FIELD_FORMATS[fmt][0])


# --- the attribute table -------------------------------------------------------------------

class KeyAttr:
    """How one key attribute is written.  KIND is 'struct' (FIELDS is a list of
    (field name, field format)), or one of the scalar kinds."""

    __slots__ = ("name", "kind", "fields", "bits")

    def __init__(self, name, kind, fields=(), bits=32):
        self.name, self.kind, self.fields, self.bits = name, kind, tuple(fields), bits


def _s(name, *fields):
    return KeyAttr(name, "struct", fields)


_L4_PORTS = (("src", "be16"), ("dst", "be16"))
_ICMP = (("type", "u8u"), ("code", "u8u"))

#: Every key attribute pyovs knows, in the order OVS's datapath writes a key.
KEY_ATTRS = {a.name: a for a in (
    KeyAttr("skb_priority", "u32x"),
    KeyAttr("skb_mark", "u32x"),
    KeyAttr("ct_state", "ct_state"),
    KeyAttr("ct_zone", "u16x_opt", bits=16),
    KeyAttr("ct_mark", "u32x_opt"),
    KeyAttr("ct_label", "u128", bits=128),
    KeyAttr("recirc_id", "u32x"),
    KeyAttr("dp_hash", "u32x"),
    KeyAttr("in_port", "in_port"),
    _s("packet_type", ("ns", "be16"), ("id", "be16x")),
    _s("eth", ("src", "eth"), ("dst", "eth")),
    KeyAttr("eth_type", "eth_type", bits=16),
    KeyAttr("vlan", "vlan", bits=16),
    KeyAttr("encap", "encap"),
    _s("ipv4", ("src", "ipv4"), ("dst", "ipv4"), ("proto", "u8u"), ("tos", "u8x"),
       ("ttl", "u8u"), ("frag", "frag")),
    _s("ipv6", ("src", "ipv6"), ("dst", "ipv6"), ("label", "label"), ("proto", "u8u"),
       ("tclass", "u8x"), ("hlimit", "u8u"), ("frag", "frag")),
    _s("arp", ("sip", "ipv4"), ("tip", "ipv4"), ("op", "be16"), ("sha", "eth"), ("tha", "eth")),
    _s("tcp", *_L4_PORTS),
    _s("udp", *_L4_PORTS),
    _s("sctp", *_L4_PORTS),
    _s("icmp", *_ICMP),
    _s("icmpv6", *_ICMP),
    KeyAttr("tcp_flags", "tcp_flags", bits=12),
    _s("nd", ("target", "ipv6"), ("sll", "eth"), ("tll", "eth")),
)}

TCP_FLAG_NAMES = {0x001: "fin", 0x002: "syn", 0x004: "rst", 0x008: "psh", 0x010: "ack",
                  0x020: "urg", 0x040: "ece", 0x080: "cwr", 0x100: "ns",
                  0x200: "[200]", 0x400: "[400]", 0x800: "[800]"}
CT_STATE_NAMES = {0x01: "new", 0x02: "est", 0x04: "rel", 0x08: "rpl", 0x10: "inv",
                  0x20: "trk", 0x40: "snat", 0x80: "dnat"}
_FLAG_TABLES = {"tcp_flags": TCP_FLAG_NAMES, "ct_state": CT_STATE_NAMES}


# --- printing ---------------------------------------------------------------------------------

def _format_flags(names, flags, delim="|"):
    if not flags:
        return "0"
    out, bad = [], 0
    bit = 1
    while flags >= bit:
        if flags & bit:
            name = names.get(bit)
            if name:
                out.append(name)
            else:
                bad |= bit
        bit <<= 1
    if bad:
        out.append("0x%x" % bad)
    return delim.join(out)


def _format_flags_masked(names, flags, mask, max_mask):
    if mask == max_mask:
        return _format_flags(names, flags)
    if not mask:
        return "0/0"
    out = []
    bit = 1
    while mask >= bit:
        if mask & bit:
            out.append(("+" if flags & bit else "-") + names.get(bit, "[Unknown]"))
        bit <<= 1
    return "".join(out)


def _format_field(out, name, fmt, key, mask, verbose):
    if fmt == "frag":
        if mask is not None and mask == 0:
            return
        if mask is not None and not _is_full("frag", mask):
            out.append("error: partial mask not supported for frag (%s)" % lex.cx(mask))
        else:
            out.append("%s=%s" % (name, FRAG_NAMES[key] if 0 <= key < 3 else "<error>"))
        return
    if not verbose and mask is not None and _is_zero(mask):
        return
    _, _, _, show, show_mask = FIELD_FORMATS[fmt]
    if mask is None or _is_full(fmt, mask):
        out.append("%s=%s" % (name, show(key)))
    else:
        out.append("%s=%s/%s" % (name, show(key), show_mask(mask)))


def _format_vlan(tci, mask, verbose):
    out = []
    if mask is None:
        mask = 0xffff
    vid, vid_mask = tci & 0xfff, mask & 0xfff
    if verbose or vid or vid_mask:
        out.append("vid=%d" % vid + ("" if vid_mask == 0xfff else "/0x%x" % vid_mask))
    pcp, pcp_mask = tci >> 13, mask >> 13
    if verbose or pcp or pcp_mask:
        out.append("pcp=%d" % pcp + ("" if pcp_mask == 7 else "/0x%x" % pcp_mask))
    if not tci & 0x1000:
        out.append("cfi=0")
    return ",".join(out)


def _u128_hex(value):
    return "0x%x" % value if value else "0"


def _attr_is_exact(attr, mask):
    if mask is None:
        return True
    spec = KEY_ATTRS.get(attr)
    if spec is None or spec.kind == "encap":
        return True
    if spec.kind == "struct":
        return all(_is_full(fmt, mask[f]) for f, fmt in spec.fields)
    return mask == _ones(spec.bits)


def _attr_is_wildcard(attr, mask):
    if mask is None:
        return False
    spec = KEY_ATTRS.get(attr)
    if spec.kind == "encap":
        return False
    if spec.kind == "struct":
        return all(_is_zero(mask[f]) for f, _ in spec.fields)
    return mask == 0


def format_key_attr(attr, verbose=False, port_names=None):
    """Text of one (name, value, mask) attribute, e.g. 'ipv4(src=10.0.0.1,...)'."""
    name, value, mask = attr
    spec = KEY_ATTRS[name]
    kind = spec.kind
    exact = _attr_is_exact(name, mask)
    if kind == "struct":
        out = []
        for field, fmt in spec.fields:
            _format_field(out, field, fmt, value[field], None if mask is None else mask[field],
                          verbose)
        body = ",".join(out)
    elif kind == "encap":
        body = format_flow(value, verbose, port_names) if value else ""
    elif kind == "u32x":
        body = lex.cx(value) + ("" if exact else "/" + lex.cx(mask))
    elif kind in ("u32x_opt", "u16x_opt"):
        body = ""
        if verbose or mask is None or mask:
            body = lex.cx(value) + ("" if exact else "/" + lex.cx(mask))
    elif kind == "u128":
        body = ""
        if verbose or mask is None or mask:
            body = _u128_hex(value) + ("" if exact else "/" + _u128_hex(mask))
    elif kind == "ct_state":
        if verbose:
            body = lex.cx(value) + ("" if exact else "/" + lex.cx(mask or 0))
        else:
            body = _format_flags_masked(CT_STATE_NAMES, value,
                                        0xffffffff if mask is None else mask, 0xffffffff)
    elif kind == "tcp_flags":
        if exact:
            body = _format_flags(TCP_FLAG_NAMES, value)
        else:
            body = _format_flags_masked(TCP_FLAG_NAMES, value, mask & 0xfff, 0xfff)
    elif kind == "in_port":
        if exact:
            body = port_names.get(value, str(value)) if port_names else str(value)
        else:
            body = "%d/%s" % (value, lex.cx(mask))
    elif kind == "eth_type":
        body = "0x%04x" % value + ("" if exact else "/0x%04x" % mask)
    elif kind == "vlan":
        body = _format_vlan(value, mask, verbose)
    else:  # pragma: no cover - the table and this function list the same kinds
        raise AssertionError(kind)
    return "%s(%s)" % (name, body)


def format_flow(attrs, verbose=False, port_names=None):
    """odp_flow_format(): the text of a key/mask attribute list."""
    if not attrs:
        return "<empty>"
    out = []
    has_packet_type = any(a[0] == "packet_type" for a in attrs)
    for attr in attrs:
        if verbose or not _attr_is_wildcard(attr[0], attr[2]):
            out.append(format_key_attr(attr, verbose, port_names))
        elif attr[0] == "eth" and not has_packet_type:
            # Without packet_type, eth() says "this is an Ethernet packet".
            out.append("eth()")
    return ",".join(out)


# --- parsing ----------------------------------------------------------------------------------

def _parse_flags(names, text, bits):
    """'syn|ack', '+syn-ack', '0x12/0xff' or a number -> (value, mask|None)."""
    by_name = {v: k for k, v in names.items()}
    if text and text[0] in "+-":
        value = mask = 0
        i = 0
        while i < len(text):
            sign = text[i]
            if sign not in "+-":
                raise ValueError(f"{text!r}: expected '+' or '-'")
            j = i + 1
            while j < len(text) and text[j] not in "+-":
                j += 1
            bit = by_name.get(text[i + 1:j])
            if bit is None:
                raise ValueError(f"{text[i + 1:j]!r}: unknown flag")
            if mask & bit:
                raise ValueError(f"{text[i + 1:j]!r}: flag given twice")
            mask |= bit
            if sign == "+":
                value |= bit
            i = j
        return value, mask
    v, m = lex.value_mask(text)
    if v and (v[0].isdigit()):
        return lex.c_int(v, bits), None if m is None else lex.c_int(m, bits)
    value = 0
    for part in v.split("|"):
        bit = by_name.get(part)
        if bit is None:
            raise ValueError(f"{part!r}: unknown flag")
        value |= bit
    return value, None if m is None else lex.c_int(m, bits)


def _parse_vlan(body):
    tci = mask = 0
    cfi_given = False
    for item in lex.split_top(body):
        key, _, val = item.partition("=")
        v, m = lex.value_mask(val)
        if key == "vid":
            v, m = lex.c_int(v) & 0xfff, 0xfff if m is None else lex.c_int(m) & 0xfff
            tci |= v
            mask |= m
        elif key == "pcp":
            v, m = lex.c_int(v) & 7, 7 if m is None else lex.c_int(m) & 7
            tci |= v << 13
            mask |= m << 13
        elif key == "cfi":
            cfi_given = True
            tci |= (lex.c_int(v) & 1) << 12
            mask |= (1 if m is None else lex.c_int(m) & 1) << 12
        else:
            raise ValueError(f"vlan: unknown field {key!r}")
    if not cfi_given:
        tci |= 0x1000
        mask |= 0x1000
    return tci, mask


def _parse_struct(spec, body):
    value = {f: _zero_atom(fmt) for f, fmt in spec.fields}
    mask = {f: _zero_atom(fmt) for f, fmt in spec.fields}
    fmts = dict(spec.fields)
    for item in lex.split_top(body):
        field, eq, text = item.partition("=")
        fmt = fmts.get(field)
        if not eq or fmt is None:
            raise ValueError(f"{spec.name}: unknown field {field!r}")
        v, m = lex.value_mask(text)
        if fmt == "frag":
            if v not in FRAG_NAMES:
                raise ValueError(f"{v!r}: invalid frag type")
            value[field] = FRAG_NAMES.index(v)
            mask[field] = 0xff if m is None else lex.c_int(m, 8)
            continue
        _, parse, parse_mask, _, _ = FIELD_FORMATS[fmt]
        value[field] = parse(v)
        mask[field] = _full_atom(fmt) if m is None else parse_mask(m)
    return value, mask


def _parse_scalar(spec, body, port_names):
    v, m = lex.value_mask(body)
    bits = spec.bits
    if spec.kind == "in_port" and port_names and not v[:1].isdigit():
        by_name = {n: p for p, n in port_names.items()}
        if v not in by_name:
            raise ValueError(f"{v!r}: unknown port")
        value = by_name[v]
    else:
        value = lex.c_int(v, bits)
    return value, _ones(bits) if m is None else lex.c_int(m, bits)


def parse_attr(item, port_names=None):
    """Parse one 'name(...)' key attribute -> (name, value, mask)."""
    name, body = lex.name_args(item)
    spec = KEY_ATTRS.get(name)
    if spec is None or body is None:
        raise ValueError(f"{item!r}: unknown or unsupported datapath key attribute")
    kind = spec.kind
    if kind == "struct":
        value, mask = _parse_struct(spec, body)
    elif kind == "encap":
        return (name, parse_flow(body, port_names) if body.strip() else [], None)
    elif kind == "vlan":
        value, mask = _parse_vlan(body)
    elif kind in ("ct_state", "tcp_flags"):
        value, mask = _parse_flags(_FLAG_TABLES[kind], body, spec.bits)
        if mask is None:
            mask = _ones(spec.bits)
    else:
        value, mask = _parse_scalar(spec, body, port_names)
    return (name, value, mask)


def parse_flow(text, port_names=None):
    """odp_flow_from_string(): 'in_port(1),eth(...),...' -> attribute list with masks.

    Fields an attribute does not mention are wildcarded (value 0, mask 0).
    Raises ValueError on anything it cannot parse."""
    attrs = []
    seen = set()
    for item in lex.split_top(text):
        if not item:
            raise ValueError("empty datapath key attribute")
        attr = parse_attr(item, port_names)
        if attr[0] in seen:
            raise ValueError(f"{attr[0]}: attribute given twice")
        seen.add(attr[0])
        attrs.append(attr)
    return attrs


# --- flows -> keys ----------------------------------------------------------------------------

def frag_from_nw_frag(nw_frag):
    """A flow's nw_frag bits -> ODP frag type (0 no, 1 first, 2 later)."""
    if not nw_frag & 1:
        return 0
    return 2 if nw_frag & 2 else 1


def flow_to_key(flow):
    """odp_flow_key_from_flow() for the userspace datapath: a flow dict (see
    pyovs.packet.flow) -> the attribute list (masks None), in OVS's order."""
    key = [("skb_priority", flow["skb_priority"], None),
           ("skb_mark", flow["pkt_mark"], None),
           ("ct_state", flow["ct_state"], None),
           ("ct_zone", flow["ct_zone"], None),
           ("ct_mark", flow["ct_mark"], None),
           ("ct_label", flow["ct_label"], None),
           ("recirc_id", flow["recirc_id"], None),
           ("dp_hash", flow["dp_hash"], None),
           ("in_port", flow["in_port"], None),
           ("packet_type", {"ns": 0, "id": 0}, None),
           ("eth", {"src": flow["dl_src"], "dst": flow["dl_dst"]}, None)]
    tail = key
    for tpid, tci in flow["vlans"]:
        tail.append(("eth_type", tpid, None))
        tail.append(("vlan", tci, None))
        inner = []
        tail.append(("encap", inner, None))
        tail = inner
    dl_type = flow["dl_type"]
    if dl_type < 0x600:
        return key
    tail.append(("eth_type", dl_type, None))
    frag = frag_from_nw_frag(flow["nw_frag"])
    if dl_type == 0x0800:
        tail.append(("ipv4", {"src": flow["nw_src"], "dst": flow["nw_dst"],
                              "proto": flow["nw_proto"], "tos": flow["nw_tos"],
                              "ttl": flow["nw_ttl"], "frag": frag}, None))
    elif dl_type == 0x86dd:
        tail.append(("ipv6", {"src": flow["ipv6_src"], "dst": flow["ipv6_dst"],
                              "label": flow["ipv6_label"], "proto": flow["nw_proto"],
                              "tclass": flow["nw_tos"], "hlimit": flow["nw_ttl"],
                              "frag": frag}, None))
    elif dl_type in (0x0806, 0x8035):
        tail.append(("arp", {"sip": flow["nw_src"], "tip": flow["nw_dst"],
                             "op": flow["nw_proto"], "sha": flow["arp_sha"],
                             "tha": flow["arp_tha"]}, None))
        return key
    else:
        return key
    if frag == 2:
        return key
    proto = flow["nw_proto"]
    ports = {"src": flow["tp_src"], "dst": flow["tp_dst"]}
    if proto == 6:
        tail.append(("tcp", ports, None))
        tail.append(("tcp_flags", flow["tcp_flags"], None))
    elif proto == 17:
        tail.append(("udp", ports, None))
    elif proto == 132:
        tail.append(("sctp", ports, None))
    elif proto == 1 and dl_type == 0x0800:
        tail.append(("icmp", {"type": flow["tp_src"], "code": flow["tp_dst"]}, None))
    elif proto == 58 and dl_type == 0x86dd:
        tail.append(("icmpv6", {"type": flow["tp_src"], "code": flow["tp_dst"]}, None))
        if flow["tp_dst"] == 0 and flow["tp_src"] in (135, 136):
            tail.append(("nd", {"target": flow["nd_target"], "sll": flow["arp_sha"],
                                "tll": flow["arp_tha"]}, None))
    return key
