"""Deployment from a folder: every ``.yxzp`` published as a new workflow, a new version, or not at all.

Each file is a row, and each row a program on the engine: find its workflow
on the Server (the owner's workflow named like the file, or the one the
folder's manifest names), compare content hashes, and publish only what
changed.  With a journal, a killed deployment resumes each file after its
last step done; a publish that was in flight is looked for on the Server (a
published version carrying the file's hash) before anything is published
again, so a resumed deployment publishes nothing twice.

Choices where the Server's documentation is silent
--------------------------------------------------
- Which deployed package is which: a file's workflow is the one named like
  the file (its name without ``.yxzp``), owned by the deploying owner, unless
  the folder's manifest (``axframe-deploy.json``) names another workflow id or
  name.  The content hash (:func:`axframe.packages.content_hash`) is recorded
  in the comments of every version deploy publishes (``axframe-sha256:<hex>``);
  a published version without that marker is downloaded and hashed instead.
  Deploy never writes into the folder.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from .. import frames
from ..client.call import Outcome
from ..client.connection import Connection
from ..engine.journal import digest
from ..engine.rows import Program, Row, Shared
from ..engine.run import RunOptions, run_rows
from ..engine.shape import Ending, Result, Shape, Summary
from ..errors import ConfigurationError, ErrorType, ListingError, PackageError
from ..packages import content_hash, read_package
from .steps import Steps, id_list, match_collections, published, read, refused, send, version_form

__all__ = ["deploy", "DeployOptions", "DEPLOY", "MANIFEST_NAME", "HASH_MARKER"]

log = logging.getLogger("axframe")

MANIFEST_NAME = "axframe-deploy.json"
HASH_MARKER = "axframe-sha256:"
_HASH_RE = re.compile(re.escape(HASH_MARKER) + r"([0-9a-f]{64})")
_MANIFEST_KEYS = {"name", "workflowId", "owner", "collections"}
DEFAULT_WORKERS = 4

_COLUMNS = ("Path", "Name", "WorkflowId", "Action", "Version", "ContentHash", "ServerHash")
#: The frames of a deployment.
DEPLOY = Shape(success=_COLUMNS + ("Warning", "StatusCode"),
               failure=_COLUMNS + ("Warning", "StatusCode", "ErrorType", "Error"),
               kinds={"Version": "int"}, failure_values={"Action": "failed"}, mask=False)


@dataclass(frozen=True)
class DeployOptions:
    """How :func:`deploy` publishes (see its parameters)."""

    owner: str
    recursive: bool = True
    manifest: str | os.PathLike | None = MANIFEST_NAME
    dry_run: bool = False
    collections: tuple[str, ...] = ()
    is_public: bool = False
    others_may_download: bool = True
    others_can_execute: bool = True
    execution_mode: str = "Standard"
    worker_tag: str = ""
    credential_id: str | None = None
    comments: str | None = None


@dataclass
class _File:
    """One package of the folder, as its row's program sees it."""

    path: Path
    rel: str
    name: str
    digest: str = ""
    workflow_id: str | None = None
    owner: str | None = None
    collections: list = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        return {"Path": self.rel, "Name": self.name, "Action": "failed", "ContentHash": self.digest}


# --------------------------------------------------------------------------
# the folder
# --------------------------------------------------------------------------


def _load_manifest(folder: Path, manifest: str | os.PathLike | None) -> dict[str, dict]:
    if manifest is None:
        return {}
    path = Path(manifest)
    if not path.is_absolute():
        path = folder / path
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"the manifest {path} is not valid JSON: {exc}") from None
    entries = data.get("workflows") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise ConfigurationError(f"the manifest {path} must be an object with a 'workflows' object of "
                                 "file paths to settings")
    out: dict[str, dict] = {}
    for rel, settings in entries.items():
        if not isinstance(settings, dict):
            raise ConfigurationError(f"manifest entry {rel!r} must be an object")
        unknown = set(settings) - _MANIFEST_KEYS
        if unknown:
            raise ConfigurationError(f"manifest entry {rel!r} has unknown keys {', '.join(sorted(unknown))} "
                                     f"(known: {', '.join(sorted(_MANIFEST_KEYS))})")
        out[Path(rel).as_posix()] = settings
    return out


