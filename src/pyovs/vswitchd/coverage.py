"""Event counters and ``coverage/show`` (OVS's lib/coverage).

Modules count events with ``inc(name)``; ``run(now)`` (called by the
daemon every few seconds) folds the counts into OVS's averaging windows: a
ring of twelve 5-second slots and one of sixty 1-minute slots.
``coverage/show`` prints, for every counter that was ever hit, the average
rate over the last 5 seconds, minute and hour and the total, in OVS's
layout, then how many known counters were never hit.  Only events pyovs
really counts are listed (OVS's binary has hundreds more).

Public API: COUNTERS, inc(name, n=1), run(now), show_text(), total(name),
register_unixctl_commands(server), reset() (tests).
"""

import zlib

#: The counters, in the order coverage/show lists them (registration order).
COUNTERS = (
    "bridge_reconfigure", "ofproto_update_port", "rev_reconfigure", "rev_port_toggled",
    "rev_flow_table", "rev_mac_learning", "xlate_actions", "upcall_flow_put",
    "dpif_port_add", "dpif_port_del", "dpif_flow_put", "dpif_flow_del",
    "dpif_execute", "datapath_drop_rx_invalid_packet", "mac_learning_learned",
)
INTERVAL = 5.0
_MIN_SLOTS, _HR_SLOTS = 12, 60

_totals = dict.fromkeys(COUNTERS, 0)
_state = {"last": None, "seen": dict.fromkeys(COUNTERS, 0), "min": [], "hr": [],
          "minute": {}, "n": 0}


def inc(name, n=1):
    _totals[name] = _totals.get(name, 0) + n


def total(name):
    return _totals.get(name, 0)


def reset():
    for k in list(_totals):
        _totals[k] = 0
    _state.update(last=None, seen=dict.fromkeys(_totals, 0), min=[], hr=[],
                  minute={}, n=0)


def run(now):
    """Fold the counts of each elapsed 5-second interval into the windows."""
    if _state["last"] is None:
        _state["last"] = now
        return
    while now - _state["last"] >= INTERVAL:
        _state["last"] += INTERVAL
        delta = {k: v - _state["seen"].get(k, 0) for k, v in _totals.items()}
        _state["seen"] = dict(_totals)
        _state["min"] = (_state["min"] + [delta])[-_MIN_SLOTS:]
        minute = _state["minute"]
        for k, v in delta.items():
            minute[k] = minute.get(k, 0) + v
        _state["n"] += 1
        if _state["n"] % _MIN_SLOTS == 0:
            _state["hr"] = (_state["hr"] + [minute])[-_HR_SLOTS:]
            _state["minute"] = {}


def show_text():
    hit = [k for k in _totals if _totals[k]]
    h = zlib.crc32(",".join(sorted(hit, key=lambda k: (_totals[k], k))).encode())
    out = ["Event coverage, avg rate over last: 5 seconds, last minute, "
           "last hour,  hash=%08x:\n" % h]
    last = _state["min"][-1] if _state["min"] else {}
    for k in hit:
        per_min = sum(s.get(k, 0) for s in _state["min"])
        per_hr = sum(s.get(k, 0) for s in _state["hr"]) + _state["minute"].get(k, 0)
        out.append("%-24s %5.1f/sec %9.3f/sec %13.4f/sec   total: %d\n"
                   % (k, last.get(k, 0) / INTERVAL, per_min / 60.0, per_hr / 3600.0,
                      _totals[k]))
    out.append("%d events never hit\n" % (len(_totals) - len(hit)))
    return "".join(out)


def register_unixctl_commands(server):
    server.register("coverage/show", "", 0, 0,
                    lambda conn, args: conn.reply(show_text()))

    def read_counter(conn, args):
        if args[0] not in _totals:
            conn.reply_error("No such counter")
            return
        conn.reply("%d\n" % _totals[args[0]])
    server.register("coverage/read-counter", "COUNTER", 1, 1, read_counter)
