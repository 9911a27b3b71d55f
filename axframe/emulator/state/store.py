"""The emulated Server's storage: its tables, settings, ids, lookups and audit log.

Every family's service reads and writes these tables; the tables hold plain
records (the Server's field names), so that tests and notebooks can look at
them directly (``state.users``, ``state.workflows``).
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter
from typing import Any

from .versions import Surface, surface
from .actor import Actor
from .core import Clock, Invalid, NotFound, Record, iso
from .realism import Realism

__all__ = ["Store", "PAGING_MODES", "UserTable"]

# How the paged Admin listings count ``page`` (docs/emulator.md).
PAGING_MODES = ("one-based", "zero-based", "one-based-lenient")


class UserTable(dict[str, Record]):
    """The users table: a dict of records by id, with an index of emails (any letter case) kept in step.

    Every write to the table itself updates the index; a change of a stored record's email in place is
    followed by :meth:`reindex` (``People.update_user`` does).  A lookup checks what the index gives, so a
    record changed behind its back is never reported under an email it no longer has.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self._by_email: dict[str, set[str]] = {}
        self._indexed: dict[str, str] = {}  # id -> the email it is indexed under
        self.update(*args, **kwargs)

    def _index(self, user_id: str, record: Record) -> None:
        self._unindex(user_id)
        email = str(record.get("email") or "").lower()
        self._by_email.setdefault(email, set()).add(user_id)
        self._indexed[user_id] = email

    def _unindex(self, user_id: str) -> None:
        email = self._indexed.pop(user_id, None)
        if email is not None:
            ids = self._by_email.get(email)
            if ids is not None:
                ids.discard(user_id)
                if not ids:
                    del self._by_email[email]

    def __setitem__(self, user_id: str, record: Record) -> None:
        super().__setitem__(user_id, record)
        self._index(user_id, record)

    def __delitem__(self, user_id: str) -> None:
        super().__delitem__(user_id)
        self._unindex(user_id)

    def pop(self, user_id: str, *default: Any) -> Any:  # type: ignore[override]
        found = super().pop(user_id, *default)
        self._unindex(user_id)
        return found

    def popitem(self) -> tuple[str, Record]:
        user_id, record = super().popitem()
        self._unindex(user_id)
        return user_id, record

    def setdefault(self, user_id: str, record: Record) -> Record:  # type: ignore[override]
        if user_id not in self:
            self[user_id] = record
        return self[user_id]

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        for user_id, record in dict(*args, **kwargs).items():
            self[user_id] = record

    def clear(self) -> None:
        super().clear()
        self._by_email.clear()
        self._indexed.clear()

    def reindex(self, user_id: str) -> None:
        """Index a stored record again after its email changed in place."""
        if user_id in self:
            self._index(user_id, self[user_id])

    def with_email(self, email: str) -> list[Record]:
        """The records whose email is *email* in any letter case: O(1), not a scan of the table."""
        lowered = email.lower()
        return [self[i] for i in list(self._by_email.get(lowered, ())) if i in self
                and str(self[i].get("email") or "").lower() == lowered]


