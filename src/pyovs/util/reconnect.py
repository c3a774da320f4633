"""The reconnection state machine (OVS's lib/reconnect).

A pure finite-state machine for one connection that should stay up: it
decides when to connect, when to probe an idle peer and when to give up on
it, with exponential backoff between attempts (1 s doubling to 8 s by
default).  It owns no socket and no clock: every call takes ``now`` in
milliseconds, ``run(now)`` says what to do (CONNECT, DISCONNECT, PROBE or
None) and ``timeout(now)`` says how long the caller may sleep.  The caller
reports what actually happened with connecting/connected/connect_failed/
activity/disconnected.

States: VOID (disabled), LISTENING (passive), BACKOFF (waiting before an
attempt), CONNECTING, ACTIVE (connected, traffic seen recently), IDLE
(probe sent, awaiting traffic), RECONNECT (forced reconnection pending).

API: Reconnect(now); enable/disable/force_reconnect/connecting/listening/
listen_error/connected/connect_failed/activity/disconnected(now, ...);
run(now); timeout(now); deadline(); is_connected(); set_name,
set_backoff(min, max), set_probe_interval, set_passive, set_max_tries,
set_backoff_free_tries; receive_attempted(now); get_stats(now).

Behaviour (states, deadlines, backoff, log texts) is checked against the
official OVS Python library's ovs.reconnect as an oracle.
"""

import os

from pyovs.util.vlog import Vlog

vlog = Vlog("reconnect")

CONNECT = "connect"
DISCONNECT = "disconnect"
PROBE = "probe"

VOID = "VOID"
LISTENING = "LISTENING"
BACKOFF = "BACKOFF"
CONNECTING = "CONNECTING"
ACTIVE = "ACTIVE"
IDLE = "IDLE"
RECONNECT = "RECONNECT"

DEFAULT_MIN_BACKOFF = 1000
DEFAULT_MAX_BACKOFF = 8000
DEFAULT_PROBE_INTERVAL = 5000

#: Pass as the error to disconnected() when the peer closed the connection.
EOF = "EOF"


def _is_error(error):
    if isinstance(error, int):
        return error > 0
    return bool(error) and error != EOF


def _error_text(error):
    if isinstance(error, int):
        return os.strerror(error)
    return str(error)


