"""Dying cleanly on fatal signals (OVS's lib/fatal-signal).

When a daemon is told to die (SIGTERM, SIGINT, SIGHUP, SIGALRM) it logs
``terminating with signal N (Name)``, removes the files it registered
(control sockets, pidfile) and then dies of the same signal, so that its
parent sees the true cause.  Files registered here are also removed by
whoever calls unlink_files() on a normal exit.

API: add_file_to_unlink(path), remove_file_to_unlink(path), unlink_files(),
add_hook(fn), install(signals=FATAL_SIGNALS).
"""

import os
import signal

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


def _handler(signum, frame):
    vlog.warn("terminating with signal %d (%s)", signum,
              signal.strsignal(signum))
    for fn in _hooks:
        try:
            fn()
        except Exception:       # dying anyway
            pass
    unlink_files()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def install(signals=FATAL_SIGNALS):
    """Handle SIGNALS as fatal (call from the main thread)."""
    for sig in signals:
        signal.signal(sig, _handler)
