"""The calls the administration programs make, and the little rules they share.

:func:`call` plans one call from named values, as a row would (checked against
the endpoint's declaration); :func:`send` and :func:`read` are the steps that
send it inside a row's program; :func:`read_now` sends it at once, for the
reads that set a run up.
"""

from __future__ import annotations

import json
import re
from typing import Any, Generator, Mapping

from .. import catalogue, frames, schemas
from ..client.call import Call, Outcome
from ..client.connection import Connection
from ..engine.rows import Send, Step
from ..engine.shape import Ending
from ..errors import ErrorType, ListingError

__all__ = ["call", "send", "read", "read_now", "refused", "published", "version_form", "id_list", "as_bool",
           "as_email", "match_collections", "Steps"]

Steps = Generator[Step, Any, Any]


def call(conn: Connection, action: str, record: Mapping[str, Any] | None = None, *, contract: Any = None,
         file: str | None = None) -> Call | Outcome:
    """The call for *action* with *record*'s values (and a contract or a file), or why it cannot be made."""
    endpoint = catalogue.find(action)
    rec = dict(record or {})
    if contract is not None:
        rec[frames.CONTRACT] = contract
    if file is not None:
        rec["file"] = file
    planned = frames.plan_row(endpoint, rec, columns=[], merge=False, legacy=conn.legacy)
    if isinstance(planned, frames.Problem):
        return Outcome(None, error_type=ErrorType(planned.error_type), error=planned.error)
    return planned.call


def send(conn: Connection, action: str, record: Mapping[str, Any] | None = None, *, contract: Any = None,
         file: str | None = None, idempotent: bool | None = None) -> Generator[Step, Any, tuple[Outcome, bool]]:
    """Steps that plan and send one call on *conn*: ``(outcome, sent)``.  A call that cannot be planned is not sent."""
    planned = call(conn, action, record, contract=contract, file=file)
    if isinstance(planned, Outcome):
        return planned, False
    outcome = yield Send(planned, conn, idempotent)
    return outcome, True


def read(conn: Connection, action: str, record: Mapping[str, Any] | None = None) -> Generator[Step, Any, Outcome]:
    """Steps that send one read on *conn*."""
    outcome, _ = yield from send(conn, action, record)
    return outcome


def read_now(conn: Connection, action: str, record: Mapping[str, Any] | None = None) -> Any:
    """A set-up read, sent at once: the answer's JSON, or :class:`ListingError`."""
    planned = call(conn, action, record)
    outcome = planned if isinstance(planned, Outcome) else conn.send(planned)
    if not outcome.ok:
        raise ListingError(f"{action}: {outcome.error}", outcome.status)
    return outcome.value()


def refused(outcome: Outcome, doing: str, values: Mapping[str, Any], *, sent: bool = False) -> Ending:
    """A row that failed at *doing*, with the Server's reason."""
    return Ending.failed(outcome.error_type or ErrorType.HTTP_ERROR, f"{doing}: {outcome.error or outcome.status}",
                         status=outcome.status, values=values, sent=sent)


def published(view: Mapping[str, Any]) -> dict:
    """A workflow view's published version (its last one when none is marked)."""
    versions = view.get("versions") or []
    wanted = view.get("publishedVersionId")
    for version in versions:
        if isinstance(version, dict) and version.get("versionId") == wanted:
            return version
    return versions[-1] if versions and isinstance(versions[-1], dict) else {}


def version_form(view: Mapping[str, Any], *, name: Any, owner_id: str, others_may_download: bool,
                 others_can_execute: bool, execution_mode: str, comments: str) -> dict:
    """The form of a new published version of a workflow (``POST /v3/workflows/{id}/versions``).

    It keeps the run-as credential of the published version, and the
    execution mode of the workflow or of that version (*execution_mode* when
    neither has one).
    """
    version = published(view)
    form = {"name": name, "ownerId": owner_id, "othersMayDownload": others_may_download,
            "othersCanExecute": others_can_execute,
            "executionMode": view.get("executionMode") or version.get("executionMode") or execution_mode,
            "makePublished": True, "comments": comments,
            "workflowCredentialType": version.get("workflowCredentialType") or "Default"}
    if version.get("credentialId"):
        form["credentialId"] = version["credentialId"]
    return form


def id_list(value: Any, what: str) -> list[str]:
    """Ids from a list, JSON array text, or comma/semicolon-separated text."""
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except ValueError:
                raise ValueError(f"{what} is not a valid JSON array") from None
            if not isinstance(items, list):
                raise ValueError(f"{what} must be a list")
        else:
            items = re.split(r"[,;\n]", text)
    elif frames.is_missing(value):
        return []
    else:
        items = [frames.as_text(value)]
    out = [frames.as_text(i).strip() for i in items if not frames.is_missing(i)]
    return [i for i in out if i]


def as_bool(value: Any, name: str) -> bool | None:
    """A yes/no setting from a cell or a keyword; None when absent."""
    if value is None or (not isinstance(value, (list, dict)) and frames.is_missing(value)):
        return None
    coerced = value.item() if hasattr(value, "item") else value
    coerced = schemas.coerce(coerced, {"type": "boolean"})
    if not isinstance(coerced, bool):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return coerced


def as_email(value: Any, name: str) -> str | None:
    """An email address from a cell or a keyword; None when absent."""
    if value is None or frames.is_missing(value):
        return None
    text = frames.as_text(value).strip()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", text):
        raise ValueError(f"{name} must be an email address, not {text!r}")
    return text


def match_collections(known: list, wanted: list[str], where: str) -> list[str] | tuple[ErrorType, str]:
    """Collection ids for ids or names (case-insensitive); ``(error_type, message)`` for one unknown or ambiguous."""
    ids = []
    for item in wanted:
        if any(c.get("id") == item for c in known):
            ids.append(item)
            continue
        named = [c.get("id") for c in known if str(c.get("name", "")).strip().lower() == item.lower()]
        if len(named) == 1:
            ids.append(named[0])
        elif named:
            return (ErrorType.INVALID_PARAMETER, f"{len(named)} collections {where} are named {item!r}; give its id")
        else:
            return (ErrorType.INVALID_PARAMETER, f"{where} has no collection {item!r} (by id or name)")
    return list(dict.fromkeys(ids))
