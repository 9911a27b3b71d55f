"""Names instead of ids: a column may name the thing an id column would hold.

People have names (an email, a group's or a collection's name); the Server
wants ids.  Wherever an action needs an id -- in its path, its query or its
body -- a row may give a *name column* instead, and axframe finds the id:

========================  =======================  ============================================
id                        name column              matched against
========================  =======================  ============================================
``userId``                ``user`` or ``email``    a user's email
``ownerId``               ``owner``                a user's email
``userGroupId``           ``userGroup``, ``group``  a user group's name
``collectionId``          ``collection``           a collection's name
``workflowId``, ``appId``  ``workflow``             a workflow's name
``credentialId``          ``credential``           a credential's user name (``userName``)
``scheduleId``            ``schedule``             a schedule's name
``subscriptionId``        ``subscription``         a subscription's (studio's) name
``dataConnectionId``      ``dataConnection``       a server data connection's name
========================  =======================  ============================================

Rules: names compare without letter case or surrounding spaces; an id the row
gives wins over a name; a name column that is itself a field of the action's
body (``email`` of ``users.update``) stays a field and names nothing.  Names are
resolved once per run, with one listing per kind (``users.list``...), and only
for the kinds some row names.  A name that matches nothing fails its row as
``NotFound``, one that matches several as ``Ambiguous`` naming the candidates'
ids; nothing is sent for either.  The id found joins the row as its id column,
in the success and failure frames alike (so a failure frame goes back in as it
is).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import pandas as pd

from . import catalogue, frames, schemas
from .catalogue import Endpoint
from .client.call import Call
from .client.connection import Connection
from .errors import ErrorType, ListingError

__all__ = ["Kind", "KINDS", "Names", "resolve", "resolve_columns", "name_columns", "kind_of", "AMBIGUOUS"]

AMBIGUOUS = ErrorType.AMBIGUOUS


@dataclass(frozen=True)
class Kind:
    """One kind of thing a row can name.

    Attributes
    ----------
    noun : str
        How a message calls it (``"collection"``).
    listing : str
        The catalogue name of the listing that has every one of them.
    key : str
        The field of a listed record a name is matched against.
    columns : tuple of str
        The name columns, in order of preference.
    ids : tuple of str
        The id fields (path, query, body or form) a name fills.
    """

    noun: str
    listing: str
    key: str
    columns: tuple[str, ...]
    ids: tuple[str, ...]


KINDS: tuple[Kind, ...] = (
    Kind("user", "users.list", "email", ("user", "email"), ("userId",)),
    Kind("owner", "users.list", "email", ("owner",), ("ownerId",)),
    Kind("user group", "usergroups.list", "name", ("userGroup", "group"), ("userGroupId",)),
    Kind("collection", "collections.list", "name", ("collection",), ("collectionId",)),
    Kind("workflow", "workflows.list", "name", ("workflow",), ("workflowId", "appId")),
    Kind("credential", "credentials.list", "userName", ("credential",), ("credentialId",)),
    Kind("schedule", "schedules.list", "name", ("schedule",), ("scheduleId",)),
    Kind("subscription", "subscriptions.list", "name", ("subscription",), ("subscriptionId",)),
    Kind("server data connection", "data_connections.list", "name", ("dataConnection",), ("dataConnectionId",)),
)


def kind_of(noun: str) -> Kind:
    """The kind called *noun* (``"workflow"``)."""
    return next(kind for kind in KINDS if kind.noun == noun)


def _key(text: Any) -> str:
    return " ".join(str(text).split()).casefold()


def _wanted_ids(endpoint: Endpoint) -> set[str]:
    """The id fields *endpoint* takes: path and query parameters, form fields, top-level body fields."""
    names = {p.name for p in endpoint.params} | {p.name for p in endpoint.form}
    if endpoint.body_schema is not None and endpoint.body_kind() == "object":
        names |= set(schemas.resolve(endpoint.body_schema).get("properties", {}))
    return names


def _body_fields(endpoint: Endpoint) -> set[str]:
    schema = endpoint.contract_schema()
    return set(schemas.resolve(schema).get("properties", {})) if schema else set()


def name_columns(endpoint: Endpoint, columns: Iterable[str], extra_ids: Iterable[str] = ()) -> dict[str, tuple[Kind, str]]:
    """The name columns of a frame that *endpoint* can use: ``{id field: (kind, name column)}``.

    *extra_ids* are id fields a caller needs besides the endpoint's (``workflowId`` for ``run_jobs``).
    """
    present = set(columns)
    fields = _body_fields(endpoint)
    wanted = _wanted_ids(endpoint) | set(extra_ids)
    found: dict[str, tuple[Kind, str]] = {}
    for kind in KINDS:
        for id_field in kind.ids:
            if id_field not in wanted or id_field in found:
                continue
            column = next((c for c in kind.columns if c in present and c not in fields and c != id_field), None)
            if column is not None:
                found[id_field] = (kind, column)
    return found


class Names:
    """The names of one run, resolved with one listing per kind (each listing read when first needed)."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self._records: dict[str, list[dict]] = {}  # listing -> its records
        self._by_name: dict[tuple[str, str], dict[str, list[dict]]] = {}  # (listing, key) -> name -> records

    def records(self, kind: Kind) -> list[dict]:
        """Every record of *kind* (raises :class:`ListingError` when the listing fails)."""
        if kind.listing not in self._records:
            endpoint = catalogue.find(kind.listing)
            outcome = self.conn.send(Call("GET", endpoint.path, endpoint))
            if not outcome.ok:
                raise ListingError(f"looking up {kind.noun} names ({kind.listing}): {outcome.error}", outcome.status)
            self._records[kind.listing] = [r for r in outcome.value() or [] if isinstance(r, dict)]
        return self._records[kind.listing]

    def index(self, kind: Kind) -> dict[str, list[dict]]:
        """The records of *kind* by name (letter case and spaces aside)."""
        slot = (kind.listing, kind.key)
        if slot not in self._by_name:
            by_name: dict[str, list[dict]] = {}
            for record in self.records(kind):
                if record.get(kind.key) not in (None, ""):
                    by_name.setdefault(_key(record[kind.key]), []).append(record)
            self._by_name[slot] = by_name
        return self._by_name[slot]

    def find(self, kind: Kind, name: Any) -> str | tuple[ErrorType, str]:
        """The id of the one *kind* named *name*, or ``(error_type, why)``."""
        matches = self.index(kind).get(_key(name), [])
        if len(matches) == 1 and matches[0].get("id"):
            return str(matches[0]["id"])
        if not matches:
            return ErrorType.NOT_FOUND, f"no {kind.noun} has the {kind.key} {str(name).strip()!r} on the Server"
        ids = ", ".join(str(m.get("id")) for m in matches[:10])
        return AMBIGUOUS, (f"{len(matches)} {kind.noun}s have the {kind.key} {str(name).strip()!r} ({ids}); give "
                           f"the id instead, in a column {kind.ids[0]}")


