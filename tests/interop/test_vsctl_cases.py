"""Command sequences run by both pyovs's and Debian's ovs-vsctl (each
against a fresh database); shared by the interop tests and the daemon
tests.  A case is (name, [invocation, ...], normalisation): each invocation
is the argument string after ``--db=... --no-wait``; normalisation is
"exact" (after UUIDs are replaced), "records" (list output: the blank-line
separated records are compared as a multiset), "tree" (show output: runs of sibling
records of one kind compared as multisets, column lines in place) or "lines" (lines as a multiset)."""

BR = "add-br br0 -- add-port br0 p1 -- add-port br0 p2 tag=5 -- add-bond br0 bond0 a b"

CASES = [
    # -- init, show, bridges --------------------------------------------------
    ("init", ["init", "init", "show", "list-br"], "exact"),
    ("empty-show", ["show"], "exact"),
    ("add-br", ["add-br br0", "list-br", "br-exists br0", "br-exists nob",
                "list-ports br0", "list-ifaces br0", "show"], "exact"),
    ("add-br-twice", ["add-br br0", "add-br br0", "--may-exist add-br br0",
                      "list-br"], "exact"),
    ("add-br-chain", ["add-br br0 -- add-br br1 -- list-br -- list-ports br1"], "exact"),
    ("del-br", ["add-br br0 -- add-br br1", "del-br br0", "list-br", "del-br br0",
                "--if-exists del-br br0", "list-br"], "exact"),
    ("ports", [BR, "list-ports br0", "list-ifaces br0", "port-to-br p1",
               "iface-to-br a", "port-to-br bond0", "port-to-br a",
               "iface-to-br bond0", "port-to-br br0"], "exact"),
    ("show-ports", [BR, "show"], "tree"),
    ("add-port-errors", ["add-br br0", "add-port br0 p1", "add-port br0 p1",
                         "add-port nobr p9", "add-port br0 br0",
                         "--may-exist add-port br0 p1", "add-br br1",
                         "--may-exist add-port br1 p1", "add-port br0 p3 tag=9999",
                         "add-port br0 p4 nocol=1", "add-port br0 p5 tag",
                         "list-ports br0"], "exact"),
    ("add-bond-errors", ["add-br br0", "add-bond br0 b0 a", "add-bond br0 b0 a lacp=active",
                         "add-bond br0 b0 a b lacp=active bond_mode=balance-slb",
                         "--may-exist add-bond br0 b0 b a", "--may-exist add-bond br0 b0 a c",
                         "--fake-iface add-bond br0 b1 c d", "get port b1 bond_fake_iface lacp",
                         "get port b0 lacp bond_mode", "list-ifaces br0"], "exact"),
    ("bond-ifaces", ["add-br b0 -- add-port b0 p1 -- add-bond b0 bd x y -- add-br b1"
                     " -- add-port b1 q1", "add-bond-iface bd z", "list-ifaces b0",
                     "add-bond-iface bd z", "--may-exist add-bond-iface bd z",
                     "add-bond-iface bd q1", "--may-exist add-bond-iface bd q1",
                     "add-bond-iface nob z2", "add-bond-iface p1 w",
                     "get port p1 interfaces", "del-bond-iface w", "del-bond-iface bd w",
                     "del-bond-iface p1 w", "del-bond-iface nob x",
                     "del-bond-iface nosuch", "--if-exists del-bond-iface nosuch",
                     "del-bond-iface p1", "del-bond-iface bd p1", "del-bond-iface b0",
                     "del-bond-iface x", "del-bond-iface y", "list-ifaces b0",
                     "add-bond-iface bd b0", "add-bond-iface bd b1", "iface-to-br z"],
     "exact"),
    ("del-port", [BR, "del-port p1", "del-port br0 p2", "del-port br0 nop",
                  "--if-exists del-port br0 nop", "del-port br0", "del-port a",
                  "--with-iface del-port a", "list-ports br0", "list-ifaces br0",
                  "add-br br1", "add-port br1 q1", "del-port br0 q1"], "exact"),
    ("fake-bridges", ["add-br br0", "add-br vlan10 br0 10", "add-br vlan11 br0 11",
                      "list-br", "--real list-br", "--fake list-br",
                      "br-to-vlan vlan10", "br-to-parent vlan10", "br-to-vlan br0",
                      "br-to-parent br0", "add-port vlan10 v1", "list-ports vlan10",
                      "list-ports br0", "port-to-br v1", "get port v1 tag",
                      "add-br vlan12 br0 10", "add-br vlan13 nobr 5",
                      "add-br vlan14 vlan10 5", "add-br vlan15 br0 5000",
                      "add-br x br0", "--may-exist add-br vlan10 br0 10",
                      "--may-exist add-br vlan10 br0 11", "--may-exist add-br vlan10",
                      "--may-exist add-br br0 br0 10", "del-port br0 v1",
                      "del-br vlan11", "list-br", "del-br br0", "list-br"], "exact"),
    ("fake-show", ["add-br br0 -- add-br vlan10 br0 10 -- add-port vlan10 v1", "show"],
     "tree"),
    ("external-ids", ["add-br br0 -- add-br f1 br0 7",
                      "br-set-external-id br0 k1 v1", "br-set-external-id br0 k2 v2",
                      "br-get-external-id br0", "br-get-external-id br0 k1",
                      "br-get-external-id br0 nok", "br-set-external-id br0 k1",
                      "br-get-external-id br0", "br-set-external-id f1 a b",
                      "br-get-external-id f1", "br-get-external-id f1 a",
                      "get port f1 external_ids", "br-get-external-id nob"], "exact"),
    ("controllers", ["add-br br0 -- add-br f1 br0 3",
                     "set-controller br0 tcp:1.2.3.4:6653 ptcp:6654",
                     "get-controller br0", "get-controller f1",
                     "set-controller f1 tcp:1.1.1.1", "del-controller f1",
                     "get-fail-mode br0", "set-fail-mode br0 secure",
                     "get-fail-mode br0", "get-fail-mode f1", "set-fail-mode br0 bogus",
                     "set-fail-mode f1 secure", "del-fail-mode br0", "get-fail-mode br0",
                     "list controller", "del-controller br0", "get-controller br0",
                     "list controller", "get-controller nob"], "records"),
    ("managers", ["set-manager ptcp:6640 tcp:1.2.3.4:6640", "get-manager",
                  "list manager", "set-manager ptcp:6641", "get-manager",
                  "del-manager", "get-manager", "list manager"], "records"),
    ("ssl", ["get-ssl", "set-ssl /k /c /ca", "get-ssl",
             "--bootstrap set-ssl /k2 /c2 /ca2", "get-ssl", "list ssl", "del-ssl",
             "get-ssl", "list ssl"], "exact"),
    ("emer-reset", [BR + " -- set-controller br0 tcp:1.2.3.4 -- set-fail-mode br0 secure"
                    " -- set bridge br0 other_config:hwaddr=00:11:22:33:44:55"
                    " other_config:x=y -- set-manager ptcp:1",
                    "emer-reset", "get bridge br0 other_config controller fail_mode",
                    "get-manager", "list controller", "list-ports br0"], "exact"),
    # -- database commands ------------------------------------------------------
    ("get", ["add-br br0", "get bridge br0 name", "get bridge br0 name fail_mode ports",
             "get bridge br0 other_config", "get bridge br0 other_config:x",
             "--if-exists get bridge br0 other_config:x", "get bridge nob name",
             "--if-exists get bridge nob name", "get bridge br0 nocol",
             "get bridge br0 name:key", "get bridge br0", "get nosuchtable x",
             "get open . bridges", "get Open_vSwitch . next_cfg",
             "get interface br0 type", "get port br0 interfaces", "get b br0 name",
             "get bri br0 na", "get bridge br0 _uuid", "get bridge br0 -uuid"], "exact"),
    ("set", ["add-br br0",
             "set bridge br0 other_config:a=1 other_config:b=\"x y\" external_ids={k=v}",
             "get bridge br0 other_config external_ids",
             "set bridge br0 fail_mode=bogus", "set bridge br0 stp_enable=maybe",
             "set port br0 tag=4096", "set port br0 tag=-1", "set port br0 tag=xx",
             "set bridge br0 name", "set bridge br0 nocol=1", "set bridge br0 :x=1",
             "set bridge br0 name:x=1", "set bridge br0 flood_vlans=[1,2,3]",
             "get bridge br0 flood_vlans", "set bridge br0 flood_vlans=1,2,2",
             "set bridge br0 other_config={a=1,a=2}", "set bridge br0 other_config=",
             "set bridge br0 other_config={a", "set bridge br0 other_config={a=1}x",
             "set bridge br0 other_config=a", "set port br0 trunks=[1,2]",
             "get port br0 trunks", "set bridge br0 datapath_id=\"abc\"",
             "get bridge br0 datapath_id", "set bridge br0 status:x=1",
             "set interface br0 ofport_request=70000", "set interface br0 ofport_request=7",
             "get interface br0 ofport_request", "--if-exists set bridge nob name=x",
             "set bridge nob name=x", "set bridge br0 protocols=OpenFlow10,OpenFlow13",
             "get bridge br0 protocols", "set bridge br0 protocols=OpenFlow99",
             "set bridge br0 other_config:\"a b\"=\"c d\"", "get bridge br0 other_config",
             "set bridge br0 name=\"\"", "set bridge br0 name=\"\\\"q\\\"\"",
             "list-br"], "exact"),
    ("add-remove", ["add-br br0", "add bridge br0 flood_vlans 1 2", "add bridge br0 flood_vlans 3,4",
                    "get bridge br0 flood_vlans", "remove bridge br0 flood_vlans 1 3",
                    "get bridge br0 flood_vlans", "add bridge br0 other_config a=1 b=2",
                    "add bridge br0 other_config a=9", "get bridge br0 other_config",
                    "remove bridge br0 other_config a=2", "get bridge br0 other_config",
                    "remove bridge br0 other_config a=1", "remove bridge br0 other_config b",
                    "get bridge br0 other_config", "add bridge br0 name x",
                    "remove bridge br0 name br0", "add bridge br0 nocol 1",
                    "add port br0 tag 1 2", "add bridge br0 flood_vlans 5000",
                    "remove bridge br0 flood_vlans 5000", "add bridge br0 fail_mode secure",
                    "get bridge br0 fail_mode",
                    "remove bridge br0 fail_mode secure", "get bridge br0 fail_mode"], "exact"),
    ("clear", ["add-br br0 -- set bridge br0 flood_vlans=1,2 fail_mode=secure",
               "clear bridge br0 flood_vlans fail_mode", "get bridge br0 flood_vlans fail_mode",
               "clear bridge br0 name", "clear bridge br0 nocol",
               "--if-exists clear bridge nob flood_vlans", "clear bridge nob flood_vlans"],
     "exact"),
    ("create-destroy", ["--id=@q create qos type=linux-htb -- set port br0 qos=@q",
                        "add-br br0",
                        "--id=@q create qos type=linux-htb other_config:max-rate=100 -- set port br0 qos=@q",
                        "list qos", "get port br0 qos", "destroy qos br0",
                        "clear port br0 qos", "destroy qos br0", "list qos",
                        "create qos type=x", "--all destroy qos", "list qos",
                        "destroy bridge nob", "--if-exists destroy bridge nob",
                        "--all destroy bridge br0", "--all --if-exists destroy qos"],
     "exact"),
    ("ids", ["add-br br0",
             "--id=@m create mirror name=m1 -- add bridge br0 mirrors @m",
             "get bridge br0 mirrors", "list mirror m1", "get mirror m1 name",
             "set port br0 qos=@nope", "--id=nope create qos type=x",
             "--id=@a create qos type=x -- --id=@a create qos type=y",
             "--id=@a get bridge br0 -- set bridge br0 external_ids:x=y",
             "--id=@b get bridge br0 -- get bridge br0 external_ids",
             "--id=@c --if-exists get bridge br0", "set port br0 qos=@q -- --id=@q get qos x",
             "--id=@q create queue dscp=1 -- --id=@r create qos type=x queues:1=@q -- set port br0 qos=@r",
             "list queue", "get qos br0 queues",
             "--id=@i create interface name=i1 -- --id=@p create port name=x "
             "interfaces=@i -- --id=@m create mirror name=m2 select_src_port=@p -- "
             "add bridge br0 mirrors @m", "get mirror m2 select_src_port",
             "--id=@x create Port name=y interfaces=[]", "--id=@q create qos type=z",
             "set bridge br0 other_config:x=@q"], "exact"),
    ("list-find", [BR, "list bridge", "list port p1 p2", "list port nop",
                   "--if-exists list port nop", "--columns=name,tag list port p1 p2",
                   "--columns=name find port tag=5", "--columns=name,_uuid find port tag=5",
                   "find port name=nosuch", "--columns=name find interface name!=a",
                   "--columns=nocol list port", "--columns= list port",
                   "find port nocol=1", "find port tag", "find port tag>4",
                   "--columns=name find bridge ports{>=}[]", "find port 'name<p'",
                   "--columns=name find port tag{=}[]"], "records"),
    ("conditions", [BR + " -- set port p1 other_config:a=1 other_config:b=2 trunks=1,2,3"
                    " -- set port p2 other_config:a=2 trunks=2",
                    "--columns=name find port other_config:a=1",
                    "--columns=name find port other_config:a!=1",
                    "--columns=name find port other_config:a>1",
                    "--columns=name find port other_config:c=1",
                    "--columns=name find port other_config:c{=}[]",
                    "--columns=name find port other_config:a{in}1,2",
                    "--columns=name find port other_config:a{not-in}1",
                    "--columns=name find port trunks{>=}2",
                    "--columns=name find port trunks{<=}[1,2,3,4]",
                    "--columns=name find port trunks{<}[1,2,3]",
                    "--columns=name find port trunks{>}2",
                    "--columns=name find port trunks{in}[1,2,3]",
                    "--columns=name find port trunks{not-in}[1]",
                    "--columns=name find port trunks{!=}[2]",
                    "--columns=name find port trunks=[2]",
                    "--columns=name find port 'other_config{>=}{a=1}'",
                    "--columns=name find port 'other_config{in}{a=1,b=2,c=3}'",
                    "--columns=name find port tag<6 tag>4",
                    "--columns=name find port name=p1 tag=5",
                    "--columns=name find port name:x=1",
                    "--columns=name find port other_config:a=",
                    "--columns=name find port trunks{=}",
                    "--columns=name find interface ofport_request=[]"], "records"),
    ("formats", [BR, "--format=table --columns=name,tag list port p2",
                 "--format=csv --columns=name,tag,trunks list port p2",
                 "--format=json --columns=name,tag,trunks list port p2",
                 "--format=html --columns=name,tag list port p2",
                 "--bare --columns=name,tag list port p2",
                 "-f table -d json --columns=name,tag,trunks list port p2",
                 "--no-headings -f table --columns=name list port p2",
                 "--pretty -f json --columns=name list port p2",
                 "--format=bogus list port p2", "--data=bogus list port p2",
                 "-f table --columns=name list port p2 -- --columns=tag list port p2",
                 "--oneline list-ports br0 -- get port p2 tag -- list-br",
                 "--format=list --data=bare --columns=name,interfaces list port p2"],
     "exact"),
    ("wait-until", ["add-br br0", "wait-until bridge br0",
                    "wait-until bridge br0 name=br0", "wait-until bridge br0 nocol=1",
                    "wait-until port br0 tag"], "exact"),
    ("parse-errors", ["", "--", "bogus", "add-br", "add-br a b c d", "add-br a b",
                      "list-br x", "--if-exists list-br", "list-br --real",
                      "--may-exist --may-exist add-br x", "--bogus-opt list-br",
                      "-- --may-exist", "list-br -- bogus", "--columns list port",
                      "--columns=name get bridge br0", "add-br br0 -- --id=@x list-br",
                      "set", "destroy", "--all=1 destroy qos", "list-br --", "-- list-br --"],
     "exact"),
    ("show-all", [BR + " -- add-br vlan5 br0 5 -- set-controller br0 tcp:1.2.3.4 ptcp:6653"
                  " -- set-manager ptcp:6640 -- set port p1 trunks=1,2,3"
                  " -- set interface p1 type=vxlan options:remote_ip=1.2.3.4"
                  " error=\"bad thing\" -- set bridge br0 datapath_type=netdev"
                  " -- set open . ovs_version=3.1.0", "show",
                  "set controller br0 is_connected=true", "show"], "tree"),
    ("del-br-fake-children", [BR + " -- add-br vlan5 br0 5 -- add-port vlan5 v1"
                              " -- add-br vlan6 br0 6", "del-br vlan5", "list-br",
                              "list-ports br0", "del-br br0", "list-br", "show",
                              "list port", "list interface"], "exact"),
    ("auto-attach", ["add-br br0 -- add-br v1 br0 1", "get-aa-mapping br0",
                     "add-aa-mapping br0 100 10", "add-aa-mapping v1 200 20",
                     "add-aa-mapping br0 300 20", "get-aa-mapping br0",
                     "get-aa-mapping v1", "del-aa-mapping br0 100 11",
                     "get-aa-mapping br0", "del-aa-mapping br0 200 20",
                     "get-aa-mapping br0", "add-aa-mapping br0 x 1",
                     "add-aa-mapping br0 1 y", "add-aa-mapping nob 1 1",
                     "add-aa-mapping br0 5000 5000", "add-aa-mapping br0 12abc 7",
                     "get-aa-mapping br0", "list autoattach"], "exact"),
    ("zones", ["add-zone-tp netdev zone=1 icmp_first=30",
               "--id=@d create Datapath datapath_version=x -- set open . datapaths:netdev=@d",
               "add-zone-tp netdev zone=1 icmp_first=30 icmp_reply=60",
               "list-zone-tp netdev", "add-zone-tp netdev zone=1 icmp_first=31",
               "--may-exist add-zone-tp netdev zone=1 icmp_first=31",
               "add-zone-tp netdev zone=2 bogus=1", "add-zone-tp netdev zone=5 icmp_first",
               "add-zone-tp netdev zone=7 icmp_first=abc", "add-zone-tp netdev zone=70000 icmp_first=1",
               "list-zone-tp netdev", "list-zone-tp nodp", "del-zone-tp netdev zone=9",
               "--if-exists del-zone-tp netdev zone=9", "del-zone-tp netdev zone=1",
               "list-zone-tp netdev", "del-zone-tp nodp zone=1", "list-dp-cap netdev",
               "list-dp-cap nodp", "add-zone-tp", "list-zone-tp", "del-zone-tp netdev"],
     "exact"),
    ("inactivity-probe", ["add-br br0",
                          "--inactivity-probe=5000 set-controller br0 tcp:1.1.1.1",
                          "get controller br0 inactivity_probe",
                          "--inactivity-probe=x set-manager tcp:1.1.1.1:1",
                          "--columns=target,inactivity_probe list manager",
                          "--inactivity-probe set-manager tcp:1.1.1.1:1"], "exact"),
    ("deleted-in-chain", [BR, "del-port p1 -- --columns=name list port",
                          "del-br br0 -- --columns=name list bridge -- --columns=name "
                          "list port -- --columns=name list interface", "list bridge"],
     "records"),
    ("quoting", ["add-br br0",
                 "set bridge br0 external_ids:a=123 external_ids:b=true external_ids:c=x.y-z"
                 " 'external_ids:d=\"\"' 'external_ids:e=\"q\\\"q\"'"
                 " 'external_ids:f=\"sp ace\"' 'external_ids:g=ünï' external_ids:h=-x"
                 " external_ids:i=_ok",
                 "get bridge br0 external_ids", "get bridge br0 external_ids:e",
                 "--columns=external_ids list bridge br0",
                 "--format=csv --columns=external_ids list bridge br0",
                 "--format=json --columns=external_ids list bridge br0",
                 "--bare --columns=external_ids list bridge br0",
                 "-f table -d bare --columns=name,external_ids list bridge br0",
                 "br-get-external-id br0",
                 "set bridge br0 'external_ids:x=\"unterminated'",
                 "find bridge 'name= \",'", "set bridge br0 'other_config={a=\"b}'",
                 "set bridge br0 'other_config={a=b\\'",
                 "set bridge br0 'external_ids:\"k=v\"=1'",
                 "get bridge br0 'external_ids:\"k=v\"'",
                 "remove bridge br0 external_ids a b c", "get bridge br0 external_ids"],
     "exact"),
    ("odd-names", ["add-br 'a b'", "add-port 'a b' 'p\"q'", "add-port 'a b' 123",
                   "add-port 'a b' 'ünï'", "add-port 'a b' ''", "--may-exist add-port 'a b' ''",
                   "add-bond 'a b' bb '' x", "add-br ''", "--may-exist add-br ''",
                   "add-br '' 'a b' 5", "list-br",
                   "list-ports 'a b'", "port-to-br 'p\"q'", "get bridge 'a b' name",
                   "get port 123 name", "get port '\"123\"' name", "show",
                   "--columns=name list port 'p\"q'", "--format=csv --columns=name "
                   "list bridge 'a b'", "del-br 'a b'", "list-br"], "tree"),
    ("version", ["--version", "-V", "--help", "-h"], "exact"),
    ("row-ids", ["add-br br0",
                 "--id=@b get bridge br0 -- create Flow_Sample_Collector_Set id=5 bridge=@b",
                 "get Flow_Sample_Collector_Set 5 id", "--columns=id list Flow_Sample 5",
                 "get Flow_Sample_Collector_Set x id", "get Flow_Sample_Collector_Set 6 id",
                 "--id=@d create Datapath datapath_version=x -- set open . datapaths:netdev=@d",
                 "get datapath netdev datapath_version", "get open_vswitch . ssl",
                 "set-ssl a b c", "get ssl . private_key", "get controller br0 target",
                 "set-controller br0 tcp:1.1.1.1", "get controller br0 target",
                 "--id=@n create netflow targets=\"1.1.1.1:5\" -- set bridge br0 netflow=@n",
                 "get netflow br0 targets", "get sflow br0 targets",
                 "--id=@s create sflow targets=\"1.1.1.1:5\" -- set bridge br0 sflow=@s",
                 "get sflow br0 targets", "get ipfix br0", "get autoattach br0",
                 "del-br br0", "list Flow_Sample_Collector_Set"], "exact"),
    ("dry-run", ["--dry-run add-br br0", "list-br", "--dry-run init", "add-br br1",
                 "--dry-run del-br br1", "list-br",
                 "--dry-run --id=@q create qos type=x -- set port br1 qos=@q",
                 "--dry-run create Flow_Sample_Collector_Set id=1 bridge=br1",
                 "list qos", "comment hello -- list-br -- comment",
                 "--dry-run destroy bridge br1"], "exact"),
    ("partial-names", ["add-br br0 -- set bridge br0 external_ids:x=1",
                       "get Br br0 external_ids", "get bri br0 ext", "get op . ovs_v",
                       "get po br0 na", "get i br0 name", "get f x", "get bridge br0 s",
                       "list-br", "get open_vswitch . b", "get bridge br0 stp"], "exact"),
]


