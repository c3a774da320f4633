"""Dying cleanly on fatal signals (OVS's lib/fatal-signal).

When a daemon is told to die (SIGTERM, SIGINT, SIGHUP, SIGALRM) it logs
``terminating with signal N (Name)``, removes the files it registered
(control sockets, pidfile) and then dies of the same signal, so that its
parent sees the true cause.  Files registered here are also removed by
whoever calls unlink_files() on a normal exit.

An asyncio daemon that wants to wind down first (flush, close its
listeners) uses ``add_signal_handlers(loop, on_signal)`` instead of
``install()``: a fatal signal is logged at once, ON_SIGNAL() is called in
the loop, and once the daemon has wound down it calls ``exit_if_signaled()``
to die of the signal as OVS's fatal_signal_run() does.

API: add_file_to_unlink(path), remove_file_to_unlink(path), unlink_files(),
add_hook(fn), install(signals=FATAL_SIGNALS), add_signal_handlers(loop,
on_signal, signals=FATAL_SIGNALS), exit_if_signaled(), received().
"""

import os
import signal
import sys

from pyovs.util.vlog import Vlog

vlog = Vlog("fatal_signal")

FATAL_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM)

_files = []
_hooks = []


def add_file_to_unlink(path):
    if path not in _files:
        _files.append(path)


def remove_file_to_unlink(path):
    if path in _files:
        _files.remove(path)


def unlink_files():
    for path in list(_files):
        try:
            os.unlink(path)
        except OSError:
            pass
    _files.clear()


def add_hook(fn):
    """Call FN() before dying of a fatal signal."""
    _hooks.append(fn)


_received = []


def _log(signum):
    vlog.warn("terminating with signal %d (%s)", signum,
              signal.strsignal(signum))


def _die(signum):
    """Run the hooks, remove the files and die of SIGNUM."""
    for fn in _hooks:
        try:
            fn()
        except Exception:       # dying anyway
            pass
    unlink_files()
    sys.stderr.flush()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _handler(signum, frame):
    _log(signum)
    _die(signum)


def install(signals=FATAL_SIGNALS):
    """Handle SIGNALS as fatal (call from the main thread)."""
    for sig in signals:
        signal.signal(sig, _handler)


def add_signal_handlers(loop, on_signal, signals=FATAL_SIGNALS):
    """Handle SIGNALS in asyncio LOOP: log the first one as OVS does and
    call ON_SIGNAL(); the daemon then winds down and calls
    exit_if_signaled()."""
    def handler(signum):
        if not _received:
            _received.append(signum)
            _log(signum)
        on_signal()
    for sig in signals:
        loop.add_signal_handler(sig, handler, sig)


def received():
    """The fatal signal received through add_signal_handlers(), or None."""
    return _received[0] if _received else None


def exit_if_signaled():
    """Die of the fatal signal received, if any (else return)."""
    if _received:
        _die(_received[0])
