"""ovsdb-server's protocol core: databases, sessions, and what they say.

This is the JSON-RPC server of ovsdb-server(7) without any I/O.  An
OvsdbServer holds the served databases (plus "_Server"), the lock queue and
the sessions; a Session is one client connection.  The I/O shell feeds each
received Message to ``session.receive(msg, now)`` and, whenever it has
handled what is readable, calls ``server.flush()`` and then writes out every
session's ``outbox``.

Durability and group commit.  A transaction is executed against the
in-memory database at once (so the next transaction sees it), its storage
record is queued, and its reply and the monitor updates it causes are put
in the outboxes.  ``flush()`` writes every queued record before the shell
may send anything.  As ovsdb-server does, only a transaction with a
durable "commit" operation waits for an fsync: then one fsync makes the
whole burst durable (many clients, or one client pipelining), so no client
ever sees the reply to a durable commit that a crash could lose.  Other
records are written (to the kernel) but not fsynced, as OVS's are.

Order.  As ovsdb-server does, a client that monitors what it changes gets
the update before the reply to its transaction.  Replies on one session
leave in the order the requests came, except those of transactions parked
on a "wait", which are answered when the wait is satisfied, times out, or
is cancelled ("cancel" notification: error "canceled").

monitor_cond_since.  ovsdb-server keeps a transaction history only for
clustered databases; for standalone ones it always answers "not found" with
the all-zeros transaction id, and so does this server (``history`` stays
empty; monitor.TxnHistory is what a clustered storage would fill).

Errors.  Malformed requests get error replies with OVS's texts (checked
against the real server by tests/interop/test_ovsdb_server.py); messages
that are not JSON-RPC at all never reach this module (the shell closes the
connection).

"wait" with a timeout that is not yet satisfied parks the transaction as a
trigger; it is re-executed after every commit to its database and fails
with "timed out" once its deadline passes (``run(now)``; ``next_deadline()``
says when to call it).

API:
  OvsdbServer(): .add_db(served), .remove_db(name), .dbs (name -> ServedDb),
    .new_session(name) -> Session, .flush(now=None), .run(now),
    .next_deadline(), .transact_internal(served, ops), .compact(served),
    .sessions, .locks (lock.LockServer), .n_commits
  Session: .receive(msg, now), .outbox (list of Message), .take_outbox(),
    .close(), .want_close (the shell should hang up after sending the
    outbox), .remote (the listener or target it came through)
"""

import math
import time
import uuid as uuid_mod

from pyovs.ovsdb import transaction
from pyovs.ovsdb.error import OvsdbError, json_to_string, syntax_error
from pyovs.ovsdb.lock import LockError, LockServer, is_valid_lock_name
from pyovs.ovsdb.monitor import Monitor, ZERO_UUID, merge_changes
from pyovs.ovsdb.server_db import (SERVER_DB_NAME, new_server_db, schema_reply_json,
                                   server_row)
from pyovs.ovsdb.transaction import Changes
from pyovs.util.jsonrpc import Message
from pyovs.util.vlog import Vlog

vlog = Vlog("ovsdb_jsonrpc_server")
vlog_server = Vlog("ovsdb_server")


def error_json(err):
    """An OvsdbError as the JSON object OVS sends."""
    return err.to_json()


def _id_key(value):
    return json_to_string(value, sort_keys=True)


class _Trigger:
    """A transaction parked on an unsatisfied "wait"."""

    __slots__ = ("session", "id", "db", "ops", "start", "timeout_ms", "deadline")

    def __init__(self, session, id, db, ops, start, timeout_ms):
        self.session = session
        self.id = id
        self.db = db
        self.ops = ops
        self.start = start
        self.timeout_ms = timeout_ms
        self.deadline = (None if timeout_ms is None or timeout_ms == math.inf
                         else start + timeout_ms / 1000.0)

    def elapsed_ms(self, now):
        return int((now - self.start) * 1000)


