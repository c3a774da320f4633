"""SSL/TLS for ``ssl:`` and ``pssl:`` streams (OVS's lib/stream-ssl).

OVS's SSL is mutual: each side presents a certificate (--private-key,
--certificate) and requires the peer's to be signed by the configured CA
(--ca-cert).  Host names are not checked; the CA is the trust boundary.  An
``ssl:``/``pssl:`` stream used before all three files are configured fails
with ENOPROTOOPT ("Protocol not available") after logging what is missing,
exactly as OVS does.  --bootstrap-ca-cert (trust on first use) is not
supported.

API: set_private_key(path), set_certificate(path), set_ca_cert(path,
bootstrap=False), add_ssl_options(argparse parser) / apply_ssl_options(args)
for -p/--private-key, -c/--certificate, -C/--ca-cert, --bootstrap-ca-cert,
--ssl-protocols, --ssl-ciphers; client_context() / server_context() (raise
OSError(ENOPROTOOPT) when unconfigured); is_configured().
"""

import errno
import os

from pyovs.util.lazy import lazy_module
from pyovs.util.vlog import Vlog

ssl = lazy_module("ssl", globals())

vlog = Vlog("stream_ssl")

_config = {"private_key": None, "certificate": None, "ca_cert": None,
           "protocols": None, "ciphers": None}
_contexts = {}

#: --ssl-protocols names -> ssl.TLSVersion attribute names.
_PROTOCOLS = {"TLSv1": "TLSv1", "TLSv1.1": "TLSv1_1",
              "TLSv1.2": "TLSv1_2", "TLSv1.3": "TLSv1_3"}


def _set(key, value):
    _config[key] = os.path.abspath(value) if value and key in (
        "private_key", "certificate", "ca_cert") else value
    _contexts.clear()


def set_private_key(path):
    _set("private_key", path)


def set_certificate(path):
    _set("certificate", path)


def set_ca_cert(path, bootstrap=False):
    if bootstrap:
        raise ValueError("--bootstrap-ca-cert is not supported")
    _set("ca_cert", path)


def set_protocols(text):
    """Restrict to a comma-separated list such as "TLSv1.2,TLSv1.3"."""
    names = [p.strip() for p in (text or "").split(",") if p.strip()]
    for name in names:
        if name not in _PROTOCOLS:
            raise ValueError("%s: unknown SSL protocol" % name)
    _set("protocols", names or None)


def set_ciphers(text):
    _set("ciphers", text)


def is_configured():
    return all(_config[k] for k in ("private_key", "certificate", "ca_cert"))


def _check():
    missing = False
    for key, what in (("private_key", "Private key"),
                      ("certificate", "Certificate"),
                      ("ca_cert", "CA certificate")):
        if not _config[key]:
            vlog.err("%s must be configured to use SSL", what)
            missing = True
    if missing:
        raise OSError(errno.ENOPROTOOPT, os.strerror(errno.ENOPROTOOPT))


def _context(server):
    if server in _contexts:
        return _contexts[server]
    _check()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server
                         else ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    try:
        ctx.load_cert_chain(_config["certificate"], _config["private_key"])
        ctx.load_verify_locations(_config["ca_cert"])
    except (OSError, ssl.SSLError) as e:
        vlog.err("failed to load SSL configuration: %s", e)
        raise OSError(errno.ENOPROTOOPT, os.strerror(errno.ENOPROTOOPT)) from e
    if _config["protocols"]:
        versions = sorted(getattr(ssl.TLSVersion, _PROTOCOLS[p])
                          for p in _config["protocols"])
        ctx.minimum_version, ctx.maximum_version = versions[0], versions[-1]
    if _config["ciphers"]:
        ctx.set_ciphers(_config["ciphers"])
    _contexts[server] = ctx
    return ctx


def client_context():
    return _context(False)


def server_context():
    return _context(True)


def add_ssl_options(parser):
    """Add OVS's SSL options to an argparse parser."""
    g = parser.add_argument_group("PKI configuration")
    g.add_argument("-p", "--private-key", metavar="FILE",
                   help="file with private key")
    g.add_argument("-c", "--certificate", metavar="FILE",
                   help="file with certificate for private key")
    g.add_argument("-C", "--ca-cert", metavar="FILE",
                   help="file with peer CA certificate")
    g.add_argument("--bootstrap-ca-cert", metavar="FILE",
                   help="file with peer CA certificate to read or create")
    g.add_argument("--ssl-protocols", metavar="PROTOS",
                   help="list of SSL protocols to enable")
    g.add_argument("--ssl-ciphers", metavar="CIPHERS",
                   help="list of SSL ciphers to enable")
    return parser


def apply_ssl_options(args):
    """Apply parsed SSL options; raises ValueError for unsupported ones."""
    if getattr(args, "private_key", None):
        set_private_key(args.private_key)
    if getattr(args, "certificate", None):
        set_certificate(args.certificate)
    if getattr(args, "ca_cert", None):
        set_ca_cert(args.ca_cert)
    if getattr(args, "bootstrap_ca_cert", None):
        set_ca_cert(args.bootstrap_ca_cert, bootstrap=True)
    if getattr(args, "ssl_protocols", None):
        set_protocols(args.ssl_protocols)
    if getattr(args, "ssl_ciphers", None):
        set_ciphers(args.ssl_ciphers)