def _package_files(folder: Path, recursive: bool) -> list[Path]:
    found = []
    walker = os.walk(folder) if recursive else [(str(folder), [], os.listdir(folder))]
    for root, dirs, names in walker:
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            if name.lower().endswith(".yxzp") and not name.startswith("."):
                path = Path(root) / name
                if path.is_file():
                    found.append(path)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix().lower())


def _marker(comments: Any) -> str:
    match = _HASH_RE.search(comments) if isinstance(comments, str) else None
    return match.group(1) if match else ""


def _no_account(owner: str) -> str:
    return (f"the owner {owner} has no account on the Server; create the user there first, or give another "
            "owner (an email or user id of an existing user)")


def _files(root: Path, options: DeployOptions) -> tuple[list[_File], dict[int, Ending]]:
    """The folder's packages, and those refused before anything is sent (unreadable, clashing names)."""
    entries = _load_manifest(root, options.manifest)
    paths = _package_files(root, options.recursive)
    known = {p.relative_to(root).as_posix() for p in paths}
    for rel in entries:
        if rel not in known:
            log.warning("the manifest names %s, which is not a .yxzp in %s", rel, root)
    items: list[_File] = []
    refused_files: dict[int, Ending] = {}
    for pos, path in enumerate(paths):
        rel = path.relative_to(root).as_posix()
        entry = entries.get(rel, {})
        item = _File(path=path, rel=rel, name=str(entry.get("name") or path.stem).strip())
        item.workflow_id = str(entry["workflowId"]).strip() if entry.get("workflowId") else None
        item.owner = str(entry["owner"]).strip() if entry.get("owner") else None
        items.append(item)
        try:
            item.collections = id_list(entry["collections"], "collections") if "collections" in entry \
                else list(options.collections)
        except ValueError as exc:
            refused_files[pos] = Ending.refused(ErrorType.INVALID_PARAMETER, f"manifest entry {rel}: {exc}")
            continue
        try:
            data = path.read_bytes()
            read_package(data)
            item.digest = content_hash(data)
        except (OSError, PackageError) as exc:
            refused_files[pos] = Ending.refused(ErrorType.INVALID_FILE,
                                                f"{rel} is not a readable workflow package: {exc}")
    _refuse_clashes(items, refused_files, options.owner)
    for pos, ending in refused_files.items():
        ending.values.update(items[pos].values())
    return items, refused_files


def _refuse_clashes(items: list[_File], refused_files: dict[int, Ending], owner: str) -> None:
    by_name: dict[tuple[str, str], list[int]] = {}
    for pos, item in enumerate(items):
        if pos not in refused_files and not item.workflow_id:
            by_name.setdefault(((item.owner or owner).lower(), item.name.lower()), []).append(pos)
    for positions in by_name.values():
        if len(positions) > 1:
            clash = ", ".join(items[p].rel for p in positions)
            for pos in positions:
                refused_files[pos] = Ending.refused(ErrorType.INVALID_PARAMETER,
                                                    f"{len(positions)} files would publish the workflow "
                                                    f"{items[pos].name!r} ({clash}); name them in {MANIFEST_NAME}")


# --------------------------------------------------------------------------
# the run and the program of a file
# --------------------------------------------------------------------------


