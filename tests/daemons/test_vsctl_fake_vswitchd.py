"""A stand-in for ovs-vswitchd, for the ovs-vsctl waiting tests: it follows
the Open_vSwitch database with pyovs's IDL and, whenever next_cfg moves,
gives every interface without an ofport one (-1 for names starting with
"bad", as ovs-vswitchd reports a port it could not set up) and then copies
next_cfg into cur_cfg.  Run: python -m tests.daemons.test_vsctl_fake_vswitchd
REMOTE (it exits when the database connection closes or after 60 s)."""

import sys
import time


def main(remote):
    from pyovs.ovsdb.idl import SUCCESS, BlockingIdl, IdlError
    from pyovs.vswitch import load_vswitch_schema
    bidl = BlockingIdl(remote, "Open_vSwitch", schema=load_vswitch_schema())
    idl = bidl.idl
    deadline = time.monotonic() + 60
    bidl.wait_for_sync(10)
    print("ready", flush=True)
    next_ofport = 1
    while time.monotonic() < deadline:
        seqno = idl.change_seqno
        for ovs in idl.rows("Open_vSwitch"):
            if ovs["cur_cfg"] == ovs["next_cfg"]:
                continue
            txn = idl.transaction()
            for iface in idl.rows("Interface"):
                if not iface["ofport"]:
                    bad = iface["name"].startswith("bad")
                    txn.set(iface, "ofport", [-1 if bad else next_ofport])
                    next_ofport += 1
            txn.set(ovs, "cur_cfg", ovs["next_cfg"])
            if bidl.commit_block(txn, 10) != SUCCESS:
                break
        try:
            bidl.run_until(lambda: idl.change_seqno != seqno, 1)
        except IdlError:
            pass
        if bidl.conn is None:
            return


if __name__ == "__main__":
    main(sys.argv[1])
