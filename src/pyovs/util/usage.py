"""The option blocks that OVS's programs share in their --help texts, as
OVS 3.1 prints them (its daemon_usage(), vlog_usage(), stream_usage(),
vconn_usage() and the SSL options), so that each program's --help is OVS's
text, line for line, built from one copy of each block.

Default paths follow $OVS_RUNDIR and $OVS_LOGDIR, as OVS's do.
"""

from pyovs.util import dirs


def daemon_usage(program):
    return f"""
Daemon options:
  --detach                run in background as daemon
  --monitor               creates a process to monitor this daemon
  --user=username[:group] changes the effective daemon user:group
  --no-chdir              do not chdir to '/'
  --pidfile[=FILE]        create pidfile (default: {dirs.rundir()}/{program}.pid)
  --overwrite-pidfile     with --pidfile, start even if already running
"""


def vlog_usage(program):
    return f"""
Logging options:
  -vSPEC, --verbose=SPEC   set logging levels
  -v, --verbose            set maximum verbosity level
  --log-file[=FILE]        enable logging to specified FILE
                           (default: {dirs.logdir()}/{program}.log)
  --syslog-method=(libc|unix:file|udp:ip:port)
                           specify how to send messages to syslog daemon
  --syslog-target=HOST:PORT  also send syslog msgs to HOST:PORT via UDP
"""


def stream_usage(name, active, passive, bootstrap):
    """Connection methods for streams (JSON-RPC, OVSDB), then the PKI and
    SSL options."""
    text = "\n"
    if active:
        text += f"""Active {name} connection methods:
  tcp:HOST:PORT           PORT at remote HOST
  ssl:HOST:PORT           SSL PORT at remote HOST
  unix:FILE               Unix domain socket named FILE
"""
    if passive:
        text += f"""Passive {name} connection methods:
  ptcp:PORT[:IP]          listen to TCP PORT on IP
  pssl:PORT[:IP]          listen for SSL on PORT on IP
  punix:FILE              listen on Unix domain socket FILE
"""
    return text + pki_usage(bootstrap) + SSL_OPTIONS


def pki_usage(bootstrap):
    text = """PKI configuration (required to use SSL):
  -p, --private-key=FILE  file with private key
  -c, --certificate=FILE  file with certificate for private key
  -C, --ca-cert=FILE      file with peer CA certificate
"""
    if bootstrap:
        text += "  --bootstrap-ca-cert=FILE  file with peer CA certificate to read or create\n"
    return text


SSL_OPTIONS = """SSL options:
  --ssl-protocols=PROTOS  list of SSL protocols to enable
  --ssl-ciphers=CIPHERS   list of SSL ciphers to enable
"""


def vconn_usage(active, passive, bootstrap):
    """Connection methods for OpenFlow (default port 6653), then PKI."""
    text = "\n"
    if active:
        text += """Active OpenFlow connection methods:
  tcp:HOST[:PORT]         PORT (default: 6653) at remote HOST
  ssl:HOST[:PORT]         SSL PORT (default: 6653) at remote HOST
  unix:FILE               Unix domain socket named FILE
"""
    if passive:
        text += """Passive OpenFlow connection methods:
  ptcp:[PORT][:IP]        listen to TCP PORT (default: 6653) on IP
  pssl:[PORT][:IP]        listen for SSL on PORT (default: 6653) on IP
  punix:FILE              listen on Unix domain socket FILE
"""
    return text + pki_usage(bootstrap)
