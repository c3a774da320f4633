"""ovs-vsctl: configure Open vSwitch through its database (ovs-vsctl(8))."""

import sys


def main(argv=None):
    from pyovs.vswitch.vsctl import run
    try:
        status = run(sys.argv[1:] if argv is None else argv)
    except BrokenPipeError:
        status = 1
    sys.exit(status)


if __name__ == "__main__":
    main()
