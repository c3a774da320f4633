"""Logging as Open vSwitch does it (OVS's lib/vlog).

Every source module logs through its own named module (``Vlog("jsonrpc")``),
and every module has a level per destination (console = stderr, syslog,
file).  A message is written to a destination if its level is at or above
the module's level there.  Levels, from quiet to loud: off, emer, err, warn,
info, dbg; everything starts at info.

Each destination formats lines from a pattern with OVS's escapes (%c module,
%p level, %m message, %N sequence number, %D{strftime} UTC date where ``###``
is milliseconds, %d local date, %A program, %P pid, %E host, %B syslog
priority, %r ms since start, %t/%T thread, %n newline, %% percent, with
optional ``-`` and width as in ``%05N``).  The defaults produce the lines OVS
writes::

    console  2026-11-24T07:40:01Z|00001|module|INFO|message
    file     2026-11-24T07:40:01.123Z|00001|module|INFO|message
    syslog   ovs|00001|module|INFO|message

Settings come from -v/--verbose specs (``-vMODULE:DEST:LEVEL``,
``-vconsole:off``, ``-vPATTERN:DEST:FORMAT``, ``-vFACILITY:NAME``) on the
command line and from the unixctl commands vlog/set, vlog/list,
vlog/list-pattern, vlog/reopen, vlog/close, vlog/disable-rate-limit and
vlog/enable-rate-limit.  Rate limiting works as in OVS: a RateLimit is a
token bucket (RATE messages per minute, bursts of BURST), used through the
``*_rl`` methods; dropped messages are summarised once logging resumes.

API:
  Vlog(name): .emer/.err/.warn/.info/.dbg(fmt, *args),
    .emer_rl/.err_rl/.warn_rl/.info_rl/.dbg_rl(rl, fmt, *args),
    .is_enabled(level)
  RateLimit(rate=5, burst=20)
  set_program_name(name); set_levels(module, dest, level); get_level()
  set_levels_from_string(spec) -> error text or None
  handle_verbose(spec) (for -v; exits with OVS's message on error)
  set_log_file(path or None) -> error text or None; reopen_log_file();
    close_log_file(); log_file_name()
  set_syslog_method("libc" | "unix:FILE" | "udp:IP:PORT");
    set_syslog_target("IP:PORT") (RFC 5424 over UDP, as OVS sends it)
  set_pattern(dest, pattern); format_message(...)
  list_levels() / list_patterns(): the text of vlog/list, vlog/list-pattern
  register_unixctl_commands(server)
"""

import os
import socket
import sys
import threading
import time

LEVELS = ("OFF", "EMER", "ERR", "WARN", "INFO", "DBG")
DESTINATIONS = ("console", "syslog", "file")

OFF, EMER, ERR, WARN, INFO, DBG = range(6)

DEFAULT_PATTERNS = {
    "console": "%D{%Y-%m-%dT%H:%M:%SZ}|%05N|%c%T|%p|%m",
    "syslog": "ovs|%05N|%c%T|%p|%m",
    "file": "%D{%Y-%m-%dT%H:%M:%S.###Z}|%05N|%c%T|%p|%m",
}
#: What vlog/list-pattern shows as the syslog prefix.
SYSLOG_PREFIX = "<%B> %D{%h %e %T} %E %A:"

_SYSLOG_PRIORITY = {EMER: 1, ERR: 3, WARN: 4, INFO: 5, DBG: 7}
_FACILITIES = ("kern", "user", "mail", "daemon", "auth", "syslog", "lpr",
               "news", "uucp", "clock", "authpriv", "ftp", "ntp", "audit",
               "alert", "clock2", "local0", "local1", "local2", "local3",
               "local4", "local5", "local6", "local7")

_lock = threading.RLock()
_modules = {}                # name -> [console, syslog, file] levels
#: Levels a module gets when it registers: INFO, as changed by settings that
#: name no module (-vconsole:off), so modules imported later obey them too,
#: as in OVS where every module exists from the start.
_defaults = [INFO, INFO, INFO]
_no_rate_limit = set()       # modules whose rate limits are disabled
_patterns = dict(DEFAULT_PATTERNS)
_state = {
    "program": os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python",
    "seq": 0,
    "log_file_name": None,
    "log_file": None,
    "facility": None,        # None: daemon for syslog, local0 for RFC 5424
    "syslog_method": None,   # None/"libc", or (socket, address) of a datagram
    "syslog_target": None,   # (socket, address) for --syslog-target
    "syslog_open": False,
    "start": time.time(),
}


