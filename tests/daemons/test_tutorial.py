"""docs/tutorial.md runs verbatim: every ``$ command`` of its ``console``
blocks is run, in order, in one sandbox, and its output must be the one the
document shows.

The document is first proved against Debian's real Open vSwitch (real
ovsdb-server and ovs-vswitchd on the dummy datapath, real ovs-vsctl,
ovs-ofctl and ovs-appctl: ``pyovs sandbox --ovs-bin``), so the outputs shown
are OVS's; then the same document runs against pyovs.  Nothing is
normalised: the tutorial only shows output that does not vary from run to
run, except for one thing: the order of the flows in a ``dump-flows`` reply
is the classifier's hash order, which OpenFlow leaves unspecified, so those
outputs are compared as sorted lines.  Steps where pyovs is known to differ are listed in KNOWN_GAPS with the
reason; any other difference fails, and a listed step that starts to pass
fails too, so the list cannot go stale.

Transcript syntax: a line ``$ CMD`` starts a command, following lines
starting with ``> `` continue it (as a shell's PS2 prompt shows them), and
the lines up to the next ``$`` are its output (stdout and stderr).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REAL

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

#: (document, command) -> why pyovs differs today.  Keep it short and true;
#: /tmp/pd/diffs.txt-style reports come from report().
KNOWN_GAPS = {}


def parse(text):
    """[(command, expected output)] from the ``console`` blocks of TEXT."""
    steps = []
    in_block = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_block = line.strip() == "```console"
            continue
        if not in_block:
            continue
        if line.startswith("$ "):
            steps.append([line[2:], []])
        elif not steps:
            raise ValueError(f"output before any command: {line!r}")
        elif line.startswith("> ") and not steps[-1][1]:
            steps[-1][0] += "\n" + line[2:]
        else:
            steps[-1][1].append(line)
    return [(cmd, "".join(l + "\n" for l in out)) for cmd, out in steps]


def run_steps(steps, directory, bindirs=None, timeout=60, dummy="override"):
    """Run STEPS in a fresh sandbox in DIRECTORY (ovs-vswitchd started with
    --enable-dummy=DUMMY); [(command, expected, got)]."""
    from pyovs.cli.sandbox import Sandbox
    box = Sandbox(directory, verbose=False, bindirs=bindirs, dummy=dummy)
    results = []
    try:
        box.create()
        box.start()
        for cmd, expected in steps:
            proc = subprocess.run(["sh", "-c", cmd], env=box.env, cwd=box.dir,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True,
                                  timeout=timeout)
            results.append((cmd, expected, proc.stdout))
    finally:
        box.stop()
    return results


def same(cmd, expected, got):
    if "dump-flows" in cmd:
        return sorted(expected.splitlines()) == sorted(got.splitlines())
    return expected == got


def differences(results):
    return [(cmd, exp, got) for cmd, exp, got in results if not same(cmd, exp, got)]


def report(diffs):
    return "\n".join(f"$ {cmd}\n--- expected\n{exp}--- got\n{got}" for cmd, exp, got in diffs)


#: Each document and the --enable-dummy it needs: tunneling.md's tunnel
#: ports must stay tunnels (pyovs sandbox --dummy=system).
DOCUMENTS = {"tutorial.md": "override", "tunneling.md": "system"}
REAL_BINDIRS = ["/usr/sbin", "/usr/bin"]


@pytest.mark.interop
@pytest.mark.parametrize("doc", DOCUMENTS)
def test_document_is_real_ovs_output(doc, tmp_path):
    """The outputs shown are what Debian's real Open vSwitch prints."""
    for name in ("ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl", "ovs-appctl"):
        if not os.path.exists(REAL[name]):
            pytest.skip(f"{REAL[name]} not installed")
    steps = parse((DOCS / doc).read_text())
    assert steps
    diffs = differences(run_steps(steps, tmp_path / "sb", bindirs=REAL_BINDIRS,
                                  dummy=DOCUMENTS[doc]))
    assert not diffs, report(diffs)


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_document_runs_on_pyovs(doc, tmp_path):
    steps = parse((DOCS / doc).read_text())
    diffs = differences(run_steps(steps, tmp_path / "sb", dummy=DOCUMENTS[doc]))
    gaps = {cmd: why for (d, cmd), why in KNOWN_GAPS.items() if d == doc}
    assert set(gaps) <= {cmd for cmd, _ in steps}, "KNOWN_GAPS names no step"
    unexpected = [d for d in diffs if d[0] not in gaps]
    assert not unexpected, report(unexpected)
    failing = {cmd for cmd, _, _ in diffs}
    fixed = [cmd for cmd in gaps if cmd not in failing]
    assert not fixed, "now passing, remove from KNOWN_GAPS: " + repr(fixed)
    if diffs:
        pytest.xfail("known pyovs gaps: " + "; ".join(sorted(set(gaps.values()))))


def test_parse():
    text = ("text\n```console\n$ a\nout1\n> not a continuation\n$ for i in 1; do\n"
            ">   echo $i\n> done\n1\n```\n```text\n$ not run\n```\n")
    assert parse(text) == [("a", "out1\n> not a continuation\n"),
                           ("for i in 1; do\n  echo $i\ndone", "1\n")]


if __name__ == "__main__":
    # python -m tests.daemons.test_tutorial DOC [--real]: print the transcript
    # as the chosen implementation produces it (for writing the document).
    doc = sys.argv[1]
    bindirs = REAL_BINDIRS if "--real" in sys.argv else None
    import tempfile
    with tempfile.TemporaryDirectory(prefix="pd-tut-") as tmp:
        for cmd, exp, got in run_steps(parse((DOCS / doc).read_text()),
                                       Path(tmp) / "sb", bindirs=bindirs,
                                       dummy=DOCUMENTS[doc]):
            print("$ " + cmd.replace("\n", "\n> "))
            print(got, end="")
            print("=" * 8 + (" SAME" if same(cmd, exp, got) else " DIFFERS"))
