"""pyovs: Open vSwitch, written in Python.

The package mirrors Open vSwitch's architecture (see DESIGN.md): ``util`` holds
the plumbing, ``ovsdb`` the configuration database, ``vswitch`` the
Open_vSwitch schema, and the switch itself arrives in the other subpackages.
"""

__version__ = "0.1.0"

#: The Open vSwitch release whose behaviour pyovs reproduces.  Executables
#: print it in ``--version`` as OVS does, so scripts that parse it keep working.
OVS_VERSION = "3.1.0"
