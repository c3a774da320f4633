"""The ``tunnel(...)`` key attribute: tunnel metadata of a flow, as odp-util
prints and parses it (``tunnel(tun_id=0x7b,src=1.1.2.92,dst=1.1.2.88,ttl=64,
tp_src=1234,tp_dst=4789,flags(+key))``).

Value: a dict holding only the fields the attribute carries (OVS leaves out
zero addresses, tos and ports): ``tun_id``, ``src``, ``dst``, ``ipv6_src``,
``ipv6_dst``, ``tos``, ``ttl``, ``tp_src``, ``tp_dst``, ``vxlan`` (gbp id,
gbp flags), ``geneve`` (a list of (class, type, data bytes)), and ``flags``
(TNL_F_OAM/DF/CSUM; the key flag is implied by ``tun_id``, as in OVS).
Mask: None (exact) or a dict of the same shape; a field missing from it is
wildcarded.  Geneve option masks are (class, type, len, data bytes).

In a flow the Geneve options are one member, ``tun_geneve`` (GENEVE_MEMBER):
the options as the datapath received them (OVS's "UDPIF" form), as one int
whose leading 0x01 byte keeps the length; its mask has 0xff there, and per
option class/type/len bits and data bits (OVS's megaflow masks class,
type and len exactly and the data as far as translation read it).

Public API: TNL_F_OAM, TNL_F_DONT_FRAGMENT, TNL_F_CSUM, TNL_F_KEY,
TUN_FLAG_NAMES, format_tunnel(value, mask, verbose) -> body text,
parse_tunnel(body) -> (value, mask), GENEVE_MEMBER, GENEVE_MEMBER_BITS,
geneve_to_member(opts) -> int, geneve_from_member(raw) -> opts,
geneve_mask_to_member(opts, masks) -> int,
geneve_mask_from_member(raw, mask) -> masks, GENEVE_HEADER_MASK.
"""

from . import lex

TNL_F_OAM = 1 << 0
TNL_F_DONT_FRAGMENT = 1 << 1
TNL_F_CSUM = 1 << 2
TNL_F_KEY = 1 << 3
TNL_F_MASK = 0xf
TUN_FLAG_NAMES = {TNL_F_OAM: "oam", TNL_F_DONT_FRAGMENT: "df", TNL_F_CSUM: "csum",
                  TNL_F_KEY: "key"}

#: Simple fields in printing order: name -> (width, print, parse, print mask, parse mask)
_HEX64 = (64, lambda v: "0x%x" % v, lambda t: lex.c_int(t, 64), lex.cx, lambda t: lex.c_int(t, 64))
_FIELDS = {
    "tun_id": _HEX64,
    "src": (32, lex.ipv4_to_text, lex.ipv4_from_text, lex.ipv4_to_text, lex.ipv4_mask_from_text),
    "dst": (32, lex.ipv4_to_text, lex.ipv4_from_text, lex.ipv4_to_text, lex.ipv4_mask_from_text),
    "ipv6_src": (128, lex.ipv6_to_text, lex.ipv6_from_text, lex.ipv6_to_text,
                 lex.ipv6_mask_from_text),
    "ipv6_dst": (128, lex.ipv6_to_text, lex.ipv6_from_text, lex.ipv6_to_text,
                 lex.ipv6_mask_from_text),
    "tos": (8, lex.cx, lambda t: lex.c_int(t, 8), lex.cx, lambda t: lex.c_int(t, 8)),
    "ttl": (8, str, lambda t: lex.c_int(t, 8), lex.cx, lambda t: lex.c_int(t, 8)),
    "tp_src": (16, str, lambda t: lex.c_int(t, 16), lex.cx, lambda t: lex.c_int(t, 16)),
    "tp_dst": (16, str, lambda t: lex.c_int(t, 16), lex.cx, lambda t: lex.c_int(t, 16)),
}
# Fields OVS leaves out of the attribute when their value is zero.
_OMIT_IF_ZERO = ("src", "dst", "ipv6_src", "ipv6_dst", "tos", "tp_src", "tp_dst")


#: The flow member holding a packet's Geneve options raw, and its width
#: (the leading byte and at most 252 bytes of options).
GENEVE_MEMBER = "tun_geneve"
GENEVE_MEMBER_BITS = 8 * (1 + 252)
#: An option header's mask in a megaflow: class, type and len exact.
GENEVE_HEADER_MASK = (0xffff, 0xff, 0x1f)


def _opts_bytes(opts, len_of):
    return b"".join(bytes((cls >> 8 & 0xff, cls & 0xff, typ & 0xff, len_of(data)))
                    + bytes(data) for cls, typ, data in opts)


