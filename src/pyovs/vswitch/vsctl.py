"""ovs-vsctl: the Open vSwitch commands over the Open_vSwitch schema.

The generic machinery (command chains, record names, the value syntax, the
database commands) is :mod:`pyovs.ovsdb.ctl`; this module adds what is
particular to the switch configuration, as OVS's ovs-vsctl does:

* a cache of bridges, ports and interfaces (:class:`VsctlCache`), built on
  demand from the transaction's view of the database.  Fake bridges are
  ports with ``fake_bridge=true`` and a VLAN ``tag``: they appear as
  bridges whose parent is the real bridge holding the port, and ports with
  that tag are listed under them.  A command that changes the database in a
  way the cache does not follow invalidates it;
* verification: what a command decided from (the bridge list, the port and
  interface lists) is verified in the transaction, so a concurrent change
  makes the commit fail with "try again" and the whole chain is rerun;
* the driver :func:`run`: connect with the IDL, run the chain, commit with
  the comment ``ovs-vsctl: ARGS``, retry on "try again", print each
  command's output (tables in the --format style), and unless --no-wait,
  bump ``next_cfg`` in the same transaction and wait until ovs-vswitchd
  reports ``cur_cfg`` at least that high.

API: run(argv) -> exit status (the whole tool; pyovs.cli.ovs_vsctl calls
it); COMMANDS (name -> CommandSyntax); ROW_IDS; SHOW_TABLES.
"""

import errno
import math
import os
import signal
import sys
import time

from pyovs.ovsdb import ctl
from pyovs.ovsdb.ctl import (RO, RW, CommandSyntax, CtlError, CtlExit, RowId,
                             ShowTable)
from pyovs.util import vlog

PROGRAM = "ovs-vsctl"

#: How records of each table may be named besides by UUID (OVS 3.1's
#: list; ovs-vsctl --help prints it).
ROW_IDS = {
    "AutoAttach": [RowId("Bridge", "name", "auto_attach")],
    "Bridge": [RowId("Bridge", "name", None)],
    "CT_Timeout_Policy": [],
    "CT_Zone": [],
    "Controller": [RowId("Bridge", "name", "controller")],
    "Datapath": [],
    "Flow_Sample_Collector_Set": [RowId("Flow_Sample_Collector_Set", "id", None)],
    "Flow_Table": [RowId("Flow_Table", "name", None)],
    "IPFIX": [RowId("Bridge", "name", "ipfix")],
    "Interface": [RowId("Interface", "name", None)],
    "Manager": [RowId("Manager", "target", None)],
    "Mirror": [RowId("Mirror", "name", None)],
    "NetFlow": [RowId("Bridge", "name", "netflow")],
    "Open_vSwitch": [RowId("Open_vSwitch", None, None)],
    "Port": [RowId("Port", "name", None)],
    "QoS": [RowId("Port", "name", "qos")],
    "Queue": [],
    "SSL": [RowId("Open_vSwitch", None, "ssl")],
    "sFlow": [RowId("Bridge", "name", "sflow")],
}


def _row_ids_usage():
    out = ["Database commands may reference a row in each table in the following "
           "ways:\n"]
    for table in sorted(ROW_IDS):
        out.append("  %s:\n    by UUID\n" % table)
        for rid in ROW_IDS[table]:
            if rid.uuid_column is not None:
                if rid.name_column is None:
                    out.append('    as "."\n')
                else:
                    out.append('    via "%s" of %s with matching "%s"\n'
                               % (rid.uuid_column, rid.table, rid.name_column))
            elif rid.name_column is None:
                out.append('    as "."\n')
            else:
                out.append('    by "%s"\n' % rid.name_column)
    return "".join(out)


SHOW_TABLES = [
    ShowTable("Open_vSwitch", None, ["manager_options", "bridges", "ovs_version"]),
    ShowTable("Bridge", "name", ["controller", "fail_mode", "datapath_type", "ports"]),
    ShowTable("Port", "name", ["tag", "trunks", "interfaces"]),
    ShowTable("Interface", "name", ["type", "options", "error"]),
    ShowTable("Controller", "target", ["is_connected"]),
    ShowTable("Manager", "target", ["is_connected"]),
]


# ---------------------------------------------------------------------------
# The bridge/port/interface cache.

class VBridge:
    __slots__ = ("uuid", "name", "ports", "parent", "vlan", "children")

    def __init__(self, uuid, name, parent, vlan):
        self.uuid = uuid            # Bridge row, None for a fake bridge
        self.name = name
        self.ports = []
        self.parent = parent
        self.vlan = vlan
        self.children = {}          # vlan -> VBridge

    def real(self):
        return self.parent if self.parent is not None else self


class VPort:
    __slots__ = ("uuid", "name", "bridge", "ifaces")

    def __init__(self, uuid, name, bridge):
        self.uuid = uuid
        self.name = name
        self.bridge = bridge
        self.ifaces = []


class VIface:
    __slots__ = ("uuid", "name", "port")

    def __init__(self, uuid, name, port):
        self.uuid = uuid
        self.name = name
        self.port = port


def _port_tag(view, p):
    tag = view.get("Port", p, "tag")
    return tag[0] if tag and 0 <= tag[0] <= 4095 else None


def _is_fake_bridge(view, p):
    return bool(view.get("Port", p, "fake_bridge")) and _port_tag(view, p) is not None


class VsctlCache:
    def __init__(self, vctx):
        view = vctx.view
        self.bridges = {}
        self.ports = {}
        self.ifaces = {}
        ovs = vctx.ovs
        br_uuids = [b for b in view.read("Open_vSwitch", ovs, "bridges").keys()
                    if view.exists("Bridge", b)]
        names = set()
        port_names = set()
        for b in br_uuids:
            name = view.get("Bridge", b, "name")
            if name in names:
                vctx.tool.warn("vsctl", "%s: database contains duplicate bridge name"
                               % name)
                continue
            names.add(name)
            br = self._add_bridge(b, name, None, 0)
            for p in self._ports(view, b):
                pname = view.get("Port", p, "name")
                if pname in port_names:
                    continue
                port_names.add(pname)
                if _is_fake_bridge(view, p) and pname not in names:
                    names.add(pname)
                    self._add_bridge(None, pname, br, _port_tag(view, p))
        seen = set()
        for b in br_uuids:
            name = view.get("Bridge", b, "name")
            if name in seen:
                continue
            seen.add(name)
            br = self.bridges[name]
            for p in self._ports(view, b):
                pname = view.get("Port", p, "name")
                port = self.ports.get(pname)
                if port is not None:
                    continue
                if _is_fake_bridge(view, p):
                    if pname in seen:
                        continue
                    seen.add(pname)
                port = self._add_port(view, br, p, pname)
                for i in view.read("Port", p, "interfaces").keys():
                    if not view.exists("Interface", i):
                        continue
                    iname = view.get("Interface", i, "name")
                    if iname in self.ifaces:
                        continue
                    self._add_iface(port, i, iname)

    @staticmethod
    def _ports(view, b):
        return [p for p in view.read("Bridge", b, "ports").keys()
                if view.exists("Port", p)]

    def _add_bridge(self, u, name, parent, vlan):
        br = VBridge(u, name, parent, vlan)
        if parent is not None and vlan not in parent.children:
            parent.children[vlan] = br
        self.bridges[name] = br
        return br

    def _add_port(self, view, parent, p, name, tag=None):
        tag = _port_tag(view, p) if tag is None else tag
        if tag is not None and tag in parent.children:
            parent = parent.children[tag]
        port = VPort(p, name, parent)
        parent.ports.append(port)
        self.ports[name] = port
        return port

    def _add_iface(self, port, i, name):
        iface = VIface(i, name, port)
        port.ifaces.append(iface)
        self.ifaces[name] = iface
        return iface


class VsctlContext:
    """Per-run state shared by the commands of one chain."""

    def __init__(self, tool, view, ovs):
        self.tool = tool
        self.view = view
        self.ovs = ovs
        self.cache = None
        self.verified_ports = False

    def populate(self):
        if self.cache is None:
            self.cache = VsctlCache(self)
        return self.cache

    def invalidate(self):
        self.cache = None


def _vctx(ctx):
    return ctx.tool.vctx


