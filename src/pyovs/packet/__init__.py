"""pyovs.packet: packets as bytes, and the flows they belong to.

Pure functions over bytes, no packet objects:

- headers: one struct layout per header (Ethernet, 802.1Q, LLC/SNAP, ARP,
  IPv4, IPv6 and its extension headers, TCP, UDP, SCTP, ICMP, ICMPv6/ND,
  VXLAN, GRE, Geneve) and the numbers that name things (ETH_TYPE_*,
  IPPROTO_*, TCP flags, ...);
- csum: the Internet checksum, pseudo-headers, incremental updates;
- flow: flow_extract(bytes, in_port, metadata) -> flow dict, as OVS's
  miniflow_extract (the per-miss path; bounded, never raises);
- build: builders for tests and for packets the switch sends, and
  flow_compose(flow) -> bytes as OVS builds a packet from a flow.

Flows are dicts member -> int with pyovs.openflow.fields.STORAGE names (a
missing member is 0); pyovs.odp turns them into datapath keys and text.
"""
