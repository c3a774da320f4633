"""Errors of the OpenFlow library.

FlowParseError: bad flow or action text; str(e) is ovs-ofctl's message.
OFPError: a decoded or to-be-sent OpenFlow error (type, code), with OVS's
  name for it; DecodeError is the OFPError a decoder raises on bad bytes.
"""


class FlowParseError(ValueError):
    """Bad flow syntax; the message is the text ovs-ofctl prints."""


_BAD_REQUEST = {0: "OFPBRC_BAD_VERSION", 1: "OFPBRC_BAD_TYPE",
                2: "OFPBRC_BAD_STAT", 3: "OFPBRC_BAD_VENDOR",
                4: "OFPBRC_BAD_SUBTYPE", 5: "OFPBRC_EPERM", 6: "OFPBRC_BAD_LEN",
                7: "OFPBRC_BUFFER_EMPTY", 8: "OFPBRC_BUFFER_UNKNOWN",
                9: "OFPBRC_BAD_TABLE_ID", 10: "OFPBRC_IS_SLAVE",
                11: "OFPBRC_BAD_PORT", 12: "OFPBRC_BAD_PACKET",
                13: "OFPBRC_MULTIPART_BUFFER_OVERFLOW"}
_BAD_ACTION = {0: "OFPBAC_BAD_TYPE", 1: "OFPBAC_BAD_LEN",
               2: "OFPBAC_BAD_VENDOR", 3: "OFPBAC_BAD_VENDOR_TYPE",
               4: "OFPBAC_BAD_OUT_PORT", 5: "OFPBAC_BAD_ARGUMENT",
               6: "OFPBAC_EPERM", 7: "OFPBAC_TOO_MANY", 8: "OFPBAC_BAD_QUEUE",
               9: "OFPBAC_BAD_OUT_GROUP", 10: "OFPBAC_MATCH_INCONSISTENT",
               11: "OFPBAC_UNSUPPORTED_ORDER", 12: "OFPBAC_BAD_TAG",
               13: "OFPBAC_BAD_SET_TYPE", 14: "OFPBAC_BAD_SET_LEN",
               15: "OFPBAC_BAD_SET_ARGUMENT"}
_HELLO = {0: "OFPHFC_INCOMPATIBLE", 1: "OFPHFC_EPERM"}

#: (type, code) -> OVS's name, OpenFlow 1.0 numbering.
OFPERR_NAMES_10 = {}
#: (type, code) -> OVS's name, OpenFlow 1.1+ numbering (also used by the
#: Nicira vendor errors that carry 1.1+ errors inside OpenFlow 1.0).
OFPERR_NAMES = {}
for _t, _table in ((0, _HELLO), (1, _BAD_REQUEST), (2, _BAD_ACTION)):
    for _c, _n in _table.items():
        OFPERR_NAMES[(_t, _c)] = _n
        if _t != 2 or _c <= 8:
            OFPERR_NAMES_10[(_t, _c)] = _n