def verify_ports(vctx):
    """Verify the bridge, port and interface lists.  OVS does this once per
    command; verifying a column again verifies nothing new (rows the chain
    inserts need no verification), so once per chain suffices."""
    if vctx.verified_ports:
        return
    view = vctx.view
    view.verify("Open_vSwitch", vctx.ovs, "bridges")
    for b in view.idl.data.get("Bridge", ()):
        view.verify("Bridge", b, "ports")
    for p in view.idl.data.get("Port", ()):
        view.verify("Port", p, "interfaces")
    vctx.verified_ports = True


def find_bridge(vctx, name, must_exist):
    br = vctx.cache.bridges.get(name)
    if must_exist and br is None:
        raise CtlError("no bridge named %s" % name)
    vctx.view.verify("Open_vSwitch", vctx.ovs, "bridges")
    return br


def find_real_bridge(vctx, name, must_exist):
    br = find_bridge(vctx, name, must_exist)
    if br is not None and br.parent is not None:
        raise CtlError("%s is a fake bridge" % name)
    return br


def find_port(vctx, name, must_exist):
    port = vctx.cache.ports.get(name)
    if port is not None and port.bridge.name == name:
        port = None
    if must_exist and port is None:
        raise CtlError("no port named %s" % name)
    verify_ports(vctx)
    return port


def find_iface(vctx, name, must_exist):
    iface = vctx.cache.ifaces.get(name)
    if iface is not None and iface.port.bridge.name == name:
        iface = None
    if must_exist and iface is None:
        raise CtlError("no interface named %s" % name)
    verify_ports(vctx)
    return iface


def check_conflicts(vctx, name, msg):
    verify_ports(vctx)
    c = vctx.cache
    if name in c.bridges:
        raise CtlError("%s because a bridge named %s already exists" % (msg, name))
    if name in c.ports:
        raise CtlError("%s because a port named %s already exists on bridge %s"
                       % (msg, name, c.ports[name].bridge.name))
    if name in c.ifaces:
        raise CtlError("%s because an interface named %s already exists on "
                       "bridge %s" % (msg, name, c.ifaces[name].port.bridge.name))


def _uuid_list_add(view, table, u, column, new):
    d = view.get(table, u, column)
    view.set(table, u, column, list(d) + [new])


def _uuid_list_remove(view, table, u, column, old):
    view.set(table, u, column, [x for x in view.get(table, u, column) if x != old])


def _output_sorted(ctx, names):
    for n in sorted(names, key=lambda s: s.encode("utf-8")):
        ctx.out(n + "\n")


# -- bridges ------------------------------------------------------------------

def cmd_init(ctx):
    pass


