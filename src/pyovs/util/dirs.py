"""Open vSwitch's well-known directories (OVS's lib/dirs).

Each directory can be overridden by an environment variable, exactly as OVS
allows; the defaults are those Debian's Open vSwitch 3.1 was built with.

API: rundir(), logdir(), dbdir(), sysconfdir(), pkgdatadir(), bindir(),
abs_file_name(dir, name).
"""

import os

#: (environment variable, Debian's compiled-in default)
_DIRS = {
    "rundir": ("OVS_RUNDIR", "/var/run/openvswitch"),
    "logdir": ("OVS_LOGDIR", "/var/log/openvswitch"),
    "dbdir": ("OVS_DBDIR", "/etc/openvswitch"),
    "sysconfdir": ("OVS_SYSCONFDIR", "/etc"),
    "pkgdatadir": ("OVS_PKGDATADIR", "/usr/share/openvswitch"),
    "bindir": ("OVS_BINDIR", "/usr/bin"),
}


def _dir(which):
    var, default = _DIRS[which]
    return os.environ.get(var) or default


def rundir():
    """Where pidfiles and control sockets live ($OVS_RUNDIR)."""
    return _dir("rundir")


def logdir():
    """Where log files go by default ($OVS_LOGDIR)."""
    return _dir("logdir")


def dbdir():
    """Where databases live by default: $OVS_DBDIR, else (as OVS's
    ovs_dbdir()) $OVS_SYSCONFDIR/openvswitch when that variable is set."""
    if os.environ.get("OVS_DBDIR"):
        return os.environ["OVS_DBDIR"]
    if "OVS_SYSCONFDIR" in os.environ:
        return os.environ["OVS_SYSCONFDIR"] + "/openvswitch"
    return _DIRS["dbdir"][1]


def sysconfdir():
    """$OVS_SYSCONFDIR, default /etc."""
    return _dir("sysconfdir")


def pkgdatadir():
    """Where schemas are installed ($OVS_PKGDATADIR)."""
    return _dir("pkgdatadir")


def bindir():
    """$OVS_BINDIR, default /usr/bin."""
    return _dir("bindir")


def abs_file_name(directory, name):
    """NAME made absolute relative to DIRECTORY (as OVS's abs_file_name)."""
    if name.startswith("/"):
        return name
    return os.path.join(directory, name)
