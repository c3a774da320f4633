"""Datapath flow keys and masks, and their text (OVS's odp-util format).

A datapath flow key is an ordered list of attributes, each a tuple
``(name, value, mask)``:

- scalar attributes (``recirc_id``, ``in_port``, ``eth_type``, ``vlan``,
  ``ct_state``, ``tcp_flags``, ...) have an int value and an int mask
  (``mpls``: a tuple of label stack entries and a tuple of masks);
- struct attributes (``eth``, ``ipv4``, ``tcp``, ``arp``, ``nd``, ...) have a
  dict value ``{field: atom}`` and a dict mask of the same fields;
- ``tunnel`` has a dict of the tunnel fields present (see pyovs.odp.tunnel);
- ``encap`` holds a nested attribute list as its value (mask None);
- ``("eth_type", None, mask)`` is a mask without a key: a megaflow that
  matches only frames without an Ethertype (printed ``eth_type(0/0xffff)``
  at the end, as OVS does).

A mask of None means exact (an unmasked key, as in ``set(...)`` or a packet's
key).  ``frag`` is the ODP enumeration (0 no, 1 first, 2 later).

One table, ``KEY_ATTRS``, says for every attribute how its text is formed,
and drives both ``parse_flow`` and ``format_flow``.  Printing follows
odp_flow_format(): without ``verbose`` an attribute whose mask is all zero is
left out, and inside an attribute a field whose mask is zero is left out;
partially masked values print as ``value/mask``.  All atoms are ints (MACs
48-bit, IPv6 addresses 128-bit), as in pyovs's flow dicts.

``flow_to_key(flow, mask)`` turns a flow dict (pyovs.packet.flow's members)
and, for a megaflow, its mask dict into the attribute list in the order
OVS's datapath serialises it, so ``format_flow`` of it prints a megaflow as
``dpctl/dump-flows`` does; ``key_to_flow(attrs)`` is the inverse, giving
(flow, mask) for ``dpctl/add-flow`` and ``netdev-dummy/receive``.  What
STRUCT_MEMBERS / SCALAR_MEMBERS / TUNNEL_MEMBERS / VLAN_MEMBERS / MPLS_MEMBERS
say is the
only place a key field is tied to a flow member.

Two things OVS's userspace datapath does when it stores a megaflow, which
the datapath (not this module) must do to dump byte for byte alike: it
zeroes the tcp_flags value when tcp_flags is wildcarded, and it drops the
headers inside a VLAN whose TCI is wildcarded (QinQ).

The ``tunnel(...)`` attribute's text lives in pyovs.odp.tunnel.

Public API: KEY_ATTRS, parse_flow(text, port_names=None) -> list,
parse_attr(text, port_names=None) -> (name, value, mask),
format_flow(attrs, verbose=False, port_names=None) -> str,
format_key_attr(attr, verbose=False, port_names=None) -> str,
flow_to_key(flow, mask=None) -> list, key_to_flow(attrs) -> (flow, mask),
FlowKeyError,
frag_from_nw_frag(nw_frag), TCP_FLAG_NAMES, CT_STATE_NAMES,
STRUCT_MEMBERS, SCALAR_MEMBERS, TUNNEL_MEMBERS, VLAN_MEMBERS, MPLS_MEMBERS.
"""

from . import lex
from . import tunnel as odp_tunnel

# --- field formats -------------------------------------------------------------------------

def _ones(bits):
    return (1 << bits) - 1


def _u8u_fmt():
    return (8, lambda t: lex.c_int(t, 8), lambda t: lex.c_int(t, 8), str, lex.cx)


#: Field formats: name -> (width in bits, parse value, parse mask, print value,
#: print mask).  All atoms are ints (MACs 48-bit, IPv6 addresses 128-bit).
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


def _is_full(fmt, atom):
    if fmt == "label":
        return atom & 0xfffff == 0xfffff
    if fmt == "frag":
        return atom == 0xff
    return atom == _ones(FIELD_FORMATS[fmt][0])