def _level_val(word):
    word = word.upper()
    return LEVELS.index(word) if word in LEVELS else None


def _dest_val(word):
    word = word.lower()
    return DESTINATIONS.index(word) if word in DESTINATIONS else None


def _register(name):
    with _lock:
        if name not in _modules:
            _modules[name] = list(_defaults)
        return _modules[name]


class RateLimit:
    """OVS's vlog_rate_limit: at most RATE messages per minute on average,
    in bursts of up to BURST."""

    MSG_TOKENS = 60 * 1000

    def __init__(self, rate=5, burst=20, clock=None):
        self.rate = rate                     # tokens per millisecond
        self.max_tokens = burst * self.MSG_TOKENS
        self.tokens = self.max_tokens
        self._clock = clock or time.monotonic
        self.last_fill = None
        self.first_dropped = 0
        self.last_dropped = 0
        self.n_dropped = 0

    def withdraw(self):
        now_ms = int(self._clock() * 1000)
        if self.last_fill is None:
            self.last_fill = now_ms
        if self.tokens < self.MSG_TOKENS:
            elapsed = max(0, now_ms - self.last_fill)
            self.tokens = min(self.max_tokens, self.tokens + elapsed * self.rate)
            self.last_fill = now_ms
        if self.tokens >= self.MSG_TOKENS:
            self.tokens -= self.MSG_TOKENS
            return True
        return False


class Vlog:
    """A logging module; create one per source module with OVS's name."""

    def __init__(self, name):
        self.name = name
        self.levels = _register(name)

    def is_enabled(self, level):
        if isinstance(level, str):
            level = _level_val(level)
        return any(level <= lv for lv in self.levels)

    def log(self, level, fmt, *args):
        if not any(level <= lv for lv in self.levels):
            return
        try:
            message = (fmt % args) if args else str(fmt)
        except (TypeError, ValueError):     # a logging bug must not kill us
            message = "%s %r" % (fmt, args)
        _write(self.name, self.levels, level, message)

    def emer(self, fmt, *args):
        self.log(EMER, fmt, *args)

    def err(self, fmt, *args):
        self.log(ERR, fmt, *args)

    def warn(self, fmt, *args):
        self.log(WARN, fmt, *args)

    def info(self, fmt, *args):
        self.log(INFO, fmt, *args)

    def dbg(self, fmt, *args):
        self.log(DBG, fmt, *args)

    warning = warn
    error = err
    debug = dbg

    def log_rl(self, rl, level, fmt, *args):
        """Log unless RL says this message is one too many."""
        if not any(level <= lv for lv in self.levels):
            return
        if self.name not in _no_rate_limit:
            with _lock:
                if not rl.withdraw():
                    now = time.time()
                    if not rl.n_dropped:
                        rl.first_dropped = now
                    rl.last_dropped = now
                    rl.n_dropped += 1
                    return
                n = rl.n_dropped
                rl.n_dropped = 0
            if n:
                now = time.time()
                self.log(level, "Dropped %u log messages in last %u seconds "
                         "(most recently, %u seconds ago) due to excessive "
                         "rate", n, now - rl.first_dropped,
                         now - rl.last_dropped)
        self.log(level, fmt, *args)

    def emer_rl(self, rl, fmt, *args):
        self.log_rl(rl, EMER, fmt, *args)

    def err_rl(self, rl, fmt, *args):
        self.log_rl(rl, ERR, fmt, *args)

    def warn_rl(self, rl, fmt, *args):
        self.log_rl(rl, WARN, fmt, *args)

    def info_rl(self, rl, fmt, *args):
        self.log_rl(rl, INFO, fmt, *args)

    def dbg_rl(self, rl, fmt, *args):
        self.log_rl(rl, DBG, fmt, *args)


vlog = Vlog("vlog")


# ---------------------------------------------------------------------------
# Formatting.

