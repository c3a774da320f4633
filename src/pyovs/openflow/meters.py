"""Meters (OpenFlow 1.3+): the meter syntax of ovs-ofctl(8), meter_mod, and
meter config/stats/features replies.

Public API:
  Band(type, rate, burst_size, prec_level); Meter(meter_id, flags, bands);
  MeterMod(command, meter) with .encode(version, xid) and .format()
  parse_meter(text, command) -> MeterMod (FlowParseError)
  format_meter(meter) -> text ; format_meter_stats(st) ; format_meter_features(f)
  decode_meter_mod(data); decode_meter_configs(body); decode_meter_stats(body);
  decode_meter_features(body)
  encode_meter_config_request / encode_meter_stats_request(version, xid, id);
  encode_meter_features_request(version, xid)
  USABLE: the protocols meters need (OpenFlow 1.3 and later)
"""

import struct
from dataclasses import dataclass, field as dc_field

from . import protocols as P
from .errors import FlowParseError, DecodeError, BAD_REQUEST
from .flow import format_duration
from .match import parse_int
from .messages import _msg, encode_stats_request, parse_header

OFPT13_METER_MOD = 29
OFPMP_METER, OFPMP_METER_CONFIG, OFPMP_METER_FEATURES = 9, 10, 11
OFPMC_ADD, OFPMC_MODIFY, OFPMC_DELETE = 0, 1, 2
COMMAND_NAMES = {0: "ADD", 1: "MOD", 2: "DEL"}
FLAGS = ((1, "kbps"), (2, "pktps"), (4, "burst"), (8, "stats"))
BAND_DROP, BAND_DSCP_REMARK = 1, 2
BAND_NAMES = {BAND_DROP: "drop", BAND_DSCP_REMARK: "dscp_remark"}
OFPM_MAX = 0xffff0000
SPECIAL_IDS = {0xfffffffd: "slowpath", 0xfffffffe: "controller",
               0xffffffff: "all"}
OFPM_ALL = 0xffffffff
USABLE = P.OF13_OXM | P.OF14_OXM | P.OF15_OXM
MAX_BANDS = 256


@dataclass
class Band:
    type: int = BAND_DROP
    rate: int = 0
    burst_size: int = 0
    prec_level: int = 0


@dataclass
class Meter:
    meter_id: int
    flags: int = 0
    bands: list = dc_field(default_factory=list)


@dataclass
class MeterMod:
    command: int
    meter: Meter

    def encode(self, version, xid):
        m = self.meter
        return _msg(version, OFPT13_METER_MOD, xid,
                    struct.pack("!HHI", self.command, m.flags, m.meter_id)
                    + _encode_bands(m.bands))

    def format(self):
        return (" " + COMMAND_NAMES.get(self.command, f"cmd:{self.command}") + " "
                + format_meter(self.meter))


def _encode_bands(bands):
    out = b""
    for b in bands:
        tail = struct.pack("!B3x", b.prec_level) if b.type == BAND_DSCP_REMARK else b"\0" * 4
        out += struct.pack("!HHII", b.type, 16, b.rate, b.burst_size) + tail
    return out


def _decode_bands(data):
    bands = []
    ofs = 0
    while ofs < len(data):
        if len(data) - ofs < 16 or len(bands) >= MAX_BANDS:
            raise DecodeError("bad meter band", 12, 4)
        btype, blen, rate, burst = struct.unpack_from("!HHII", data, ofs)
        if blen < 16 or blen % 8 or ofs + blen > len(data):
            raise DecodeError("bad meter band length", 12, 4)
        prec = data[ofs + 12] if btype == BAND_DSCP_REMARK else 0
        bands.append(Band(btype, rate, burst, prec))
        ofs += blen
    return bands


def decode_meter_mod(data):
    h = parse_header(data)
    if h.length < 16:
        raise DecodeError("meter_mod too short", BAD_REQUEST, 6)
    command, flags, meter_id = struct.unpack_from("!HHI", data, 8)
    return MeterMod(command, Meter(meter_id, flags, _decode_bands(data[16:h.length])))


# --- text -----------------------------------------------------------------------

def _format_id(meter_id):
    return SPECIAL_IDS.get(meter_id, str(meter_id))


def format_meter(m):
    """As ofp-print's meter config (without the final newline)."""
    s = f"meter={_format_id(m.meter_id)} "
    for bit, name in FLAGS:
        if m.flags & bit:
            s += name + " "
    if m.flags & ~0xf:
        s += f"flags:0x{m.flags & ~0xf:x} "
    s += "bands="
    for b in m.bands:
        s += "\ntype=" + BAND_NAMES.get(b.type, str(b.type)) + f" rate={b.rate}"
        if m.flags & 4:
            s += f" burst_size={b.burst_size}"
        if b.type == BAND_DSCP_REMARK:
            s += f" prec_level={b.prec_level}"
    return s


def _parse_id(text):
    rev = {v: k for k, v in SPECIAL_IDS.items()}
    if text in rev:
        return rev[text]
    v = parse_int(text)
    if v is None or v == 0 or v > OFPM_MAX:
        raise FlowParseError(f"invalid meter id {text}")
    return v


