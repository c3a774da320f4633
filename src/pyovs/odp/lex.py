"""Small lexical helpers shared by the ODP key and action text parsers."""

import socket

MAX_TEXT = 65536   # no datapath flow or action list is longer than this


def split_top(text):
    """Split TEXT at commas that are not inside parentheses (or braces).

    Raises ValueError on unbalanced parentheses."""
    if len(text) > MAX_TEXT:
        raise ValueError("datapath text too long")
    items, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c == "(" or c == "{":
            depth += 1
        elif c == ")" or c == "}":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ')' in {text!r}")
        elif c == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
    if depth:
        raise ValueError(f"unbalanced '(' in {text!r}")
    tail = text[start:].strip()
    if tail or items:
        items.append(tail)
    return items


def name_args(item):
    """'name(args)' -> ('name', 'args'); 'name' -> ('name', None)."""
    i = item.find("(")
    if i < 0:
        return item.strip(), None
    if not item.endswith(")"):
        raise ValueError(f"{item!r}: expected ')' at end")
    return item[:i].strip(), item[i + 1:-1]


def c_int(text, bits=None):
    """Parse an integer as C's scanf %i does: 0x hex, leading-0 octal, decimal."""
    t = text.strip()
    neg = t.startswith("-")
    body = t[1:] if neg or t.startswith("+") else t
    if body[:2].lower() == "0x":
        value = int(body[2:], 16)
    elif len(body) > 1 and body[0] == "0":
        value = int(body[1:], 8)
    else:
        if not body.isdigit():
            raise ValueError(f"{text!r}: not a number")
        value = int(body, 10)
    if neg:
        value = -value
    if bits is not None:
        value &= (1 << bits) - 1
    return value


def cx(value):
    """C's %#x: '0' for zero, else '0x...'."""
    return "0x%x" % value if value else "0"


def value_mask(text):
    """'v/m' -> ('v', 'm'); 'v' -> ('v', None)."""
    v, sep, m = text.partition("/")
    return v, (m if sep else None)


def mac_from_text(text):
    """'aa:bb:cc:dd:ee:ff' -> 48-bit int."""
    parts = text.split(":")
    if len(parts) != 6 or not all(1 <= len(p) <= 2 for p in parts):
        raise ValueError(f"{text!r}: invalid Ethernet address")
    try:
        return int.from_bytes(bytes(int(p, 16) for p in parts), "big")
    except ValueError:
        raise ValueError(f"{text!r}: invalid Ethernet address") from None


def mac_to_text(value):
    """48-bit int (or 6 bytes) -> 'aa:bb:cc:dd:ee:ff'."""
    if not isinstance(value, int):
        value = int.from_bytes(value, "big")
    return "%02x:%02x:%02x:%02x:%02x:%02x" % tuple(value.to_bytes(6, "big"))


def ipv4_from_text(text):
    try:
        return int.from_bytes(socket.inet_aton(text), "big") if text.count(".") == 3 else _bad(text)
    except OSError:
        raise ValueError(f"{text!r}: invalid IPv4 address") from None


def _bad(text):
    raise ValueError(f"{text!r}: invalid IP address")


def ipv4_to_text(value):
    return "%d.%d.%d.%d" % (value >> 24, value >> 16 & 255, value >> 8 & 255, value & 255)


def ipv4_mask_from_text(text, width=32):
    """A mask given as an address or as a prefix length."""
    if "." in text:
        return ipv4_from_text(text)
    n = int(text)
    if not 0 <= n <= width:
        raise ValueError(f"{text!r}: invalid prefix length")
    return ((1 << width) - 1) ^ ((1 << (width - n)) - 1)


def ipv6_from_text(text):
    """IPv6 address text -> 128-bit int."""
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
    except OSError:
        raise ValueError(f"{text!r}: invalid IPv6 address") from None


def ipv6_to_text(value):
    """128-bit int (or 16 bytes) -> compressed IPv6 text."""
    if isinstance(value, int):
        value = value.to_bytes(16, "big")
    return socket.inet_ntop(socket.AF_INET6, value)


def ipv6_mask_from_text(text):
    if ":" in text:
        return ipv6_from_text(text)
    n = int(text)
    if not 0 <= n <= 128:
        raise ValueError(f"{text!r}: invalid prefix length")
    return ((1 << 128) - 1) ^ ((1 << (128 - n)) - 1)


def format_flags(names, flags, delim="|"):
    """OVS's format_flags(): bit names joined by DELIM, unnamed bits in hex, '0' if none."""
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


def format_flags_masked(names, flags, mask, max_mask):
    """OVS's format_flags_masked(): '+name-name' for the masked bits."""
    if mask == max_mask:
        return format_flags(names, flags)
    if not mask:
        return "0/0"
    out = []
    bit = 1
    while mask >= bit:
        if mask & bit:
            out.append(("+" if flags & bit else "-") + names.get(bit, "[Unknown]"))
        bit <<= 1
    return "".join(out)


def parse_flags(names, text, bits):
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
    v, m = value_mask(text)
    if v and (v[0].isdigit()):
        return c_int(v, bits), None if m is None else c_int(m, bits)
    value = 0
    for part in v.split("|"):
        bit = by_name.get(part)
        if bit is None:
            raise ValueError(f"{part!r}: unknown flag")
        value |= bit
    return value, None if m is None else c_int(m, bits)