OFPERR_NAMES.update({
    (3, 0): "OFPBIC_UNKNOWN_INST", (3, 1): "OFPBIC_UNSUP_INST",
    (3, 2): "OFPBIC_BAD_TABLE_ID", (3, 3): "OFPBIC_UNSUP_METADATA",
    (3, 4): "OFPBIC_UNSUP_METADATA_MASK", (3, 5): "OFPBIC_BAD_EXPERIMENTER",
    (3, 6): "OFPBIC_BAD_EXP_TYPE", (3, 7): "OFPBIC_BAD_LEN",
    (3, 8): "OFPBIC_EPERM",
    (4, 0): "OFPBMC_BAD_TYPE", (4, 1): "OFPBMC_BAD_LEN",
    (4, 2): "OFPBMC_BAD_TAG", (4, 3): "OFPBMC_BAD_DL_ADDR_MASK",
    (4, 4): "OFPBMC_BAD_NW_ADDR_MASK", (4, 5): "OFPBMC_BAD_WILDCARDS",
    (4, 6): "OFPBMC_BAD_FIELD", (4, 7): "OFPBMC_BAD_VALUE",
    (4, 8): "OFPBMC_BAD_MASK", (4, 9): "OFPBMC_BAD_PREREQ",
    (4, 10): "OFPBMC_DUP_FIELD", (4, 11): "OFPBMC_EPERM",
    (2, 11): "OFPBAC_UNSUPPORTED_ORDER",
    (5, 0): "OFPFMFC_UNKNOWN", (5, 1): "OFPFMFC_TABLE_FULL",
    (5, 2): "OFPFMFC_BAD_TABLE_ID", (5, 3): "OFPFMFC_OVERLAP",
    (5, 4): "OFPFMFC_EPERM", (5, 5): "OFPFMFC_BAD_TIMEOUT",
    (5, 6): "OFPFMFC_BAD_COMMAND", (5, 7): "OFPFMFC_BAD_FLAGS",
})
for _t, _words, _prefix in (
        (6, "GROUP_EXISTS INVALID_GROUP WEIGHT_UNSUPPORTED OUT_OF_GROUPS "
            "OUT_OF_BUCKETS CHAINING_UNSUPPORTED WATCH_UNSUPPORTED LOOP "
            "UNKNOWN_GROUP CHAINED_GROUP BAD_TYPE BAD_COMMAND BAD_BUCKET "
            "BAD_WATCH EPERM UNKNOWN_BUCKET BUCKET_EXISTS", "OFPGMFC_"),
        (7, "BAD_PORT BAD_HW_ADDR BAD_CONFIG BAD_ADVERTISE EPERM", "OFPPMFC_"),
        (8, "BAD_TABLE BAD_CONFIG EPERM", "OFPTMFC_"),
        (9, "BAD_PORT BAD_QUEUE EPERM", "OFPQOFC_"),
        (11, "STALE UNSUP BAD_ROLE", "OFPRRFC_"),
        (12, "UNKNOWN METER_EXISTS INVALID_METER UNKNOWN_METER BAD_COMMAND "
             "BAD_FLAGS BAD_RATE BAD_BURST BAD_BAND BAD_BAND_VALUE "
             "OUT_OF_METERS OUT_OF_BANDS", "OFPMMFC_"),
        (14, "BAD_TYPE BAD_LEN BAD_VALUE TOO_MANY DUP_TYPE BAD_EXPERIMENTER "
             "BAD_EXP_TYPE BAD_EXP_VALUE EPERM", "OFPBPC_"),
        (15, "INVALID UNSUPPORTED EPERM", "OFPACFC_"),
        (17, "UNKNOWN EPERM BAD_ID BUNDLE_EXIST BUNDLE_CLOSED OUT_OF_BUNDLES "
             "BAD_TYPE BAD_FLAGS MSG_BAD_LEN MSG_BAD_XID MSG_UNSUP "
             "MSG_CONFLICT MSG_TOO_MANY MSG_FAILED TIMEOUT BUNDLE_IN_PROGRESS",
         "OFPBFC_")):
    for _c, _w in enumerate(_words.split()):
        OFPERR_NAMES[(_t, _c)] = _prefix + _w
OFPERR_NAMES_10.update({
    (3, 0): "OFPFMFC_TABLE_FULL", (3, 1): "OFPFMFC_OVERLAP",
    (3, 2): "OFPFMFC_EPERM", (3, 3): "OFPFMFC_BAD_TIMEOUT",
    (3, 4): "OFPFMFC_BAD_COMMAND", (3, 5): "OFPFMFC_UNSUPPORTED",
    (4, 0): "OFPPMFC_BAD_PORT", (4, 1): "OFPPMFC_BAD_HW_ADDR",
    (5, 0): "OFPQOFC_BAD_PORT", (5, 1): "OFPQOFC_BAD_QUEUE",
    (5, 2): "OFPQOFC_EPERM",
})


