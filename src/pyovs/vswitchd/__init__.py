"""pyovs.vswitchd: ovs-vswitchd's own layers (see ../shared/DESIGN.md, 'The
house').  bridge.py follows the Open_vSwitch database: bridges, ports and
interfaces created through pyovs.netdev and pyovs.ofproto, status written
back.  The daemon shell is pyovs.cli.ovs_vswitchd."""
