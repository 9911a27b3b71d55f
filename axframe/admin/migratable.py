"""The workflows marked ready to migrate, as a frame to pass to :func:`~axframe.admin.migrate.migrate`."""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from .. import frames
from ..client.connection import Connection
from .steps import published, read_now

__all__ = ["migratable"]


def migratable(conn: Connection, subscription_ids: str | Sequence[str] | None = None, *,
               details: bool = True) -> pd.DataFrame:
    """The workflows marked ready to migrate (``GET /admin/v1/workflows/migratable``).

    Parameters
    ----------
    conn : Connection
        A Curator's connection to the source Server (OAuth2 or legacy).
    subscription_ids : str or list of str, optional
        Only these subscriptions (studios); all by default.
    details : bool
        Add each workflow's name, owner and run-as credential setting (two
        more calls in all, not per workflow: the V3 workflow and user lists;
        one Admin V1 workflow list on a legacy connection).

    Returns
    -------
    pandas.DataFrame
        ``RecordID``, ``workflowId``, ``publishedVersionId``,
        ``subscriptionId`` and, with details, ``name``, ``ownerId``,
        ``ownerEmail``, ``workflowCredentialType`` and ``credentialId``;
        ready to pass to :func:`migrate`.

    Raises
    ------
    ListingError
        The Server refused a listing.
    """
    items = [i for i in read_now(conn, "admin_v1.migratable", _subscriptions(subscription_ids)) or []
             if isinstance(i, dict)]
    df = pd.DataFrame({
        frames.RECORD_ID: pd.array(range(1, len(items) + 1), dtype="int64"),
        "workflowId": pd.Series([frames.as_text(i.get("id", "")) for i in items], dtype=object),
        "publishedVersionId": pd.Series([i.get("publishedVersionId") or "" for i in items], dtype=object),
        "subscriptionId": pd.Series([i.get("subscriptionId") or "" for i in items], dtype=object),
    })
    if not details:
        return df
    info = _legacy_details(conn) if conn.legacy else _details(conn)
    for column in ("name", "ownerId", "ownerEmail", "workflowCredentialType", "credentialId"):
        df[column] = pd.Series([info.get(w, {}).get(column, "") or "" for w in df["workflowId"]], dtype=object)
    return df


def _subscriptions(subscription_ids: str | Sequence[str] | None) -> dict[str, Any]:
    """The listing's query: the subscriptions' ids joined by commas, when there are any."""
    record: dict[str, Any] = {}
    if subscription_ids is not None:
        ids = [subscription_ids] if isinstance(subscription_ids, str) else list(subscription_ids)
        joined = ",".join(frames.as_text(i).strip() for i in ids if not frames.is_missing(i))
        if joined:
            record["subscriptionIds"] = joined
    return record


def _legacy_details(conn: Connection) -> dict[str, dict]:
    info: dict[str, dict] = {}
    for view in read_now(conn, "admin_v1.workflows") or []:
        owner = view.get("publishedVersionOwner") or {}
        info[view.get("id")] = {"name": (view.get("metaInfo") or {}).get("name", ""),
                                "ownerId": owner.get("id", ""), "ownerEmail": owner.get("email", ""),
                                "workflowCredentialType": "", "credentialId": ""}
    return info


def _details(conn: Connection) -> dict[str, dict]:
    info: dict[str, dict] = {}
    emails = {u.get("id"): u.get("email", "") for u in read_now(conn, "users.list") or []}
    for view in read_now(conn, "workflows.list", {"view": "Full"}) or []:
        version = published(view)
        info[view.get("id")] = {"name": view.get("name", ""), "ownerId": view.get("ownerId", ""),
                                "ownerEmail": emails.get(view.get("ownerId"), ""),
                                "workflowCredentialType": version.get("workflowCredentialType") or "",
                                "credentialId": version.get("credentialId") or ""}
    return info