def _full_atom(fmt):
    return 0xff if fmt == "frag" else _ones(FIELD_FORMATS[fmt][0])


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
    KeyAttr("tunnel", "tunnel"),
    KeyAttr("skb_mark", "u32x"),
    KeyAttr("ct_state", "ct_state"),
    KeyAttr("ct_zone", "u16x_opt", bits=16),
    KeyAttr("ct_mark", "u32x_opt"),
    KeyAttr("ct_label", "u128", bits=128),
    _s("ct_tuple4", ("src", "ipv4"), ("dst", "ipv4"), ("proto", "u8u"), ("tp_src", "be16"),
       ("tp_dst", "be16")),
    _s("ct_tuple6", ("src", "ipv6"), ("dst", "ipv6"), ("proto", "u8u"), ("src_port", "be16"),
       ("dst_port", "be16")),
    KeyAttr("recirc_id", "u32x"),
    KeyAttr("dp_hash", "u32x"),
    KeyAttr("in_port", "in_port"),
    _s("packet_type", ("ns", "be16"), ("id", "be16x")),
    _s("eth", ("src", "eth"), ("dst", "eth")),
    KeyAttr("eth_type", "eth_type", bits=16),
    KeyAttr("vlan", "vlan", bits=16),
    KeyAttr("encap", "encap"),
    KeyAttr("mpls", "mpls"),          # value: a tuple of label stack entries
    KeyAttr("nsh", "nsh"),            # value/mask: dicts of NSH_FIELDS
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

def _format_field(out, name, fmt, key, mask, verbose):
    if fmt == "frag":
        if mask is not None and mask == 0:
            return
        if mask is not None and not _is_full("frag", mask):
            out.append("error: partial mask not supported for frag (%s)" % lex.cx(mask))
        else:
            out.append("%s=%s" % (name, FRAG_NAMES[key] if 0 <= key < 3 else "<error>"))
        return
    if not verbose and mask is not None and mask == 0:
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


# An MPLS label stack entry: label (20 bits), tc (3), bos (1), ttl (8).
_MPLS_FIELDS = (("label", 12, 0xfffff, "/0x%x"), ("tc", 9, 7, "/%x"), ("ttl", 0, 0xff, "/0x%x"),
                ("bos", 8, 1, "/%x"))


def _format_mpls(lses, masks):
    """LSES: the label stack entries, outermost first; MASKS the same or None.
    Unless the whole attribute is exact, OVS prints every field's mask."""
    exact = masks is None or all(m == 0xffffffff for m in masks)
    out = []
    for i, lse in enumerate(lses):
        for name, shift, width, mask_fmt in _MPLS_FIELDS:
            text = "%s=%d" % (name, lse >> shift & width)
            if not exact:
                text += mask_fmt % (masks[i] >> shift & width)
            out.append(text)
    return ",".join(out)


def _parse_mpls(body):
    """Up to three label stack entries, each label=,tc=,ttl=,bos= (any order)."""
    lses, masks, seen = [], [], set()
    fields = {f[0]: f for f in _MPLS_FIELDS}
    for item in lex.split_top(body):
        key, eq, val = item.partition("=")
        if not eq or key not in fields:
            raise ValueError(f"mpls: unknown field {key!r}")
        if not lses or key in seen:
            if len(lses) == 3:
                raise ValueError("mpls: more than three label stack entries")
            lses.append(0)
            masks.append(0)
            seen = set()
        seen.add(key)
        _, shift, width, _ = fields[key]
        v, m = lex.value_mask(val)
        lses[-1] |= (lex.c_int(v) & width) << shift
        masks[-1] |= (width if m is None else lex.c_int(m) & width) << shift
    if not lses:
        raise ValueError("mpls: no label stack entry")
    return tuple(lses), tuple(masks)


def _u128_hex(value):
    return "0x%x" % value if value else "0"


