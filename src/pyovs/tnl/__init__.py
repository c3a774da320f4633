"""pyovs.tnl: native (userspace) tunneling; see ../shared/DESIGN.md, 'The house'.

- ovs_router: the route table (ovs/route/*), kernel routes via pyroute2;
- neigh_cache: the neighbor cache (tnl/neigh/*, tnl/arp/*), ARP/ND snooping,
  the ARP request / neighbor solicitation sent on a miss;
- tnl_ports: the tunnel listeners (tnl/ports/show) and the tnl_pop lookup;
- header: the tnl_push outer header, tnl/egress_port_range;
- native: route + neighbor -> header (or miss/no route) for translation;
- pop: tnl_pop's outer-header parsing into tunnel metadata;
- tunneling: the switch's tunnel state (the tables above, the OpenFlow
  tunnel ports on shared datapath tunnel ports, tnl_find / tnl_port_send);
- tnl_xlate: translation's tunnel hooks (tnl_push with the underlay
  bridge's actions, tnl_pop at a LOCAL port, neighbor snooping);
- ofproto_hooks: the wiring into ofproto/ofproto_dpif.py and the daemon.

The datapath actions themselves (tnl_push, tnl_pop) are in
dpif/netdev.py; the tunnel ports (vxlan, gre, geneve) in netdev/tunnel.py.

The cores are sans-I/O with `now` passed in; only ovs_router.SystemRoutes
touches the kernel.
"""
