"""GNU getopt_long as OVS's command-line tools use it (lib/command-line).

By default options and operands may be mixed, as GNU getopt permutes them
(``ovsdb-tool db-name x.db -vdbg``); a short-option string that starts with
"+" (or $POSIXLY_CORRECT) stops at the first operand instead, as
ovs-appctl and ovs-vsctl ask for (so ``ovs-appctl vlog/set -v`` passes
``-v`` to the command).  Long options may be abbreviated to any unique
prefix, and errors read exactly as glibc prints them (ambiguities list the
candidates in table order).  argparse can do none of this, hence this
module.

API: LongOption(name, has_arg, short) with has_arg NO_ARGUMENT,
REQUIRED_ARGUMENT or OPTIONAL_ARGUMENT; getopt_long(argv, short_options,
long_options) -> (list of (option, value), operands), raising GetoptError
whose str() is glibc's message (print it as ``ARGV0: msg``).  short_options
uses getopt's syntax ("+t:hV" with "::" for optional).
print_options(long_options): what -o/--options prints (OVS's
ovs_cmdl_print_options).
"""

import collections
import os

NO_ARGUMENT = 0
REQUIRED_ARGUMENT = 1
OPTIONAL_ARGUMENT = 2


class GetoptError(Exception):
    """A command-line error; str() is glibc getopt's text."""


class LongOption(collections.namedtuple("LongOption", "name has_arg short",
                                        defaults=(None,))):
    """A long option: NAME, HAS_ARG, SHORT (the equivalent short option
    letter, if any).  A named tuple rather than a dataclass, to keep the
    tools' start-up free of dataclasses (and inspect)."""
    __slots__ = ()


def _short_table(short_options):
    table = {}
    i = 1 if short_options[:1] == "+" else 0
    while i < len(short_options):
        c = short_options[i]
        i += 1
        has_arg = NO_ARGUMENT
        if short_options[i:i + 2] == "::":
            has_arg = OPTIONAL_ARGUMENT
            i += 2
        elif short_options[i:i + 1] == ":":
            has_arg = REQUIRED_ARGUMENT
            i += 1
        table[c] = has_arg
    return table


def getopt_long(argv, short_options, long_options):
    """Parse ARGV (without the program name).

    Returns ([(key, value)], operands) where key is the short letter if the
    option has one, else "--name"; value is None when absent."""
    shorts = _short_table(short_options)
    in_order = short_options[:1] == "+" or "POSIXLY_CORRECT" in os.environ
    out = []
    operands = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if arg.startswith("--"):
            body = arg[2:]
            name, eq, value = body.partition("=")
            exact = [o for o in long_options if o.name == name]
            matches = exact or [o for o in long_options if o.name.startswith(name)]
            if not matches:
                raise GetoptError("unrecognized option '--%s'" % name)
            if len(matches) > 1:
                raise GetoptError("option '--%s' is ambiguous; possibilities: %s"
                                  % (name, " ".join("'--%s'" % o.name for o in matches)))
            opt = matches[0]
            key = opt.short or "--" + opt.name
            if opt.has_arg == NO_ARGUMENT:
                if eq:
                    raise GetoptError("option '--%s' doesn't allow an argument"
                                      % opt.name)
                out.append((key, None))
            elif opt.has_arg == REQUIRED_ARGUMENT:
                if not eq:
                    if i + 1 >= len(argv):
                        raise GetoptError("option '--%s' requires an argument"
                                          % opt.name)
                    i += 1
                    value = argv[i]
                out.append((key, value))
            else:
                out.append((key, value if eq else None))
            i += 1
            continue
        if arg.startswith("-") and arg != "-":
            j = 1
            while j < len(arg):
                c = arg[j]
                j += 1
                if c not in shorts:
                    raise GetoptError("invalid option -- '%s'" % c)
                has_arg = shorts[c]
                if has_arg == NO_ARGUMENT:
                    out.append((c, None))
                    continue
                rest = arg[j:]
                if rest:
                    out.append((c, rest))
                elif has_arg == REQUIRED_ARGUMENT:
                    if i + 1 >= len(argv):
                        raise GetoptError("option requires an argument -- '%s'" % c)
                    i += 1
                    out.append((c, argv[i]))
                else:
                    out.append((c, None))
                break
            i += 1
            continue
        if in_order:
            break
        operands.append(arg)
        i += 1
    return out, operands + list(argv[i:])


def print_options(long_options):
    """Print LONG_OPTIONS as -o/--options does (ovs_cmdl_print_options)."""
    for o in long_options:
        arg = {NO_ARGUMENT: "", REQUIRED_ARGUMENT: "=ARG",
               OPTIONAL_ARGUMENT: "=[ARG]"}[o.has_arg]
        print("--%s%s" % (o.name, arg))
        if o.short:
            arg = {NO_ARGUMENT: "", REQUIRED_ARGUMENT: "ARG",
                   OPTIONAL_ARGUMENT: "[ARG]"}[o.has_arg]
            print("-%s %s" % (o.short, arg))