def geneve_to_member(opts):
    """[(class, type, data)] -> the tun_geneve member (0 without options)."""
    if not opts:
        return 0
    return int.from_bytes(b"\x01" + _opts_bytes(opts, lambda d: len(d) // 4 & 0x1f), "big")


def geneve_from_member(raw):
    """The tun_geneve member -> [(class, type, data)]; a cut option ends it."""
    b = raw.to_bytes((raw.bit_length() + 7) // 8, "big")[1:] if raw else b""
    out, ofs = [], 0
    while ofs + 4 <= len(b):
        n = (b[ofs + 3] & 0x1f) * 4
        if ofs + 4 + n > len(b):
            break
        out.append((b[ofs] << 8 | b[ofs + 1], b[ofs + 2], b[ofs + 4:ofs + 4 + n]))
        ofs += 4 + n
    return out


def geneve_mask_to_member(opts, masks):
    """The mask member for OPTS (as geneve_to_member) from option masks
    [(class, type, len, data)]; a missing mask is all zero."""
    if not opts:
        return 0
    body = b""
    for i, (_c, _t, data) in enumerate(opts):
        cm, tm, lm, dm = masks[i] if i < len(masks) else (0, 0, 0, b"")
        dm = bytes(dm[:len(data)]).ljust(len(data), b"\0")
        body += bytes((cm >> 8 & 0xff, cm & 0xff, tm & 0xff, lm & 0xff)) + dm
    return int.from_bytes(b"\xff" + body, "big")


def geneve_mask_from_member(raw, mask):
    """Option masks [(class, type, len, data)] of the tun_geneve member RAW
    under the mask member MASK."""
    n = (raw.bit_length() + 7) // 8
    m = (mask or 0) & ((1 << 8 * n) - 1)
    b = m.to_bytes(n, "big")[1:] if n else b""
    out, ofs = [], 0
    for _c, _t, data in geneve_from_member(raw):
        out.append((b[ofs] << 8 | b[ofs + 1], b[ofs + 2], b[ofs + 3],
                    b[ofs + 4:ofs + 4 + len(data)]))
        ofs += 4 + len(data)
    return out


def _field(out, name, show, show_mask, width, value, mask, verbose):
    if mask is not None and mask == 0 and not verbose:
        return
    if mask is None or mask == (1 << width) - 1:
        out.append("%s=%s" % (name, show(value)))
    else:
        out.append("%s=%s/%s" % (name, show(value), show_mask(mask)))


def _hex(data):
    value = int.from_bytes(data, "big")
    return "0x%x" % value if value else "0"


def _format_geneve(opts, masks, verbose):
    out = ""
    for i, (cls, typ, data) in enumerate(opts):
        m = masks[i] if masks is not None and i < len(masks) else None
        parts = []
        _field(parts, "class", lex.cx, lex.cx, 16, cls, None if m is None else m[0], verbose)
        _field(parts, "type", lex.cx, lex.cx, 8, typ, None if m is None else m[1], verbose)
        len_mask = None if m is None else (0xff if m[2] == 0x1f else m[2])
        _field(parts, "len", str, lex.cx, 8, len(data), len_mask, verbose)
        text = ",".join(parts)
        if data and (verbose or m is None or any(m[3])):
            text += ("," if text else "") + _hex(data)
            if m is not None and not all(b == 0xff for b in m[3]):
                text += "/" + _hex(m[3])
        out += "{%s}" % text
    return out


def format_tunnel(value, mask=None, verbose=False):
    """The body of a tunnel(...) attribute."""
    out = []
    for name, (width, show, _p, show_mask, _pm) in _FIELDS.items():
        if name in value:
            _field(out, name, show, show_mask, width, value[name],
                   None if mask is None else mask.get(name, 0), verbose)
        if name == "tp_dst":
            if "vxlan" in value:
                gid, gflags = value["vxlan"]
                gm = None if mask is None else mask.get("vxlan", (0, 0))
                parts = []
                _field(parts, "id", str, lex.cx, 16, gid, None if gm is None else gm[0], verbose)
                _field(parts, "flags", lex.cx, lex.cx, 8, gflags, None if gm is None else gm[1],
                       verbose)
                out.append("vxlan(gbp(%s))" % ",".join(parts))
            if "geneve" in value:
                out.append("geneve(%s)" % _format_geneve(
                    value["geneve"], None if mask is None else mask.get("geneve", []), verbose))
    flags = value.get("flags", 0) & ~TNL_F_KEY | (TNL_F_KEY if "tun_id" in value else 0)
    if mask is None:
        # As OVS: explicit flags make the whole mask exact (a plain set,
        # "flags(df|key)"); without them only tun_id's key bit is known (a
        # masked set: "flags(+key)", or nothing).
        if "flags" in value:
            out.append("flags(%s)" % _flags(flags))
        elif flags:
            out.append("flags(%s)" % _flags_masked(flags, TNL_F_KEY))
    else:
        mflags = mask.get("flags", 0) & ~TNL_F_KEY | (TNL_F_KEY if mask.get("tun_id") else 0)
        if verbose or mflags:
            out.append("flags(%s)" % _flags_masked(flags, mflags & TNL_F_MASK))
    return ",".join(out)


def _flags(flags):
    return lex.format_flags(TUN_FLAG_NAMES, flags)


def _flags_masked(flags, mask):
    return lex.format_flags_masked(TUN_FLAG_NAMES, flags, mask, TNL_F_MASK)


def _parse_geneve(body):
    opts, masks = [], []
    rest = body.strip()
    while rest:
        end = rest.find("}")
        if not rest.startswith("{") or end < 0:
            raise ValueError(f"geneve: bad option list {body!r}")
        items, rest = lex.split_top(rest[1:end]), rest[end + 1:]
        f = {}
        data_text = None
        for item in items:
            k, eq, v = item.partition("=")
            if eq and k in ("class", "type", "len") and k not in f:
                f[k] = lex.value_mask(v)
            elif not eq and data_text is None and k:
                data_text = lex.value_mask(k)
            else:
                raise ValueError(f"geneve: unexpected {item!r}")
        if not f and data_text is None:
            # "{}": an option whose every field is wildcarded, as printed.
            opts.append((0, 0, b""))
            masks.append((0, 0, 0, b""))
            continue
        # (a field left out is 0, wildcarded, as OVS reads it)
        for k in ("class", "type", "len"):
            f.setdefault(k, ("0", "0"))
        length = lex.c_int(f["len"][0])
        if length % 4 or length > 124:
            raise ValueError("geneve: bad len")
        cls, typ = lex.c_int(f["class"][0], 16), lex.c_int(f["type"][0], 8)
        data = (lex.c_int(data_text[0], 8 * length).to_bytes(length, "big") if data_text
                else bytes(length))
        cm = 0xffff if f["class"][1] is None else lex.c_int(f["class"][1], 16)
        tm = 0xff if f["type"][1] is None else lex.c_int(f["type"][1], 8)
        lm = 0x1f if f["len"][1] is None else lex.c_int(f["len"][1], 8)
        if data_text and data_text[1] is not None:
            dm = lex.c_int(data_text[1], 8 * length).to_bytes(length, "big")
        else:
            dm = b"\xff" * length
        opts.append((cls, typ, data))
        masks.append((cm, tm, lm, dm))
    return opts, masks


def parse_tunnel(body):
    """Body of tunnel(...) -> (value, mask).  Raises ValueError."""
    value, mask = {}, {}
    for item in lex.split_top(body):
        name, args = lex.name_args(item) if "(" in item.split("=", 1)[0] else (None, None)
        if name == "flags" and args is not None:
            if "flags" in value:
                raise ValueError("tunnel: flags given twice")
            flags, fmask = lex.parse_flags(TUN_FLAG_NAMES, args, 4)
            value["flags"] = flags & ~TNL_F_KEY
            mask["flags"] = (TNL_F_MASK if fmask is None else fmask) & ~TNL_F_KEY
            continue
        if name == "vxlan" and args is not None:
            gname, gbody = lex.name_args(args)
            if gname != "gbp" or gbody is None or "vxlan" in value:
                raise ValueError("tunnel: expected vxlan(gbp(id=N,flags=N))")
            gv, gm = [0, 0], [0, 0]
            for sub in lex.split_top(gbody):
                k, eq, v = sub.partition("=")
                idx = {"id": 0, "flags": 1}.get(k)
                if not eq or idx is None:
                    raise ValueError(f"gbp: unexpected {sub!r}")
                v, m = lex.value_mask(v)
                bits = 16 if idx == 0 else 8
                gv[idx] = lex.c_int(v, bits)
                gm[idx] = (1 << bits) - 1 if m is None else lex.c_int(m, bits)
            value["vxlan"], mask["vxlan"] = tuple(gv), tuple(gm)
            continue
        if name == "geneve" and args is not None:
            if "geneve" in value:
                raise ValueError("tunnel: geneve given twice")
            value["geneve"], mask["geneve"] = _parse_geneve(args)
            continue
        k, eq, text = item.partition("=")
        spec = _FIELDS.get(k)
        if not eq or spec is None or k in value:
            raise ValueError(f"tunnel: unexpected {item!r}")
        width, _s, parse, _sm, parse_mask = spec
        v, m = lex.value_mask(text)
        value[k] = parse(v)
        mask[k] = (1 << width) - 1 if m is None else parse_mask(m)
    for k in _OMIT_IF_ZERO:
        if value.get(k) == 0:
            del value[k]      # OVS's key has no attribute for a zero value
    return value, mask


def is_exact(mask):
    """Whether a tunnel mask matches every bit of every field it has."""
    if mask is None:
        return True
    for k, m in mask.items():
        if k in _FIELDS:
            if m != (1 << _FIELDS[k][0]) - 1:
                return False
        elif k == "flags":
            if m != TNL_F_MASK & ~TNL_F_KEY:
                return False
        elif k == "vxlan":
            if m != (0xffff, 0xff):
                return False
        elif k == "geneve":
            if any(o[:3] != (0xffff, 0xff, 0x1f) or not all(b == 0xff for b in o[3]) for o in m):
                return False
    return True


def is_wildcard(mask):
    if mask is None:
        return False
    for k, m in mask.items():
        if k == "vxlan":
            if any(m):
                return False
        elif k == "geneve":
            if any(o[0] or o[1] or o[2] or any(o[3]) for o in m):
                return False
        elif m:
            return False
    return True
