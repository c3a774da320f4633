"""ovsdb-server's asyncio shell: listeners, connections, flushing.

One task per connection reads messages and hands them to the sans-I/O
Session.  Reading does not yield while the connection's buffer still holds
complete messages, so a pipelining client's burst is handled as a whole;
the first handled message schedules one ``flush`` callback, which runs when
every reader is waiting again: it makes the queued commits durable (one
fsync), then writes out every session's outbox.  That is the group commit
of pyovs.ovsdb.server.

Remotes are the configured names ("punix:PATH", "ptcp:PORT[:IP]",
"unix:PATH", "tcp:IP:PORT", "db:DB,TABLE,COLUMN"); they resolve to passive
targets, which get listeners, and active ones, which get a reconnecting
jsonrpc.Session (a fresh server session per connection, as OVS).  db:
remotes are re-resolved after each flush that committed something; their
Manager-style rows also give each target's inactivity probe interval, and
get is_connected/status written back every 2.5 s.

Bounds: a message larger than MAX_MESSAGE_SIZE closes its connection (with
a log line); a client that lets MAX_OUTPUT_BACKLOG bytes of output pile up
is disconnected; a bug while handling one message drops that client only;
a failure to write the database stops the server without acknowledging
the commits it could not write.

API:
  ServerLoop(server): await .add_remote(name) -> error text or None,
    await .remove_remote(name) -> bool, .list_remotes(), await
    .reconfigure(), .flush(), .schedule_flush(), .reconnect_all(),
    await .run_status_updates(), .update_remote_status(), .close(),
    .n_connections, .exit_event, .storage_failed
"""

import asyncio
import time

from pyovs.ovsdb.remotes import (is_db_remote, resolve_db_remote, status_op,
                                 target_rows)
from pyovs.util import jsonrpc, stream
from pyovs.util.jsonrpc import Connection
from pyovs.util.vlog import Vlog

vlog = Vlog("ovsdb_server")
vlog_reconnect = Vlog("reconnect")

#: Largest JSON-RPC message a client may send (bytes).
MAX_MESSAGE_SIZE = 64 * 1024 * 1024

#: Stop reading from a client while this much output waits for it.
MAX_BACKLOG = 4 * 1024 * 1024

#: Hang up on a client that lets this much output pile up (it does not read
#: its monitor updates): memory must stay bounded.
MAX_OUTPUT_BACKLOG = 256 * 1024 * 1024


