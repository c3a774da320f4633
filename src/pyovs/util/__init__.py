"""pyovs.util: the plumbing every pyovs daemon and tool shares (see
../shared/DESIGN.md, 'The house').  Each module owns one concept and mirrors
the OVS library file of the same name:

  dirs          $OVS_RUNDIR/LOGDIR/DBDIR/PKGDATADIR and Debian's defaults
  stream        stream names (unix: tcp: ssl: punix: ptcp: pssl:), sockets
  stream_ssl    mutual TLS for ssl:/pssl: (-p/-c/-C options)
  jsonrpc       JSON-RPC 1.0 as OVS speaks it: codec, parser, connections,
                the reconnecting Session, the blocking client
  reconnect     the pure reconnect/probe state machine
  vlog          OVS's logging: modules, levels, patterns, vlog/* commands
  fatal_signal  log, clean up and die on SIGTERM/INT/HUP/ALRM
  daemon        daemon options, pidfiles, --detach, --monitor
  unixctl       control sockets: server and client (ovs-appctl's protocol)
  command_line  getopt_long as OVS's tools parse their options
  unixctl_test_daemon  "test-unixctl", a minimal daemon for tests
"""