class OvsdbServer:
    def __init__(self):
        self.dbs = {}
        self.sessions = []
        self.locks = LockServer()
        self.triggers = []
        self._pending = []            # (ServedDb, changes, comment, durable)
        self.n_commits = 0
        self.history = {}             # db name -> TxnHistory (clustered only)
        self._server_db = new_server_db()
        self.dbs[SERVER_DB_NAME] = self._server_db
        self._add_server_row(self._server_db)

    # -- databases ---------------------------------------------------------

    def _server_change(self, row_uuid, old, new):
        """Put NEW (None: delete) in _Server's Database table; tell monitors."""
        rows = self._server_db.db.tables["Database"].rows
        if new is None:
            rows.pop(row_uuid, None)
        else:
            rows[row_uuid] = new
        self._notify_monitors(self._server_db,
                              Changes({"Database": {row_uuid: (old, new)}}))

    def _add_server_row(self, served):
        served.row_uuid = uuid_mod.uuid4()
        self._server_change(served.row_uuid, None,
                            server_row(self._server_db.schema, served))

    def add_db(self, served):
        """Serve SERVED.  As ovsdb-server, clients that did not say they are
        "db change aware" are disconnected (they reconnect and look again)."""
        if served.name in self.dbs:
            raise OvsdbError("duplicate database", served.name)
        self.dbs[served.name] = served
        self._add_server_row(served)
        self._disconnect_unaware("adding %s database" % served.name)

    def _disconnect_unaware(self, why):
        for s in self.sessions:
            if not s.db_change_aware and not s.want_close:
                vlog.info("%s: disconnecting (%s)", s.name, why)
                s.want_close = True

    def remove_db(self, name):
        """Stop serving NAME: cancel its monitors and parked transactions
        (telling change-aware clients), drop its _Server row, and hang up on
        the clients that are not change aware."""
        served = self.dbs.pop(name)
        for s in list(self.sessions):
            s._db_removed(served)
        rows = self._server_db.db.tables["Database"].rows
        self._server_change(served.row_uuid, rows.get(served.row_uuid), None)
        self._disconnect_unaware("removing %s database by user request" % name)
        return served

    # -- sessions ----------------------------------------------------------

    def new_session(self, name):
        s = Session(self, name)
        self.sessions.append(s)
        return s

    def _session_closed(self, session):
        if session in self.sessions:
            self.sessions.remove(session)
        self.triggers = [t for t in self.triggers if t.session is not session]
        for lock_name, new_owner in self.locks.remove_session(session):
            new_owner._send(Message.create_notify("locked", [lock_name]))

    # -- commits -----------------------------------------------------------

    def _commit(self, served, res):
        """RES (a TxnResult with changes) was applied to SERVED's db."""
        changes = res.changes
        self.n_commits += 1
        if served.storage is not None:
            self._pending.append((served, changes, res.comment,
                                  getattr(res, "durable", False)))
        self._notify_monitors(served, changes)

    def _notify_monitors(self, served, changes):
        for s in self.sessions:
            if s.monitors:
                s._send_updates(served, changes)

    #: As ovsdb-server: compact a database whose log has grown lots (the
    #: storage decides), but at most once per this many seconds.
    MIN_COMPACT_INTERVAL = 600.0

    def flush(self, now=None):
        """Write the queued commits, fsync each database that has a durable
        one among them (once), then compact the databases whose logs grew
        lots."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        by_db = {}
        for served, changes, comment, durable in pending:
            entry = by_db.setdefault(id(served), [served, [], False])
            entry[1].append((changes, comment))
            entry[2] = entry[2] or durable
        now = time.monotonic() if now is None else now
        for served, records, durable in by_db.values():
            storage = served.storage
            for changes, comment in records:
                storage.write(changes, comment)
            if durable:
                storage.flush()
            if (storage.grew_lots()
                    and now - served.last_compact >= self.MIN_COMPACT_INTERVAL):
                self.compact(served, now)

    def compact(self, served, now=None):
        vlog_server.info("%s: compacting database online", served.path or served.name)
        served.storage.compact(served.db)
        served.storage.log.mark_base()
        served.last_compact = time.monotonic() if now is None else now

    def transact_internal(self, served, ops, now=None):
        """Run OPS for the server itself (e.g. remote status) and commit."""
        now = time.monotonic() if now is None else now
        res = transaction.execute(served.db, ops)
        if res.changes is not None:
            self._commit(served, res)
            self.retry_triggers(served, now)
        elif res.error is not None:
            vlog_server.warn("%s: internal transaction failed: %s",
                             served.name, res.error)
        return res

    def retry_triggers(self, served, now):
        for trig in [t for t in self.triggers if t.db is served]:
            if trig not in self.triggers:
                continue
            res = trig.session._execute(served, trig.ops, trig.elapsed_ms(now))
            if not res.needs_retry:
                self.triggers.remove(trig)
                trig.session._complete(served, trig.id, res, now)

    def run(self, now):
        """Fail the triggers whose deadline has passed."""
        for trig in list(self.triggers):
            if trig.deadline is not None and now >= trig.deadline:
                self.triggers.remove(trig)
                elapsed = max(trig.elapsed_ms(now), trig.timeout_ms)
                res = trig.session._execute(trig.db, trig.ops, elapsed)
                if res.needs_retry:       # cannot happen: elapsed >= timeout
                    res.results = [{"error": "timed out"}]
                    _add_timeout_details(res.results, elapsed)
                trig.session._complete(trig.db, trig.id, res, now)

    def next_deadline(self):
        ds = [t.deadline for t in self.triggers if t.deadline is not None]
        return min(ds) if ds else None


def _add_timeout_details(results, elapsed_ms):
    """OVS's details for a "wait" that timed out: the transaction engine
    does not know whether it ever waited; ovsdb-server says so."""
    for r in results or ():
        if isinstance(r, dict) and r.get("error") == "timed out":
            if elapsed_ms:
                r["details"] = '"wait" timed out after %d ms' % elapsed_ms
            else:
                r.setdefault("details", '"where" clause test failed')


class Session:
    """One client connection's state: monitors, locks, parked requests."""

    MAX_MONITORS = 10000

    def __init__(self, server, name):
        self.server = server
        self.name = name
        self.outbox = []
        self.monitors = {}            # id text -> (ServedDb, Monitor)
        self.db_change_aware = False
        self.want_close = False
        self.closed = False
        self.remote = None            # the target it came through (shell's)

    def _send(self, msg):
        self.outbox.append(msg)

    def take_outbox(self):
        out, self.outbox = self.outbox, []
        return out

    def close(self):
        if not self.closed:
            self.closed = True
            self.monitors.clear()
            self.server._session_closed(self)

    # -- dispatch ------------------------------------------------------------

    def receive(self, msg, now=None):
        if now is None:
            now = time.monotonic()
        if msg.type == "request":
            handler = _REQUESTS.get(msg.method)
            if handler is None:
                self._send(Message.create_error("unknown method", msg.id))
                return
            try:
                handler(self, msg, now)
            except OvsdbError as e:
                self._send(Message.create_error(error_json(e), msg.id))
            except LockError as e:
                self._send(Message.create_error(error_json(
                    syntax_error(msg.params, e.details)), msg.id))
        elif msg.type == "notify":
            if msg.method == "cancel":
                self._cancel(msg.params)
        elif msg.type in ("reply", "error"):
            if msg.id != "echo":
                vlog.warn("%s: received unexpected %s message", self.name,
                          "reply" if msg.type == "reply" else "error")

    def _db_param(self, params, method):
        if not params or not isinstance(params[0], str):
            raise syntax_error(params, "%s request params must begin with "
                               "<db-name>" % method)
        served = self.server.dbs.get(params[0])
        if served is None:
            err = OvsdbError("unknown database", "%s request specifies unknown "
                             "database %s" % (method, params[0]))
            err.syntax = json_to_string(params, sort_keys=True)
            raise err
        return served

    # -- simple methods -------------------------------------------------------

    def _echo(self, msg, now):
        self._send(Message.create_reply(msg.params, msg.id))

    def _list_dbs(self, msg, now):
        self._send(Message.create_reply(sorted(self.server.dbs), msg.id))

    def _get_schema(self, msg, now):
        served = self._db_param(msg.params, "get_schema")
        reply = served.schema_reply
        if reply is None:
            reply = served.schema_reply = schema_reply_json(served.schema)
        self._send(Message.create_reply(reply, msg.id))

    def _set_db_change_aware(self, msg, now):
        params = msg.params
        if not params or len(params) != 1 or not isinstance(params[0], bool):
            raise syntax_error(params, "set_db_change_aware requires 1 boolean "
                               "argument")
        self.db_change_aware = params[0]
        self._send(Message.create_reply({}, msg.id))

    # -- transactions ---------------------------------------------------------

    def _execute(self, served, ops, elapsed_ms=0):
        locks = self.server.locks
        res = transaction.execute(
            served.db, ops, read_only=served.read_only, elapsed_ms=elapsed_ms,
            locks=lambda name: locks.is_owner(self, name))
        if res.error is not None and res.error.error == "timed out":
            _add_timeout_details(res.results, elapsed_ms)
        return res

    def _transact(self, msg, now):
        served = self._db_param(msg.params, "transact")
        ops = msg.params[1:]
        res = self._execute(served, ops)
        if res.needs_retry:
            self.server.triggers.append(_Trigger(self, msg.id, served, ops, now,
                                                 res.timeout_ms))
            return
        self._complete(served, msg.id, res, now)

    def _complete(self, served, id, res, now):
        if res.changes is not None:
            self.server._commit(served, res)
            self._send(Message.create_reply(res.results, id))
            self.server.retry_triggers(served, now)
        else:
            self._send(Message.create_reply(res.results, id))

    def _cancel(self, params):
        if not isinstance(params, list) or len(params) != 1:
            return
        for trig in self.server.triggers:
            if trig.session is self and trig.id == params[0]:
                self.server.triggers.remove(trig)
                self._send(Message.create_error("canceled", trig.id))
                return

    # -- monitors -------------------------------------------------------------

    def _monitor(self, msg, now, version):
        method = {1: "monitor", 2: "monitor_cond", 3: "monitor_cond_since"}[version]
        params = msg.params
        n = 4 if version == 3 else 3
        if params and isinstance(params[0], str) and params[0] not in self.server.dbs:
            self._db_param(params, method)
        if len(params) != n:
            raise syntax_error(params, "invalid parameters")
        served = self._db_param(params, method)
        last_id = None
        if version == 3:
            try:
                last_id = uuid_mod.UUID(params[3]) if isinstance(params[3], str) else None
            except ValueError:
                last_id = None
            if last_id is None or len(params[3]) != 36:
                raise syntax_error(params[3], "last-txn-id must be UUID format.")
        key = _id_key(params[1])
        if key in self.monitors:
            raise syntax_error(params[1], "duplicate monitor ID")
        if len(self.monitors) >= self.MAX_MONITORS:
            raise syntax_error(params[1], "too many monitors")
        mon = Monitor.parse(served.schema, version, params[1], params[2])
        if version == 3:
            history = self.server.history.get(served.name)
            changes = history.since(last_id) if history is not None else None
            if changes is not None:
                updates = mon.updates_from(merge_changes(changes)) or {}
                result = [True, str(history.last_id), updates]
            else:
                last = history.last_id if history is not None else ZERO_UUID
                result = [False, str(last), mon.initial(served.db)]
        else:
            result = mon.initial(served.db)
        self.monitors[key] = (served, mon)
        self._send(Message.create_reply(result, msg.id))

    def _monitor_cancel(self, msg, now):
        params = msg.params
        if not isinstance(params, list) or len(params) != 1:
            raise syntax_error(params, "invalid parameters")
        key = _id_key(params[0])
        if key not in self.monitors:
            self._send(Message.create_error("unknown monitor", msg.id))
            return
        del self.monitors[key]
        self._send(Message.create_reply({}, msg.id))

    def _monitor_cond_change(self, msg, now):
        params = msg.params
        if not isinstance(params, list) or len(params) != 3:
            raise syntax_error(params, "invalid parameters")
        key = _id_key(params[0])
        entry = self.monitors.get(key)
        if entry is None:
            raise syntax_error(params[0], "unknown monitor session")
        new_key = _id_key(params[1])
        if new_key != key and new_key in self.monitors:
            raise syntax_error(params[1], "duplicate monitor ID")
        served, mon = entry
        updates = mon.change_condition(served.db, params[2])
        if new_key != key:
            del self.monitors[key]
            mon.monitor_id = params[1]
            self.monitors[new_key] = entry
        if updates:
            self._send(Message.create_notify(mon.notify_method,
                                             mon.notify_params(updates)))
        self._send(Message.create_reply({}, msg.id))

    def _send_updates(self, served, changes):
        for db, mon in self.monitors.values():
            if db is served:
                updates = mon.updates(changes)
                if updates:
                    self._send(Message.create_notify(mon.notify_method,
                                                     mon.notify_params(updates)))

    def _db_removed(self, served):
        for k in [k for k, (db, _) in self.monitors.items() if db is served]:
            _, mon = self.monitors.pop(k)
            if self.db_change_aware:
                self._send(Message.create_notify("monitor_canceled",
                                                 [mon.monitor_id]))
        triggers = self.server.triggers
        for trig in [t for t in triggers if t.session is self and t.db is served]:
            triggers.remove(trig)
            if self.db_change_aware:
                self._send(Message.create_error("canceled", trig.id))

    # -- locks ------------------------------------------------------------------

    def _lock_name(self, msg):
        p = msg.params
        if not isinstance(p, list) or len(p) != 1 or not is_valid_lock_name(p[0]):
            raise syntax_error(p, "%s request params must be <id>" % msg.method)
        return p[0]

    def _lock(self, msg, now):
        name = self._lock_name(msg)
        locked = self.server.locks.lock(self, name)
        self._send(Message.create_reply({"locked": locked}, msg.id))

    def _steal(self, msg, now):
        name = self._lock_name(msg)
        victim = self.server.locks.steal(self, name)
        if victim is not None and victim is not self:
            victim._send(Message.create_notify("stolen", [name]))
        self._send(Message.create_reply({"locked": True}, msg.id))

    def _unlock(self, msg, now):
        name = self._lock_name(msg)
        try:
            new_owner = self.server.locks.unlock(self, name)
        except LockError as e:
            raise syntax_error(msg.params, "unlock: " + e.details)
        if new_owner is not None:
            new_owner._send(Message.create_notify("locked", [name]))
        self._send(Message.create_reply({}, msg.id))


_REQUESTS = {
    "echo": Session._echo,
    "list_dbs": Session._list_dbs,
    "get_schema": Session._get_schema,
    "transact": Session._transact,
    "set_db_change_aware": Session._set_db_change_aware,
    "monitor": lambda s, m, now: s._monitor(m, now, 1),
    "monitor_cond": lambda s, m, now: s._monitor(m, now, 2),
    "monitor_cond_since": lambda s, m, now: s._monitor(m, now, 3),
    "monitor_cancel": Session._monitor_cancel,
    "monitor_cond_change": Session._monitor_cond_change,
    "lock": Session._lock,
    "steal": Session._steal,
    "unlock": Session._unlock,
}