class _Deployment:
    """What one deployment shares across its files (owners, collections, owned workflows), and each file's program."""

    def __init__(self, conn: Connection, options: DeployOptions):
        self.conn = conn
        self.options = options
        self.shared = Shared()
        self.settings = {"isPublic": bool(options.is_public), "othersMayDownload": bool(options.others_may_download),
                         "othersCanExecute": bool(options.others_can_execute),
                         "executionMode": options.execution_mode, "workerTag": options.worker_tag or "",
                         "credentialId": options.credential_id or "",
                         "workflowCredentialType": "Specific" if options.credential_id else "Default"}

    # ------------------------------------------------------------ shared reads
    def user_id(self, owner: str) -> Steps:
        """The id of a user given by email or id (None: no such user), or the outcome that failed."""
        def make() -> Steps:
            if "@" in owner:
                outcome = yield from read(self.conn, "users.list", {"email": owner})
                if not outcome.ok:
                    return outcome
                match = [u for u in outcome.value() or [] if isinstance(u, dict)
                         and str(u.get("email", "")).lower() == owner.lower()]
                return match[0].get("id") if match else None
            outcome = yield from read(self.conn, "users.get", {"userId": owner})
            if outcome.status == 404:
                return None
            if outcome.status in (401, 403):
                return owner  # a non-curator cannot look users up: the Server checks the id on publishing
            return (outcome.value() or {}).get("id") if outcome.ok else outcome

        return (yield from self.shared.get(("user", owner.lower()), make))

    def owned(self, owner_id: str) -> Steps:
        def make() -> Steps:
            outcome = yield from read(self.conn, "workflows.list", {"ownerId": owner_id, "view": "Full"})
            return [w for w in outcome.value() or [] if isinstance(w, dict)] if outcome.ok else outcome

        return (yield from self.shared.get(("owned", owner_id), make))

    def collections(self, wanted: list[str]) -> Steps:
        if not wanted:
            return []

        def make() -> Steps:
            outcome = yield from read(self.conn, "collections.list")
            return [c for c in outcome.value() or [] if isinstance(c, dict)] if outcome.ok else outcome

        known = yield from self.shared.get("collections", make)
        return known if isinstance(known, Outcome) else match_collections(known, wanted, "the Server")

    def server_hash(self, view: dict) -> Steps:
        """The published version's content hash (from its comments, else by downloading it): ``(hash, status,
        the outcome that failed or None)``."""
        version = published(view)
        marked = _marker(version.get("comments"))
        if marked:
            return marked, 200, None
        outcome = yield from read(self.conn, "workflows.download",
                                  {"workflowId": view.get("id"), "versionId": version.get("versionId")})
        if not outcome.ok or outcome.content is None:
            return "", outcome.status, outcome
        return content_hash(outcome.content), outcome.status, None

    # ------------------------------------------------------------ the program
    def program(self, item: _File) -> Program:
        """Find the file's workflow, compare, and publish what changed."""
        values = item.values()
        owner = item.owner or self.options.owner
        found = yield from self._find(item, owner, values)
        if isinstance(found, Ending):
            return found
        owner_id, collections, view, status = found
        comments = f"{self.options.comments or 'Deployed by axframe from ' + item.rel} [{HASH_MARKER}{item.digest}]"
        if view is None:
            values["Action"] = "created"
            if self.options.dry_run:
                return Ending(True, status, values=values)
            return (yield from self._create(item, owner_id, collections, comments, values))
        return (yield from self._update(item, view, owner_id, comments, values, status))

    def _find(self, item: _File, owner: str, values: dict) -> Steps:
        """The owner's id, the collections' ids, the file's workflow on the Server (None: new), a status."""
        owner_id = yield from self.user_id(owner)
        if isinstance(owner_id, Outcome):
            return refused(owner_id, f"looking up the owner {owner}", values)
        if owner_id is None:
            return Ending.failed(ErrorType.INVALID_PARAMETER, _no_account(owner), values=values, sent=False)
        collections = yield from self.collections(item.collections or [])
        if isinstance(collections, Outcome):
            return refused(collections, "reading the collections", values)
        if isinstance(collections, tuple):
            return Ending.failed(*collections, values=values, sent=False)
        if item.workflow_id:
            outcome = yield from read(self.conn, "workflows.get", {"workflowId": item.workflow_id})
            if outcome.status == 404:
                return Ending.failed(ErrorType.NOT_FOUND, f"the manifest maps {item.rel} to workflow "
                                                          f"{item.workflow_id}, which is not on the Server",
                                     status=404, values=values, sent=False)
            if not outcome.ok:
                return refused(outcome, f"reading workflow {item.workflow_id}", values)
            return owner_id, collections, outcome.value() or {}, outcome.status
        view = yield from self._same_named(item, owner, owner_id, values)
        if isinstance(view, Ending):
            return view
        return owner_id, collections, view, 200

    def _same_named(self, item: _File, owner: str, owner_id: str, values: dict) -> Steps:
        owned = yield from self.owned(owner_id)
        if isinstance(owned, Outcome):
            return refused(owned, f"listing the workflows of {owner}", values)
        same = [w for w in owned if str(w.get("name", "")).strip().lower() == item.name.strip().lower()]
        if len(same) > 1:
            return Ending.failed(ErrorType.CONFLICT, f"{len(same)} workflows of {owner} are named {item.name!r} "
                                                     f"({', '.join(str(w.get('id')) for w in same)}); map {item.rel} "
                                                     f"to one in {MANIFEST_NAME}", status=200, values=values,
                                 sent=False)
        view = same[0] if same else None
        if view is not None and not view.get("versions"):  # a listing of reduced views: read the workflow
            outcome = yield from read(self.conn, "workflows.get", {"workflowId": view.get("id")})
            if not outcome.ok:
                return refused(outcome, f"reading workflow {view.get('id')}", values)
            view = outcome.value() or {}
        return view

    def _create(self, item: _File, owner_id: str, collections: list[str], comments: str, values: dict) -> Steps:
        settings = self.settings
        form = {"name": item.name, "ownerId": owner_id, "isPublic": settings["isPublic"],
                "isReadyForMigration": False, "othersMayDownload": settings["othersMayDownload"],
                "othersCanExecute": settings["othersCanExecute"], "executionMode": settings["executionMode"],
                "workflowCredentialType": settings["workflowCredentialType"], "comments": comments,
                "workerTag": settings["workerTag"]}
        if settings["credentialId"]:
            form["credentialId"] = settings["credentialId"]
        if collections:
            form["collectionIds"] = collections
        outcome, sent = yield from send(self.conn, "workflows.upload", contract=form, file=str(item.path))
        if outcome.journal == "in_flight":  # an earlier run stopped while publishing it: is it there?
            existing = yield from self._published_meanwhile(item, owner_id)
            if existing is not None:
                values.update(WorkflowId=existing, Version=1)
                return Ending(True, 200, values=values, note="reconciled: an earlier run had published it")
            outcome, sent = yield from send(self.conn, "workflows.upload", contract=form, file=str(item.path))
        if not outcome.ok:
            return refused(outcome, "publishing", values, sent=sent and outcome.error_type != ErrorType.CONNECTION)
        new_id = outcome.value()
        values.update(WorkflowId=new_id if isinstance(new_id, str) else "", Version=1)
        return Ending(True, outcome.status, values=values)

    def _published_meanwhile(self, item: _File, owner_id: str) -> Steps:
        """The id of the owner's workflow named like *item* whose published version carries its hash, if any."""
        outcome = yield from read(self.conn, "workflows.list", {"ownerId": owner_id, "view": "Full"})
        for view in outcome.value() or [] if outcome.ok else []:
            if isinstance(view, dict) and str(view.get("name", "")).strip().lower() == item.name.strip().lower() \
                    and _marker(published(view).get("comments")) == item.digest:
                return view.get("id")
        return None

    def _update(self, item: _File, view: dict, owner_id: str, comments: str, values: dict, status: int) -> Steps:
        """Compare the file with the workflow's published version; publish it as a new version when it differs."""
        workflow_id = str(view.get("id") or item.workflow_id)
        values.update(WorkflowId=workflow_id, Name=view.get("name") or item.name)
        values["Version"] = published(view).get("versionNumber") or 0
        server_hash, hashed_status, failed = yield from self.server_hash(view)
        if failed is not None:
            return refused(failed, f"downloading the published version of {workflow_id} to compare it", values)
        values["ServerHash"] = server_hash
        status = hashed_status or status
        if server_hash == item.digest:
            values["Action"] = "unchanged"
            return Ending(True, status, values=values)
        values["Action"] = "new version"
        if self.options.dry_run:
            return Ending(True, status, values=values)
        settings = self.settings
        form = version_form(view, name=view.get("name") or item.name, owner_id=view.get("ownerId") or owner_id,
                            others_may_download=bool(view.get("othersMayDownload", settings["othersMayDownload"])),
                            others_can_execute=bool(view.get("othersCanExecute", settings["othersCanExecute"])),
                            execution_mode=self.options.execution_mode, comments=comments)
        return (yield from self._add_version(item, workflow_id, form, values))

    def _add_version(self, item: _File, workflow_id: str, form: dict, values: dict) -> Steps:
        """Publish *item* as a new version of *workflow_id*, unless an earlier run's publish of it took effect."""
        outcome, sent = yield from send(self.conn, "workflows.add_version", {"workflowId": workflow_id},
                                        contract=form, file=str(item.path))
        if outcome.journal == "in_flight":  # an earlier run stopped while adding it: is the version there?
            reconciled = yield from self._version_meanwhile(item, workflow_id, values)
            if reconciled is not None:
                return reconciled
            outcome, sent = yield from send(self.conn, "workflows.add_version", {"workflowId": workflow_id},
                                            contract=form, file=str(item.path))
        if not outcome.ok:
            return refused(outcome, f"adding a version to {workflow_id}", values,
                           sent=sent and outcome.error_type != ErrorType.CONNECTION)
        answer = outcome.value() or {}
        numbers = [v.get("versionNumber") or 0 for v in answer.get("versions") or [] if isinstance(v, dict)]
        values["Version"] = published(answer).get("versionNumber") or (max(numbers) if numbers else 0)
        return Ending(True, outcome.status, values=values)

    def _version_meanwhile(self, item: _File, workflow_id: str, values: dict) -> Steps:
        """The row's ending if the workflow's published version carries *item*'s hash already, else None."""
        current = yield from read(self.conn, "workflows.get", {"workflowId": workflow_id})
        if not (current.ok and _marker(published(current.value() or {}).get("comments")) == item.digest):
            return None
        values["Version"] = published(current.value() or {}).get("versionNumber") or 0
        return Ending(True, current.status, values=values,
                      note="reconciled: an earlier run had published this version")


