"""What a Server supports, learned from the Server itself: ``conn.server``.

Servers of different releases serve different V3 operations (an older one has
no ``GET /v3/jobs``, no ``DELETE /v3/jobs/{id}``...) and know different fields.
A connection learns which, once, the first time it is asked:

1. **The Server's own Swagger document**, where it serves one, asked the
   first time a run needs an operation that not every Server has
   (``catalogue.NOT_ON_EVERY_SERVER``), never for the others.  Paths tried,
   in order, relative to the base URL: ``/swagger/docs/3`` (Swashbuckle's
   ``/swagger/docs/{version}`` with the document's own ``info.version``,
   ``"3"``), then ``/swagger/docs/v3``, then ``/swagger/docs/v1``
   (Swashbuckle's default version name).  Each is one GET; the first that
   answers a Swagger document wins.
2. **How the Server answers.**  Any operation is taken to be missing once the
   Server answers it as ASP.NET Web API answers a route it does not have: 404
   "No HTTP resource was found that matches the request URI", or 405 "does not
   support http method" where the path exists with other methods.  That row
   fails as ``NotAvailable`` (nothing happened on the Server), and the rows
   after it are refused before sending.

An action the Server lacks fails its rows before anything is sent, as
``NotAvailable`` ("this Server has no ..."); a field the Server's document does
not know is not demanded of a row.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from ..catalogue import Endpoint

__all__ = ["ServerInfo", "SWAGGER_PATHS", "UNKNOWN_ROUTE"]

log = logging.getLogger("axframe")

SWAGGER_PATHS = ("/swagger/docs/3", "/swagger/docs/v3", "/swagger/docs/v1")
#: How ASP.NET Web API answers a route it does not have: 404 for an unknown path, 405 for a path it serves
#: with other methods only (``DELETE /v3/jobs/{id}`` on an older Server that has ``GET``).
UNKNOWN_ROUTE = ("No HTTP resource was found that matches the request URI", "does not support http method")


@dataclass
class ServerInfo:
    """What a connection has learned of its Server.

    Attributes
    ----------
    document : str or None
        Where its Swagger document was found (None: it serves none, or it was not asked yet).
    version : str or None
        The document's ``info.version``.
    operations : set of str or None
        The operationIds the document lists (None: not known from a document).
    fields : dict of str to set of str
        The document's models and their fields.
    missing : set of str
        Operations the Server answered as unknown routes.
    """

    document: str | None = None
    version: str | None = None
    operations: set[str] | None = None
    fields: dict[str, set[str]] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    asked: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __repr__(self) -> str:
        if self.document is None:
            known = "no Swagger document" if self.asked else "not asked yet"
        else:
            known = f"its Swagger document at {self.document} (version {self.version}, {len(self.operations or ())} " \
                    "operations)"
        missing = f"; lacks {', '.join(sorted(self.missing))}" if self.missing else ""
        return f"<ServerInfo: {known}{missing}>"

    def learn(self, read: Callable[[str], Any]) -> "ServerInfo":
        """Ask the Server once: *read(path)* answers a parsed JSON document or None."""
        with self._lock:
            if self.asked:
                return self
            self.asked = True
            for path in SWAGGER_PATHS:
                document = read(path)
                if isinstance(document, dict) and isinstance(document.get("paths"), dict):
                    self._take(path, document)
                    break
        return self

    def _take(self, path: str, document: dict) -> None:
        self.document = path
        info = document.get("info")
        self.version = str(info.get("version")) if isinstance(info, dict) and info.get("version") else None
        self.operations = {str(op["operationId"]) for item in document["paths"].values() if isinstance(item, dict)
                           for op in item.values() if isinstance(op, dict) and op.get("operationId")}
        definitions = document.get("definitions") or {}
        self.fields = {name: set((model.get("properties") or {}).keys()) for name, model in definitions.items()
                       if isinstance(model, dict)}
        log.debug("the Server's Swagger document (%s): %d operations", path, len(self.operations))

    def lacks(self, endpoint: Endpoint) -> bool:
        """Whether the Server is known not to serve *endpoint*."""
        if endpoint.operation_id is None:
            return False
        if endpoint.operation_id in self.missing:
            return True
        return self.operations is not None and endpoint.operation_id not in self.operations

    def knows_field(self, model: str, name: str) -> bool:
        """Whether the Server's model *model* has the field *name* (True when the Server's models are unknown)."""
        known = self.fields.get(model)
        return known is None or name in known

    def saw_unknown_route(self, endpoint: Endpoint | None, status: int, text: str) -> bool:
        """Whether an answer says the Server has no route for *endpoint* (then it is remembered as missing)."""
        if endpoint is None or not endpoint.operation_id or status not in (404, 405) or \
                not any(phrase in text for phrase in UNKNOWN_ROUTE):
            return False
        with self._lock:
            self.missing.add(endpoint.operation_id)
        return True

    def why_not(self, endpoint: Endpoint) -> str:
        """The sentence a row gets for an action this Server lacks."""
        how = f"its Swagger document ({self.document}) lists no {endpoint.operation_id}" if self.document and \
            endpoint.operation_id not in self.missing else "it answered it as a route it does not have"
        return (f"this Server has no {endpoint.name} ({endpoint.spelling}): {how}; it came with a later release "
                "of the Server, so nothing was done")