def resolve(names: Names | None, endpoint: Endpoint, df: pd.DataFrame, *, extra_ids: Iterable[str] = (),
            placeholder: bool = False) -> tuple[pd.DataFrame, dict[int, tuple[ErrorType, str]]]:
    """*df* with the ids its name columns name filled in, and the rows whose names could not be resolved.

    With *placeholder* (a dry run that may not read the Server), each name becomes
    ``<collection 'Sales Reporting'>`` in its id column, so that the plan shows it.
    """
    return resolve_columns(names, df, name_columns(endpoint, df.columns, extra_ids), placeholder=placeholder)


def resolve_columns(names: Names | None, df: pd.DataFrame, columns: Mapping[str, tuple[Kind, str]], *,
                    placeholder: bool = False) -> tuple[pd.DataFrame, dict[int, tuple[ErrorType, str]]]:
    """:func:`resolve` for the name columns given: ``{id field: (kind, name column)}``."""
    if not columns:
        return df, {}
    out = df.copy()
    problems: dict[int, tuple[ErrorType, str]] = {}
    for id_field, (kind, column) in columns.items():
        given = out[id_field].tolist() if id_field in out.columns else [None] * len(out)
        filled: list[Any] = []
        for pos, (current, name) in enumerate(zip(given, out[column].tolist())):
            if not frames.is_missing(current) or frames.is_missing(name):
                filled.append(current)
                continue
            found = f"<{kind.noun} {str(name).strip()!r}>" if placeholder or names is None \
                else names.find(kind, name)
            if isinstance(found, tuple):
                problems.setdefault(pos, (found[0], f"{found[1]} (the {column} column)"))
                filled.append(current)
            else:
                filled.append(found)
        out[id_field] = pd.Series(filled, index=out.index, dtype=object)
    return out, problems


def kinds_named(endpoint: Endpoint, columns: Iterable[str], extra_ids: Iterable[str] = ()) -> Mapping[str, str]:
    """``{name column: id field}`` for the messages and help of the command line."""
    return {column: id_field for id_field, (_, column) in name_columns(endpoint, columns, extra_ids).items()}
