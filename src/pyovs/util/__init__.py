"""pyovs.util: the plumbing every pyovs daemon and tool shares (see
../shared/DESIGN.md, 'The house').  Each module owns one concept and mirrors
the OVS library file of the same name:

  dirs          $OVS_RUNDIR/LOGDIR/DBDIR/SYSCONFDIR/PKGDATADIR, Debian's defaults
  stream        stream names (unix: tcp: ssl: punix: ptcp: pssl:), sockets
  stream_ssl    mutual TLS for ssl:/pssl: (-p/-c/-C options)
  json          OVS's JSON text: the one reader and writer (files, wire,
                output), with OVS's values, errors and member orders
  jsonrpc       JSON-RPC 1.0 as OVS speaks it: stream parser, messages,
                connections, the reconnecting Session, the blocking client
  reconnect     the pure reconnect/probe state machine
  vlog          OVS's logging: modules, levels, patterns, vlog/* commands
  fatal_signal  log, clean up and die on SIGTERM/INT/HUP/ALRM (also for
                asyncio daemons that wind down first)
  daemon        daemon options, pidfiles, --detach, --monitor
  unixctl       control sockets: server and client (ovs-appctl's protocol)
  command_line  getopt_long as OVS's tools parse their options (GNU
                permutation, or "+" mode)
  unixctl_test_daemon  "test-unixctl", a minimal daemon for tests
"""