def _attr_is_exact(attr, mask):
    if mask is None:
        return True
    spec = KEY_ATTRS.get(attr)
    if spec is None or spec.kind == "encap":
        return True
    if spec.kind == "tunnel":
        return odp_tunnel.is_exact(mask)
    if spec.kind == "mpls":
        return all(m == 0xffffffff for m in mask)
    if spec.kind == "struct":
        return all(_is_full(fmt, mask[f]) for f, fmt in spec.fields)
    if spec.kind == "nsh":
        return False        # (mdtype and np are never written: always masked)
    return mask == _ones(spec.bits)


def _attr_is_wildcard(attr, mask):
    if mask is None:
        return False
    spec = KEY_ATTRS.get(attr)
    if spec.kind == "encap":
        return False
    if spec.kind == "tunnel":
        return odp_tunnel.is_wildcard(mask)
    if spec.kind == "mpls":
        return not any(mask)
    if spec.kind == "struct":
        return all(mask[f] == 0 for f, _ in spec.fields)
    if spec.kind == "nsh":
        return not any(mask.values())
    return mask == 0


#: The NSH key's fields and widths in bits (OVS's ovs_key_nsh; spi and si
#: are its path header's two parts).
NSH_FIELDS = (("flags", 8), ("ttl", 8), ("mdtype", 8), ("np", 8), ("spi", 24),
              ("si", 8), ("c1", 32), ("c2", 32), ("c3", 32), ("c4", 32))


def format_nsh(value, mask=None):
    """An nsh(...) key's body as OVS writes it: every base field and, for MD
    type 1, the context headers; masked, the fields whose mask is not zero,
    a partial mask after a slash."""
    g = value.get
    if mask is None:
        out = ["flags=%d" % g("flags", 0), "ttl=%d" % g("ttl", 0),
               "mdtype=%d" % g("mdtype", 0), "np=%d" % g("np", 0),
               "spi=0x%x" % g("spi", 0), "si=%d" % g("si", 0)]
        if g("mdtype", 0) == 1:
            out += ["c%d=0x%x" % (i, g("c%d" % i, 0)) for i in range(1, 5)]
        return ",".join(out)
    out = []
    for f, bits in NSH_FIELDS:
        m = mask.get(f, 0)
        if not m:
            continue
        v = g(f, 0)
        if m == _ones(bits):
            out.append("%s=%d" % (f, v) if bits == 8 else "%s=0x%x" % (f, v))
        elif bits == 8:
            out.append("%s=0x%02x/0x%02x" % (f, v, m))
        else:
            out.append("%s=0x%x/0x%08x" % (f, v, m))
    return ",".join(out)


def _nsh_attr(flow, mask):
    """The nsh key attribute of an NSH flow (MASK None: exact)."""
    value = {f: flow.get("nsh_" + f, 0) for f, _ in NSH_FIELDS}
    if mask is None:
        return ("nsh", value, None)
    return ("nsh", value, {f: mask.get("nsh_" + f, 0) & _ones(bits)
                           for f, bits in NSH_FIELDS})


def parse_nsh(body):
    """An nsh(...) key's body -> (value, mask); a field left out is wildcarded."""
    value, mask = {}, {}
    widths = dict(NSH_FIELDS)
    for item in lex.split_top(body):
        f, _, text = item.partition("=")
        if f not in widths or not text:
            raise ValueError(f"nsh: bad field {item!r}")
        v, m = lex.value_mask(text)
        value[f] = lex.c_int(v, 32) & _ones(widths[f])
        mask[f] = _ones(widths[f]) if m is None else lex.c_int(m, 32) & _ones(widths[f])
    for f, bits in NSH_FIELDS:
        value.setdefault(f, 0)
        mask.setdefault(f, 0)
    return value, mask


