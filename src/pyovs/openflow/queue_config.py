"""Queue configuration requests and replies (ovs-ofctl queue-get-config):
OFPT_QUEUE_GET_CONFIG_REQUEST/REPLY in OpenFlow 1.0-1.3 and the
OFPMP_QUEUE_DESC multipart in 1.4+, with ofp-print's text.

Public API:
  encode_queue_get_config_request(version, xid, port, queue=OFPQ_ALL)
  decode_queue_get_config_request(msg) -> port (DecodeError
    OFPQOFC_BAD_PORT as OVS for a port that cannot have queues)
  decode_queue_config(msg) -> (port or None, [(port, queue_id, props)])
  format_queue_config(msg, port_names=None) -> text after the header
  format_queue_desc_request(msg, port_names=None)
"""

import struct

from . import fields as F
from .errors import DecodeError, BAD_REQUEST
from .ports import to_ofp11, from_ofp11, port_to_string, OFPP_ANY, OFPP_MAX

OFPQ_ALL = 0xffffffff
OFPT10_QUEUE_GET_CONFIG_REQUEST, OFPT11_QUEUE_GET_CONFIG_REQUEST = 20, 22
OFPMP_QUEUE_DESC = 15
OFPQT_MIN_RATE, OFPQT_MAX_RATE = 1, 2
MAX_QUEUES = 65536


def encode_queue_get_config_request(version, xid, port, queue=OFPQ_ALL):
    if version == F.OFP10:
        return struct.pack("!BBHIH2x", version, OFPT10_QUEUE_GET_CONFIG_REQUEST,
                           12, xid, port)
    if version < F.OFP14:
        return struct.pack("!BBHII4x", version, OFPT11_QUEUE_GET_CONFIG_REQUEST,
                           16, xid, to_ofp11(port))
    return struct.pack("!BBHIHH4xII", version, 18, 24, xid, OFPMP_QUEUE_DESC, 0,
                       to_ofp11(port), queue)


def decode_queue_get_config_request(msg):
    """The port of a 1.0-1.3 request, checked as OVS does."""
    version = msg[0]
    if version == F.OFP10:
        if len(msg) < 12:
            raise DecodeError("queue_get_config request too short", BAD_REQUEST, 6)
        port = struct.unpack_from("!H", msg, 8)[0]
    else:
        if len(msg) < 16:
            raise DecodeError("queue_get_config request too short", BAD_REQUEST, 6)
        port = from_ofp11(struct.unpack_from("!I", msg, 8)[0])
        if port is None:
            port = OFPP_MAX
    if port >= OFPP_MAX and port != OFPP_ANY:
        raise DecodeError("bad port", 9, 0, name="OFPQOFC_BAD_PORT")
    return port


def format_queue_desc_request(msg, port_names=None):
    """" port=P queue=Q" of an OFPMP_QUEUE_DESC request."""
    if len(msg) < 24:
        raise DecodeError("queue desc request too short", BAD_REQUEST, 6)
    port, queue = struct.unpack_from("!II", msg, 16)
    port = from_ofp11(port)
    return (" port=" + port_to_string(OFPP_ANY if port is None else port,
                                      port_names)
            + " queue=" + ("ALL" if queue == OFPQ_ALL else str(queue)))


def _props(data):
    out = []
    ofs = 0
    while ofs + 8 <= len(data):
        ptype, plen = struct.unpack_from("!HH", data, ofs)
        if plen < 8 or ofs + plen > len(data):
            raise DecodeError("bad queue property length", BAD_REQUEST, 6)
        if ptype in (OFPQT_MIN_RATE, OFPQT_MAX_RATE) and plen >= 10:
            out.append((ptype, struct.unpack_from("!H", data, ofs + 8)[0]))
        ofs += plen
    return out


def decode_queue_config(msg):
    """(port of the reply or None for 1.4+, [(port, queue_id, props)])."""
    version, mtype, length = struct.unpack_from("!BBH", msg)
    if length > len(msg):
        raise DecodeError("queue config reply truncated", BAD_REQUEST, 6)
    queues = []
    if version == F.OFP10:
        if length < 16:
            raise DecodeError("queue config reply too short", BAD_REQUEST, 6)
        port = struct.unpack_from("!H", msg, 8)[0]
        ofs, head = 16, 8
    elif version < F.OFP14:
        if length < 16:
            raise DecodeError("queue config reply too short", BAD_REQUEST, 6)
        port = from_ofp11(struct.unpack_from("!I", msg, 8)[0])
        ofs, head = 16, 16
    else:
        port, ofs, head = None, 16, 16
    while ofs < length and len(queues) < MAX_QUEUES:
        if length - ofs < head:
            raise DecodeError("queue entry ends early", BAD_REQUEST, 6)
        if version == F.OFP10:
            qid, qlen = struct.unpack_from("!IH", msg, ofs)
            qport = port
        elif version < F.OFP14:
            qid, qport, qlen = struct.unpack_from("!IIH", msg, ofs)
            qport = from_ofp11(qport)
        else:
            qport, qid, qlen = struct.unpack_from("!IIH", msg, ofs)
            qport = from_ofp11(qport)
        if qlen < head or ofs + qlen > length:
            raise DecodeError("bad queue entry length", BAD_REQUEST, 6)
        queues.append((qport, qid, _props(msg[ofs + head:ofs + qlen])))
        ofs += qlen
    return port, queues


def _prop_text(props):
    text = ""
    for ptype, rate in props:
        name = "min_rate" if ptype == OFPQT_MIN_RATE else "max_rate"
        text += (f" {name}:disabled" if rate > 1000
                 else f" {name}:{rate / 10:.1f}%")
    return text


def format_queue_config(msg, port_names=None):
    port, queues = decode_queue_config(msg)
    if port is not None:
        text = " port=" + port_to_string(port, port_names) + "\n"
        text += "".join(f"queue {qid}:{_prop_text(props)}\n"
                        for _p, qid, props in queues)
        return text.rstrip("\n")
    lines = []
    last = object()
    for qport, qid, props in sorted(queues, key=lambda q: (q[0], q[1])):
        if qport != last:
            lines.append("port=" + port_to_string(qport, port_names))
            last = qport
        lines.append(f"queue {qid}:{_prop_text(props)}")
    return (" " + "\n".join(lines)) if lines else ""
