"""OVSDB locks: "lock", "steal" and "unlock" (RFC 7047 section 4.1.8-4.1.10).

Each named lock has a queue of waiting sessions; the one at the front owns
it.  "lock" joins the back of the queue; "steal" jumps to the front, and the
session it displaced stays queued right behind it (exactly as ovsdb-server
does: when the thief unlocks, the victim gets the lock back and is told
"locked").  "unlock", or the session going away, leaves the queue; if that
was the owner, the next waiter becomes owner.

Pure bookkeeping: sessions are any hashable objects.  The caller turns the
returned sessions into "locked"/"stolen" notifications.

API:
  LockServer()
    .lock(session, name) -> bool (owner now?)
    .steal(session, name) -> victim session or None
    .unlock(session, name) -> session that now owns the lock, or None
    .remove_session(session) -> [(name, new_owner)] for locks handed over
    .owner(name) -> session or None; .is_owner(session, name)
    .has_waiter(session, name) -> bool
  LockError(details): "lock"/"steal" twice, or "unlock" without either;
    .details is OVS's wording (without the method prefix the caller adds).
  is_valid_lock_name(name) -> bool (an <id>, RFC 7047 section 3.1)
"""

import re

_ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def is_valid_lock_name(name):
    return isinstance(name, str) and _ID_RE.match(name) is not None


class LockError(Exception):
    def __init__(self, details):
        super().__init__(details)
        self.details = details


class LockServer:
    def __init__(self):
        self._queues = {}                  # name -> [session, ...], owner first
        self._held = {}                    # session -> set of names queued on

    def owner(self, name):
        q = self._queues.get(name)
        return q[0] if q else None

    def is_owner(self, session, name):
        return self.owner(name) is session

    def has_waiter(self, session, name):
        return name in self._held.get(session, ())

    def _join(self, session, name, method):
        if self.has_waiter(session, name):
            raise LockError(f'must issue "unlock" before new "{method}"')
        self._held.setdefault(session, set()).add(name)
        return self._queues.setdefault(name, [])

    def lock(self, session, name):
        q = self._join(session, name, "lock")
        q.append(session)
        return q[0] is session

    def steal(self, session, name):
        q = self._join(session, name, "steal")
        victim = q[0] if q else None
        q.insert(0, session)
        return victim

    def unlock(self, session, name):
        if not self.has_waiter(session, name):
            raise LockError('"unlock" without "lock" or "steal"')
        return self._leave(session, name)

    def _leave(self, session, name):
        held = self._held.get(session)
        held.discard(name)
        if not held:
            del self._held[session]
        q = self._queues[name]
        was_owner = q[0] is session
        q.remove(session)
        if not q:
            del self._queues[name]
            return None
        return q[0] if was_owner else None

    def remove_session(self, session):
        handed = []
        for name in sorted(self._held.get(session, ())):
            new_owner = self._leave(session, name)
            if new_owner is not None:
                handed.append((name, new_owner))
        return handed