def format_key_attr(attr, verbose=False, port_names=None):
    """Text of one (name, value, mask) attribute, e.g. 'ipv4(src=10.0.0.1,...)'."""
    name, value, mask = attr
    spec = KEY_ATTRS[name]
    if spec.kind == "nsh":
        return "nsh(%s)" % format_nsh(value, mask)
    if name == "mpls" and not value:
        return "mpls((bad key length 0)"      # sic: OVS's text, unbalanced
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
    elif kind == "tunnel":
        body = odp_tunnel.format_tunnel(value, mask, verbose)
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
            body = lex.format_flags_masked(CT_STATE_NAMES, value,
                                        0xffffffff if mask is None else mask, 0xffffffff)
    elif kind == "tcp_flags":
        if exact:
            body = lex.format_flags(TCP_FLAG_NAMES, value)
        else:
            body = lex.format_flags_masked(TCP_FLAG_NAMES, value, mask & 0xfff, 0xfff)
    elif kind == "in_port":
        if exact:
            body = port_names.get(value, str(value)) if port_names else str(value)
        else:
            body = "%d/%s" % (value, lex.cx(mask))
    elif kind == "eth_type":
        body = "0x%04x" % value + ("" if exact else "/0x%04x" % mask)
    elif kind == "vlan":
        body = _format_vlan(value, mask, verbose)
    elif kind == "mpls":
        body = _format_mpls(value, mask)
    else:  # pragma: no cover - the table and this function list the same kinds
        raise AssertionError(kind)
    return "%s(%s)" % (name, body)


def format_flow(attrs, verbose=False, port_names=None):
    """odp_flow_format(): the text of a key/mask attribute list."""
    if not attrs:
        return "<empty>"
    out = []
    has_packet_type = any(a[0] == "packet_type" for a in attrs)
    mask_only_type = None
    for attr in attrs:
        if attr[1] is None:
            # A mask without a key: matches frames with no Ethertype (802.2).
            mask_only_type = attr[2]
            continue
        if verbose or not _attr_is_wildcard(attr[0], attr[2]):
            out.append(format_key_attr(attr, verbose, port_names))
        elif attr[0] == "eth" and not has_packet_type:
            # Without packet_type, eth() says "this is an Ethernet packet".
            out.append("eth()")
    text = ",".join(out)
    if mask_only_type is not None:
        text += ",eth_type(0/0x%04x)" % mask_only_type
    return text


# --- parsing ----------------------------------------------------------------------------------

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


# Other names the parser accepts for a field (OVS reads ct_tuple6's ports as
# tp_src/tp_dst but prints them as src_port/dst_port).
_FIELD_ALIASES = {"ct_tuple6": {"tp_src": "src_port", "tp_dst": "dst_port"}}


def _parse_struct(spec, body):
    fmts = dict(spec.fields)
    aliases = _FIELD_ALIASES.get(spec.name, {})
    value = dict.fromkeys(fmts, 0)
    mask = dict.fromkeys(fmts, 0)
    for item in lex.split_top(body):
        field, eq, text = item.partition("=")
        field = aliases.get(field, field)
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
    elif kind == "tunnel":
        value, mask = odp_tunnel.parse_tunnel(body)
    elif kind == "vlan":
        value, mask = _parse_vlan(body)
    elif kind == "mpls":
        value, mask = _parse_mpls(body)
    elif kind == "nsh":
        value, mask = parse_nsh(body)
    elif kind in ("ct_state", "tcp_flags"):
        value, mask = lex.parse_flags(_FLAG_TABLES[kind], body, spec.bits)
        if mask is None:
            mask = _ones(spec.bits)
    else:
        value, mask = _parse_scalar(spec, body, port_names)
        if name == "eth_type" and value == 0 and "/" in body:
            value = None    # the mask-only form format_flow prints
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


# --- flows <-> keys ---------------------------------------------------------------------------
# Which flow member (pyovs.openflow.fields.STORAGE names) each key field carries.

