"""The ``pyovs`` command: ``pyovs demo`` and friends."""

import sys

import pyovs


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: pyovs demo | sandbox | version")
        return 0
    if argv[0] in ("version", "--version", "-V"):
        print(f"pyovs {pyovs.__version__} (Open vSwitch {pyovs.OVS_VERSION})")
        return 0
    if argv[0] == "demo":
        from pyovs.cli import demo
        return demo.main(argv[1:])
    if argv[0] == "sandbox":
        from pyovs.cli import sandbox
        return sandbox.main(argv[1:])
    print(f"pyovs: unknown command '{argv[0]}'; use --help for help", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