# --------------------------------------------------------------------------
# deploy
# --------------------------------------------------------------------------


def _check(conn: Connection, folder: str | os.PathLike, options: DeployOptions) -> Path:
    if not isinstance(conn, Connection):
        raise ConfigurationError("conn must be a Connection from axframe.authenticate")
    if conn.legacy:
        raise ConfigurationError("deploy uses the V3 API: connect through /webapi (OAuth2)")
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ConfigurationError(f"no such folder: {root}")
    if options.execution_mode not in ("Safe", "SemiSafe", "Standard"):
        raise ConfigurationError(f"execution_mode must be Safe, SemiSafe or Standard, not {options.execution_mode!r}")
    if not isinstance(options.owner, str) or not options.owner.strip():
        raise ConfigurationError("owner is needed: the email or user id of the workflows' owner")
    return root


def _check_owner(conn: Connection, deployment: "_Deployment", owner: str, collections: Sequence[str]) -> None:
    """The owner and the collections exist, before anything is sent (the answers are kept for the rows)."""
    from ..engine.rows import Engine

    found: dict[str, Any] = {}

    def program() -> Program:
        found["owner"] = yield from deployment.user_id(owner)
        found["collections"] = yield from deployment.collections(list(collections))
        return Ending(True)

    Engine(conn, workers=1).run([Row(0, "set-up", program)])
    owner_id, matched = found["owner"], found["collections"]
    if isinstance(owner_id, Outcome):
        hint = " (only Curators can look users up by email: give the owner's user id instead)" \
            if owner_id.status in (401, 403) else ""
        raise ListingError(f"looking up the owner {owner}: {owner_id.error}{hint}", owner_id.status)
    if owner_id is None:
        raise ConfigurationError(_no_account(owner))
    if isinstance(matched, Outcome):
        raise ListingError(f"reading the collections: {matched.error}", matched.status)
    if isinstance(matched, tuple):
        raise ConfigurationError(matched[1])


