"""Modules imported on first use, for the command-line tools' start-up.

ovs-vsctl, ovsdb-client and ovs-appctl use blocking sockets; they must not
pay for importing asyncio (and, through it, ssl, subprocess, logging,
typing, ...) just because the module that holds the blocking classes also
holds asyncio ones.  Such a module binds the name to a placeholder::

    asyncio = lazy_module("asyncio", globals())

and writes ``asyncio.X`` as usual: the first attribute access imports the
real module and rebinds the module global to it, so later accesses cost
nothing extra.

API: lazy_module(name, namespace) -> placeholder
"""

import importlib


class _LazyModule:
    __slots__ = ("_name", "_namespace")

    def __init__(self, name, namespace):
        self._name = name
        self._namespace = namespace

    def __getattr__(self, attr):
        module = importlib.import_module(self._name)
        key = self._name.rpartition(".")[2]
        if self._namespace.get(key) is self:
            self._namespace[key] = module
        return getattr(module, attr)

    def __repr__(self):
        return "<lazy module %r>" % self._name


def lazy_module(name, namespace):
    """A placeholder for module NAME, bound in NAMESPACE (a module's
    globals()) under NAME's last component; see the module docstring."""
    return _LazyModule(name, namespace)
