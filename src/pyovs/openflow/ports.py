"""OpenFlow port numbers: the reserved ports, their names, and 16<->32 bits.

pyovs keeps ports as OpenFlow 1.0 16-bit numbers internally (as OVS's
ofp_port_t); OpenFlow 1.1+ 32-bit numbers are converted at the codec edge.

Public API: OFPP_* constants, port_to_string(port), port_from_string(text)
-> int or None, to_ofp11(port), from_ofp11(port32) -> int or None.
"""

OFPP_MAX = 0xff00
OFPP_IN_PORT = 0xfff8
OFPP_TABLE = 0xfff9
OFPP_NORMAL = 0xfffa
OFPP_FLOOD = 0xfffb
OFPP_ALL = 0xfffc
OFPP_CONTROLLER = 0xfffd
OFPP_LOCAL = 0xfffe
OFPP_NONE = 0xffff
OFPP_ANY = OFPP_NONE
OFPP11_MAX = 0xffffff00
OFPP11_OFFSET = 0xffff0000

NAMES = {
    OFPP_IN_PORT: "IN_PORT", OFPP_TABLE: "TABLE", OFPP_NORMAL: "NORMAL",
    OFPP_FLOOD: "FLOOD", OFPP_ALL: "ALL", OFPP_CONTROLLER: "CONTROLLER",
    OFPP_LOCAL: "LOCAL", OFPP_NONE: "ANY",
}
_BY_NAME = {v: k for k, v in NAMES.items()}
_BY_NAME["NONE"] = OFPP_NONE


def port_to_string(port, names=None):
    """PORT as ovs-ofctl prints it: a reserved name or a decimal number.
    NAMES, if given, maps numbers to port names (--names)."""
    if port in NAMES:
        return NAMES[port]
    if names and port in names:
        return _quote_name(names[port])
    return str(port)


def _quote_name(name):
    if name and all(c.isalnum() or c in "_-.@" for c in name) and not name.isdigit():
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def port_from_string(text, names=None):
    """Parse a port: a number, a reserved name (any case), or a port name
    from NAMES (dict name -> number).  Returns None if invalid."""
    if not text or len(text) > 256:
        return None
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
        return names.get(text) if names else None
    if text.isdigit():
        n = int(text)
        if n < OFPP_MAX:
            return n
        if n <= 0xffff:
            return n if n in NAMES else None
        if OFPP11_MAX <= n <= 0xffffffff:
            return from_ofp11(n)
        return None
    upper = text.upper()
    if upper in _BY_NAME:
        return _BY_NAME[upper]
    if names and text in names:
        return names[text]
    return None


def to_ofp11(port):
    """16-bit port to OpenFlow 1.1+ 32-bit port."""
    return port + OFPP11_OFFSET if port >= OFPP_MAX else port


def from_ofp11(port32):
    """OpenFlow 1.1+ 32-bit port to 16-bit, or None if not representable."""
    if port32 < OFPP_MAX:
        return port32
    if port32 >= OFPP11_MAX:
        return port32 - OFPP11_OFFSET
    return None
