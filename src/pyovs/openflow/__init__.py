"""Sans-I/O OpenFlow: the field table, matches, actions, the ovs-ofctl flow
syntax and message codecs, with Nicira extensions, as Open vSwitch 3.1 has
them.  Nothing here opens a socket except vconn (the blocking client that
command-line tools use).

Modules (each states its public API in its own docstring):
  fields        the one field table (meta-flow): names, NXM/OXM codes,
                widths, maskability, prerequisites, formats; shorthands
  match         Match (values/masks over flow members), normalisation,
                usable protocols, printing as match_format()
  actions       action objects, their text (parse and print)
  flow          flow syntax: FlowMod/FlowStats, parse_flow_mod(), printing
                of flow_mods and dump-flows lines
  protocols     OVS's "protocols" (version + flow format) and their names
  nx_match      NXM/OXM TLVs, OpenFlow 1.0 and 1.1+ ofp_match on the wire
  ofp_actions   actions and instructions on the wire, per version
  messages      framing, hello/negotiation, flow_mod, stats requests and
                replies (decoding), features, config, ports, errors
  switch_replies  the switch's reply encoders (features, stats, errors...)
  async_msgs    packet-in, flow-removed, port-status, packet-out, port-mod,
                table-mod, set-config, role
  ofp_print     messages as text, as ofp-print prints them
  ports         port numbers and names
  errors        FlowParseError, OFPError/DecodeError, Unsupported, names
  vconn         blocking OpenFlow connection for tools (xids as OVS's tools)
"""