STRUCT_MEMBERS = {
    "eth": {"src": "dl_src", "dst": "dl_dst"},
    "ipv4": {"src": "nw_src", "dst": "nw_dst", "proto": "nw_proto", "tos": "nw_tos",
             "ttl": "nw_ttl", "frag": "nw_frag"},
    "ipv6": {"src": "ipv6_src", "dst": "ipv6_dst", "label": "ipv6_label", "proto": "nw_proto",
             "tclass": "nw_tos", "hlimit": "nw_ttl", "frag": "nw_frag"},
    "arp": {"sip": "nw_src", "tip": "nw_dst", "op": "nw_proto", "sha": "arp_sha",
            "tha": "arp_tha"},
    "tcp": {"src": "tp_src", "dst": "tp_dst"},
    "udp": {"src": "tp_src", "dst": "tp_dst"},
    "sctp": {"src": "tp_src", "dst": "tp_dst"},
    "icmp": {"type": "tp_src", "code": "tp_dst"},
    "icmpv6": {"type": "tp_src", "code": "tp_dst"},
    "nd": {"target": "nd_target", "sll": "arp_sha", "tll": "arp_tha"},
    "ct_tuple4": {"src": "ct_nw_src", "dst": "ct_nw_dst", "proto": "ct_nw_proto",
                  "tp_src": "ct_tp_src", "tp_dst": "ct_tp_dst"},
    "ct_tuple6": {"src": "ct_ipv6_src", "dst": "ct_ipv6_dst", "proto": "ct_nw_proto",
                  "src_port": "ct_tp_src", "dst_port": "ct_tp_dst"},
}
SCALAR_MEMBERS = {"skb_priority": "skb_priority", "skb_mark": "pkt_mark",
                  "ct_state": "ct_state", "ct_zone": "ct_zone", "ct_mark": "ct_mark",
                  "ct_label": "ct_label", "recirc_id": "recirc_id", "dp_hash": "dp_hash",
                  "in_port": "in_port", "tcp_flags": "tcp_flags"}
#: Flow members for the MPLS label stack entries, outermost first (mpls_lse
#: is STORAGE's; the deeper two are extra members of pyovs's packet flows).
MPLS_MEMBERS = ("mpls_lse", "mpls_lse1", "mpls_lse2")
#: Tunnel fields -> flow members (tun_tp_src/tun_tp_dst are pyovs extras;
#: the Geneve options are odp_tunnel.GENEVE_MEMBER, raw).
TUNNEL_MEMBERS = {"tun_id": "tun_id", "src": "tun_src", "dst": "tun_dst",
                  "ipv6_src": "tun_ipv6_src", "ipv6_dst": "tun_ipv6_dst", "tos": "tun_tos",
                  "ttl": "tun_ttl", "tp_src": "tun_tp_src", "tp_dst": "tun_tp_dst",
                  "flags": "tun_flags"}
#: Flow members for the VLAN headers, outermost first (vlan_tci is STORAGE's;
#: the TPIDs and the inner header are extra members of pyovs's packet flows).
VLAN_MEMBERS = (("vlan_tpid", "vlan_tci"), ("vlan_tpid2", "vlan_tci2"))

# Field widths for narrowing flow members into key fields (ICMP type/code are
# 8 bits of the 16-bit tp_src/tp_dst, as in OVS's key).
_FIELD_WIDTHS = {
    name: {f: 0xffffffff if fmt in ("label", "frag") else _ones(FIELD_FORMATS[fmt][0])
           for f, fmt in KEY_ATTRS[name].fields}
    for name in STRUCT_MEMBERS}

_METADATA = ("skb_priority", "skb_mark", "ct_state", "ct_zone", "ct_mark", "ct_label",
             "recirc_id", "dp_hash", "in_port")


def frag_from_nw_frag(nw_frag):
    """A flow's nw_frag bits -> ODP frag type (0 no, 1 first, 2 later)."""
    if not nw_frag & 1:
        return 0
    return 2 if nw_frag & 2 else 1


def frag_mask_from_nw_frag(mask):
    if not mask:
        return 0
    return 0xfc | (1 if mask & 1 else 0) | (2 if mask & 2 else 0)


