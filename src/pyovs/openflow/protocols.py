"""OVS's "protocols": an OpenFlow version plus the flow format it uses.

OpenFlow 1.0 comes in four flavours (plain or NXM matches, each with or
without the flow_mod_table_id extension); later versions are one each.
ovs-ofctl computes which protocols can express a flow ("usable") and picks
the lowest one the user allows.  These bit values and names are OVS's.

Public API: the P_* bits, ANY and the other unions, to_string(protocols),
name(protocol), from_versions(versions) -> bits, version_of(protocol),
parse_versions(text) (-O/--protocols), VERSION_NAMES.
"""

OF10_STD = 1 << 0
OF10_STD_TID = 1 << 1
OF10_NXM = 1 << 2
OF10_NXM_TID = 1 << 3
OF11_STD = 1 << 4
OF12_OXM = 1 << 5
OF13_OXM = 1 << 6
OF14_OXM = 1 << 7
OF15_OXM = 1 << 8

OF10_STD_ANY = OF10_STD | OF10_STD_TID
OF10_NXM_ANY = OF10_NXM | OF10_NXM_TID
ANY_OXM = OF12_OXM | OF13_OXM | OF14_OXM | OF15_OXM
NXM_OXM_ANY = OF10_NXM_ANY | ANY_OXM
NXM_OF11_UP = OF10_NXM_ANY | OF11_STD | ANY_OXM
ANY = OF10_STD_ANY | OF10_NXM_ANY | OF11_STD | ANY_OXM
TID = OF10_STD_TID | OF10_NXM_TID | OF11_STD | ANY_OXM

NAMES = {
    OF10_STD: "OpenFlow10-table_id", OF10_STD_TID: "OpenFlow10+table_id",
    OF10_NXM: "NXM-table_id", OF10_NXM_TID: "NXM+table_id",
    OF11_STD: "OpenFlow11", OF12_OXM: "OXM-OpenFlow12",
    OF13_OXM: "OXM-OpenFlow13", OF14_OXM: "OXM-OpenFlow14",
    OF15_OXM: "OXM-OpenFlow15",
}
ABBREVS = ((ANY, "any"), (OF10_STD_ANY, "OpenFlow10"), (OF10_NXM_ANY, "NXM"),
           (ANY_OXM, "OXM"))

VERSION_NAMES = {0x01: "OpenFlow10", 0x02: "OpenFlow11", 0x03: "OpenFlow12",
                 0x04: "OpenFlow13", 0x05: "OpenFlow14", 0x06: "OpenFlow15"}
_VERSION_BITS = {0x01: OF10_STD_ANY | OF10_NXM_ANY, 0x02: OF11_STD,
                 0x03: OF12_OXM, 0x04: OF13_OXM, 0x05: OF14_OXM,
                 0x06: OF15_OXM}


def to_string(protocols):
    """OVS's ofputil_protocols_to_string()."""
    parts = []
    for bits, abbrev in ABBREVS:
        if protocols & bits == bits:
            parts.append(abbrev)
            protocols &= ~bits
    for bit in sorted(NAMES):
        if protocols & bit:
            parts.append(NAMES[bit])
    return ",".join(parts) if parts else "none"


def name(protocol):
    return NAMES[protocol]


def from_versions(versions):
    bits = 0
    for v in versions:
        bits |= _VERSION_BITS.get(v, 0)
    return bits


def version_of(protocol):
    for v, bits in _VERSION_BITS.items():
        if protocol & bits:
            return v
    raise ValueError(protocol)


def is_nxm(protocol):
    return bool(protocol & OF10_NXM_ANY)


def has_tid(protocol):
    return not protocol & (OF10_STD | OF10_NXM)


def set_tid(protocol, enable):
    mapping = {OF10_STD: OF10_STD_TID, OF10_NXM: OF10_NXM_TID}
    if enable:
        return mapping.get(protocol, protocol)
    rev = {v: k for k, v in mapping.items()}
    return rev.get(protocol, protocol)


def parse_versions(text):
    """Parse -O/--protocols: comma-separated version names.  Returns a sorted
    list of wire versions; raises ValueError with ovs-ofctl's wording."""
    by_name = {v: k for k, v in VERSION_NAMES.items()}
    versions = set()
    for word in text.split(","):
        word = word.strip()
        if not word:
            continue
        if word not in by_name:
            raise ValueError(f"{word}: unknown OpenFlow version")
        versions.add(by_name[word])
    return sorted(versions)


def protocols_from_string(text):
    """Parse -F/--flow-format: names of protocols or their abbreviations,
    comma-separated, any case.  Raises ValueError with ovs-ofctl's text."""
    by_name = {n.lower(): b for b, n in NAMES.items()}
    by_name.update({n.lower(): b for b, n in ABBREVS})
    bits = 0
    for word in text.split(","):
        word = word.strip()
        if not word:
            continue
        if word.lower() not in by_name:
            raise ValueError(f"{word}: unknown flow protocol")
        bits |= by_name[word.lower()]
    return bits
