"""Random chains of bridge, port, bond, fake-bridge, controller, manager and
database commands (show output compared line by line as a multiset),
including failing ones: pyovs's ovs-vsctl (in-process) must answer exactly as
Debian's, each sequence starting from an empty database, against Debian's
ovsdb-server and against pyovs's."""

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.conftest import real_bin
from tests.interop.test_vsctl import pyovs_server, real_server, vsctl_env  # noqa: F401
from tests.interop.test_vsctl_cases import (assert_real_ran, normalised, run_sequence,
                                            run_sequence_inproc)

B = ["br0", "br1", "v5", "nob"]
P = ["p1", "p2", "bd", "a", "b", "br0", "v5"]

_COMMANDS = st.one_of(
    st.builds("add-br {}".format, st.sampled_from(B[:2])),
    st.builds("add-br v5 {} {}".format, st.sampled_from(B), st.sampled_from([5, 6, 5000])),
    st.builds("{}add-port {} {}".format, st.sampled_from(["", "--may-exist "]),
              st.sampled_from(B), st.sampled_from(P)),
    st.builds("{}add-bond {} bd a b".format,
              st.sampled_from(["", "--may-exist ", "--fake-iface "]), st.sampled_from(B)),
    st.builds("{}del-port {}".format,
              st.sampled_from(["", "--if-exists ", "--with-iface "]), st.sampled_from(P)),
    st.builds("del-port {} {}".format, st.sampled_from(B), st.sampled_from(P)),
    st.builds("{}del-br {}".format, st.sampled_from(["", "--if-exists "]),
              st.sampled_from(B)),
    st.builds("{} {}".format, st.sampled_from(["list-ports", "list-ifaces", "br-to-parent",
                                               "br-to-vlan", "br-exists", "get-controller",
                                               "get-fail-mode", "br-get-external-id"]),
              st.sampled_from(B)),
    st.builds("{} {}".format, st.sampled_from(["port-to-br", "iface-to-br",
                                               "del-bond-iface"]), st.sampled_from(P)),
    st.just("list-br"),
    st.builds("add-bond-iface {} {}".format, st.sampled_from(P), st.sampled_from(P)),
    st.builds("set port {} tag={}".format, st.sampled_from(P),
              st.sampled_from(["5", "6", "[]"])),
    st.builds("set port {} fake_bridge={}".format, st.sampled_from(P),
              st.sampled_from(["true", "false"])),
    st.builds("set-controller {} tcp:1.1.1.1".format, st.sampled_from(B)),
    st.builds("set-fail-mode {} secure".format, st.sampled_from(B)),
    st.builds("br-set-external-id {} k v".format, st.sampled_from(B)),
    st.just("--columns=name,tag,fake_bridge find port tag=5"),
    st.builds("destroy interface {}".format, st.sampled_from(P)),
    st.builds("remove bridge {} ports {}".format, st.sampled_from(B), st.sampled_from(P)),
    st.sampled_from(["show", "emer-reset", "list interface", "--all destroy qos",
                     "set-manager ptcp:1"]),
    st.builds("--id=@q create qos type=x -- set port {} qos=@q".format,
              st.sampled_from(P)),
    st.builds("del-controller {}".format, st.sampled_from(B)),
    st.builds("add-br {} {} {}".format, st.sampled_from(P), st.sampled_from(B),
              st.sampled_from([1, 2])),
    st.builds("clear port {} tag".format, st.sampled_from(P)),
    st.builds("add port {} trunks {}".format, st.sampled_from(P), st.sampled_from([1, 2])),
)

_SEQUENCES = st.lists(st.lists(_COMMANDS, min_size=1, max_size=3).map(" -- ".join),
                      min_size=2, max_size=8)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_SEQUENCES)
def test_random_chains_same_as_real(real_server, pyovs_server, vsctl_env, seq):
    _, env = vsctl_env
    seq = seq + ["list-br"]     # one invocation that must succeed
    real_server.reset()
    real = run_sequence(real_bin("ovs-vsctl"), real_server.remote, seq, env)
    assert_real_ran(real, must_succeed=[-1])
    expected = normalised(real, "lines")
    real_server.reset()
    assert normalised(run_sequence_inproc(real_server.remote, seq, env),
                      "lines") == expected
    pyovs_server.reset()
    assert normalised(run_sequence_inproc(pyovs_server.remote, seq, env),
                      "lines") == expected