_NW_FRAG_OF_FRAG = (0, 1, 3)


def flow_to_key(flow, mask=None):
    """odp_flow_key_from_flow() for the userspace datapath.

    FLOW is a flow dict (member -> int, missing members 0); with MASK (a dict
    of the same shape) the attributes carry masks from it, as a megaflow is
    dumped.  Which attributes appear depends on FLOW only."""
    g = flow.get
    mg = mask.get if mask is not None else None

    def scalar(name):
        member = SCALAR_MEMBERS[name]
        return (name, g(member, 0), None if mg is None else mg(member, 0))

    def struct(name):
        members = STRUCT_MEMBERS[name]
        widths = _FIELD_WIDTHS[name]
        value = {f: g(m, 0) & widths[f] for f, m in members.items()}
        if mg is None:
            return (name, value, None)
        return (name, value, {f: mg(m, 0) & widths[f] for f, m in members.items()})

    key = [scalar(n) for n in _METADATA]
    if g("ct_nw_proto", 0):
        # The original direction's tuple, after ct_label (OVS's order).
        key.insert(6, struct("ct_tuple6" if g("ct_ipv6_src", 0) or g("ct_ipv6_dst", 0)
                             else "ct_tuple4"))
    if g("tun_dst", 0) or g("tun_ipv6_dst", 0):
        key.insert(1, _tunnel_attr(flow, mask))
    full16 = None if mg is None else 0xffff
    pt = g("packet_type", 0)
    key.append(("packet_type", {"ns": pt >> 16, "id": pt & 0xffff},
                None if mg is None else {"ns": 0xffff, "id": 0xffff}))
    if not pt:
        key.append(struct("eth"))
    tail = key
    depth = 0
    for tpid_member, tci_member in VLAN_MEMBERS:
        tci = g(tci_member, 0)
        if not tci or pt:       # (a layer-3 packet has no VLAN header)
            break
        tail.append(("eth_type", g(tpid_member, 0x8100), full16))
        tail.append(("vlan", tci, None if mg is None else mg(tci_member, 0)))
        inner = []
        tail.append(("encap", inner, None))
        tail = inner
        depth += 1
    dl_type = g("dl_type", 0)
    if dl_type in (0x8100, 0x88a8):
        # A VLAN tag too short to read: OVS writes an empty one.
        tci_member = VLAN_MEMBERS[min(depth, len(VLAN_MEMBERS) - 1)][1]
        tail.append(("eth_type", dl_type, full16))
        tail.append(("vlan", 0, None if mg is None else mg(tci_member, 0)))
        tail.append(("encap", [], None))
        return key
    if dl_type < 0x600:
        if mg is not None and mg("dl_type", 0):
            tail.append(("eth_type", None, mg("dl_type", 0)))
        return key
    tail.append(("eth_type", dl_type, None if mg is None else mg("dl_type", 0)))
    nw_frag = g("nw_frag", 0)
    if dl_type in (0x0800, 0x86dd):
        attr = struct("ipv4" if dl_type == 0x0800 else "ipv6")
        attr[1]["frag"] = frag_from_nw_frag(nw_frag)
        if attr[2] is not None:
            attr[2]["frag"] = frag_mask_from_nw_frag(attr[2]["frag"])
        tail.append(attr)
    elif dl_type in (0x8847, 0x8848):
        n = 0
        for i, member in enumerate(MPLS_MEMBERS):     # OVS's flow_count_mpls_labels()
            lse = g(member, 0)
            if lse & 0x100:
                n = i + 1
                break
            if lse:
                n += 1
        # (n == 0, a stack cut short, gives OVS's empty attribute too)
        tail.append(("mpls", tuple(g(m, 0) for m in MPLS_MEMBERS[:n]),
                     None if mg is None else tuple(mg(m, 0) for m in MPLS_MEMBERS[:n])))
        return key
    elif dl_type == 0x894f:
        if "nsh_mdtype" in flow:        # (a header OVS could parse)
            tail.append(_nsh_attr(flow, mask))
        return key
    elif dl_type in (0x0806, 0x8035):
        attr = struct("arp")
        # nw_proto holds the opcode's low byte; OVS widens 0xff to 0xffff,
        # in the key as in the mask.
        if attr[1]["op"] == 0xff:
            attr[1]["op"] = 0xffff
        if attr[2] is not None and attr[2]["op"] == 0xff:
            attr[2]["op"] = 0xffff
        tail.append(attr)
        return key
    else:
        return key
    if nw_frag & 2:
        return key
    proto = g("nw_proto", 0)
    if proto == 6:
        tail.append(struct("tcp"))
        if g("tcp_flags", 0) or (mg is not None and mg("tcp_flags", 0)):
            tail.append(scalar("tcp_flags"))
    elif proto == 17:
        tail.append(struct("udp"))
    elif proto == 132:
        tail.append(struct("sctp"))
    elif proto == 1 and dl_type == 0x0800:
        tail.append(struct("icmp"))
    elif proto == 58 and dl_type == 0x86dd:
        tail.append(struct("icmpv6"))
        if g("tp_dst", 0) == 0 and g("tp_src", 0) in (135, 136):
            tail.append(struct("nd"))
    return key


