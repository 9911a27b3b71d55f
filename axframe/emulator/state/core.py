"""The emulator's domain basics: errors, the clock, ids, views, audit, tokens.

Nothing here knows about HTTP.  Operations raise :class:`EmulatorError`
subclasses carrying the status the Server would answer; the HTTP layer turns
them into responses.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from ... import schemas

# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


class EmulatorError(Exception):
    """An answer other than success, with the status the Server would send."""

    status = 400

    def __init__(self, message: str, *, model_state: dict | None = None, plain: bool = False):
        super().__init__(message)
        self.message = message
        self.model_state = model_state
        self.plain = plain  # the body is a bare JSON string (transfer endpoints, 409)

    def body(self) -> Any:
        if self.plain:
            return self.message
        if self.model_state:
            return {"message": self.message, "modelState": self.model_state}
        return {"message": self.message}


class BadRequest(EmulatorError):
    status = 400


class Unauthorized(EmulatorError):
    status = 401

    def __init__(self, message: str = "Authorization has been denied for this request.", **kw):
        super().__init__(message, **kw)


class Forbidden(EmulatorError):
    status = 403


class NotFound(EmulatorError):
    status = 404


class Conflict(EmulatorError):
    status = 409


def invalid(model_state: dict[str, list[str]]) -> BadRequest:
    return BadRequest("The request is invalid.", model_state=model_state)


# --------------------------------------------------------------------------
# Clock
# --------------------------------------------------------------------------


class Clock:
    """Wall-clock time that tests can move forward.

    ``now()`` is real time plus an offset, so jobs progress on their own in a
    live emulator, and a test can jump ahead with :meth:`advance` (expiring
    tokens, finishing jobs) without sleeping.  A *frozen* clock stands still
    between advances, for exact tests of the state model.
    """

    def __init__(self, start: float | None = None, frozen: bool = False):
        self._frozen = frozen
        base = time.time() if start is None else start
        self._offset = base if frozen else base - time.time()
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._offset if self._frozen else time.time() + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()


def iso(ts: float | None) -> str | None:
    """ISO-8601 UTC with milliseconds and ``Z``, as the Server writes dates."""
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_time(text: Any, field: str, zone: Any = timezone.utc) -> float:
    """Parse an ISO date or date-time into epoch seconds: a time without an offset is read in *zone*
    (UTC by default); an explicit offset (or ``Z``) wins."""
    if not isinstance(text, str) or not text.strip():
        raise invalid({field: [f"The value '{text}' is not a valid date."]})
    try:
        dt = schemas.parse_datetime(text.strip())
    except ValueError:
        raise invalid({field: [f"The value '{text}' is not a valid date."]}) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone)
    return dt.timestamp()


# --------------------------------------------------------------------------
# Views: project a stored record onto a Swagger definition
# --------------------------------------------------------------------------

_DEFAULTS = {"string": "", "boolean": False, "integer": 0, "number": 0, "array": list, "object": dict}


def project(record: dict, definition: str) -> dict:
    """Keep the properties *definition* declares, in its order.

    Nested references and arrays of references are projected recursively.
    ``None`` values of optional properties are left out; a required property
    that is ``None`` gets its type's empty value, so that every answer
    matches the declared schema.
    """
    schema = schemas.definition(definition)
    required = set(schema.get("required", ()))
    out: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        value = record.get(name)
        if value is None:
            if name not in required:
                continue
            kind = schemas.resolve(prop).get("type", "object")
            default = _DEFAULTS.get(kind, "")
            value = default() if callable(default) else default
            if "enum" in prop:
                value = prop["enum"][0]
        elif "$ref" in prop and isinstance(value, dict):
            target = prop["$ref"]
            if "properties" in schemas.definition(target):
                value = project(value, target)
        elif prop.get("type") == "array" and "$ref" in prop.get("items", {}):
            target = prop["items"]["$ref"]
            if "properties" in schemas.definition(target):
                value = [project(v, target) if isinstance(v, dict) else v for v in value]
        out[name] = value
    return out


# --------------------------------------------------------------------------
# The state core
# --------------------------------------------------------------------------

ROLES = ("NoAccess", "Viewer", "Member", "Artisan", "Curator", "Evaluated")
PUBLISHERS = ("Artisan", "Curator")


class Core:
    """Storage, ids, clock, audit and tokens shared by every resource mixin."""

    def __init__(self, *, seed: int | None = 0, clock: Clock | None = None,
                 token_lifetime: int = 3599, job_slots: int = 4):
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        self.rng = random.Random(seed)
        self.token_lifetime = token_lifetime
        self.job_slots = job_slots
        self.default_run_seconds = 0.2
        self.token_forms = {"basic", "form"}  # which client-credential forms the token endpoint accepts
        self._counter = self.rng.randrange(1 << 24)
        self._machine = self.rng.getrandbits(40)
        self.subscriptions: dict[str, dict] = {}
        self.users: dict[str, dict] = {}
        self.groups: dict[str, dict] = {}
        self.collections: dict[str, dict] = {}
        self.workflows: dict[str, dict] = {}
        self.schedules: dict[str, dict] = {}
        self.credentials: dict[str, dict] = {}
        self.data_connections: dict[str, dict] = {}
        self.dcm_connections: dict[str, dict] = {}
        self.dcm_rules: dict[str, dict] = {}
        self.jobs: dict[str, dict] = {}
        self.input_files: dict[str, dict] = {}
        self.insights: dict[str, dict] = {}
        self.usage_events: list[dict] = []
        self.audit: list[dict] = []
        self.tokens: dict[str, dict] = {}
        self.counters: Counter[str] = Counter()

    # ids -----------------------------------------------------------------
    def new_id(self) -> str:
        """A 24-hex id shaped like a MongoDB ObjectId (time, machine, counter)."""
        with self.lock:
            self._counter = (self._counter + 1) % (1 << 24)
            stamp = int(self.clock.now()) & 0xFFFFFFFF
            return f"{stamp:08x}{self._machine:010x}{self._counter:06x}"

    def new_secret(self, nbytes: int) -> str:
        return "".join(f"{self.rng.getrandbits(8):02x}" for _ in range(nbytes))

    def now_iso(self) -> str:
        return iso(self.clock.now())  # type: ignore[return-value]

    # lookups ---------------------------------------------------------------
    @staticmethod
    def _get(table: dict, key: Any, what: str) -> dict:
        record = table.get(key) if isinstance(key, str) else None
        if record is None:
            raise NotFound(f"{what} '{key}' was not found.")
        return record

    def user(self, user_id: Any) -> dict:
        return self._get(self.users, user_id, "User")

    def group(self, group_id: Any) -> dict:
        return self._get(self.groups, group_id, "User group")

    def subscription(self, sub_id: Any) -> dict:
        return self._get(self.subscriptions, sub_id, "Subscription")

    def workflow(self, workflow_id: Any) -> dict:
        return self._get(self.workflows, workflow_id, "Workflow")

    def collection(self, collection_id: Any) -> dict:
        return self._get(self.collections, collection_id, "Collection")

    def schedule(self, schedule_id: Any) -> dict:
        return self._get(self.schedules, schedule_id, "Schedule")

    def credential(self, credential_id: Any) -> dict:
        return self._get(self.credentials, credential_id, "Credential")

    def data_connection(self, connection_id: Any) -> dict:
        return self._get(self.data_connections, connection_id, "Server data connection")

    def job(self, job_id: Any) -> dict:
        return self._get(self.jobs, job_id, "Job")

    def groups_of(self, user_id: str) -> set[str]:
        return {gid for gid, g in self.groups.items() if user_id in g["members"]}

    @staticmethod
    def is_curator(actor: dict) -> bool:
        return actor.get("role") == "Curator"

    # audit -----------------------------------------------------------------
    def record(self, entity: str, entity_id: str, event: str, actor: dict | None,
               old: dict | None, new: dict | None) -> None:
        """Write one audit event with the changed properties before and after."""
        old, new = dict(old or {}), dict(new or {})
        if event == "Update":
            changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            if not changed:
                return
            old = {k: old.get(k) for k in changed}
            new = {k: new.get(k) for k in changed}
        self.audit.append({
            "id": self.new_id(),
            "entity": entity,
            "entityId": entity_id,
            "userId": actor["id"] if actor else "",
            "timestamp": self.clock.now(),
            "event": event,
            "oldValues": json.dumps(old, sort_keys=True, default=str) if old else "",
            "newValues": json.dumps(new, sort_keys=True, default=str) if new else "",
        })

    # tokens ----------------------------------------------------------------
    def issue_token(self, client_id: str, client_secret: str) -> dict:
        """Client-credentials grant.  Raises :class:`Unauthorized` for bad keys."""
        for user in self.users.values():
            if user.get("apiKey") and user["apiKey"] == client_id:
                if not (user.get("isApiEnabled") and user.get("isActive")):
                    break
                if not _same(user.get("apiSecret", ""), client_secret):
                    break
                token = self.new_secret(32)
                self.tokens[token] = {"userId": user["id"],
                                      "expires": self.clock.now() + self.token_lifetime}
                self.counters["tokens_issued"] += 1
                user["lastLoginDateTime"] = self.now_iso()
                return {"access_token": token, "token_type": "bearer",
                        "expires_in": int(self.token_lifetime)}
        raise Unauthorized("invalid_client")

    def authenticate(self, token: str) -> dict:
        entry = self.tokens.get(token)
        if entry is None:
            raise Unauthorized()
        if entry["expires"] <= self.clock.now():
            del self.tokens[token]
            raise Unauthorized()
        user = self.users.get(entry["userId"])
        if user is None or not user.get("isActive"):
            raise Unauthorized()
        return user

    def expire_tokens(self) -> int:
        """Make every issued token invalid at once (a fault for tests)."""
        count = len(self.tokens)
        self.tokens.clear()
        return count

    def user_by_api_key(self, key: str) -> dict | None:
        for user in self.users.values():
            if user.get("apiKey") == key and user.get("isApiEnabled") and user.get("isActive"):
                return user
        return None


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def check(value: Any, schema: dict, param: str) -> None:
    """Validate a body against its schema; raise the Server's 400 on problems."""
    problems = schemas.validate(value, schema, param)
    if problems:
        model_state: dict[str, list[str]] = {}
        for problem in problems:
            key, _, text = problem.partition(": ")
            model_state.setdefault(key, []).append(text)
        raise invalid(model_state)