def cmd_add_br(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    may_exist = "--may-exist" in ctx.options
    br_name = ctx.argv[1]
    if len(ctx.argv) == 2:
        parent_name, vlan = None, 0
    elif len(ctx.argv) == 4:
        parent_name = ctx.argv[2]
        vlan = _atoi(ctx.argv[3])
        if vlan < 0 or vlan > 4095:
            raise CtlError("%s: vlan must be between 0 and 4095" % ctx.argv[0])
    else:
        raise CtlError("'%s' command takes exactly 1 or 3 arguments" % ctx.argv[0])
    if not br_name:
        raise CtlError("bridge name must not be empty string")
    vctx.populate()
    if may_exist:
        br = find_bridge(vctx, br_name, False)
        if br is not None:
            if parent_name is None:
                if br.parent is not None:
                    raise CtlError('"--may-exist add-br %s" but %s is a VLAN '
                                   'bridge for VLAN %d' % (br_name, br_name, br.vlan))
            else:
                if br.parent is None:
                    raise CtlError('"--may-exist add-br %s %s %d" but %s is not '
                                   'a VLAN bridge' % (br_name, parent_name, vlan,
                                                      br_name))
                if br.parent.name != parent_name:
                    raise CtlError('"--may-exist add-br %s %s %d" but %s has the '
                                   'wrong parent %s' % (br_name, parent_name, vlan,
                                                        br_name, br.parent.name))
                if br.vlan != vlan:
                    raise CtlError('"--may-exist add-br %s %s %d" but %s is a VLAN '
                                   'bridge for the wrong VLAN %d'
                                   % (br_name, parent_name, vlan, br_name, br.vlan))
            return
    check_conflicts(vctx, br_name, "cannot create a bridge named %s" % br_name)
    if parent_name is None:
        iface = view.insert("Interface")
        view.set("Interface", iface, "name", br_name)
        view.set("Interface", iface, "type", "internal")
        port = view.insert("Port")
        view.set("Port", port, "name", br_name)
        view.set("Port", port, "interfaces", [iface])
        br = view.insert("Bridge")
        view.set("Bridge", br, "name", br_name)
        view.set("Bridge", br, "ports", [port])
        _uuid_list_add(view, "Open_vSwitch", vctx.ovs, "bridges", br)
    else:
        parent = find_bridge(vctx, parent_name, False)
        if parent is not None and parent.parent is not None:
            raise CtlError("cannot create bridge with fake bridge as parent")
        if parent is None:
            raise CtlError("parent bridge %s does not exist" % parent_name)
        conflict = parent.children.get(vlan)
        if conflict is not None:
            raise CtlError("bridge %s already has a child VLAN bridge %s on VLAN %d"
                           % (parent_name, conflict.name, vlan))
        iface = view.insert("Interface")
        view.set("Interface", iface, "name", br_name)
        view.set("Interface", iface, "type", "internal")
        port = view.insert("Port")
        view.set("Port", port, "name", br_name)
        view.set("Port", port, "interfaces", [iface])
        view.set("Port", port, "fake_bridge", True)
        view.set("Port", port, "tag", [vlan])
        _uuid_list_add(view, "Bridge", parent.uuid, "ports", port)
    ctx.tool.expect_iface(iface)
    vctx.invalidate()


def _atoi(s):
    """C's atoi(): leading digits, 0 if none."""
    s = s.lstrip(" \t\n\v\f\r")
    n = 0
    sign = 1
    i = 0
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        i = 1
    while i < len(s) and s[i].isdigit() and s[i] in "0123456789":
        n = n * 10 + int(s[i])
        i += 1
    n *= sign
    return ((n + (1 << 31)) % (1 << 32)) - (1 << 31)


def del_port(vctx, port):
    view = vctx.view
    br = port.bridge.real()
    _uuid_list_remove(view, "Bridge", br.uuid, "ports", port.uuid)
    for iface in list(port.ifaces):
        port.ifaces.remove(iface)
        vctx.cache.ifaces.pop(iface.name, None)
        view.delete("Interface", iface.uuid)
    port.bridge.ports.remove(port)
    vctx.cache.ports.pop(port.name, None)
    view.delete("Port", port.uuid)


def del_bridge(vctx, br):
    view = vctx.view
    for child in list(br.children.values()):
        del_bridge(vctx, child)
    for port in list(br.ports):
        del_port(vctx, port)
    if br.parent is not None:
        br.parent.children.pop(br.vlan, None)
    if br.uuid is not None:
        view.delete("Bridge", br.uuid)
        _uuid_list_remove(view, "Open_vSwitch", vctx.ovs, "bridges", br.uuid)
    vctx.cache.bridges.pop(br.name, None)


def cmd_del_br(ctx):
    vctx = _vctx(ctx)
    vctx.populate()
    br = find_bridge(vctx, ctx.argv[1], "--if-exists" not in ctx.options)
    if br is not None:
        del_bridge(vctx, br)


def cmd_list_br(ctx):
    vctx = _vctx(ctx)
    real = "--real" in ctx.options
    fake = "--fake" in ctx.options
    if not real and not fake:
        real = fake = True
    c = vctx.populate()
    _output_sorted(ctx, [b.name for b in c.bridges.values()
                         if (fake if b.parent is not None else real)])


def cmd_br_exists(ctx):
    vctx = _vctx(ctx)
    vctx.populate()
    if find_bridge(vctx, ctx.argv[1], False) is None:
        raise CtlExit(2)


def cmd_br_set_external_id(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    vctx.populate()
    br = find_bridge(vctx, ctx.argv[1], True)
    value = ctx.argv[3] if len(ctx.argv) >= 4 else None
    if br.uuid is not None:
        table, u, key = "Bridge", br.uuid, ctx.argv[2]
    else:
        table, u = "Port", vctx.cache.ports[ctx.argv[1]].uuid
        key = "fake-bridge-" + ctx.argv[2]
    ids = view.get(table, u, "external_ids")
    if value is not None:
        ids[key] = value
    else:
        ids.pop(key, None)
    view.verify(table, u, "external_ids")
    view.set(table, u, "external_ids", ids)


def cmd_br_get_external_id(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    vctx.populate()
    br = find_bridge(vctx, ctx.argv[1], True)
    if br.uuid is not None:
        table, u, prefix = "Bridge", br.uuid, ""
    else:
        table, u = "Port", vctx.cache.ports[ctx.argv[1]].uuid
        prefix = "fake-bridge-"
    view.verify(table, u, "external_ids")
    ids = view.get(table, u, "external_ids")
    if len(ctx.argv) >= 3:
        v = ids.get(prefix + ctx.argv[2])
        if v is not None:
            ctx.out(v + "\n")
    else:
        for k in sorted(ids, key=lambda s: s.encode("utf-8")):
            if k.startswith(prefix):
                ctx.out("%s=%s\n" % (k[len(prefix):], ids[k]))


def cmd_br_to_vlan(ctx):
    vctx = _vctx(ctx)
    vctx.populate()
    ctx.out("%d\n" % find_bridge(vctx, ctx.argv[1], True).vlan)


def cmd_br_to_parent(ctx):
    vctx = _vctx(ctx)
    vctx.populate()
    ctx.out("%s\n" % find_bridge(vctx, ctx.argv[1], True).real().name)


# -- ports and interfaces ---------------------------------------------------------

def cmd_list_ports(ctx):
    vctx = _vctx(ctx)
    vctx.populate()
    br = find_bridge(vctx, ctx.argv[1], True)
    vctx.view.verify("Bridge", br.real().uuid, "ports")
    _output_sorted(ctx, [p.name for p in br.ports if p.name != br.name])


def _context_to_string(ctx):
    words = list(ctx.options) + list(ctx.argv)
    return " ".join(_escape_arg(w) for w in words)


def _escape_arg(s):
    """OVS's process_escape_args() for one word."""
    if s and not any(c in s for c in " \\'\"\n\t\r"):
        return s
    out = ['"']
    for c in s:
        if c in '\\"':
            out.append("\\")
        out.append(c)
    out.append('"')
    return "".join(out)


def add_port(ctx, br_name, port_name, may_exist, fake_iface, iface_names, settings):
    vctx = _vctx(ctx)
    view = vctx.view
    if not port_name:
        raise CtlError("port name must not be empty string")
    if "" in iface_names:
        raise CtlError("interface name must not be empty string")
    vctx.populate()
    if may_exist:
        port = find_port(vctx, port_name, False)
        if port is not None:
            want = sorted(iface_names, key=lambda s: s.encode("utf-8"))
            have = sorted((view.get("Interface", i, "name")
                           for i in view.read("Port", port.uuid, "interfaces").keys()
                           if view.exists("Interface", i)),
                          key=lambda s: s.encode("utf-8"))
            if port.bridge.name != br_name:
                raise CtlError('"%s" but %s is actually attached to bridge %s'
                               % (_context_to_string(ctx), port_name,
                                  port.bridge.name))
            if want != have:
                raise CtlError('"%s" but %s actually has interface(s) %s'
                               % (_context_to_string(ctx), port_name,
                                  ", ".join(have)))
            return
    check_conflicts(vctx, port_name, "cannot create a port named %s" % port_name)
    for name in iface_names:
        check_conflicts(vctx, name, "cannot create an interface named %s" % name)
    br = find_bridge(vctx, br_name, True)
    ifaces = []
    for name in iface_names:
        i = view.insert("Interface")
        view.set("Interface", i, "name", name)
        ctx.tool.expect_iface(i)
        ifaces.append(i)
    p = view.insert("Port")
    view.set("Port", p, "name", port_name)
    view.set("Port", p, "interfaces", ifaces)
    view.set("Port", p, "bond_fake_iface", fake_iface)
    if br.parent is not None:
        view.set("Port", p, "tag", [br.vlan])
    for s in settings:
        ctl.set_column(ctx, "Port", p, s)
    _uuid_list_add(view, "Bridge", br.real().uuid, "ports", p)
    port = vctx.cache._add_port(view, br, p, port_name, tag=-1)
    for i, name in zip(ifaces, iface_names):
        vctx.cache._add_iface(port, i, name)


def cmd_add_port(ctx):
    add_port(ctx, ctx.argv[1], ctx.argv[2], "--may-exist" in ctx.options, False,
             [ctx.argv[2]], ctx.argv[3:])


def cmd_add_bond(ctx):
    fake_iface = "--fake-iface" in ctx.options
    n_ifaces = len(ctx.argv) - 3
    for i in range(3, len(ctx.argv)):
        if "=" in ctx.argv[i]:
            n_ifaces = i - 3
            break
    if n_ifaces < 2:
        raise CtlError("add-bond requires at least 2 interfaces, but only %d "
                       "were specified" % n_ifaces)
    add_port(ctx, ctx.argv[1], ctx.argv[2], "--may-exist" in ctx.options,
             fake_iface, ctx.argv[3:3 + n_ifaces], ctx.argv[3 + n_ifaces:])


def cmd_del_port(ctx):
    vctx = _vctx(ctx)
    must_exist = "--if-exists" not in ctx.options
    with_iface = "--with-iface" in ctx.options
    target = ctx.argv[-1]
    vctx.populate()
    if find_bridge(vctx, target, False) is not None:
        if must_exist:
            raise CtlError("cannot delete port %s because it is the local port "
                           "for bridge %s (deleting this port requires deleting "
                           "the entire bridge)" % (target, target))
        port = None
    elif not with_iface:
        port = find_port(vctx, target, must_exist)
    else:
        port = find_port(vctx, target, False)
        if port is None:
            iface = find_iface(vctx, target, False)
            if iface is not None:
                port = iface.port
        if must_exist and port is None:
            raise CtlError("no port or interface named %s" % target)
    if port is not None:
        if len(ctx.argv) == 3:
            br = find_bridge(vctx, ctx.argv[1], True)
            if port.bridge is not br:
                if port.bridge.parent is br:
                    raise CtlError("bridge %s does not have a port %s (although "
                                   "its child bridge %s does)"
                                   % (ctx.argv[1], ctx.argv[2], port.bridge.name))
                raise CtlError("bridge %s does not have a port %s"
                               % (ctx.argv[1], ctx.argv[2]))
        del_port(vctx, port)


def cmd_add_bond_iface(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    bond_name, iface_name = ctx.argv[1], ctx.argv[2]
    vctx.populate()
    if "--may-exist" in ctx.options:
        iface = find_iface(vctx, iface_name, False)
        if iface is not None:
            if iface.port.name != bond_name:
                raise CtlError('"%s" but %s is actually attached to port %s'
                               % (_context_to_string(ctx), iface_name,
                                  iface.port.name))
            return
    check_conflicts(vctx, iface_name, "cannot create an interface named %s"
                    % iface_name)
    port = find_port(vctx, bond_name, True)
    i = view.insert("Interface")
    view.set("Interface", i, "name", iface_name)
    ctx.tool.expect_iface(i)
    _uuid_list_add(view, "Port", port.uuid, "interfaces", i)
    vctx.cache._add_iface(port, i, iface_name)


def cmd_del_bond_iface(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    iface_name = ctx.argv[-1]
    vctx.populate()
    iface = find_iface(vctx, iface_name, "--if-exists" not in ctx.options)
    if iface is None:
        return
    if len(ctx.argv) == 3:
        port = find_port(vctx, ctx.argv[1], True)
        if iface.port is not port:
            raise CtlError("port %s does not have an interface %s"
                           % (ctx.argv[1], iface_name))
    port = iface.port
    if len(view.get("Port", port.uuid, "interfaces")) <= 1:
        raise CtlError("cannot delete last interface from port %s" % port.name)
    _uuid_list_remove(view, "Port", port.uuid, "interfaces", iface.uuid)
    port.ifaces.remove(iface)
    vctx.cache.ifaces.pop(iface.name, None)
    view.delete("Interface", iface.uuid)


def cmd_port_to_br(ctx):
    vctx = _vctx(ctx)
    vctx.populate()
    ctx.out("%s\n" % find_port(vctx, ctx.argv[1], True).bridge.name)


def cmd_list_ifaces(ctx):
    vctx = _vctx(ctx)
    vctx.populate()
    br = find_bridge(vctx, ctx.argv[1], True)
    verify_ports(vctx)
    _output_sorted(ctx, [i.name for p in br.ports for i in p.ifaces
                         if i.name != br.name])


def cmd_iface_to_br(ctx):
    vctx = _vctx(ctx)
    vctx.populate()
    ctx.out("%s\n" % find_iface(vctx, ctx.argv[1], True).port.bridge.name)


# -- controllers, fail mode, managers, SSL -------------------------------------------

def verify_controllers(view, br):
    view.verify("Bridge", br, "controller")
    for c in view.get("Bridge", br, "controller"):
        view.verify("Controller", c, "target")


def cmd_get_controller(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    vctx.populate()
    br = find_bridge(vctx, ctx.argv[1], True).real()
    verify_controllers(view, br.uuid)
    _output_sorted(ctx, [view.get("Controller", c, "target")
                         for c in view.get("Bridge", br.uuid, "controller")
                         if view.exists("Controller", c)])


def cmd_del_controller(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    vctx.populate()
    br = find_real_bridge(vctx, ctx.argv[1], True).uuid
    verify_controllers(view, br)
    ctrls = view.get("Bridge", br, "controller")
    if ctrls:
        for c in ctrls:
            view.delete("Controller", c)
        view.set("Bridge", br, "controller", [])


def cmd_set_controller(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    vctx.populate()
    br = find_real_bridge(vctx, ctx.argv[1], True).uuid
    verify_controllers(view, br)
    for c in view.get("Bridge", br, "controller"):
        view.delete("Controller", c)
    new = []
    for target in ctx.argv[2:]:
        if not _is_vconn_name(target):
            ctx.tool.warn("vsctl", 'target type "%s" is possibly erroneous' % target)
        c = view.insert("Controller")
        view.set("Controller", c, "target", target)
        _set_inactivity_probe(ctx, "Controller", c)
        new.append(c)
    view.set("Bridge", br, "controller", new)


def _set_inactivity_probe(ctx, table, u):
    probe = ctx.options.get("--inactivity-probe")
    if probe is not None:
        ctx.view.set(table, u, "inactivity_probe", [_atoi(probe)])


_ACTIVE = ("tcp", "ssl", "unix")
_PASSIVE = ("ptcp", "pssl", "punix")


def _is_vconn_name(target):
    kind = target.split(":", 1)[0]
    return ":" in target and kind in _ACTIVE + _PASSIVE


def cmd_get_fail_mode(ctx):
    vctx = _vctx(ctx)
    vctx.populate()
    br = find_bridge(vctx, ctx.argv[1], True).real()
    vctx.view.verify("Bridge", br.uuid, "fail_mode")
    mode = vctx.view.get("Bridge", br.uuid, "fail_mode")
    if mode and mode[0]:
        ctx.out(mode[0] + "\n")


def cmd_del_fail_mode(ctx):
    vctx = _vctx(ctx)
    vctx.populate()
    br = find_real_bridge(vctx, ctx.argv[1], True)
    vctx.view.set("Bridge", br.uuid, "fail_mode", [])


def cmd_set_fail_mode(ctx):
    vctx = _vctx(ctx)
    vctx.populate()
    br = find_real_bridge(vctx, ctx.argv[1], True)
    mode = ctx.argv[2]
    if mode not in ("standalone", "secure"):
        raise CtlError('fail-mode must be "standalone" or "secure"')
    vctx.view.set("Bridge", br.uuid, "fail_mode", [mode])


def verify_managers(vctx):
    view = vctx.view
    view.verify("Open_vSwitch", vctx.ovs, "manager_options")
    for m in view.get("Open_vSwitch", vctx.ovs, "manager_options"):
        view.verify("Manager", m, "target")


def cmd_get_manager(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    verify_managers(vctx)
    targets = {view.get("Manager", m, "target")
               for m in view.get("Open_vSwitch", vctx.ovs, "manager_options")
               if view.exists("Manager", m)}
    _output_sorted(ctx, targets)


def _delete_managers(vctx):
    view = vctx.view
    for m in view.get("Open_vSwitch", vctx.ovs, "manager_options"):
        view.delete("Manager", m)
    view.set("Open_vSwitch", vctx.ovs, "manager_options", [])


def cmd_del_manager(ctx):
    vctx = _vctx(ctx)
    verify_managers(vctx)
    _delete_managers(vctx)


def cmd_set_manager(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    verify_managers(vctx)
    _delete_managers(vctx)
    new = []
    for target in ctx.argv[1:]:
        if not _is_vconn_name(target):
            ctx.tool.warn("vsctl", 'target type "%s" is possibly erroneous' % target)
        m = view.insert("Manager")
        view.set("Manager", m, "target", target)
        _set_inactivity_probe(ctx, "Manager", m)
        new.append(m)
    view.set("Open_vSwitch", vctx.ovs, "manager_options", new)


def cmd_get_ssl(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    view.verify("Open_vSwitch", vctx.ovs, "ssl")
    ssl = view.get("Open_vSwitch", vctx.ovs, "ssl")
    if ssl and view.exists("SSL", ssl[0]):
        s = ssl[0]
        for c in ("private_key", "certificate", "ca_cert", "bootstrap_ca_cert"):
            view.verify("SSL", s, c)
        ctx.out("Private key: %s\n" % view.get("SSL", s, "private_key"))
        ctx.out("Certificate: %s\n" % view.get("SSL", s, "certificate"))
        ctx.out("CA Certificate: %s\n" % view.get("SSL", s, "ca_cert"))
        ctx.out("Bootstrap: %s\n"
                % ("true" if view.get("SSL", s, "bootstrap_ca_cert") else "false"))


def cmd_del_ssl(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    ssl = view.get("Open_vSwitch", vctx.ovs, "ssl")
    if ssl:
        view.verify("Open_vSwitch", vctx.ovs, "ssl")
        view.delete("SSL", ssl[0])
        view.set("Open_vSwitch", vctx.ovs, "ssl", [])


def cmd_set_ssl(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    view.verify("Open_vSwitch", vctx.ovs, "ssl")
    old = view.get("Open_vSwitch", vctx.ovs, "ssl")
    if old:
        view.delete("SSL", old[0])
    s = view.insert("SSL")
    view.set("SSL", s, "private_key", ctx.argv[1])
    view.set("SSL", s, "certificate", ctx.argv[2])
    view.set("SSL", s, "ca_cert", ctx.argv[3])
    view.set("SSL", s, "bootstrap_ca_cert", "--bootstrap" in ctx.options)
    view.set("Open_vSwitch", vctx.ovs, "ssl", [s])


def cmd_emer_reset(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    view.set("Open_vSwitch", vctx.ovs, "manager_options", [])
    view.set("Open_vSwitch", vctx.ovs, "ssl", [])
    for b in view.rows("Bridge"):
        for c in ("controller", "fail_mode", "mirrors", "netflow", "sflow",
                  "ipfix", "flood_vlans"):
            view.set("Bridge", b, c, [])
        oc = view.get("Bridge", b, "other_config")
        view.set("Bridge", b, "other_config",
                 {"hwaddr": oc["hwaddr"]} if "hwaddr" in oc else {})
    for p in view.rows("Port"):
        view.set("Port", p, "other_config", {})
    for i in view.rows("Interface"):
        view.set("Interface", i, "ingress_policing_rate", 0)
        view.set("Interface", i, "ingress_policing_burst", 0)
    for table in ("Mirror", "Controller", "Manager", "NetFlow", "SSL", "sFlow",
                  "IPFIX", "Flow_Sample_Collector_Set"):
        for u in view.rows(table):
            view.delete(table, u)
    vctx.invalidate()


# -- conntrack zones and datapath capabilities ----------------------------------------

def _find_datapath(vctx, name):
    dps = vctx.view.get("Open_vSwitch", vctx.ovs, "datapaths")
    u = dps.get(name)
    return u if u is not None and vctx.view.exists("Datapath", u) else None


def _zone_arg(s):
    if not s.startswith("zone="):
        # (OVS goes on with an unset zone id here.)
        raise CtlError('invalid zone id "%s"' % s)
    return _atoi(s[5:])


def cmd_add_zone_tp(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    dp = _find_datapath(vctx, ctx.argv[1])
    if dp is None:
        raise CtlError("datapath %s does not exist" % ctx.argv[1])
    zone = _zone_arg(ctx.argv[2])
    zones = view.get("Datapath", dp, "ct_zones")
    timeouts = {}
    for arg in ctx.argv[3:]:
        key, _, value = arg.partition("=")
        timeouts[key] = _atoi(value)
    if zone in zones:
        if "--may-exist" not in ctx.options:
            raise CtlError("zone id %d already exists" % zone)
        # --may-exist replaces the zone's timeout policy, as OVS does.
        tp = view.get("CT_Zone", zones[zone], "timeout_policy")
        if tp:
            view.set("CT_Timeout_Policy", tp[0], "timeouts", timeouts)
            return
    tp = view.insert("CT_Timeout_Policy")
    view.set("CT_Timeout_Policy", tp, "timeouts", timeouts)
    z = view.insert("CT_Zone")
    view.set("CT_Zone", z, "timeout_policy", [tp])
    zones[zone] = z
    view.set("Datapath", dp, "ct_zones", zones)


def cmd_del_zone_tp(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    dp = _find_datapath(vctx, ctx.argv[1])
    if dp is None:
        raise CtlError("datapath %s does not exist" % ctx.argv[1])
    zone = _zone_arg(ctx.argv[2])
    zones = view.get("Datapath", dp, "ct_zones")
    if zone not in zones:
        if "--if-exists" in ctx.options:
            return
        raise CtlError("zone id %d does not exist" % zone)
    del zones[zone]
    view.set("Datapath", dp, "ct_zones", zones)


def cmd_list_zone_tp(ctx):
    vctx = _vctx(ctx)
    view = vctx.view
    dp = _find_datapath(vctx, ctx.argv[1])
    if dp is None:
        raise CtlError("datapath: %s record not found" % ctx.argv[1])
    for zone, z in view.get("Datapath", dp, "ct_zones").items():
        ctx.out("Zone:%d, Timeout Policies: " % zone)
        tp = view.get("CT_Zone", z, "timeout_policy") if view.exists("CT_Zone", z) else []
        if tp and view.exists("CT_Timeout_Policy", tp[0]):
            ctx.out(" ".join("%s=%d" % kv for kv in
                             view.get("CT_Timeout_Policy", tp[0], "timeouts").items()))
        ctx.out("\n")


def cmd_list_dp_cap(ctx):
    vctx = _vctx(ctx)
    dp = _find_datapath(vctx, ctx.argv[1])
    if dp is None:
        raise CtlError('datapath "%s" record not found' % ctx.argv[1])
    caps = vctx.view.get("Datapath", dp, "capabilities")
    ctx.out(" ".join("%s=%s" % kv for kv in caps.items()) + "\n")


def _strtoull_arg(s):
    """The leading number of S as strtoull() reads it; CtlError if none."""
    t = s.lstrip(" \t\n\v\f\r")
    sign = 1
    if t[:1] in ("+", "-"):
        sign = -1 if t[0] == "-" else 1
        t = t[1:]
    digits = ""
    for c in t:
        if c not in "0123456789":
            break
        digits += c
    if not digits:
        raise CtlError("Invalid argument %s" % s)
    v = (sign * int(digits)) % (1 << 64)
    return v - (1 << 64) if v >= (1 << 63) else v


def _aa_bridge(ctx):
    vctx = _vctx(ctx)
    vctx.populate()
    return vctx, find_bridge(vctx, ctx.argv[1], True).real()


def cmd_add_aa_mapping(ctx):
    isid = _strtoull_arg(ctx.argv[2])
    vlan = _strtoull_arg(ctx.argv[3])
    vctx, br = _aa_bridge(ctx)
    view = vctx.view
    aa = view.get("Bridge", br.uuid, "auto_attach")
    if not aa:
        aa = [view.insert("AutoAttach")]
        view.set("Bridge", br.uuid, "auto_attach", aa)
    mappings = view.get("AutoAttach", aa[0], "mappings")
    mappings[isid] = vlan
    view.set("AutoAttach", aa[0], "mappings", mappings)


def cmd_del_aa_mapping(ctx):
    isid = _strtoull_arg(ctx.argv[2])
    vlan = _strtoull_arg(ctx.argv[3])
    vctx, br = _aa_bridge(ctx)
    view = vctx.view
    aa = view.get("Bridge", br.uuid, "auto_attach")
    if aa:
        mappings = view.get("AutoAttach", aa[0], "mappings")
        if mappings.get(isid) == vlan:
            # As OVS: keeps only the pairs that differ in both key and value.
            view.set("AutoAttach", aa[0], "mappings",
                     {k: v for k, v in mappings.items() if k != isid and v != vlan})


def cmd_get_aa_mapping(ctx):
    vctx, br = _aa_bridge(ctx)
    view = vctx.view
    view.verify("Bridge", br.uuid, "auto_attach")
    aa = view.get("Bridge", br.uuid, "auto_attach")
    if aa:
        view.verify("AutoAttach", aa[0], "mappings")
        for k, v in view.get("AutoAttach", aa[0], "mappings").items():
            ctx.out("%d %d\n" % (k, v))


_INF = math.inf

COMMANDS = {c.name: c for c in ctl.DB_COMMANDS + [
    ctl.make_show_command(SHOW_TABLES),
    CommandSyntax("init", 0, 0, "", None, cmd_init, None, "", RW),
    CommandSyntax("add-br", 1, 3, "NEW-BRIDGE [PARENT] [NEW-VLAN]", None,
                  cmd_add_br, None, "--may-exist", RW),
    CommandSyntax("del-br", 1, 1, "BRIDGE", None, cmd_del_br, None,
                  "--if-exists", RW),
    CommandSyntax("list-br", 0, 0, "", None, cmd_list_br, None, "--real,--fake", RO),
    CommandSyntax("br-exists", 1, 1, "BRIDGE", None, cmd_br_exists, None, "", RO),
    CommandSyntax("br-to-vlan", 1, 1, "BRIDGE", None, cmd_br_to_vlan, None, "", RO),
    CommandSyntax("br-to-parent", 1, 1, "BRIDGE", None, cmd_br_to_parent, None,
                  "", RO),
    CommandSyntax("br-set-external-id", 2, 3, "BRIDGE KEY [VALUE]", None,
                  cmd_br_set_external_id, None, "", RW),
    CommandSyntax("br-get-external-id", 1, 2, "BRIDGE [KEY]", None,
                  cmd_br_get_external_id, None, "", RO),
    CommandSyntax("list-ports", 1, 1, "BRIDGE", None, cmd_list_ports, None, "", RO),
    CommandSyntax("add-port", 2, _INF, "BRIDGE NEW-PORT [COLUMN[:KEY]=VALUE]...",
                  None, cmd_add_port, None, "--may-exist", RW),
    CommandSyntax("add-bond", 4, _INF,
                  "BRIDGE BOND IFACE... [COLUMN[:KEY]=VALUE]...", None,
                  cmd_add_bond, None, "--may-exist,--fake-iface", RW),
    CommandSyntax("add-bond-iface", 2, 2, "BOND IFACE", None, cmd_add_bond_iface,
                  None, "--may-exist", RW),
    CommandSyntax("del-bond-iface", 1, 2, "[BOND] IFACE", None, cmd_del_bond_iface,
                  None, "--if-exists", RW),
    CommandSyntax("del-port", 1, 2, "[BRIDGE] PORT|IFACE", None, cmd_del_port, None,
                  "--if-exists,--with-iface", RW),
    CommandSyntax("port-to-br", 1, 1, "PORT", None, cmd_port_to_br, None, "", RO),
    CommandSyntax("list-ifaces", 1, 1, "BRIDGE", None, cmd_list_ifaces, None, "", RO),
    CommandSyntax("iface-to-br", 1, 1, "IFACE", None, cmd_iface_to_br, None, "", RO),
    CommandSyntax("get-controller", 1, 1, "BRIDGE", None, cmd_get_controller,
                  None, "", RO),
    CommandSyntax("del-controller", 1, 1, "BRIDGE", None, cmd_del_controller,
                  None, "", RW),
    CommandSyntax("set-controller", 1, _INF, "BRIDGE TARGET...", None,
                  cmd_set_controller, None, "--inactivity-probe=", RW),
    CommandSyntax("get-fail-mode", 1, 1, "BRIDGE", None, cmd_get_fail_mode, None,
                  "", RO),
    CommandSyntax("del-fail-mode", 1, 1, "BRIDGE", None, cmd_del_fail_mode, None,
                  "", RW),
    CommandSyntax("set-fail-mode", 2, 2, "BRIDGE MODE", None, cmd_set_fail_mode,
                  None, "", RW),
    CommandSyntax("get-manager", 0, 0, "", None, cmd_get_manager, None, "", RO),
    CommandSyntax("del-manager", 0, 0, "", None, cmd_del_manager, None, "", RW),
    CommandSyntax("set-manager", 1, _INF, "TARGET...", None, cmd_set_manager, None,
                  "--inactivity-probe=", RW),
    CommandSyntax("add-zone-tp", 3, _INF, "", None, cmd_add_zone_tp, None,
                  "--may-exist", RW),
    CommandSyntax("del-zone-tp", 2, 2, "", None, cmd_del_zone_tp, None,
                  "--if-exists", RW),
    CommandSyntax("list-zone-tp", 1, 1, "", None, cmd_list_zone_tp, None, "", RO),
    CommandSyntax("list-dp-cap", 1, 1, "", None, cmd_list_dp_cap, None, "", RO),
    CommandSyntax("get-ssl", 0, 0, "", None, cmd_get_ssl, None, "", RO),
    CommandSyntax("del-ssl", 0, 0, "", None, cmd_del_ssl, None, "", RW),
    CommandSyntax("set-ssl", 3, 3, "PRIVATE-KEY CERTIFICATE CA-CERT", None,
                  cmd_set_ssl, None, "--bootstrap", RW),
    CommandSyntax("add-aa-mapping", 3, 3, "BRIDGE ARG ARG", None,
                  cmd_add_aa_mapping, None, "", RW),
    CommandSyntax("del-aa-mapping", 3, 3, "BRIDGE ARG ARG", None,
                  cmd_del_aa_mapping, None, "", RW),
    CommandSyntax("get-aa-mapping", 1, 1, "BRIDGE", None, cmd_get_aa_mapping,
                  None, "", RO),
    CommandSyntax("emer-reset", 0, 0, "", None, cmd_emer_reset, None, "", RW),
]}


# ---------------------------------------------------------------------------
# The driver.

class Tool:
    """What the generic commands need from the tool running them."""

    def __init__(self, schema):
        self.schema = schema
        self.row_ids = ROW_IDS
        self.vctx = None
        self.neoteric = []
        self._logs = {}

    def invalidate_cache(self):
        if self.vctx is not None:
            self.vctx.invalidate()

    def warn(self, module, text):
        log = self._logs.get(module)
        if log is None:
            log = self._logs[module] = vlog.Vlog(module)
        log.warn("%s", text)

    def expect_iface(self, u):
        self.neoteric.append(u)


_GLOBAL_OPTIONS = None

#: The log modules ovs-vsctl may write to (registered up front so that
#: -v and the console default apply to them).
_LOG_MODULES = ("vsctl", "db_ctl_base", "fatal_signal", "reconnect",
                "jsonrpc", "stream", "ovsdb_idl")


def _global_options():
    global _GLOBAL_OPTIONS
    if _GLOBAL_OPTIONS is None:
        from pyovs.util.command_line import (LongOption, NO_ARGUMENT,
                                             OPTIONAL_ARGUMENT, REQUIRED_ARGUMENT)
        N, R, O = NO_ARGUMENT, REQUIRED_ARGUMENT, OPTIONAL_ARGUMENT
        opts = [("db", R, None), ("no-syslog", N, None), ("no-wait", N, None),
                ("dry-run", N, None), ("oneline", N, None), ("timeout", R, "t"),
                ("retry", N, None), ("help", N, "h"), ("commands", N, None),
                ("options", N, None), ("leader-only", N, None),
                ("no-leader-only", N, None), ("shuffle-remotes", N, None),
                ("no-shuffle-remotes", N, None), ("version", N, "V"),
                ("verbose", O, "v"), ("log-file", O, None),
                ("syslog-method", R, None), ("syslog-target", R, None),
                ("format", R, "f"), ("data", R, "d"), ("no-headings", N, None),
                ("pretty", N, None), ("bare", N, None),
                ("max-column-width", R, None), ("private-key", R, "p"),
                ("certificate", R, "c"), ("ca-cert", R, "C"),
                ("ssl-protocols", R, None), ("ssl-ciphers", R, None),
                ("bootstrap-ca-cert", R, None), ("peer-ca-cert", R, None)]
        longs = [LongOption(n, a, s) for n, a, s in opts]
        n_global = len(longs)
        seen = {o.name for o in longs}
        for syntax in COMMANDS.values():
            for o in filter(None, syntax.options.split(",")):
                name = o[2:]
                has_arg = R if name.endswith("=") else N
                name = name.rstrip("=")
                if name not in seen:
                    seen.add(name)
                    longs.append(LongOption(name, has_arg, None))
        _GLOBAL_OPTIONS = (longs, n_global)
    return _GLOBAL_OPTIONS


class Settings:
    def __init__(self):
        self.db = None
        self.oneline = False
        self.dry_run = False
        self.wait = True
        self.timeout = 0
        self.retry = False
        self.style = None


def _fatal(text):
    # As OVS's ctl_fatal(): logged (not to the console) and printed.
    vlog.set_levels("db_ctl_base", "console", vlog.OFF)
    vlog.Vlog("db_ctl_base").err("%s", text)
    sys.stderr.write("%s: %s\n" % (PROGRAM, text))
    sys.stderr.flush()
    return 1


def _escape_args(argv):
    return " ".join(_escape_arg(a) for a in argv)


def _on_alarm(signum, frame):
    vlog.Vlog("fatal_signal").warn("terminating with signal %d (%s)",
                                   signum, "Alarm clock")
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGALRM)


def _usage():
    from pyovs.util import dirs
    from pyovs.util.usage import stream_usage, vlog_usage
    sys.stdout.write(_USAGE % {"p": PROGRAM, "db": "unix:%s/db.sock" % dirs.rundir(),
                               "vlog": vlog_usage(PROGRAM), "row_ids": _row_ids_usage(),
                               "stream": stream_usage("database", True, True, True)})
    return 0


def run(argv):
    """The whole ovs-vsctl: ARGV without the program name; returns the
    exit status (or exits from a signal)."""
    from pyovs.ovsdb.table_format import TableStyle, parse_cell_format, parse_format
    from pyovs.util.command_line import GetoptError, getopt_long
    vlog.set_program_name(PROGRAM)
    for module in _LOG_MODULES:
        vlog.Vlog(module)
    vlog.set_levels(None, "console", vlog.WARN)
    vlog.set_levels("reconnect", None, vlog.WARN)
    s = Settings()
    style = s.style = TableStyle(format="list")
    longs, n_global = _global_options()
    local_options = {}
    try:
        opts, rest = getopt_long(argv, "+t:hVv::f:d:p:c:C:", longs)
    except GetoptError as e:
        sys.stderr.write("%s: %s\n" % (sys.argv[0] if sys.argv and sys.argv[0]
                                        else PROGRAM, e))
        return 1
    is_local = {o.name for o in longs[n_global:]}
    try:
        for key, value in opts:
            if key == "--db":
                s.db = value
            elif key == "--oneline":
                s.oneline = True
            elif key == "--no-wait":
                s.wait = False
            elif key == "--dry-run":
                s.dry_run = True
            elif key == "t":
                s.timeout = _strtoul(value)
            elif key == "--retry":
                s.retry = True
            elif key == "h":
                return _usage()
            elif key == "V":
                from pyovs.vswitch import SCHEMA_VERSION
                sys.stdout.write("%s (Open vSwitch) 3.1.0\nDB Schema %s\n"
                                 % (PROGRAM, SCHEMA_VERSION))
                return 0
            elif key == "--commands":
                return _print_commands()
            elif key == "--options":
                return _print_options(longs[:n_global])
            elif key == "v":
                vlog.handle_verbose(value)
            elif key == "--no-syslog":
                vlog.set_levels("vsctl", "syslog", vlog.WARN)
            elif key == "--log-file":
                err = vlog.set_log_file(value)
                if err:
                    return _fatal(err)
            elif key == "f":
                parse_format(style, value)
            elif key == "d":
                parse_cell_format(style, value)
            elif key == "--no-headings":
                style.headings = False
            elif key == "--pretty":
                style.pretty = True
            elif key == "--bare":
                style.format = "list"
                style.cell_format = "bare"
                style.headings = False
            elif key == "--max-column-width":
                style.max_column_width = _strtoul(value)
            elif key[2:] in is_local:
                local_options[key] = value
            # SSL and clustering options are accepted and ignored.
    except ValueError as e:
        return _fatal(str(e))
    if s.db is None:
        from pyovs.util import dirs
        s.db = "unix:%s/db.sock" % dirs.rundir()
    try:
        commands = ctl.parse_commands(rest, local_options, COMMANDS)
    except CtlError as e:
        return _fatal(str(e))
    if any(c.syntax.mode == RW for c in commands):
        vlog.Vlog("vsctl").info("Called as %s", _escape_args([_argv0()] + list(argv)))
    if s.timeout:
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(s.timeout)
    try:
        return _run_commands(s, argv, commands)
    except CtlError as e:
        return _fatal(str(e))
    except CtlExit as e:
        return e.status
    except (OSError, EOFError) as e:
        return _fatal("%s: database connection failed (%s)"
                      % (s.db, getattr(e, "strerror", None) or e))
    finally:
        if s.timeout:
            signal.alarm(0)


def _argv0():
    return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else PROGRAM


def _strtoul(s):
    s = s.strip()
    n = ""
    for c in s:
        if c.isdigit():
            n += c
        else:
            break
    return int(n) if n else 0


def _run_commands(s, argv, commands):
    from pyovs.vswitch import load_vswitch_schema
    schema = load_vswitch_schema()
    tool = Tool(schema)
    for c in commands:
        if c.syntax.prerequisites is not None:
            ctx = ctl.Context(tool, c)
            c.syntax.prerequisites(ctx)

    from pyovs.ovsdb import idl as idlmod
    bidl = idlmod.BlockingIdl(s.db, "Open_vSwitch", schema=schema)
    try:
        _connect(bidl, s)
        idl = bidl.idl
        bidl.run_until(lambda: idl.synced or bidl.conn is None or idl.errors, None)
        while not idl.synced:
            if idl.errors:
                # E.g. the server has no Open_vSwitch database: OVS reports
                # a failed connection with no error text.
                raise CtlError("%s: database connection failed ()" % s.db)
            if not s.retry:
                raise CtlError("%s: database connection failed (%s)"
                               % (s.db, "End of file"))
            bidl.connect(None)
            bidl.run_until(lambda: idl.synced or bidl.conn is None or idl.errors,
                           None)
        args = _escape_args([_argv0()] + list(argv))
        while True:
            seqno = bidl.idl.change_seqno
            result = _do_vsctl(s, args, commands, bidl, tool)
            if result is not None:
                return result
            bidl.run_until(lambda: idl.change_seqno != seqno or not idl.synced
                           or bidl.conn is None, None)
            if bidl.conn is None and not s.retry:
                raise CtlError("%s: database connection failed (End of file)"
                               % s.db)
            bidl.wait_for_sync(None)
    finally:
        bidl.close()


def _connect(bidl, s):
    from pyovs.util import jsonrpc
    kind, _, rest = s.db.partition(":")
    if kind in ("tcp", "ssl") and ":" not in rest.rpartition("]")[2]:
        vlog.Vlog("stream").warn("The default OVSDB port number has changed "
                                 "from 6632 to 6640")
    while True:
        try:
            bidl.conn = jsonrpc.BlockingConnection.open(bidl.remote)
            break
        except OSError as e:
            if not s.retry:
                raise CtlError("%s: database connection failed (%s)"
                               % (s.db, e.strerror or e)) from None
            time.sleep(0.1)
        except ValueError:
            # An unknown or malformed stream name: OVS reports EAFNOSUPPORT.
            raise CtlError("%s: database connection failed (%s)"
                           % (s.db, os.strerror(errno.EAFNOSUPPORT))) from None
    bidl._send(bidl.idl.on_connect())


def _do_vsctl(s, args, commands, bidl, tool):
    """Run the chain once: the exit status, or None to try again."""
    from pyovs.ovsdb import idl as idlmod
    idl = bidl.idl
    txn = idl.transaction()
    txn.dry_run = s.dry_run
    who = _parent_process_info()
    txn.add_comment("ovs-vsctl (%s): %s" % (who, args) if who
                    else "ovs-vsctl: " + args)
    view = ctl.DbView(idl, txn)
    ovs_rows = view.rows("Open_vSwitch")
    if ovs_rows:
        ovs = ovs_rows[0]
    else:
        ovs = view.insert("Open_vSwitch")
    symtab = ctl.SymbolTable()
    tool.vctx = VsctlContext(tool, view, ovs)
    tool.neoteric = []
    for c in commands:
        c.output = []
        c.table = None
    for c in commands:
        ctx = ctl.Context(tool, c, view, symtab)
        if c.syntax.run is not None:
            c.syntax.run(ctx)
        if ctx.try_again:
            return None
    for name, sym in symtab.symbols.items():
        if not sym.created:
            raise CtlError('row id "%s" is referenced but never created (e.g. '
                           'with "-- --id=%s create ...")' % (name, name))
        if not sym.strong_ref:
            if not sym.weak_ref:
                tool.warn("vsctl", 'row id "%s" was created but no reference to '
                          'it was inserted, so it will not actually appear in '
                          'the database' % name)
            else:
                tool.warn("vsctl", 'row id "%s" was created but only a weak '
                          'reference to it was inserted, so it will not '
                          'actually appear in the database' % name)
    # As OVS, bump next_cfg only along with real changes, so that a chain
    # that changes nothing commits as "unchanged" and waits for nothing.
    # A new Open_vSwitch row is incremented too (by its named UUID), as OVS.
    if s.wait and txn.has_changes():
        txn.increment(view._txnrow("Open_vSwitch", ovs), "next_cfg")
    status = bidl.commit_block(txn)
    if status in (idlmod.UNCHANGED, idlmod.SUCCESS):
        for c in commands:
            if c.syntax.postprocess is not None:
                c.syntax.postprocess(ctl.Context(tool, c, view, symtab))
    if status == idlmod.TRY_AGAIN:
        return None
    if status == idlmod.ERROR:
        error = _sorted_json_text(txn.error)
        tool.warn("ovsdb_idl", "transaction error: %s" % error)
        raise CtlError("transaction error: %s" % error)
    if status == idlmod.NOT_LOCKED:
        raise CtlError("database not locked")
    if status not in (idlmod.UNCHANGED, idlmod.SUCCESS):
        raise CtlError("transaction aborted")
    _print_outputs(s, commands)
    if s.wait and status != idlmod.UNCHANGED:
        next_cfg = txn.increment_new_value
        _wait_for_cur_cfg(bidl, next_cfg, txn, tool)
    return 0


def _sorted_json_text(text):
    """TEXT, if it is JSON, with object members sorted (as OVS prints
    transaction errors)."""
    import json
    from pyovs.ovsdb.table_format import json_to_string
    try:
        return json_to_string(json.loads(text), sort=True)
    except (TypeError, ValueError):
        return text


def _parent_process_info():
    """"invoked by NAME" for the parent process, as OVS writes it into the
    transaction comment (NAME: the parent's argv[0]), or None."""
    ppid = os.getppid()
    if not ppid:
        return "invoked by init"
    try:
        with open("/proc/%d/cmdline" % ppid, "rb") as f:
            cmdline = f.read(4096)
    except OSError:
        return None
    name = cmdline.split(b"\0", 1)[0].split(b"\n", 1)[0]
    return "invoked by " + name.decode("utf-8", "replace")


def _print_outputs(s, commands):
    from pyovs.ovsdb.table_format import TablePrinter
    printer = None
    out = sys.stdout
    for c in commands:
        if c.table is not None:
            if printer is None:
                printer = TablePrinter(s.style, out)
            printer.print(c.table)
        elif s.oneline:
            text = "".join(c.output)
            if text.endswith("\n"):
                text = text[:-1]
            out.write(text.replace("\\", "\\\\").replace("\n", "\\n") + "\n")
        else:
            out.write("".join(c.output))
    out.flush()


def _wait_for_cur_cfg(bidl, next_cfg, txn, tool):
    """Wait until some Open_vSwitch row has cur_cfg >= NEXT_CFG, reconnecting
    if the connection drops (as OVS does), then report interfaces that
    ovs-vswitchd failed to set up."""
    idl = bidl.idl

    def done():
        return idl.synced and any((r["cur_cfg"] or 0) >= next_cfg
                                  for r in idl.rows("Open_vSwitch"))

    while not done():
        try:
            if bidl.conn is None:
                try:
                    bidl.connect(1.0)
                except idlmod_error():
                    time.sleep(0.1)
                    continue
            bidl.run_until(lambda: done() or bidl.conn is None, None)
        except OSError:
            bidl.close()
    dead = []
    for u in tool.neoteric:
        real = txn.get_insert_uuid(u)
        row = idl.get_row("Interface", real) if real is not None else None
        if row is not None:
            ofport = row["ofport"]
            if not ofport or ofport[0] == -1:
                dead.append(row)
    for row in dead:
        # One line per interface, with its error column when it has one.
        error = row["error"] if "error" in row.columns() else []
        detail = ": %s" % error[0] if error else ""
        sys.stderr.write("%s: Error detected while setting up '%s'%s.  See "
                         "ovs-vswitchd log for details.\n"
                         % (PROGRAM, row["name"], detail))
    if dead:
        from pyovs.util import dirs
        sys.stderr.write('%s: The default log directory is "%s".\n'
                         % (PROGRAM, dirs.logdir()))


def idlmod_error():
    from pyovs.ovsdb.idl import IdlError
    return IdlError


def _print_commands():
    for name in sorted(COMMANDS):
        c = COMMANDS[name]
        opts = "".join("[%s] " % o for o in c.options.split(",") if o)
        sys.stdout.write("%s,%s,%s\n" % (opts, name, _command_arguments(c.arguments)))
    return 0


def _command_arguments(arguments):
    """The bash-completion form of ARGUMENTS (OVS's print_command_arguments)."""
    if not arguments:
        return ""
    out = []
    oew_stack = 0
    in_repeated = False
    whole_word_optional = False
    n = len(arguments)
    i = n
    while i > 0:
        i -= 1
        c = arguments[i]
        if c == "]":
            oew_stack <<= 1
            nxt = arguments[i + 1] if i + 1 < n else ""
            if nxt in ("", " ", "."):
                oew_stack |= 1
        elif c == "[":
            if (i == 0 or arguments[i - 1] == " ") and oew_stack & 1:
                out.append("*" if in_repeated else "?")
                whole_word_optional = True
            else:
                out.append("?")
                whole_word_optional = False
            oew_stack >>= 1
        elif c == " ":
            if not whole_word_optional:
                out.append("+" if in_repeated else "!")
            out.append(" ")
            in_repeated = False
            whole_word_optional = False
        elif c == ".":
            in_repeated = True
        else:
            out.append(c)
    if arguments[0] != "[" and out:
        out.append("+" if in_repeated else "!")
    return "".join(reversed(out))


def _print_options(longs):
    for o in longs:
        sys.stdout.write("--%s%s\n" % (o.name, "=ARG" if o.has_arg else ""))
        if o.short:
            sys.stdout.write("-%s%s\n" % (o.short, " ARG" if o.has_arg else ""))
    return 0


_USAGE = """\
%(p)s: ovs-vswitchd management utility
usage: %(p)s [OPTIONS] COMMAND [ARG...]

Open vSwitch commands:
  init                        initialize database, if not yet initialized
  show                        print overview of database contents
  emer-reset                  reset configuration to clean state

Bridge commands:
  add-br BRIDGE               create a new bridge named BRIDGE
  add-br BRIDGE PARENT VLAN   create new fake BRIDGE in PARENT on VLAN
  del-br BRIDGE               delete BRIDGE and all of its ports
  list-br                     print the names of all the bridges
  br-exists BRIDGE            exit 2 if BRIDGE does not exist
  br-to-vlan BRIDGE           print the VLAN which BRIDGE is on
  br-to-parent BRIDGE         print the parent of BRIDGE
  br-set-external-id BRIDGE KEY VALUE  set KEY on BRIDGE to VALUE
  br-set-external-id BRIDGE KEY  unset KEY on BRIDGE
  br-get-external-id BRIDGE KEY  print value of KEY on BRIDGE
  br-get-external-id BRIDGE  list key-value pairs on BRIDGE

Port commands (a bond is considered to be a single port):
  list-ports BRIDGE           print the names of all the ports on BRIDGE
  add-port BRIDGE PORT        add network device PORT to BRIDGE
  add-bond BRIDGE PORT IFACE...  add bonded port PORT in BRIDGE from IFACES
  del-port [BRIDGE] PORT      delete PORT (which may be bonded) from BRIDGE
  port-to-br PORT             print name of bridge that contains PORT

Interface commands (a bond consists of multiple interfaces):
  list-ifaces BRIDGE          print the names of all interfaces on BRIDGE
  iface-to-br IFACE           print name of bridge that contains IFACE

Controller commands:
  get-controller BRIDGE      print the controllers for BRIDGE
  del-controller BRIDGE      delete the controllers for BRIDGE
  [--inactivity-probe=MSECS]
  set-controller BRIDGE TARGET...  set the controllers for BRIDGE
  get-fail-mode BRIDGE       print the fail-mode for BRIDGE
  del-fail-mode BRIDGE       delete the fail-mode for BRIDGE
  set-fail-mode BRIDGE MODE  set the fail-mode for BRIDGE to MODE

Manager commands:
  get-manager                print the managers
  del-manager                delete the managers
  [--inactivity-probe=MSECS]
  set-manager TARGET...      set the list of managers to TARGET...

SSL commands:
  get-ssl                     print the SSL configuration
  del-ssl                     delete the SSL configuration
  set-ssl PRIV-KEY CERT CA-CERT  set the SSL configuration

Auto Attach commands:
  add-aa-mapping BRIDGE I-SID VLAN   add Auto Attach mapping to BRIDGE
  del-aa-mapping BRIDGE I-SID VLAN   delete Auto Attach mapping VLAN from BRIDGE
  get-aa-mapping BRIDGE              get Auto Attach mappings from BRIDGE

Switch commands:
  emer-reset                  reset switch to known good state

Database commands:
  list TBL [REC]              list RECord (or all records) in TBL
  find TBL CONDITION...       list records satisfying CONDITION in TBL
  get TBL REC COL[:KEY]       print values of COLumns in RECord in TBL
  set TBL REC COL[:KEY]=VALUE set COLumn values in RECord in TBL
  add TBL REC COL [KEY=]VALUE add (KEY=)VALUE to COLumn in RECord in TBL
  remove TBL REC COL [KEY=]VALUE  remove (KEY=)VALUE from COLumn
  clear TBL REC COL           clear values from COLumn in RECord in TBL
  create TBL COL[:KEY]=VALUE  create and initialize new record
  destroy TBL REC             delete RECord from TBL
  wait-until TBL REC [COL[:KEY]=VALUE]  wait until condition is true
Potentially unsafe database commands require --force option.
%(row_ids)s
Options:
  --db=DATABASE               connect to DATABASE
                              (default: %(db)s)
  --no-wait                   do not wait for ovs-vswitchd to reconfigure
  --retry                     keep trying to connect to server forever
  -t, --timeout=SECS          wait at most SECS seconds for ovs-vswitchd
  --dry-run                   do not commit changes to database
  --oneline                   print exactly one line of output per command

Output formatting options:
  -f, --format=FORMAT         set output formatting to FORMAT
                              ("table", "html", "csv", or "json")
  -d, --data=FORMAT           set table cell output formatting to
                              FORMAT ("string", "bare", or "json")
  --no-headings               omit table heading row
  --pretty                    pretty-print JSON in output
  --bare                      equivalent to "--format=list --data=bare --no-headings"
%(vlog)s  --no-syslog             equivalent to --verbose=vsctl:syslog:warn
%(stream)s
Other options:
  -h, --help                  display this help message
  -V, --version               display version information
"""