# ---------------------------------------------------------------------------
# The harness: servers, a database reset, running a sequence, normalising.

import json
import os
import re
import shlex
import socket
import subprocess

_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_UUID8_RE = re.compile(r'(<a href="#<u>">)[0-9a-f]{8}(</a>)|(<a name="<u>">)[0-9a-f]{8}(</a>)')
_STAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|", re.M)
_PROG_RE = re.compile(r"^/\S*/ovs-vsctl:", re.M)


def all_tables(schema_path):
    with open(schema_path) as f:
        schema = json.load(f)
    return sorted(schema["tables"])


class OvsdbServer:
    """An ovsdb-server (real or pyovs) on a fresh Open_vSwitch database in
    DIRECTORY, reset to empty between sequences by one transaction that deletes
    every row."""

    def __init__(self, server_bin, tool_bin, schema, directory, name):
        self.dir = str(directory)
        self.sock = os.path.join(self.dir, name + ".sock")
        self.remote = "unix:" + self.sock
        db = os.path.join(self.dir, name + ".db")
        subprocess.run([tool_bin, "create", db, schema], check=True)
        self.proc = subprocess.Popen(
            [server_bin, db, "--remote=punix:" + self.sock,
             "--unixctl=" + os.path.join(self.dir, name + ".ctl"), "--no-chdir",
             "--log-file=" + os.path.join(self.dir, name + ".log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.tables = all_tables(schema)
        self._wait()

    def _wait(self):
        import time
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ovsdb-server exited")
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(self.sock)
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("ovsdb-server did not start")

    def transact(self, ops):
        req = {"method": "transact", "params": ["Open_vSwitch"] + ops, "id": 1}
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(self.sock)
            s.sendall(json.dumps(req).encode())
            dec = json.JSONDecoder()
            buf = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    raise RuntimeError("server closed")
                buf += chunk
                try:
                    obj, _ = dec.raw_decode(buf.decode())
                except ValueError:
                    continue
                if obj.get("id") == 1:
                    return obj

    def reset(self):
        reply = self.transact([{"op": "delete", "table": t, "where": []}
                               for t in self.tables])
        assert reply.get("error") is None, reply

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run_sequence(vsctl_bin, remote, invocations, env=None):
    """Run each invocation; return [(argv text, status, stdout, stderr)]."""
    out = []
    for inv in invocations:
        argv = [vsctl_bin, "--db=" + remote, "--no-wait"] + shlex.split(inv)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env)
        out.append((inv, p.returncode, p.stdout, p.stderr))
    return out


_DIR_VARS = ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR")


def run_sequence_inproc(remote, invocations, env=None):
    """As run_sequence, but pyovs's ovs-vsctl runs inside this process
    (pyovs.vswitch.vsctl.run, the whole tool minus interpreter start-up),
    with vlog's global state saved and restored around each run."""
    import contextlib
    import io
    import sys
    from pyovs.util import vlog
    from pyovs.vswitch import vsctl
    out = []
    for inv in invocations:
        argv = ["--db=" + remote, "--no-wait"] + shlex.split(inv)
        o, e = io.StringIO(), io.StringIO()
        saved_argv = sys.argv
        saved_levels = {m: list(lv) for m, lv in vlog._modules.items()}
        saved_state = dict(vlog._state)
        saved_env = {k: os.environ.get(k) for k in _DIR_VARS}
        for k in _DIR_VARS:
            if env and k in env:
                os.environ[k] = env[k]
        sys.argv = ["ovs-vsctl"] + argv
        vlog._state["seq"] = 0
        try:
            with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
                status = vsctl.run(argv)
        finally:
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            sys.argv = saved_argv
            for m, lv in saved_levels.items():
                vlog._modules[m][:] = lv
            vlog._state.update(saved_state)
        out.append((inv, status, o.getvalue(), e.getvalue()))
    return out


def _tree_sort(lines):
    """Sort sibling blocks of an indented tree (show output)."""
    def build(i, depth):
        items = []
        while i < len(lines):
            line = lines[i]
            d = len(line) - len(line.lstrip(" "))
            if d < depth:
                break
            children, i = build(i + 1, d + 1)
            items.append([line] + children)
        return items, i

    def kind(item):
        # Records ("Port p1") are sorted among a run of their own kind;
        # column lines ("tag: 5") keep their place.
        line = item[0].strip()
        return None if ": " in line or line.endswith(":") else line.split(" ")[0]

    def flat(items):
        out = []
        i = 0
        while i < len(items):
            j = i + 1
            k = kind(items[i])
            while k is not None and j < len(items) and kind(items[j]) == k:
                j += 1
            for it in sorted(items[i:j], key=lambda x: "\n".join(flat_one(x))):
                out.extend(flat_one(it))
            i = j
        return out

    def flat_one(it):
        return [it[0]] + flat(it[1:])

    items, _ = build(0, 0)
    return flat(items)


def normalise(text, mode):
    text = _UUID_RE.sub("<u>", text)
    text = _UUID8_RE.sub(lambda m: "".join(g for g in m.groups() if g and "<" in g), text)
    text = _STAMP_RE.sub("<time>|", text)
    text = _PROG_RE.sub("ovs-vsctl:", text)
    if mode == "records":
        return sorted(r.strip("\n") for r in text.split("\n\n")), text.endswith("\n")
    if mode == "lines":
        return sorted(text.split("\n"))
    if mode == "tree":
        return _tree_sort(text.split("\n"))
    return text


def assert_real_ran(results, *, must_succeed=None):
    """Guard against a vacuous comparison (both tools failing alike, e.g.
    because neither reached the server): the real tool's RESULTS (from
    run_sequence) must show no connection failure, and some invocation must
    have exited 0 -- or, with MUST_SUCCEED (indexes), those invocations."""
    for inv, status, _, err in results:
        assert "database connection failed" not in err, (inv, err)
    if must_succeed is None:
        assert any(status == 0 for _, status, _, _ in results), results
    else:
        for i in must_succeed:
            assert results[i][1] == 0, results[i]


def normalised(results, mode):
    return [(inv, status, normalise(out, mode), normalise(err, "exact"))
            for inv, status, out, err in results]
