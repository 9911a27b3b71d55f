"""Workflow packages in bulk: a frame that publishes a folder of ``.yxzp`` files, and downloads to a folder."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from .. import catalogue
from ..client.connection import Connection
from ..engine.shape import Result
from ..errors import ConfigurationError, PackageError
from ..packages import read_package

__all__ = ["package_frame", "download_packages"]

_UPLOAD_DEFAULTS = {
    "workflows.upload": {"isPublic": False, "isReadyForMigration": False, "othersMayDownload": True,
                         "othersCanExecute": True, "executionMode": "Standard",
                         "workflowCredentialType": "Default"},
    "workflows.add_version": {"othersMayDownload": True, "othersCanExecute": True, "executionMode": "Standard",
                              "makePublished": True, "workflowCredentialType": "Default"},
}


def package_frame(source: str | os.PathLike | Iterable[str | os.PathLike], *, ownerId: str | None = None,
                 owner: str | None = None, action: str = "workflows.upload", recursive: bool = False,
                 **fields: Any) -> pd.DataFrame:
    """A frame that publishes ``.yxzp`` packages with ``ax.create`` / ``ax.post``.

    Parameters
    ----------
    source : path or list of paths
        A folder (its ``.yxzp`` files, sorted by name; ``recursive=True`` looks
        in subfolders too) or a list of package files.
    ownerId : str, optional
        The id of the user who will own the workflows.  Required by the
        Server; left empty, every row fails with a clear message until the
        ``ownerId`` column is filled in.
    owner : str, optional
        The owner's email instead of their id: an ``owner`` column, which the
        macros resolve to ``ownerId`` once per run (give one of the two).
    action : {"workflows.upload", "workflows.add_version"}
        New workflows (``ax.create(conn, "workflows.upload", frame)``) or new
        versions (``ax.post(conn, "workflows.add_version", frame)``; add a
        ``workflowId`` column, or pass ``workflowId=`` for a single package).
    **fields
        Form fields for every row, overriding the defaults: ``isPublic=False``,
        ``isReadyForMigration=False``, ``othersMayDownload=True``,
        ``othersCanExecute=True``, ``executionMode="Standard"``,
        ``workflowCredentialType="Default"`` (and ``makePublished=True`` for
        versions).  ``name=`` replaces every row's name.

    Returns
    -------
    pandas.DataFrame
        ``RecordID`` (1, 2...), ``file`` (the package's path), ``name`` (the
        package's MetaInfo name, else its main document's or file's name),
        ``ownerId`` (or ``owner``) and the form fields.  A package that cannot be read still
        gets a row; uploading it fails that row with ``InvalidFile``.

    Raises
    ------
    ConfigurationError
        For a missing folder, an unknown action or an unknown form field.
    """
    _check_fields(action, fields)
    if owner is not None and ownerId is not None:
        raise ConfigurationError("give the owner's id (ownerId=) or their email (owner=), not both")
    who = ("owner", owner) if owner is not None else ("ownerId", ownerId)
    paths = _package_paths(source, recursive)
    rows = []
    for i, path in enumerate(paths, start=1):
        try:
            name = read_package(path.read_bytes()).name
        except (PackageError, OSError):
            name = path.stem
        row: dict[str, Any] = {"RecordID": i, "file": str(path), "name": name, who[0]: who[1]}
        row.update(_UPLOAD_DEFAULTS[action])
        row.update(fields)
        rows.append(row)
    columns = ["RecordID", "file", "name", who[0]] + [c for c in _UPLOAD_DEFAULTS[action] if c not in
                                                        ("name", "ownerId")]
    columns += [c for c in fields if c not in columns]
    out = pd.DataFrame(rows, columns=columns)
    out["RecordID"] = out["RecordID"].astype("int64")
    for column in out.columns:
        if column != "RecordID" and out[column].dtype != bool:
            out[column] = out[column].astype(object)
    return out


def _check_fields(action: str, fields: dict[str, Any]) -> None:
    """*action* is an upload and *fields* are its form fields, or a ConfigurationError says what is wrong."""
    if action not in _UPLOAD_DEFAULTS:
        raise ConfigurationError(f"action must be 'workflows.upload' or 'workflows.add_version', not {action!r}")
    endpoint = catalogue.find(action)
    allowed = {p.name for p in endpoint.form if p.type != "file"} | {p.name for p in endpoint.path_params}
    unknown = sorted(set(fields) - allowed)
    if unknown:
        hints = [m for u in unknown for m in difflib.get_close_matches(u, sorted(allowed), n=1)]
        hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
        raise ConfigurationError(f"{action} has no form field {', '.join(unknown)}{hint}; "
                                 f"its fields are {', '.join(sorted(allowed))}")


def _package_paths(source: Any, recursive: bool) -> list[Path]:
    if isinstance(source, (str, os.PathLike)):
        folder = Path(source).expanduser()
        if folder.is_file():
            return [folder]
        if not folder.is_dir():
            raise ConfigurationError(f"no such folder: {folder}")
        pattern = "**/*" if recursive else "*"
        return sorted((p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() == ".yxzp"),
                      key=lambda p: str(p).lower())
    return [Path(p).expanduser() for p in source]


def download_packages(conn: Connection, frame: Any, folder: str | os.PathLike, *,
                      max_workers: int | str | None = None, progress: bool | None = None,
                      journal: str | os.PathLike | None = None) -> Result:
    """Save each row's workflow package (``.yxzp``) in *folder*.

    Parameters
    ----------
    conn : Connection
    frame : pandas.DataFrame
        ``RecordID``, ``workflowId`` and, optionally, ``versionId`` (a version
        other than the published one).
    folder : path
        Created if needed; files are named ``<RecordID>_<package name>.yxzp``.
    max_workers : int, optional
        Downloads in flight at once.
    progress : bool, optional
        Show a progress bar.
    journal : path, optional
        Resume an interrupted run: rows already saved are not downloaded again.

    Returns
    -------
    Result
        ``success`` holds ``RecordID``, the input columns, ``StatusCode``,
        ``File`` (the saved path), ``Bytes`` and ``Response``; ``failure`` the
        engine's failure columns (e.g. ``NotFound`` for an unknown workflow,
        ``BadRequest`` for an unknown version).
    """
    from ..macros import get

    return get(conn, "workflows.download", frame, download_dir=folder, max_workers=max_workers, progress=progress,
               journal=journal)