def _tunnel_attr(flow, mask):
    g = flow.get
    value, tmask = {}, None if mask is None else {}
    for field, member in TUNNEL_MEMBERS.items():
        v = g(member, 0)
        if field == "tun_id":
            if not g("tun_flags", 0) & odp_tunnel.TNL_F_KEY:
                continue
        elif field == "flags":
            v &= ~odp_tunnel.TNL_F_KEY
        elif field != "ttl" and not v:
            continue
        value[field] = v
        if tmask is not None and mask.get(member, 0):
            tmask[field] = mask[member]
    if g("tun_gbp_id", 0) or g("tun_gbp_flags", 0):
        value["vxlan"] = (g("tun_gbp_id", 0), g("tun_gbp_flags", 0))
        if tmask is not None:
            tmask["vxlan"] = (mask.get("tun_gbp_id", 0), mask.get("tun_gbp_flags", 0))
    raw = g(odp_tunnel.GENEVE_MEMBER, 0)
    if raw:
        value["geneve"] = odp_tunnel.geneve_from_member(raw)
        if tmask is not None:
            tmask["geneve"] = odp_tunnel.geneve_mask_from_member(
                raw, mask.get(odp_tunnel.GENEVE_MEMBER, 0))
    return ("tunnel", value, tmask)


class FlowKeyError(ValueError):
    """A key that parses but is no flow (OVS's odp_flow_key_to_flow()
    refuses it); the text is OVS's message."""


def key_to_flow(attrs):
    """Attribute list (as parse_flow returns) -> (flow dict, mask dict).

    A None attribute mask means exact.  Members not mentioned stay out of
    both dicts (0 and wildcarded).  Raises ValueError for keys pyovs's flows
    cannot hold (more than two VLAN headers), FlowKeyError for those OVS
    refuses (a tunnel without a TTL)."""
    for name, value, _m in attrs:
        if name == "tunnel" and "ttl" not in value:
            raise FlowKeyError("tunnel options missing TTL; the flow key in error is: "
                               + format_flow([(n, v, None if v is not None else m)
                                              for n, v, m in attrs]))
    flow, mask = {}, {}
    _key_to_flow(attrs, flow, mask, 0)
    if ("dl_type" not in flow and "vlan_tci" not in flow and any(a[0] == "eth" for a in attrs)
            and all(_attr_is_exact(a[0], a[2]) for a in attrs)):
        # An exact key of an Ethernet frame without an Ethertype: 802.2.
        flow["dl_type"], mask["dl_type"] = 0x5ff, 0xffff
    return flow, mask