def deploy(conn: Connection, folder: str | os.PathLike, *, owner: str, recursive: bool = True,
           manifest: str | os.PathLike | None = MANIFEST_NAME, dry_run: bool = False,
           collections: str | Sequence[str] | None = None, is_public: bool = False,
           others_may_download: bool = True, others_can_execute: bool = True, execution_mode: str = "Standard",
           worker_tag: str = "", credential_id: str | None = None, comments: str | None = None,
           max_workers: int | None = DEFAULT_WORKERS, progress: bool | None = None,
           journal: str | os.PathLike | None = None) -> Result:
    """Publish every ``.yxzp`` of a folder: a new workflow, a new version, or nothing when unchanged.

    A file's workflow is the one of *owner* named like the file (its name
    without ``.yxzp``; case-insensitive), or the one the folder's manifest
    names.  When there is none, the file is published as a new workflow
    (``POST /v3/workflows``); when its content hash differs from the
    published version's, as a new published version
    (``POST /v3/workflows/{id}/versions``, keeping the workflow's name, owner
    and settings); otherwise nothing is sent.  Each version deploy publishes
    carries ``axframe-sha256:<hash>`` in its comments; a published version
    without it is downloaded and hashed.

    Parameters
    ----------
    conn : Connection
        An OAuth2 connection of a Curator, or of the owner for their own
        workflows (then give *owner* as their user id: only Curators can look
        users up by email).
    folder : path
        The folder to deploy; hidden folders (``.git``) are skipped.
    owner : str
        The owner's email or user id.  Raises when the Server has no such
        user (an id is not checked on a non-curator's connection).
    recursive : bool
        Include sub-folders (default True).
    manifest : path, optional
        A JSON file (relative to the folder by default:
        ``axframe-deploy.json``), read when present, never written:
        ``{"workflows": {"sub/file.yxzp": {"name": ..., "workflowId": ...,
        "owner": ..., "collections": [...]}}}``.  Paths use ``/``.
    dry_run : bool
        Only read: the success frame shows what each file would do.
    collections : str or list of str, optional
        Collections (ids or names) a newly created workflow joins.
    is_public, others_may_download, others_can_execute, execution_mode, worker_tag, credential_id
        Settings of newly created workflows (``credential_id`` makes them run
        as that credential).  New versions keep the workflow's settings.
    comments : str, optional
        Version comments (default ``Deployed by axframe from <path>``); the
        hash marker is appended.
    max_workers : int, optional
        Files in flight at once (default 4).
    progress : bool, optional
        Show a progress bar.
    journal : path, optional
        Record each file's steps: running the same deployment again with
        the same journal after a crash resumes it and publishes nothing twice.

    Returns
    -------
    Result
        One row per file: ``RecordID``, ``Path`` (relative, with ``/``),
        ``Name``, ``WorkflowId``, ``Action`` (``created``, ``new version``,
        ``unchanged``; ``failed`` in the failure frame), ``Version`` (the
        published version number), ``ContentHash``, ``ServerHash`` (the
        published version's before the run), ``Warning``, ``StatusCode``,
        and ``ErrorType``/``Error`` in the failure frame.

    Raises
    ------
    ConfigurationError
        Before anything is sent: no such folder, a legacy connection, an
        unknown owner or collection, a bad manifest or option.
    """
    try:
        shared = tuple(id_list(collections, "collections")) if collections is not None else ()
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    options = DeployOptions(owner.strip() if isinstance(owner, str) else owner, recursive, manifest, dry_run, shared,
                            is_public, others_may_download, others_can_execute, execution_mode, worker_tag,
                            credential_id, comments)
    return deploy_with(conn, folder, options, RunOptions(max_workers, progress, journal))


def deploy_with(conn: Connection, folder: str | os.PathLike, options: DeployOptions, run: RunOptions) -> Result:
    """:func:`deploy` with its options as objects."""
    started = time.perf_counter()
    root = _check(conn, folder, options)
    deployment = _Deployment(conn, options)
    _check_owner(conn, deployment, options.owner, options.collections)
    items, refused_files = _files(root, options)
    rows = [Row(pos, item.rel, functools.partial(deployment.program, item),
                digest("deploy", item.rel, item.digest, item.name, item.workflow_id) if run.journal is not None else "")
            for pos, item in enumerate(items) if pos not in refused_files]
    df = pd.DataFrame({frames.RECORD_ID: pd.array(range(1, len(items) + 1), dtype="int64")})
    if options.dry_run:
        run = run.but(journal=None)
    result, _ = run_rows(conn, df, rows, refused_files, spec=DEPLOY, summary=Summary("deploy", dry_run=options.dry_run),
                         options=run, action="deploy", started=started)
    return result
