"""``pyovs demo``: pyovs's main job, shown in one command.

Until ovs-vswitchd exists, the main job is the configuration database: the
demo creates an Open_vSwitch database file, serves it with pyovs's
ovsdb-server, configures a bridge through it the way ovs-vsctl does, reads
it back with ovsdb-client, talks to the daemon with ovs-appctl and shows
the transaction log on disk.  Every step is a real command, printed before
it runs, so the session can be replayed by hand.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from pyovs import vswitch

BIN = Path(sys.executable).parent


class Demo:
    def __init__(self, workdir):
        self.dir = Path(workdir)
        self.env = dict(os.environ)
        for var in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR"):
            self.env[var] = str(self.dir)
        self.db = self.dir / "conf.db"
        self.sock = self.dir / "db.sock"

    def run(self, *argv, show=True):
        """Run one pyovs command, echo it like a shell transcript."""
        argv = [str(a) for a in argv]
        if show:
            print("$ " + " ".join(shlex.quote(a) for a in argv))
        proc = subprocess.run([str(BIN / argv[0])] + argv[1:], env=self.env,
                              capture_output=True, text=True, timeout=60)
        out = proc.stdout + proc.stderr
        if show and out:
            print(out.rstrip("\n"))
        if show:
            print()
        if proc.returncode != 0:
            raise SystemExit(f"pyovs demo: {argv[0]} failed (exit {proc.returncode})")
        return proc.stdout

    def start(self):
        print(f"# A private Open vSwitch database in {self.dir}\n")
        self.run("ovsdb-tool", "create", self.db, vswitch.schema_path())
        self.run("ovsdb-server", self.db, f"--remote=punix:{self.sock}",
                 "--pidfile", "--detach", "--log-file")

    def configure(self):
        server = f"unix:{self.sock}"
        self.run("ovsdb-client", "list-dbs", server)
        # What `ovs-vsctl init; add-br br0; add-port br0 eth1` commits.
        txn = ["Open_vSwitch",
               {"op": "insert", "table": "Interface", "uuid-name": "if0",
                "row": {"name": "br0", "type": "internal"}},
               {"op": "insert", "table": "Interface", "uuid-name": "if1",
                "row": {"name": "eth1"}},
               {"op": "insert", "table": "Port", "uuid-name": "p0",
                "row": {"name": "br0", "interfaces": ["named-uuid", "if0"]}},
               {"op": "insert", "table": "Port", "uuid-name": "p1",
                "row": {"name": "eth1", "interfaces": ["named-uuid", "if1"]}},
               {"op": "insert", "table": "Bridge", "uuid-name": "br",
                "row": {"name": "br0",
                        "ports": ["set", [["named-uuid", "p0"], ["named-uuid", "p1"]]]}},
               {"op": "insert", "table": "Open_vSwitch",
                "row": {"bridges": ["named-uuid", "br"]}},
               {"op": "comment", "comment": "pyovs demo: add-br br0, add-port br0 eth1"}]
        self.run("ovsdb-client", "transact", server, json.dumps(txn))
        self.run("ovsdb-client", "dump", server, "Open_vSwitch", "Bridge", "name", "ports")
        self.run("ovsdb-client", "dump", server, "Open_vSwitch", "Port", "name", "interfaces")
        self.run("ovs-appctl", "-t", "ovsdb-server", "ovsdb-server/list-dbs")
        self.run("ovsdb-tool", "show-log", self.db)

    def stop(self):
        self.run("ovs-appctl", "-t", "ovsdb-server", "exit", show=False)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pyovs demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true",
                        help="leave the database server running and print how to use it")
    args = parser.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="pyovs-demo-")
    demo = Demo(workdir)
    demo.start()
    try:
        demo.configure()
    finally:
        if not args.keep:
            demo.stop()
    if args.keep:
        print("The server keeps running.  To explore it:")
        print(f"  export OVS_RUNDIR={workdir} OVS_DBDIR={workdir} OVS_LOGDIR={workdir}")
        print(f"  {BIN}/ovsdb-client dump unix:{demo.sock}")
        print(f"  /usr/bin/ovs-vsctl --db=unix:{demo.sock} --no-wait show   # Debian's real ovs-vsctl")
        print(f"To stop it:  {BIN}/ovs-appctl -t ovsdb-server exit")
    else:
        print("pyovs demo: done; everything was stopped.")
    return 0