def _key_to_flow(attrs, flow, mask, depth):
    pending_type = None
    for name, value, amask in attrs:
        spec = KEY_ATTRS[name]
        if name == "encap":
            if pending_type is None:
                raise ValueError("encap() without vlan()")
            _key_to_flow(value, flow, mask, depth + 1)
        elif name == "vlan":
            if depth >= len(VLAN_MEMBERS):
                raise ValueError("more than two VLAN headers")
            tpid_member, tci_member = VLAN_MEMBERS[depth]
            tpid, tpid_mask = pending_type if pending_type else (0x8100, 0xffff)
            flow[tpid_member], mask[tpid_member] = tpid, tpid_mask
            flow[tci_member] = value
            mask[tci_member] = 0xffff if amask is None else amask
            flow.pop("dl_type", None)
            mask.pop("dl_type", None)
        elif name == "tunnel":
            for field, v in value.items():
                m = None if amask is None else amask.get(field, 0)
                if field == "geneve":
                    member = odp_tunnel.GENEVE_MEMBER
                    flow[member] = odp_tunnel.geneve_to_member(v)
                    if m is None:
                        m = [odp_tunnel.GENEVE_HEADER_MASK + (b"\xff" * len(d),)
                             for _c, _t, d in v]
                    mask[member] = odp_tunnel.geneve_mask_to_member(v, m or [])
                    continue
                if field == "vxlan":
                    flow["tun_gbp_id"], flow["tun_gbp_flags"] = v
                    mask["tun_gbp_id"], mask["tun_gbp_flags"] = (
                        (0xffff, 0xff) if m is None else (m or (0, 0)))
                    continue
                member = TUNNEL_MEMBERS[field]
                flow[member] = v
                if m is None:
                    m = (1 << odp_tunnel._FIELDS[field][0]) - 1 if field != "flags" else 0x7
                mask[member] = m
            if "tun_id" in value:
                flow["tun_flags"] = flow.get("tun_flags", 0) | odp_tunnel.TNL_F_KEY
                mask["tun_flags"] = mask.get("tun_flags", 0) | odp_tunnel.TNL_F_KEY
        elif name == "eth_type" and value is None:
            flow["dl_type"], mask["dl_type"] = 0x5ff, amask
        elif name == "mpls":
            for i, lse in enumerate(value):
                flow[MPLS_MEMBERS[i]] = lse
                mask[MPLS_MEMBERS[i]] = 0xffffffff if amask is None else amask[i]
        elif name == "nsh":
            for f, bits in NSH_FIELDS:
                flow["nsh_" + f] = value.get(f, 0)
                mask["nsh_" + f] = _ones(bits) if amask is None else amask.get(f, 0)
        elif name == "eth_type":
            pending_type = (value, 0xffff if amask is None else amask)
            flow["dl_type"], mask["dl_type"] = pending_type
        elif name in SCALAR_MEMBERS:
            member = SCALAR_MEMBERS[name]
            flow[member] = value
            mask[member] = _ones(spec.bits) if amask is None else amask
        elif name in STRUCT_MEMBERS:
            for field, member in STRUCT_MEMBERS[name].items():
                v = value[field]
                m = _full_atom(dict(spec.fields)[field]) if amask is None else amask[field]
                if field == "frag":
                    v = _NW_FRAG_OF_FRAG[v] if 0 <= v < 3 else 0
                    m = 0 if not m else (3 if m == 0xff else (m & 3))
                elif name == "arp" and field == "op":
                    v, m = v & 0xff, m & 0xff
                elif field == "label":
                    m &= 0xfffff
                flow[member] = v
                mask[member] = m
        elif name == "packet_type":
            # A layer-3 packet (namespace 1): its Ethertype is the id.
            pt = value["ns"] << 16 | value["id"]
            if pt:
                flow["packet_type"], mask["packet_type"] = pt, 0xffffffff
                if value["ns"] == 1 and "dl_type" not in flow:
                    flow["dl_type"], mask["dl_type"] = value["id"], 0xffff