class Store:
    """Tables, settings and shared helpers.  Use under ``with store.lock``."""

    def __init__(self, *, seed: int | None = 0, clock: Clock | None = None, token_lifetime: int = 3599,
                 job_slots: int = 4):
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        self.rng = random.Random(seed)
        # settings (also set over /_emulator/settings and from seeds)
        self.token_lifetime = token_lifetime
        self.job_slots = job_slots
        self.default_run_seconds = 0.2
        self.token_forms = {"basic", "form"}  # which client-credential forms the token endpoint accepts
        self.admin_paging = "one-based"  # one of PAGING_MODES
        self.oauth1_transports = frozenset({"header", "query"})  # where /gallery/api/ takes the signature
        self.surface: Surface = surface(None)  # the release served (operations, fields, role gates)
        self.realism = Realism()  # which quirks of real answers are on (none: the tidy answers)
        self.nodes = 1  # Server nodes behind one address; a token works only on the node that issued it
        self.auth_mode = "builtin"  # or "windows": users come from the directory
        self._counter = self.rng.randrange(1 << 24)
        self._machine = self.rng.getrandbits(40)
        # tables
        self.subscriptions: dict[str, Record] = {}
        self.users: UserTable = UserTable()
        self.groups: dict[str, Record] = {}
        self.collections: dict[str, Record] = {}
        self.workflows: dict[str, Record] = {}
        self.schedules: dict[str, Record] = {}
        self.credentials: dict[str, Record] = {}
        self.data_connections: dict[str, Record] = {}
        self.dcm_connections: dict[str, Record] = {}
        self.dcm_rules: dict[str, Record] = {}
        self.jobs: dict[str, Record] = {}
        self.input_files: dict[str, Record] = {}
        self.insights: dict[str, Record] = {}
        self.usage_events: list[Record] = []
        self.audit: list[Record] = []
        self._audit_by_entity: dict[str, list[Record]] = {}  # lower-cased entity -> its events, in order
        self._audit_indexed = 0  # how many events of self.audit the index holds
        self._audit_last: Record | None = None  # the last event indexed (to notice a replaced log)
        self.tokens: dict[str, Record] = {}
        self.counters: Counter[str] = Counter()

    # ids ---------------------------------------------------------------------------
    def new_id(self) -> str:
        """A 24-hex id shaped like a MongoDB ObjectId (time, machine, counter)."""
        with self.lock:
            self._counter = (self._counter + 1) % (1 << 24)
            stamp = int(self.clock.now()) & 0xFFFFFFFF
            return f"{stamp:08x}{self._machine:010x}{self._counter:06x}"

    def new_guid(self) -> str:
        """A GUID, as DCM objects carry."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_secret(self, nbytes: int) -> str:
        """*nbytes* random bytes as hex (keys, secrets, tokens)."""
        return "".join(f"{self.rng.getrandbits(8):02x}" for _ in range(nbytes))

    def now_iso(self) -> str:
        """Now on the emulator's clock, as the Server writes dates."""
        return iso(self.clock.now()) or ""

    # lookups -------------------------------------------------------------------------
    @staticmethod
    def find(table: dict[str, Record], key: Any, what: str) -> Record:
        """The record *key* of *table*; :class:`NotFound` naming *what* otherwise."""
        record = table.get(key) if isinstance(key, str) else None
        if record is None:
            raise NotFound(f"{what} '{key}' was not found.")
        return record

    def user(self, user_id: Any) -> Record:
        return self.find(self.users, user_id, "User")

    def group(self, group_id: Any) -> Record:
        return self.find(self.groups, group_id, "User group")

    def subscription(self, sub_id: Any) -> Record:
        return self.find(self.subscriptions, sub_id, "Subscription")

    def workflow(self, workflow_id: Any) -> Record:
        return self.find(self.workflows, workflow_id, "Workflow")

    def collection(self, collection_id: Any) -> Record:
        return self.find(self.collections, collection_id, "Collection")

    def schedule(self, schedule_id: Any) -> Record:
        return self.find(self.schedules, schedule_id, "Schedule")

    def credential(self, credential_id: Any) -> Record:
        return self.find(self.credentials, credential_id, "Credential")

    def data_connection(self, connection_id: Any) -> Record:
        return self.find(self.data_connections, connection_id, "Server data connection")

    def job(self, job_id: Any) -> Record:
        return self.find(self.jobs, job_id, "Job")

    @staticmethod
    def require(table: dict[str, Record], key: Any, field: str, what: str) -> Record:
        """The record *key* names inside a request; :class:`Invalid` for *field* when there is none."""
        record = table.get(key) if isinstance(key, str) else None
        if record is None:
            raise Invalid.field(field, f"{what} '{key}' was not found.")
        return record

    def groups_of(self, user_id: str) -> set[str]:
        """The ids of the user groups *user_id* is a member of."""
        return {gid for gid, g in self.groups.items() if user_id in g["members"]}

    # audit ---------------------------------------------------------------------------
    def record(self, entity: str, entity_id: str, event: str, actor: Actor | None,
               old: dict | None, new: dict | None) -> None:
        """Write one audit event with the changed properties before and after (none: no event)."""
        old, new = dict(old or {}), dict(new or {})
        if event == "Update":
            changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            if not changed:
                return
            old = {k: old.get(k) for k in changed}
            new = {k: new.get(k) for k in changed}
        self.audit.append({
            "id": self.new_id(), "entity": entity, "entityId": entity_id, "userId": actor.id if actor else "",
            "timestamp": self.clock.now(), "event": event,
            "oldValues": json.dumps(old, sort_keys=True, default=str) if old else "",
            "newValues": json.dumps(new, sort_keys=True, default=str) if new else "",
        })

    def audit_of(self, entity: str) -> list[Record]:
        """One entity type's events in order (any letter case), from an index grown with the log.

        Reading a page costs the page, not the whole log: the index takes each new event once.  An audit
        log changed other than by appending (a test replacing it) is indexed again from the start.
        """
        audit = self.audit
        if self._audit_indexed > len(audit) or (self._audit_indexed and audit[self._audit_indexed - 1]
                                               is not self._audit_last):
            self._audit_by_entity, self._audit_indexed = {}, 0
        for event in audit[self._audit_indexed:]:
            self._audit_by_entity.setdefault(str(event["entity"]).lower(), []).append(event)
        self._audit_indexed = len(audit)
        self._audit_last = audit[-1] if audit else None
        return self._audit_by_entity.get(entity.lower(), [])

    def counts(self) -> dict[str, int]:
        """How many records of each kind exist."""
        return {"subscriptions": len(self.subscriptions), "users": len(self.users),
                "userGroups": len(self.groups), "collections": len(self.collections),
                "workflows": len(self.workflows), "schedules": len(self.schedules),
                "credentials": len(self.credentials), "dataConnections": len(self.data_connections),
                "dcmConnections": len(self.dcm_connections), "jobs": len(self.jobs),
                "auditEvents": len(self.audit), "tokens": len(self.tokens)}