def parse_meter(text, command=OFPMC_ADD):
    """Parse the meter syntax for COMMAND (ADD/MODIFY need bands; DELETE and
    the dump commands take just meter=ID, defaulting to all)."""
    if len(text) > 64 * 1024:
        raise FlowParseError("meter too long")
    head, sep, bands_text = text.partition("band")
    if sep:
        # "band=..." or "bands=..."
        bands_text = bands_text[1:] if bands_text.startswith("s") else bands_text
        bands_text = bands_text[1:] if bands_text[:1] in "=:" else bands_text
    meter_id = None
    flags = 0
    for item in (x.strip() for x in head.split(",")):
        if not item:
            continue
        key, _eq, value = item.partition("=")
        if key == "meter":
            meter_id = _parse_id(value)
        elif key in dict((n, b) for b, n in FLAGS):
            flags |= dict((n, b) for b, n in FLAGS)[key]
        else:
            raise FlowParseError(f"unknown keyword {key}")
    if meter_id is None:
        if command in (OFPMC_ADD, OFPMC_MODIFY):
            raise FlowParseError("must specify 'meter'")
        meter_id = OFPM_ALL
    bands = []
    if sep:
        band = None
        for item in (x.strip() for x in bands_text.split(",")):
            if not item:
                continue
            key, _eq, value = item.partition("=")
            if key == "type":
                band = Band()
                bands.append(band)
                rev = {v: k for k, v in BAND_NAMES.items()}
                if value not in rev:
                    raise FlowParseError(f"{value}: unknown meter band type")
                band.type = rev[value]
                continue
            if band is None:
                raise FlowParseError("band must start with the 'type' keyword")
            if key in ("rate", "burst_size", "prec_level"):
                v = parse_int(value)
                if v is None or v > 0xffffffff or (key == "prec_level" and v > 255):
                    raise FlowParseError(f'invalid {key} "{value}"')
                setattr(band, key, v)
            else:
                raise FlowParseError(f"unknown keyword {key}")
    if command in (OFPMC_ADD, OFPMC_MODIFY) and not bands:
        raise FlowParseError("must specify bands")
    return MeterMod(command, Meter(meter_id, flags, bands))


# --- statistics -------------------------------------------------------------------

def encode_meter_config_request(version, xid, meter_id=OFPM_ALL):
    return encode_stats_request(version, OFPMP_METER_CONFIG, xid,
                                struct.pack("!I4x", meter_id))


def encode_meter_stats_request(version, xid, meter_id=OFPM_ALL):
    return encode_stats_request(version, OFPMP_METER, xid,
                                struct.pack("!I4x", meter_id))


def encode_meter_features_request(version, xid):
    return encode_stats_request(version, OFPMP_METER_FEATURES, xid)


def decode_meter_configs(body):
    out = []
    ofs = 0
    while ofs + 8 <= len(body):
        length, flags, meter_id = struct.unpack_from("!HHI", body, ofs)
        if length < 8 or ofs + length > len(body):
            raise DecodeError("bad meter config length", BAD_REQUEST, 6)
        out.append(Meter(meter_id, flags, _decode_bands(body[ofs + 8:ofs + length])))
        ofs += length
    return out


def decode_meter_stats(body):
    out = []
    ofs = 0
    while ofs + 40 <= len(body):
        meter_id, length, flows, pkts, byts, dsec, dnsec = struct.unpack_from(
            "!IH6xIQQII", body, ofs)
        if length < 40 or ofs + length > len(body) or (length - 40) % 16:
            raise DecodeError("bad meter stats length", BAD_REQUEST, 6)
        bands = [struct.unpack_from("!QQ", body, o)
                 for o in range(ofs + 40, ofs + length, 16)]
        out.append(dict(meter_id=meter_id, flow_count=flows, packet_in_count=pkts,
                        byte_in_count=byts, duration=(dsec, dnsec), bands=bands))
        ofs += length
    return out


def format_meter_stats(st):
    s = (f"meter:{_format_id(st['meter_id'])} flow_count:{st['flow_count']} "
         f"packet_in_count:{st['packet_in_count']} "
         f"byte_in_count:{st['byte_in_count']} duration:"
         + format_duration(*st["duration"]) + " bands:")
    for i, (p, b) in enumerate(st["bands"]):
        s += f"\n{i}: packet_count:{p} byte_count:{b}"
    return s


def decode_meter_features(body):
    if len(body) < 16:
        raise DecodeError("meter features too short", BAD_REQUEST, 6)
    max_meter, band_types, caps, max_bands, max_color = struct.unpack_from(
        "!IIIBB", body)
    return dict(max_meter=max_meter, band_types=band_types, capabilities=caps,
                max_bands=max_bands, max_color=max_color)


def format_meter_features(f):
    types = " ".join(n for t, n in BAND_NAMES.items() if f["band_types"] & (1 << t)) or "0"
    caps = " ".join(n for b, n in FLAGS if f["capabilities"] & b) or "0"
    return (f"max_meter:{f['max_meter']} max_bands:{f['max_bands']} "
            f"max_color:{f['max_color']}\nband_types: {types}\ncapabilities: {caps}")
