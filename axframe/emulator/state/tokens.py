"""Access tokens: the client-credentials grant, bearer checks and API keys."""

from __future__ import annotations

import base64
import hmac

from .core import Record, Unauthorized
from .store import Store

__all__ = ["Auth"]


class Auth:
    """Issues and checks the tokens of API-enabled users.

    Uses the store's ``users`` (their keys) and ``tokens``; no other family.
    """

    def __init__(self, store: Store):
        self.store = store

    def issue(self, client_id: str, client_secret: str, node: int = 0) -> dict:
        """Client-credentials grant: a new token for the user whose key and secret these are.

        The token is bound to *node*, the Server node that issued it: behind a load balancer each node
        protects its tickets with its own machine key, so another node cannot read them
        (``Store.nodes``; real-server-evidence.md, token format: low confidence for the binding).

        Raises :class:`Unauthorized` for unknown keys, a wrong secret or a user
        without API access (the token endpoint answers ``invalid_client``).
        """
        store = self.store
        user = self.by_api_key(client_id)
        if user is None or not _same(user.get("apiSecret", ""), client_secret):
            raise Unauthorized("invalid_client")
        token = self._new_token()
        store.tokens[token] = {"userId": user["id"], "expires": store.clock.now() + store.token_lifetime,
                               "node": node}
        store.counters["tokens_issued"] += 1
        user["lastLoginDateTime"] = store.now_iso()
        return {"access_token": token, "token_type": "bearer", "expires_in": int(store.token_lifetime)}

    def _new_token(self) -> str:
        """64 hex characters, or (a quirk of real Servers) a ~700-character opaque OWIN/DPAPI-like ticket."""
        store = self.store
        if not store.realism("opaque_tokens"):
            return store.new_secret(32)
        blob = bytes(store.rng.getrandbits(8) for _ in range(500))
        return _TICKET_HEAD + base64.urlsafe_b64encode(blob).decode("ascii").rstrip("=")

    def authenticate(self, token: str, node: int = 0) -> Record:
        """The active user a live token belongs to; :class:`Unauthorized` otherwise (or on another node)."""
        store = self.store
        entry = store.tokens.get(token)
        if entry is None:
            raise Unauthorized()
        if store.nodes > 1 and entry.get("node", 0) != node:
            store.counters["tokens_refused_other_node"] += 1
            raise Unauthorized()
        if entry["expires"] <= store.clock.now():
            del store.tokens[token]
            raise Unauthorized()
        user = store.users.get(entry["userId"])
        if user is None or not user.get("isActive"):
            raise Unauthorized()
        return user

    def expire_all(self) -> int:
        """Make every issued token invalid at once (a fault for tests); answer how many there were."""
        count = len(self.store.tokens)
        self.store.tokens.clear()
        return count

    def drop_user(self, user_id: str) -> None:
        """Forget the tokens of a user who was deleted or deactivated."""
        self.store.tokens = {t: e for t, e in self.store.tokens.items() if e["userId"] != user_id}

    def by_api_key(self, key: str) -> Record | None:
        """The active, API-enabled user with this key, if any."""
        for user in self.store.users.values():
            if user.get("apiKey") and user.get("apiKey") == key and user.get("isApiEnabled") \
                    and user.get("isActive"):
                return user
        return None


# How a DPAPI-protected OWIN ticket begins (the evidence's "AQAAANCMnd8B..."), then opaque bytes.
_TICKET_HEAD = "AQAAANCMnd8BFdERjHoAwE_Cl-sBAAAA"


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