#: Nicira extension errors: name -> ((type, code) in OpenFlow 1.0/1.1, carried
#: in a Nicira vendor error; experimenter code in OpenFlow 1.2+).
NX_ERRORS = {
    "NXTTMFC_BAD_COMMAND": ((1, 527), 16), "NXTTMFC_BAD_OPT_LEN": ((1, 528), 17),
    "NXTTMFC_BAD_FIELD_IDX": ((1, 529), 18), "NXTTMFC_TABLE_FULL": ((1, 530), 19),
    "NXTTMFC_ALREADY_MAPPED": ((1, 531), 20), "NXTTMFC_DUP_ENTRY": ((1, 532), 21),
    "NXFMFC_INVALID_TLV_FIELD": ((1, 536), 37),
    "NXTTMFC_INVALID_TLV_DEL": ((1, 537), 38),
    "NXST_NOT_CONFIGURED": ((1, 535), 36),
    # flow monitors (OpenFlow 1.4+ has them as OFPET_FLOW_MONITOR_FAILED)
    "OFPMOFC_MONITOR_EXISTS": ((1, 517), 6), "OFPMOFC_BAD_FLAGS": ((1, 518), 7),
    "OFPMOFC_UNKNOWN_MONITOR": ((1, 519), 8),
    "NXR_STALE": ((1, 534), 35),        # a continuation of another bridge
}
#: Errors OVS carries in OpenFlow 1.0 as Nicira vendor errors with codes of
#: their own (NX1.0), not their OpenFlow 1.1 numbers.
OF10_VENDOR_CODES = {"OFPBAC_MATCH_INCONSISTENT": (1, 522),
                     "OFPBPC_BAD_LEN": (13, 3)}
OF10_VENDOR_NAMES = {v: k for k, v in OF10_VENDOR_CODES.items()}
for _name, (_pair, _exp) in NX_ERRORS.items():
    OFPERR_NAMES[_pair] = _name
#: Experimenter code (experimenter NX_VENDOR_ID, OpenFlow 1.2+) -> name.
NX_EXPERIMENTER_NAMES = {exp: name for name, (_p, exp) in NX_ERRORS.items()}
OFPET12_EXPERIMENTER = 0xffff
#: OpenFlow 1.3 carries the bundle errors (OFPET14_BUNDLE_FAILED, type 17)
#: as ONF experimenter errors with code 2300 + the 1.4 code.
ONF_EXPERIMENTER, ONF_BUNDLE_CODE_BASE = 0x4f4e4600, 2300
ONF_EXPERIMENTER_NAMES = {ONF_BUNDLE_CODE_BASE + c: n
                          for (t, c), n in OFPERR_NAMES.items() if t == 17}


def error_name(version, type_, code, experimenter=None):
    """OVS's name for error TYPE/CODE received in wire VERSION."""
    if type_ == OFPET12_EXPERIMENTER and version >= 3:
        if experimenter == 0x00002320 and code in NX_EXPERIMENTER_NAMES:
            return NX_EXPERIMENTER_NAMES[code]
        if experimenter == ONF_EXPERIMENTER and code in ONF_EXPERIMENTER_NAMES:
            return ONF_EXPERIMENTER_NAMES[code]
    table = OFPERR_NAMES_10 if version == 1 else OFPERR_NAMES
    return table.get((type_, code), f"OFPET_{type_}_{code}")

BAD_REQUEST = 1
BAD_ACTION = 2
BAD_INSTRUCTION = 3
BAD_MATCH = 4


class OFPError(Exception):
    """An OpenFlow error: TYPE/CODE, optionally the offending DATA.  NAME
    overrides the name for OVS's own errors (e.g. OFPBAC_UNSUPPORTED_ORDER)."""

    def __init__(self, type_, code, data=b"", text=None, name=None):
        self.type = type_
        self.code = code
        self.data = data
        self._name = name
        super().__init__(text or self.name)

    @property
    def name(self):
        if self._name:
            return self._name
        return OFPERR_NAMES.get((self.type, self.code),
                                f"OFPET_{self.type}_{self.code}")


class DecodeError(OFPError):
    """Malformed bytes; carries the OpenFlow error a switch would answer."""

    def __init__(self, text, type_=BAD_REQUEST, code=6, data=b"", name=None):
        super().__init__(type_, code, data, text, name)


class Unsupported(ValueError):
    """Something valid that pyovs does not implement yet (the message says
    what); tools report it instead of guessing."""