class ServerLoop:
    #: Seconds of silence before a TCP client gets an "echo" probe.
    PROBE_INTERVAL = 5.0

    def __init__(self, server):
        self.server = server
        self.remotes = []                 # configured names, in order
        self.listeners = {}               # passive target -> Listener
        self.actives = {}                 # active target -> jsonrpc.Session
        self.probe_intervals = {}         # target -> s, from inactivity_probe
        self.conns = {}                   # Session -> Connection
        self._tasks = set()
        self._flush_handle = None
        self._timer = None
        self._n_conn_seq = 0
        self._commits_seen = 0
        self.exit_event = asyncio.Event()
        self.storage_failed = False

    # -- remotes ---------------------------------------------------------

    def list_remotes(self):
        return sorted(self.remotes)

    async def add_remote(self, name):
        if is_db_remote(name):
            err = resolve_db_remote(self.server.dbs, name)[1]
            if err:
                return err
        if name not in self.remotes:
            self.remotes.append(name)
        await self.reconfigure()
        return None

    async def remove_remote(self, name):
        if name not in self.remotes:
            return False
        self.remotes.remove(name)
        await self.reconfigure()
        return True

    def _targets(self):
        targets = []
        for name in self.remotes:
            if is_db_remote(name):
                found, err = resolve_db_remote(self.server.dbs, name)
                if err:
                    vlog.warn("%s", err)
                targets.extend(found)
            else:
                targets.append(name)
        return targets

    def _read_probe_intervals(self):
        probes = {}
        for name in self.remotes:
            if is_db_remote(name):
                for _, _, row, target in target_rows(self.server.dbs, name):
                    d = row.columns.get("inactivity_probe")
                    if d is not None and len(d):
                        ms = next(iter(d.keys()))
                        # As OVS's reconnect: 0 disables, else at least 1 s.
                        probes[target] = max(1000, ms) / 1000.0 if ms else 0
        self.probe_intervals = probes

    async def reconfigure(self):
        self._read_probe_intervals()
        wanted = []
        for t in self._targets():
            if t not in wanted:
                wanted.append(t)
        for t in list(self.listeners):
            if t not in wanted:
                self.listeners.pop(t).close()
        for t in list(self.actives):
            if t not in wanted:
                self.actives.pop(t).close()
        for t in wanted:
            if t in self.listeners or t in self.actives:
                continue
            try:
                stream.parse_passive(t)
            except ValueError as e:
                if stream.is_valid_active(t):
                    self._start_active(t)
                else:
                    vlog.err("%s: %s", t, e)
                continue
            try:
                listener = await stream.open_passive(
                    t, lambda r, w, _t=t: self._on_connect(r, w, _t))
            except OSError as e:
                vlog.err("%s: listen failed: %s", t, e.strerror or e)
                continue
            self.listeners[t] = listener

    # -- connections -------------------------------------------------------

    def _conn_name(self, target, writer):
        self._n_conn_seq += 1
        if target.startswith("punix:"):
            return "unix#%d" % self._n_conn_seq
        peer = writer.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            host = peer[0] if ":" not in peer[0] else "[%s]" % peer[0]
            return "tcp:%s:%d" % (host, peer[1])
        return "%s#%d" % (target, self._n_conn_seq)

    async def _on_connect(self, reader, writer, target):
        name = self._conn_name(target, writer)
        conn = Connection(reader, writer, name=name, max_size=MAX_MESSAGE_SIZE)
        session = self.server.new_session(name)
        session.remote = target
        self.conns[session] = conn
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            await self._serve(conn, session)
        finally:
            self._tasks.discard(task)
            self.conns.pop(session, None)
            session.close()
            conn.close()
            self.schedule_flush()

    async def _serve(self, conn, session):
        # As OVS: TCP peers are probed after PROBE_INTERVAL s of silence (or
        # the Manager row's inactivity_probe) and dropped after as long
        # again; unix sockets are never probed.
        probe = self.probe_intervals.get(session.remote, self.PROBE_INTERVAL)
        if session.name.startswith("unix") or not probe:
            probe = None
        probing = False
        while not session.want_close:
            if probe is None:
                msg = await conn.recv()
            else:
                try:
                    msg = await asyncio.wait_for(conn.recv(), probe)
                except asyncio.TimeoutError:
                    if probing:     # (OVS counts from when it probed)
                        vlog_reconnect.err("%s: no response to inactivity probe "
                                           "after %.3g seconds, disconnecting",
                                           conn.name, time.monotonic() - probing)
                        return
                    probing = time.monotonic()
                    conn.send(jsonrpc.Message("request", method="echo",
                                              params=[], id="echo"))
                    continue
                probing = False
            if msg is None:
                if conn.error and conn.error != "End of file":
                    vlog_reconnect.warn("%s: connection dropped (%s)",
                                        conn.name, conn.error)
                return
            try:
                session.receive(msg, time.monotonic())
            except Exception as e:        # a bug: drop this client, not the server
                vlog.err("%s: internal error (%s: %s) handling %s", conn.name,
                         type(e).__name__, e, msg.to_string()[:200])
                return
            self.schedule_flush()
            if conn.backlog() > MAX_BACKLOG:
                self.flush()
                await conn.drain()

    # -- active remotes: the server connects out and reconnects ----------------

    def _start_active(self, target):
        js = jsonrpc.Session(target)
        self.actives[target] = js
        task = asyncio.ensure_future(self._serve_active(target, js))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve_active(self, target, js):
        """One server session per connection of the reconnecting session."""
        session, seqno = None, None
        try:
            while True:
                if session is None or js.seqno != seqno or not js.is_connected():
                    if session is not None:
                        self.conns.pop(session, None)
                        session.close()
                        session = None
                    await js.wait_connected()
                    if js._closed:
                        return
                    seqno = js.seqno
                    session = self.server.new_session(target)
                    session.remote = target
                    self.conns[session] = js.conn
                recv = asyncio.ensure_future(js.recv())
                change = asyncio.ensure_future(js.wait_seqno_change(seqno))
                done, _ = await asyncio.wait({recv, change},
                                             return_when=asyncio.FIRST_COMPLETED)
                if recv not in done:
                    recv.cancel()
                    continue
                change.cancel()
                msg = recv.result()
                if msg is None:
                    return
                try:
                    session.receive(msg, time.monotonic())
                except Exception as e:
                    vlog.err("%s: internal error (%s: %s)", target,
                             type(e).__name__, e)
                    js.force_reconnect()
                self.schedule_flush()
        finally:
            if session is not None:
                self.conns.pop(session, None)
                session.close()
                self.schedule_flush()

    # -- status of Manager-style remotes ------------------------------------------

    STATUS_INTERVAL = 2.5

    async def run_status_updates(self):
        while True:
            await asyncio.sleep(self.STATUS_INTERVAL)
            try:
                self.update_remote_status()
            except Exception as e:        # never let status kill the server
                vlog.err("updating remote status failed: %s", e)

    def update_remote_status(self):
        """Write is_connected and status for every db: remote's target rows."""
        ops_by_db = {}
        for name in self.remotes:
            if not is_db_remote(name):
                continue
            for served, table, row, target in target_rows(self.server.dbs, name):
                connected = any(s.remote == target for s in self.conns)
                status = {"sec_since_connect": "0", "sec_since_disconnect": "0"}
                listener = self.listeners.get(target)
                if listener is not None and listener.bound_name.startswith("ptcp:"):
                    status["bound_port"] = listener.bound_name.split(":")[1]
                op = status_op(table, row, connected, status)
                if op is not None:
                    ops_by_db.setdefault(served.name, (served, []))[1].append(op)
        for served, ops in ops_by_db.values():
            self.server.transact_internal(served, ops)
        if ops_by_db:
            self.flush()

    def reconnect_all(self):
        for session, conn in list(self.conns.items()):
            if session.name in self.actives:
                self.actives[session.name].force_reconnect()
                continue
            session.want_close = True
            conn.close()

    @property
    def n_connections(self):
        return len(self.conns)

    # -- flushing ------------------------------------------------------------

    def schedule_flush(self):
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_soon(self.flush)

    def flush(self):
        self._flush_handle = None
        server = self.server
        try:
            server.flush()
        except Exception as e:
            # The commits are applied in memory but not on disk: acknowledging
            # them would be a lie, and they cannot be undone.  Fail-stop.
            vlog.emer("writing the database failed (%s); exiting without "
                      "answering the affected clients", e)
            self.storage_failed = True
            for session in server.sessions:
                session.take_outbox()
            for conn in self.conns.values():
                conn.close()
            self.exit_event.set()
            return
        for session in server.sessions:
            if session.outbox:
                conn = self.conns.get(session)
                out = session.take_outbox()
                if conn is not None:
                    self._send_batch(conn, out)
                    if conn.backlog() > MAX_OUTPUT_BACKLOG:
                        vlog.warn("%s: %d bytes of output not read, disconnecting",
                                  conn.name, conn.backlog())
                        session.want_close = True
            if session.want_close:
                conn = self.conns.get(session)
                if conn is not None:
                    conn.close()
        if server.n_commits != self._commits_seen:
            self._commits_seen = server.n_commits
            if any(is_db_remote(r) for r in self.remotes):
                task = asyncio.ensure_future(self.reconfigure())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        self._arm_timer()

    @staticmethod
    def _send_batch(conn, msgs):
        """Send MSGS on CONN in one write (one system call, not one each)."""
        if conn.closed:
            return
        if len(msgs) == 1:
            conn.send(msgs[0])
            return
        for msg in msgs:
            jsonrpc.log_msg(conn.name, "send", msg)
        try:
            conn.writer.write(b"".join(jsonrpc.encode(m.to_json()) for m in msgs))
        except (OSError, RuntimeError) as e:
            conn.error = str(e)

    def _arm_timer(self):
        deadline = self.server.next_deadline()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if deadline is not None:
            delay = max(0.0, deadline - time.monotonic())
            self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self):
        self._timer = None
        self.server.run(time.monotonic())
        self.flush()

    def close(self):
        for listener in self.listeners.values():
            listener.close()
        self.listeners.clear()
        for js in self.actives.values():
            js.close()
        self.actives.clear()
        for conn in self.conns.values():
            conn.close()
        if self._timer is not None:
            self._timer.cancel()