class Reconnect:
    def __init__(self, now):
        self.name = "void"
        self.min_backoff = DEFAULT_MIN_BACKOFF
        self.max_backoff = DEFAULT_MAX_BACKOFF
        self.probe_interval = DEFAULT_PROBE_INTERVAL
        self.passive = False
        self.info_level = vlog.info
        self.state = VOID
        self.state_entered = now
        self.backoff = 0
        self.last_activity = now
        self.last_connected = None
        self.last_disconnected = None
        self.last_receive_attempt = now
        self.max_tries = None
        self.backoff_free_tries = 0
        self.creation_time = now
        self.seqno = 0
        self.n_attempted_connections = 0
        self.n_successful_connections = 0
        self.total_connected_duration = 0
        self.last_error = 0

    # Configuration.
    def set_name(self, name):
        self.name = name or "void"

    def set_quiet(self, quiet):
        self.info_level = vlog.dbg if quiet else vlog.info

    def set_backoff(self, min_backoff, max_backoff):
        self.min_backoff = max(min_backoff, 1000)
        if max_backoff:
            self.max_backoff = max(max_backoff, 1000)
        else:
            self.max_backoff = DEFAULT_MAX_BACKOFF
        if self.min_backoff > self.max_backoff:
            self.max_backoff = self.min_backoff
        if self.state == BACKOFF and self.backoff > self.max_backoff:
            self.backoff = self.max_backoff

    def set_backoff_free_tries(self, n):
        self.backoff_free_tries = n

    def set_probe_interval(self, ms):
        """0 disables probing; otherwise at least 1000 ms."""
        self.probe_interval = max(1000, ms) if ms else 0

    def set_passive(self, passive, now):
        if self.passive != passive:
            self.passive = passive
            if (passive and self.state in (CONNECTING, RECONNECT)) or \
                    (not passive and self.state == LISTENING and
                     self._may_retry()):
                self._transition(now, BACKOFF)
                self.backoff = 0

    def set_max_tries(self, max_tries):
        self.max_tries = max_tries

    def _may_retry(self):
        if self.max_tries is None:
            return True
        if self.max_tries > 0:
            self.max_tries -= 1
            return True
        return False

    # Events.
    def enable(self, now):
        if self.state == VOID and self._may_retry():
            self._transition(now, BACKOFF)
            self.backoff = 0

    def disable(self, now):
        if self.state != VOID:
            self._transition(now, VOID)

    def force_reconnect(self, now):
        if self.state in (CONNECTING, ACTIVE, IDLE):
            self._transition(now, RECONNECT)

    def disconnected(self, now, error):
        """The connection dropped or an attempt failed.  ERROR is an errno
        value or error text, EOF (the peer closed), or 0/None (no specific
        error)."""
        if self.state in (BACKOFF, VOID):
            return
        failed = _is_error(error)
        if self.state in (ACTIVE, IDLE):
            if failed:
                vlog.warn("%s: connection dropped (%s)", self.name,
                          _error_text(error))
            elif error == EOF:
                self.info_level("%s: connection closed by peer", self.name)
            else:
                self.info_level("%s: connection dropped", self.name)
        elif self.state == LISTENING:
            if failed:
                vlog.warn("%s: error listening for connections (%s)",
                          self.name, _error_text(error))
            else:
                self.info_level("%s: error listening for connections",
                                self.name)
        elif self.state == RECONNECT:
            self.info_level("%s: connection closed by client", self.name)
        elif self.backoff < self.max_backoff:
            what = "listen" if self.passive else "connection"
            if failed:
                # INFO, as OVS 3.1 logs it (a server that is not up yet is
                # routine).
                vlog.info("%s: %s attempt failed (%s)", self.name, what,
                          _error_text(error))
            else:
                self.info_level("%s: %s attempt timed out", self.name, what)
        if failed:
            self.last_error = error
        if self.state in (ACTIVE, IDLE):
            self.last_disconnected = now

        if not self._may_retry():
            self._transition(now, VOID)
            return

        if self.backoff_free_tries > 1:
            self.backoff_free_tries -= 1
            self.backoff = 0
        elif self.state in (ACTIVE, IDLE) and (
                self.passive or (self.last_connected is not None and
                                 self.last_activity - self.last_connected
                                 >= self.backoff)):
            self.backoff = 0 if self.passive else self.min_backoff
        else:
            if self.backoff < self.min_backoff:
                self.backoff = self.min_backoff
            elif self.backoff < self.max_backoff / 2:
                self.backoff *= 2
                self.info_level("%s: waiting %.3g seconds before %s",
                                self.name, self.backoff / 1000.0,
                                "trying to listen again" if self.passive
                                else "reconnect")
            else:
                if self.backoff < self.max_backoff:
                    self.info_level("%s: continuing to %s in the background "
                                    "but suppressing further logging",
                                    self.name,
                                    "try to listen" if self.passive
                                    else "reconnect")
                self.backoff = self.max_backoff
        self._transition(now, BACKOFF)

    def connecting(self, now):
        if self.state != CONNECTING:
            if self.passive:
                self.info_level("%s: listening...", self.name)
            elif self.backoff < self.max_backoff:
                self.info_level("%s: connecting...", self.name)
            self._transition(now, CONNECTING)

    def listening(self, now):
        if self.state != LISTENING:
            self.info_level("%s: listening...", self.name)
            self._transition(now, LISTENING)

    def listen_error(self, now, error):
        if self.state == LISTENING:
            self.disconnected(now, error)

    def connected(self, now):
        if not self.is_connected():
            self.connecting(now)
            self.info_level("%s: connected", self.name)
            self._transition(now, ACTIVE)
            self.last_connected = now

    def connect_failed(self, now, error):
        self.connecting(now)
        self.disconnected(now, error)

    def activity(self, now):
        """Traffic arrived from the peer: the connection is alive."""
        if self.state != ACTIVE:
            self._transition(now, ACTIVE)
        self.last_activity = now

    def receive_attempted(self, now):
        """The caller tried to receive at NOW.  A probe deadline only expires
        once a receive was attempted after it, so that a long stall in the
        caller's loop is not mistaken for a silent peer.  None disables
        this check (an asyncio reader is always receiving)."""
        self.last_receive_attempt = now

    def _transition(self, now, state):
        if self.state == CONNECTING:
            self.n_attempted_connections += 1
            if state == ACTIVE:
                self.n_successful_connections += 1
        was_connected = self.is_connected()
        is_connected = state in (ACTIVE, IDLE)
        if was_connected != is_connected:
            if was_connected and self.last_connected is not None:
                self.total_connected_duration += now - self.last_connected
            self.seqno += 1
        self.state = state
        self.state_entered = now

    # Queries.
    def deadline(self, now=None):
        """When run() next has something to do (ms), or None."""
        if self.state in (VOID, LISTENING):
            return None
        if self.state == BACKOFF:
            return self.state_entered + self.backoff
        if self.state == CONNECTING:
            return self.state_entered + max(1000, self.backoff)
        if self.state in (ACTIVE, IDLE):
            if not self.probe_interval:
                return None
            if self.state == ACTIVE:
                base = max(self.last_activity, self.state_entered)
            else:
                base = self.state_entered
            expiration = base + self.probe_interval
            if (now is None or now < expiration
                    or self.last_receive_attempt is None
                    or self.last_receive_attempt >= expiration):
                return expiration
            return now + 1          # wake up and try to receive first
        if self.state == RECONNECT:
            return self.state_entered
        raise AssertionError(self.state)

    def run(self, now):
        """CONNECT, DISCONNECT, PROBE or None: what the caller must do now."""
        deadline = self.deadline(now)
        if deadline is None or now < deadline:
            return None
        if self.state == BACKOFF:
            return CONNECT
        if self.state == CONNECTING:
            return DISCONNECT
        if self.state == ACTIVE:
            vlog.dbg("%s: idle %d ms, sending inactivity probe", self.name,
                     now - max(self.last_activity, self.state_entered))
            self._transition(now, IDLE)
            return PROBE
        if self.state == IDLE:
            vlog.err("%s: no response to inactivity probe after %.3g "
                     "seconds, disconnecting", self.name,
                     (now - self.state_entered) / 1000.0)
            return DISCONNECT
        if self.state == RECONNECT:
            return DISCONNECT
        return None

    def timeout(self, now):
        """Milliseconds until run() must be called again, or None."""
        deadline = self.deadline(now)
        if deadline is None:
            return None
        return max(0, deadline - now)

    def is_enabled(self):
        return self.state != VOID

    def is_connected(self):
        return self.state in (ACTIVE, IDLE)

    def get_last_connect_elapsed(self, now):
        return None if self.last_connected is None else now - self.last_connected

    def get_last_disconnect_elapsed(self, now):
        return None if self.last_disconnected is None else now - self.last_disconnected

    def get_stats(self, now):
        total = self.total_connected_duration
        if self.is_connected():
            total += now - self.last_connected
        return {
            "creation_time": self.creation_time,
            "last_activity": self.last_activity,
            "last_connected": self.last_connected,
            "last_disconnected": self.last_disconnected,
            "backoff": self.backoff,
            "seqno": self.seqno,
            "is_connected": self.is_connected(),
            "msec_since_connect": self.get_last_connect_elapsed(now),
            "msec_since_disconnect": self.get_last_disconnect_elapsed(now),
            "total_connected_duration": total,
            "n_attempted_connections": self.n_attempted_connections,
            "n_successful_connections": self.n_successful_connections,
            "state": self.state,
            "state_elapsed": now - self.state_entered,
        }


__all__ = ["Reconnect", "CONNECT", "DISCONNECT", "PROBE", "EOF"]
