"""pyovs.odp: the datapath's flow keys, masks and actions, and their text.

The text is OVS's odp-util format, byte for byte, as ``ovs-appctl
dpctl/dump-flows``, ``dpctl/add-flow``, ``dpctl/parse-actions``,
``netdev-dummy/receive`` and ``ofproto/trace`` print and read it:

- keys: parse_flow / format_flow for key+mask attribute lists
  (``recirc_id(0),in_port(1),eth(...),eth_type(0x0800),ipv4(...)``, masks as
  ``value/mask``, wildcarded fields left out unless verbose), and
  flow_to_key / key_to_flow between attribute lists and pyovs flow dicts;
- actions: parse_actions / format_actions (``2,push_vlan(vid=10,pcp=0)``,
  ``set(...)``, ``userspace(...)``, ``ct(...)``, ``clone(...)``,
  ``tnl_push(...)``, ...);
- lex: the small lexical helpers both share.

One table per fact: keys.KEY_ATTRS says how every key attribute is written
and drives both directions; keys.STRUCT_MEMBERS/SCALAR_MEMBERS say which flow
member each key field carries.
"""
