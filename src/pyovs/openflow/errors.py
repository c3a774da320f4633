"""Errors of the OpenFlow library.

FlowParseError: bad flow or action text; str(e) is ovs-ofctl's message.
OFPError: a decoded or to-be-sent OpenFlow error (type, code), with OVS's
  name for it; DecodeError is the OFPError a decoder raises on bad bytes.
"""


class FlowParseError(ValueError):
    """Bad flow syntax; the message is the text ovs-ofctl prints."""


# (type, code) -> OVS's name, for the errors pyovs raises or prints.
OFPERR_NAMES = {
    (0, 0): "OFPHFC_INCOMPATIBLE", (0, 1): "OFPHFC_EPERM",
    (1, 0): "OFPBRC_BAD_VERSION", (1, 1): "OFPBRC_BAD_TYPE",
    (1, 2): "OFPBRC_BAD_STAT", (1, 3): "OFPBRC_BAD_VENDOR",
    (1, 4): "OFPBRC_BAD_SUBTYPE", (1, 5): "OFPBRC_EPERM",
    (1, 6): "OFPBRC_BAD_LEN", (1, 7): "OFPBRC_BUFFER_EMPTY",
    (1, 8): "OFPBRC_BUFFER_UNKNOWN",
    (2, 0): "OFPBAC_BAD_TYPE", (2, 1): "OFPBAC_BAD_LEN",
    (2, 2): "OFPBAC_BAD_VENDOR", (2, 3): "OFPBAC_BAD_VENDOR_TYPE",
    (2, 4): "OFPBAC_BAD_OUT_PORT", (2, 5): "OFPBAC_BAD_ARGUMENT",
    (2, 6): "OFPBAC_EPERM", (2, 7): "OFPBAC_TOO_MANY",
    (3, 0): "OFPBIC_UNKNOWN_INST", (3, 1): "OFPBIC_UNSUP_INST",
    (3, 2): "OFPBIC_BAD_TABLE_ID", (4, 0): "OFPBMC_BAD_TYPE",
    (4, 1): "OFPBMC_BAD_LEN", (4, 3): "OFPBMC_BAD_DL_ADDR_MASK",
    (4, 4): "OFPBMC_BAD_NW_ADDR_MASK", (4, 5): "OFPBMC_BAD_WILDCARDS",
    (4, 6): "OFPBMC_BAD_FIELD", (4, 7): "OFPBMC_BAD_VALUE",
    (4, 8): "OFPBMC_BAD_MASK", (4, 9): "OFPBMC_BAD_PREREQ",
    (4, 10): "OFPBMC_DUP_FIELD",
    (5, 0): "OFPFMFC_UNKNOWN", (5, 1): "OFPFMFC_TABLE_FULL",
    (5, 2): "OFPFMFC_BAD_TABLE_ID", (5, 3): "OFPFMFC_OVERLAP",
    (5, 4): "OFPFMFC_EPERM", (5, 5): "OFPFMFC_BAD_TIMEOUT",
    (5, 6): "OFPFMFC_BAD_COMMAND", (5, 7): "OFPFMFC_BAD_FLAGS",
}

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