def _strftime(fmt, t, utc):
    msec = int(round(t * 1000))
    ms = "%03d" % (msec % 1000)
    tm = time.gmtime(msec // 1000) if utc else time.localtime(msec // 1000)
    try:
        return time.strftime(fmt.replace("###", ms), tm)
    except ValueError:          # a pattern strftime cannot handle
        return fmt


def format_message(pattern, module, level, message, seq, now=None):
    """Expand PATTERN for one message (OVS's format_log_message)."""
    now = time.time() if now is None else now
    out = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        i += 1
        left = False
        if i < n and pattern[i] == "-":
            left = True
            i += 1
        pad = " "
        if i < n and pattern[i] == "0":
            pad = "0"
            i += 1
        width = 0
        while i < n and pattern[i] in "0123456789":
            width = min(width * 10 + int(pattern[i]), 4096)
            i += 1
        if i >= n:
            break
        c = pattern[i]
        i += 1
        arg = None
        if i < n and pattern[i] == "{" and c in "dD":
            end = pattern.find("}", i)
            if end >= 0:
                arg = pattern[i + 1:end]
                i = end + 1
        if c == "A":
            s = _state["program"]
        elif c == "B":
            s = str(_facility(16) * 8 + _SYSLOG_PRIORITY.get(level, 7))
        elif c == "c":
            s = module
        elif c == "d":
            s = _strftime(arg or "%Y-%m-%d %H:%M:%S.###", now, False)
        elif c == "D":
            s = _strftime(arg or "%Y-%m-%d %H:%M:%S.###", now, True)
        elif c == "E":
            s = socket.gethostname()
        elif c == "m":
            s = message
        elif c == "N":
            s = str(seq)
        elif c == "n":
            s = "\n"
        elif c == "p":
            s = LEVELS[level]
        elif c == "P":
            s = str(os.getpid())
        elif c == "r":
            s = str(int((now - _state["start"]) * 1000))
        elif c == "t":
            s = "main"
        elif c == "T":
            s = ""
        else:
            s = c
        if width and len(s) < width:
            s = s.ljust(width) if left else s.rjust(width, pad)
        out.append(s)
    return "".join(out)


def _write(module, levels, level, message):
    with _lock:
        _state["seq"] += 1
        seq = _state["seq"]
        now = time.time()
        if level <= levels[0]:
            line = format_message(_patterns["console"], module, level,
                                  message, seq, now)
            try:
                sys.stderr.write(line + "\n")
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
        if level <= levels[1]:
            _syslog(module, level, message, seq, now)
        f = _state["log_file"]
        if level <= levels[2] and f is not None:
            line = format_message(_patterns["file"], module, level, message,
                                  seq, now)
            try:
                f.write(line + "\n")
                f.flush()
            except (OSError, ValueError):
                pass


#: What --syslog-target sends (RFC 5424, with a UTF-8 BOM before the text).
RFC5424_PATTERN = "<%B>1 %D{%Y-%m-%dT%H:%M:%S.###Z} %E %A %P %c - \ufeff%m"


def _facility(default):
    f = _state["facility"]
    return default if f is None else f


def _sendto(target, data):
    sock, address = target
    try:
        sock.sendto(data, address)
    except OSError:
        pass


def _syslog(module, level, message, seq, now):
    severity = _SYSLOG_PRIORITY.get(level, 7)
    line = format_message(_patterns["syslog"], module, level, message, seq,
                          now)
    method = _state["syslog_method"]
    if method is None:
        try:
            import syslog
        except ImportError:
            return
        if not _state["syslog_open"]:
            syslog.openlog(_state["program"], 0, _facility(3) << 3)
            _state["syslog_open"] = True
        syslog.syslog(severity, line)
    else:
        pri = _facility(3) * 8 + severity
        _sendto(method, ("<%d>%s" % (pri, line)).encode("utf-8", "replace"))
    target = _state["syslog_target"]
    if target is not None:
        text = format_message(RFC5424_PATTERN, module, level, message, seq, now)
        _sendto(target, text.encode("utf-8", "replace"))


def _udp_target(spec, what):
    """(socket, address) for "IP:PORT"; raises ValueError."""
    host, sep, port = spec.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError("%s: bad %s" % (spec, what))
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        socket.inet_pton(family, host)
    except OSError:
        raise ValueError("%s: bad %s" % (spec, what)) from None
    return socket.socket(family, socket.SOCK_DGRAM), (host, int(port))


def set_syslog_method(method):
    """--syslog-method: "libc", "unix:FILE" or "udp:IP:PORT" (raises
    ValueError for anything else)."""
    if method in (None, "", "libc"):
        _state["syslog_method"] = None
    elif method.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        _state["syslog_method"] = (sock, method[5:])
    elif method.startswith("udp:"):
        _state["syslog_method"] = _udp_target(method[4:], "syslog method")
    else:
        raise ValueError("unknown syslog method \"%s\"" % method)


def set_syslog_target(target):
    """--syslog-target=IP:PORT: also send RFC 5424 messages there by UDP."""
    vlog.warn("--syslog-target flag is deprecated, use --syslog-method instead")
    _state["syslog_target"] = _udp_target(target, "syslog target")


# ---------------------------------------------------------------------------
# Settings.

def set_program_name(name):
    _state["program"] = os.path.basename(name)


def program_name():
    return _state["program"]


def set_levels(module, destination, level):
    """Set LEVEL for MODULE (None = all) at DESTINATION (None = all)."""
    if isinstance(level, str):
        level = _level_val(level)
    if isinstance(destination, str):
        destination = _dest_val(destination)
    with _lock:
        mods = ([_defaults, *_modules.values()] if module is None
                else [_register(module)])
        for levels in mods:
            for d in range(3):
                if destination is None or destination == d:
                    levels[d] = level


def get_level(module, destination):
    return LEVELS[_modules[module][_dest_val(destination)]]


def set_pattern(destination, pattern):
    """Set the pattern for DESTINATION (None = all)."""
    with _lock:
        for d in DESTINATIONS:
            if destination is None or destination == d:
                _patterns[d] = pattern


def _tokens(s):
    for sep in ",:\t":
        s = s.replace(sep, " ")
    return s.split()


def set_levels_from_string(spec):
    """Apply one -v/vlog/set SPEC; return an error text or None."""
    words = _tokens(spec)
    if words and words[0].upper() == "PATTERN":
        if len(words) < 2:
            return "missing destination"
        rest = spec.lstrip(" \t")[len(words[0]):].lstrip(" ,:\t")
        dest_word = words[1]
        rest = rest[len(dest_word):]
        if rest[:1] in (" ", ",", ":", "\t"):
            rest = rest[1:]
        if dest_word.upper() == "ANY":
            dest = None
        else:
            if _dest_val(dest_word) is None:
                return 'unknown destination "%s"' % dest_word
            dest = dest_word.lower()
        set_pattern(dest, rest)
        return None
    if words and words[0].upper() == "FACILITY":
        rest = spec.lstrip(" \t")[len(words[0]):].lstrip(" ,:\t").strip()
        if rest not in _FACILITIES:
            return "invalid facility"
        _state["facility"] = _FACILITIES.index(rest)
        if _state["syslog_open"]:
            import syslog
            syslog.closelog()
            _state["syslog_open"] = False
        return None
    destination = level = module = None
    for word in words:
        if word.upper() == "ANY":
            continue
        if _dest_val(word) is not None:
            if destination is not None:
                return "cannot specify multiple destinations"
            destination = _dest_val(word)
        elif _level_val(word) is not None:
            if level is not None:
                return "cannot specify multiple levels"
            level = _level_val(word)
        elif word in _modules:
            if module is not None:
                return "cannot specify multiple modules"
            module = word
        else:
            return 'no destination, level, or module "%s"' % word
    set_levels(module, destination, DBG if level is None else level)
    return None


def handle_verbose(spec):
    """-v / --verbose[=SPEC]: apply SPEC or exit with OVS's fatal error."""
    if spec is None or spec == "":
        set_levels(None, None, DBG)
        return
    error = set_levels_from_string(spec)
    if error:
        sys.stderr.write('%s: processing "%s": %s\n'
                         % (_state["program"], spec, error))
        sys.exit(1)


def log_file_name():
    return _state["log_file_name"]


def default_log_file():
    from pyovs.util import dirs
    return os.path.join(dirs.logdir(), _state["program"] + ".log")


def set_log_file(path=None):
    """Log to PATH (None = the default $OVS_LOGDIR/PROGRAM.log); return an
    error text or None."""
    path = os.path.abspath(path) if path else default_log_file()
    try:
        f = open(path, "a", encoding="utf-8", errors="replace")
    except OSError as e:
        vlog.warn("failed to open %s for logging: %s", path, e.strerror)
        return e.strerror
    old = _state["log_file"]
    if old is not None:
        try:
            a, b = os.fstat(old.fileno()), os.fstat(f.fileno())
            if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
                f.close()           # the file we already have open
                return None
        except (OSError, ValueError):
            pass
    with _lock:
        old = _state["log_file"]
        _state["log_file"] = f
        _state["log_file_name"] = path
        if old is not None:
            old.close()
    vlog.info("opened log file %s", path)
    return None


def reopen_log_file():
    """Reopen the log file (after rotation); return an error text or None."""
    name = _state["log_file_name"]
    if name is None:
        return None
    return set_log_file(name)


def close_log_file():
    """Stop writing the log file (vlog/reopen opens it again)."""
    with _lock:
        f = _state["log_file"]
        _state["log_file"] = None
        if f is not None:
            f.close()


def list_levels():
    """The text of vlog/list."""
    lines = ["                 console    syslog    file\n",
             "                 -------    ------    ------\n"]
    with _lock:
        for name in sorted(_modules):
            c, s, f = (LEVELS[x] for x in _modules[name])
            lines.append("%-16s  %4s       %4s       %4s\n" % (name, c, s, f))
    return "".join(lines)


def list_patterns():
    """The text of vlog/list-pattern."""
    out = ["         prefix                            format\n",
           "         ------                            ------\n"]
    for dest, prefix in (("syslog", SYSLOG_PREFIX), ("console", "none"),
                         ("file", "none")):
        out.append("%-9s%-34s%s\n" % (dest.upper(), prefix, _patterns[dest]))
    return "".join(out)


def register_unixctl_commands(server):
    """Add vlog/set, vlog/list, vlog/list-pattern, vlog/reopen, vlog/close,
    vlog/disable-rate-limit and vlog/enable-rate-limit."""

    def vlog_set(conn, args):
        for arg in args:
            error = set_levels_from_string(arg)
            if error:
                conn.reply_error(error)
                return
        if not args:
            set_levels(None, None, DBG)
        conn.reply(None)

    def vlog_list(conn, args):
        conn.reply(list_levels())

    def vlog_list_pattern(conn, args):
        conn.reply(list_patterns())

    def vlog_reopen(conn, args):
        if _state["log_file_name"] is None:
            conn.reply_error("Logging to file not configured")
            return
        error = reopen_log_file()
        if error:
            conn.reply_error(error)
        else:
            conn.reply(None)

    def vlog_close(conn, args):
        close_log_file()
        conn.reply(None)

    def set_rate_limits(conn, args, enable):
        for arg in args:
            if arg.upper() == "ANY":
                names = list(_modules)
            elif arg in _modules:
                names = [arg]
            else:
                conn.reply_error("unknown module")
                return
            for name in names:
                (_no_rate_limit.discard if enable else _no_rate_limit.add)(name)
        if not args:
            for name in _modules:
                (_no_rate_limit.discard if enable else _no_rate_limit.add)(name)
        conn.reply(None)

    server.register("vlog/disable-rate-limit", "[module]...", 0, 2 ** 31 - 1,
                    lambda conn, args: set_rate_limits(conn, args, False))
    server.register("vlog/enable-rate-limit", "[module]...", 0, 2 ** 31 - 1,
                    lambda conn, args: set_rate_limits(conn, args, True))
    server.register("vlog/set", "{spec | PATTERN:destination:pattern}",
                    0, 2 ** 31 - 1, vlog_set)
    server.register("vlog/list", "", 0, 0, vlog_list)
    server.register("vlog/list-pattern", "", 0, 0, vlog_list_pattern)
    server.register("vlog/reopen", "", 0, 0, vlog_reopen)
    server.register("vlog/close", "", 0, 0, vlog_close)
