"""Migration between Servers: :func:`migratable` and :func:`migrate`, each row a program on the engine.

:func:`migrate` follows the Server's migration flow (reference 6.2): for each
row, read the workflow on the source, check its owner, collections and
run-as credential on the target, download its package
(``GET /admin/v1/{appId}/package``), publish it on the target with
``sourceId`` set to the source id (``POST /admin/v1/workflows``: a second
migration of the same workflow adds a version rather than a duplicate), set
its credential, add it to collections, and reset the flag on the source.

Each row is a program (:mod:`axframe.engine.rows`); the reads several rows
need (the target's workflows, collections, users...) are made once per run
(:class:`~axframe.engine.rows.Shared`).  With a journal, a killed run resumes
each row after its last step done: a publish that was in flight is looked for
on the target (its ``sourceAppId``, or the version count of the workflow it
went to) before anything is published again, so a resumed migration never
publishes twice.

Choices where the Server's documentation is silent
--------------------------------------------------
- Content that cannot move.  The target gets what ``POST /admin/v1/workflows``
  takes (name, owner, public, worker tag, download setting, comments): it has
  no credential fields.  A source workflow whose published version runs as a
  ``Specific`` credential is *not migratable* unless the target has that
  credential (same id) or ``credentials=`` maps it to a target credential; it
  then is published and its credential set on the target with
  ``PUT /v3/workflows/{id}``.  A package whose documents name a shared
  connection alias (``aka:NAME``) that the target has no server data
  connection of is also not migratable.  ``unmovable="fail"`` (the default)
  makes such rows failures with ``ErrorType`` ``NotMigratable`` and sends them
  nothing; ``unmovable="warn"`` migrates them and says why in ``Warning``.
  DCM connections are not detected from a package (the target's
  connection-handling rules map them).
- Which target workflow is the migrated one: the one whose ``sourceAppId``
  is the source id.  Failing that, a target workflow of the same name
  (case-insensitive) and the same owner (published by hand, or by
  :func:`deploy`) makes the row fail with ``ErrorType`` ``Conflict`` unless
  ``existing="version"`` (add the package to it as a new version, through
  ``POST /v3/workflows/{id}/versions``: it carries no ``sourceAppId``) or
  ``existing="copy"`` (publish a second workflow) says otherwise; the default
  never duplicates nor overwrites without being asked.
- Defaults of a migrated workflow: the source workflow's name, owner (by
  email), public setting, download setting and published version's comments;
  no worker tag (tags name machines of one Server).  Columns and keywords
  override them.
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from .. import frames
from ..client.call import Outcome
from ..client.connection import Connection
from ..engine.journal import digest
from ..engine.rows import Program, Remember, Row
from ..engine.run import RunOptions, run_rows
from ..engine.shape import Ending, Result, Shape, Summary
from ..errors import ConfigurationError, ErrorType, FrameError, PackageError
from ..merge import merged_contract
from ..packages import read_member, read_package
from ..catalogue import find
from .migratable import migratable
from .migration_reads import MigrationReads, SourceWorkflow
from .steps import Steps, as_bool, as_email, id_list, read, refused, send, version_form

__all__ = ["migratable", "migrate", "MigrationOptions", "MIGRATE"]

_ALIAS_RE = re.compile(r"aka:([^|\"<>&\r\n]+)")
_DOCUMENTS = (".yxmd", ".yxwz", ".yxmc")
_EXISTING = ("fail", "version", "copy")
DEFAULT_WORKERS = 4

_COLUMNS = ("SourceWorkflowId", "TargetWorkflowId", "Name", "Owner", "Action", "FlagReset")
#: The frames of a migration.
MIGRATE = Shape(success=_COLUMNS + ("Warning", "StatusCode"),
                failure=_COLUMNS + ("Warning", "StatusCode", "ErrorType", "Error"),
                kinds={"FlagReset": "bool"}, failure_values={"Action": "failed"}, mask=False)
_OUTPUT = set(MIGRATE.failure)


# --------------------------------------------------------------------------
# a row
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class MigrationOptions:
    """How :func:`migrate` treats every row (see its parameters)."""

    owner: str | None = None
    collections: tuple[str, ...] = ()
    worker_tag: str | None = None
    is_public: bool | None = None
    can_download: bool | None = None
    validate: bool = False
    comments: str | None = None
    credentials: Mapping[str, str] = field(default_factory=dict)
    unmovable: str = "fail"
    existing: str = "fail"
    reset_flag: bool = False
    dry_run: bool = False
    package_dir: str | os.PathLike | None = None


@dataclass
class _Spec:
    """One row, checked: what to migrate and how."""

    workflow_id: str
    name: str | None
    owner: str | None
    collections: list
    worker_tag: str | None
    is_public: bool | None
    can_download: bool | None
    validate: bool
    comments: str | None


@dataclass
class _Draft:
    """A row's output columns and warnings as they are filled in."""

    values: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    status: int | None = None

    def fail(self, error_type: ErrorType, error: str, *, sent: bool = False, status: int | None = None) -> Ending:
        ending = Ending.failed(error_type, error, status=status, values=self.values, sent=sent)
        ending.warnings = self.warnings
        return ending

    def refused(self, outcome: Outcome, doing: str, *, sent: bool = False) -> Ending:
        ending = refused(outcome, doing, self.values, sent=sent)
        ending.warnings = self.warnings
        return ending

    def done(self) -> Ending:
        return Ending(True, self.status, values=self.values, warnings=self.warnings)


def _spec(record: dict, defaults: MigrationOptions) -> _Spec | Ending:
    """Check one row before anything is sent for it."""
    value = record.get("workflowId")
    if frames.is_missing(value):
        return Ending.refused(ErrorType.MISSING_PARAMETER,
                              "workflowId is missing: each row needs the workflow's id on the source")
    wid = frames.as_text(value).strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", wid):
        return Ending.refused(ErrorType.INVALID_PARAMETER, f"workflowId {wid!r} is not a valid workflow id")

    def pick(column: str, default: Any) -> Any:
        cell = record.get(column)
        if isinstance(cell, (list, tuple)) or not frames.is_missing(cell):
            return cell
        return default

    try:
        owner = as_email(pick("owner", defaults.owner), "owner")
        collections = id_list(pick("collections", list(defaults.collections)), "collections")
        is_public = as_bool(pick("isPublic", defaults.is_public), "isPublic")
        can_download = as_bool(pick("canDownload", defaults.can_download), "canDownload")
        validate = as_bool(pick("validate", defaults.validate), "validate")
    except ValueError as exc:
        return Ending.refused(ErrorType.INVALID_PARAMETER, str(exc))
    name, tag, comments = pick("name", None), pick("workerTag", defaults.worker_tag), pick("comments", defaults.comments)
    return _Spec(workflow_id=wid, name=None if frames.is_missing(name) else frames.as_text(name), owner=owner,
                 collections=collections, worker_tag=None if frames.is_missing(tag) else frames.as_text(tag),
                 is_public=is_public, can_download=can_download, validate=bool(validate),
                 comments=None if frames.is_missing(comments) else frames.as_text(comments))


def _connection_aliases(package: bytes) -> list[str]:
    """Shared connection aliases (``aka:NAME``) named in a package's workflow documents."""
    found: set[str] = set()
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            for name in archive.namelist():
                if name.lower().endswith(_DOCUMENTS):
                    text = read_member(archive, name).decode("utf-8", errors="replace")
                    found.update(m.group(1).strip() for m in _ALIAS_RE.finditer(text) if m.group(1).strip())
    except (zipfile.BadZipFile, OSError, RuntimeError, PackageError):
        return []
    return sorted(found)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "workflow"


def _same_named(views: list, name: str, owner_id: Any) -> list[dict]:
    """The target workflows of *owner_id* named *name* (case-insensitive, as deploy matches names)."""
    wanted = name.strip().lower()
    return [v for v in views if owner_id and v.get("ownerId") == owner_id
            and str(v.get("name") or "").strip().lower() == wanted]


def _existing_problem(existing: str, same: list[dict], name: str, owner: str) -> str | None:
    """Why a row must not publish beside the target's same-named workflows of its owner; None when it may."""
    if not same or existing == "copy":
        return None
    ids = ", ".join(str(v.get("id")) for v in same)
    if existing == "fail":
        what = "a workflow" if len(same) == 1 else f"{len(same)} workflows"
        return (f"the target already has {what} named {name!r} owned by {owner} ({ids}) that was not migrated "
                "from this one; nothing was published: give existing='version' to add this package to it as a "
                "new version, or existing='copy' to publish a second workflow")
    if len(same) > 1:
        return (f"{len(same)} workflows of {owner} on the target are named {name!r} ({ids}); existing='version' "
                "needs exactly one: give the row another name, or existing='copy'")
    return None


# --------------------------------------------------------------------------
# the run: what it knows of its two Servers, and the program of a row
# --------------------------------------------------------------------------


class _Migration:
    """What one :func:`migrate` run knows and shares about its two Servers, and each row's program."""

    def __init__(self, source: Connection, target: Connection, options: MigrationOptions, package_dir: Path):
        self.source, self.target = source, target
        self.options = options
        self.package_dir = package_dir
        self.reads = MigrationReads(source, target)

    # ------------------------------------------------------------ the program
    def program(self, spec: _Spec) -> Program:
        """Check, download, publish, finish: one row of the migration."""
        draft = _Draft({"SourceWorkflowId": spec.workflow_id, "Action": "failed"})
        checked = yield from self._check(spec, draft)
        if isinstance(checked, Ending):
            return checked
        info, user, known, into, collections = checked
        prepared = yield from self._prepare(spec, info, draft)
        if isinstance(prepared, Ending):
            return prepared
        path, credential = prepared
        by_source, ids_before, _ = known
        if self.options.dry_run:
            draft.values.update(Action="new version" if by_source.get(spec.workflow_id) or into else "created",
                                TargetWorkflowId=by_source.get(spec.workflow_id) or (into or {}).get("id") or "")
            return draft.done()
        target_id = yield from self._publish(spec, info, user, known, into, path, draft)
        if isinstance(target_id, Ending):
            return target_id
        action = yield Remember("new version" if target_id in ids_before or by_source.get(spec.workflow_id)
                                == target_id or into is not None else "created")
        draft.values.update(TargetWorkflowId=target_id)
        done = f"published as {action} of target workflow {target_id}" if action == "new version" else \
            f"published as target workflow {target_id}"
        finished = yield from self._finish(spec, info, target_id, action, done, credential, collections, draft)
        if isinstance(finished, Ending):
            return finished
        draft.values["Action"] = action
        return draft.done()

    def _check(self, spec: _Spec, draft: _Draft) -> Steps:
        """The source workflow, its owner on the target, the target workflow it goes to, its collections."""
        wid = spec.workflow_id
        info = yield from self.reads.source_workflow(wid)
        if isinstance(info, Outcome):
            return draft.refused(info, f"reading workflow {wid} on the source")
        name = spec.name or info.name
        owner = spec.owner or info.owner_email
        draft.values.update(Name=name)
        if not owner:
            return draft.fail(ErrorType.MISSING_PARAMETER, "no owner: give an 'owner' column or owner= (the source "
                                                           "owner's email could not be read)")
        draft.values["Owner"] = owner
        draft.status = 200
        user = yield from self.reads.target_user(owner)
        if isinstance(user, Outcome):
            return draft.refused(user, f"looking up the owner {owner} on the target")
        if user is None:
            return draft.fail(ErrorType.INVALID_PARAMETER,
                              f"the owner {owner} has no account on the target Server (GET /v3/users?email= found no "
                              "one); create the user there first, or give another owner")
        if user.get("isActive") is False:
            draft.warnings.append(f"the owner {owner} is deactivated on the target")
        known = yield from self.reads.target_workflows()
        if isinstance(known, Outcome):
            return draft.refused(known, "listing the target's workflows")
        same = [] if known[0].get(wid) else _same_named(known[2], name, user.get("id"))
        problem = _existing_problem(self.options.existing, same, name, owner)
        if problem:
            return draft.fail(ErrorType.CONFLICT, problem)
        into = same[0] if same and self.options.existing == "version" else None  # gets the package as a new version
        collections = yield from self.reads.target_collection_ids(spec.collections)
        if isinstance(collections, Outcome):
            return draft.refused(collections, "reading the target's collections")
        if isinstance(collections, tuple):
            return draft.fail(*collections)
        return info, user, known, into, collections

    def _prepare(self, spec: _Spec, info: SourceWorkflow, draft: _Draft) -> Steps:
        """The credential to set on the target, the package downloaded, what cannot move."""
        issues: list[str] = []
        credential = yield from self._credential(info, issues, draft)
        if isinstance(credential, Ending):
            return credential
        package = yield from self.reads.download(spec.workflow_id)
        if isinstance(package, Outcome):
            return draft.refused(package, f"downloading workflow {spec.workflow_id}'s package from the source")
        try:
            read_package(package)
        except PackageError as exc:
            return draft.fail(ErrorType.INVALID_FILE, f"the source's package of {spec.workflow_id} is not readable: "
                                                      f"{exc}")
        path = self.package_dir / f"{_safe_name(spec.workflow_id)}.yxzp"
        path.write_bytes(package)
        aliases = _connection_aliases(package)
        if aliases:
            names = yield from self.reads.target_connection_names()
            if isinstance(names, Outcome):
                return draft.refused(names, "reading the target's server data connections")
            missing = [a for a in aliases if a.lower() not in names]
            if missing:
                issues.append("it uses shared data connection" + ("s " if len(missing) > 1 else " ")
                              + ", ".join(repr(m) for m in missing) + " that the target Server does not have")
        if issues:
            if self.options.unmovable == "fail":
                return draft.fail(ErrorType.NOT_MIGRATABLE, "not migratable: " + "; ".join(issues))
            draft.warnings.extend(f"not migratable as it is: {i}" for i in issues)
        return path, credential

    def _credential(self, info: SourceWorkflow, issues: list[str], draft: _Draft) -> Steps:
        """The target credential the workflow runs as ("" for none), or the row's ending."""
        if not info.checked_credentials:
            draft.warnings.append("the legacy API does not tell a workflow's run-as credential; check it on the "
                                  "target")
            return ""
        if info.credential_type != "Specific":
            return ""
        source_cred = info.credential_id
        mapped = self.options.credentials.get(source_cred)
        candidate = mapped or source_cred
        known = (yield from self.reads.target_credential(candidate)) if candidate else False
        if isinstance(known, Outcome):
            return draft.refused(known, f"looking up credential {candidate} on the target")
        if known:
            return candidate
        if mapped:
            return draft.fail(ErrorType.INVALID_PARAMETER,
                              f"credentials= maps {source_cred} to {mapped}, which is not a credential on the target")
        issues.append(f"it runs as a specific credential ({source_cred}) that the target Server does not have; map "
                      f"it with credentials={{'{source_cred}': '<target credential id>'}}")
        return ""

    def _publish(self, spec: _Spec, info: SourceWorkflow, user: dict, known: tuple, into: dict | None, path: Path,
                 draft: _Draft) -> Steps:
        """Publish the package on the target (or add it to *into* as a version): the target workflow's id."""
        wid = spec.workflow_id
        if into is not None and not into.get("versions"):  # a listing of reduced views: read the workflow
            current = yield from read(self.target, "workflows.get", {"workflowId": into.get("id")})
            if not current.ok:
                return draft.refused(current, f"reading target workflow {into.get('id')}")
            into = current.value() or into
        before = yield Remember(self._versions(known[0].get(wid), into, known[2]))
        for _attempt in range(3):
            outcome, sent, doing = yield from self._send_package(spec, info, user, into, path, draft)
            if outcome.journal != "in_flight":
                break
            found = yield from self._published_meanwhile(wid, into, before)  # an earlier run's publish in flight
            if found is not None:
                return found
        if into is not None and spec.validate:
            draft.warnings.append("validate is not available when adding a version to a workflow (existing='version')")
        if not outcome.ok:
            return draft.refused(outcome, doing, sent=sent and outcome.error_type != ErrorType.CONNECTION)
        target_id = outcome.value() if into is None else into.get("id")
        if not isinstance(target_id, str) or not target_id:
            return draft.fail(ErrorType.HTTP_ERROR, f"publishing on the target: the answer is not a workflow id "
                                                    f"({outcome.text[:80]!r})", sent=True, status=outcome.status)
        draft.status = outcome.status
        return target_id

    def _send_package(self, spec: _Spec, info: SourceWorkflow, user: dict, into: dict | None, path: Path,
                      draft: _Draft) -> Steps:
        """Send the package once, as a new workflow or as a version of *into*: ``(outcome, sent, what it was)``."""
        can_download = spec.can_download if spec.can_download is not None else info.can_download
        comments = spec.comments if spec.comments is not None else info.comments
        if into is None:
            form = {"name": draft.values["Name"], "owner": draft.values["Owner"], "validate": spec.validate,
                    "isPublic": spec.is_public if spec.is_public is not None else info.is_public,
                    "sourceId": spec.workflow_id, "workerTag": spec.worker_tag or "", "canDownload": can_download,
                    "comments": comments}
            outcome, sent = yield from send(self.target, "admin_v1.publish", contract=form, file=str(path))
            return outcome, sent, "publishing on the target"
        form = version_form(into, name=into.get("name"), owner_id=user.get("id") or "",
                            others_may_download=bool(can_download),
                            others_can_execute=bool(into.get("othersCanExecute", True)), execution_mode="Standard",
                            comments=comments)
        outcome, sent = yield from send(self.target, "workflows.add_version", {"workflowId": into.get("id")},
                                        contract=form, file=str(path))
        return outcome, sent, f"adding a version to target workflow {into.get('id')}"

    @staticmethod
    def _versions(known_id: str | None, into: dict | None, views: list) -> dict:
        """Which target workflow a publish goes to, and how many versions it had: to tell later whether it
        happened."""
        target = known_id or (into or {}).get("id") or ""
        view = into if into is not None else next((v for v in views if v.get("id") == target), None)
        return {"target": target, "versions": len((view or {}).get("versions") or [])}

    def _published_meanwhile(self, wid: str, into: dict | None, before: dict) -> Steps:
        """After a publish in flight when an earlier run stopped: the target id if it took effect, else None."""
        if before["target"]:
            current = yield from read(self.target, "workflows.get", {"workflowId": before["target"]})
            if current.ok and len((current.value() or {}).get("versions") or []) > before["versions"]:
                return before["target"]
            return None
        listing = yield from read(self.target, "workflows.list", {"view": "Full"})
        views = [v for v in listing.value() or [] if isinstance(v, dict)] if listing.ok else []
        for view in views:
            if "sourceAppId" not in view:  # this Server lists no sourceAppId: its detail view shows it
                detail = yield from read(self.target, "workflows.get", {"workflowId": view.get("id")})
                view = detail.value() if detail.ok and isinstance(detail.value(), dict) else view
            if view.get("sourceAppId") == wid:
                return view.get("id")
        return None

    def _finish(self, spec: _Spec, info: SourceWorkflow, target_id: str, action: str, done: str, credential: str,
                collections: list[str], draft: _Draft) -> Steps:
        """Set the run-as credential, add the workflow to collections, reset the flag on the source."""
        if credential:
            problem = yield from self._set_credential(target_id, credential, done, draft)
            if problem is not None:
                return problem
        for collection_id in collections:
            problem = yield from self._add_to(collection_id, target_id, action, done, draft)
            if problem is not None:
                return problem
        if self.options.reset_flag and info.flagged:
            problem = yield from self._reset_flag(spec.workflow_id, done, draft)
            if problem is not None:
                return problem
            draft.values["FlagReset"] = True
        return None

    def _set_credential(self, target_id: str, credential: str, done: str, draft: _Draft) -> Steps:
        current = yield from read(self.target, "workflows.get", {"workflowId": target_id})
        if not current.ok:
            return draft.refused(current, f"{done}, but reading it to set its credential failed", sent=True)
        try:
            contract = merged_contract(find("workflows.update").merge,  # type: ignore[arg-type]
                                       current.value(), {"workflowCredentialType": "Specific",
                                                         "credentialId": credential})
        except ValueError as exc:
            return draft.fail(ErrorType.MERGE_FAILED, f"{done}, but its credential could not be set: {exc}", sent=True)
        update, _ = yield from send(self.target, "workflows.update", {"workflowId": target_id}, contract=contract)
        if not update.ok:
            return draft.refused(update, f"{done}, but setting its run-as credential failed", sent=True)
        return None

    def _add_to(self, collection_id: str, target_id: str, action: str, done: str, draft: _Draft) -> Steps:
        if action == "new version" and (yield from self._member(collection_id, target_id)):
            return None
        added, _ = yield from send(self.target, "collections.add_workflow", {"collectionId": collection_id},
                                   contract={"workflowId": target_id})
        if added.journal == "in_flight":  # an earlier run stopped while adding it: is it there?
            if (yield from self._member(collection_id, target_id)):
                return None
            added, _ = yield from send(self.target, "collections.add_workflow", {"collectionId": collection_id},
                                       contract={"workflowId": target_id})
        if not added.ok:
            return draft.refused(added, f"{done}, but adding it to collection {collection_id} failed", sent=True)
        return None

    def _member(self, collection_id: str, target_id: str) -> Steps:
        current = yield from read(self.target, "collections.get", {"collectionId": collection_id})
        return current.ok and target_id in ((current.value() or {}).get("workflowIds") or [])

    def _reset_flag(self, wid: str, done: str, draft: _Draft) -> Steps:
        """Reset the source's migration flag (a toggle: so only while it is set, and checked after)."""
        for _attempt in range(2):
            toggled, _ = yield from send(self.source, "admin_v1.toggle_migratable", {"appId": wid}, idempotent=False)
            if toggled.journal == "in_flight":  # an earlier run's toggle in flight: look at the flag itself
                info = yield from self.reads.source_workflow(wid)
                if isinstance(info, SourceWorkflow) and not info.flagged:
                    return None
                continue
            if not toggled.ok:
                return draft.refused(toggled, f"{done}, but resetting the migration flag on the source failed",
                                     sent=True)
            answer = toggled.value()
            if not (isinstance(answer, dict) and answer.get("isReadyForMigration") is True):
                return None  # flipped off (or the Server does not say)
            # it had been cleared meanwhile, so the toggle set it: toggle back
        return None


# --------------------------------------------------------------------------
# migrate
# --------------------------------------------------------------------------


def _check_options(source: Connection, target: Connection, options: MigrationOptions) -> MigrationOptions:
    for conn, role in ((source, "source"), (target, "target")):
        if not isinstance(conn, Connection):
            raise ConfigurationError(f"{role} must be a Connection from axframe.authenticate")
    if target.legacy:
        raise ConfigurationError("the target must be reached through /webapi (OAuth2): the owner check and "
                                 "collections use the V3 API")
    if options.unmovable not in ("fail", "warn"):
        raise ConfigurationError(f"unmovable must be 'fail' or 'warn', not {options.unmovable!r}")
    if options.existing not in _EXISTING:
        raise ConfigurationError(f"existing must be 'fail', 'version' or 'copy', not {options.existing!r}")
    if options.credentials is not None and not isinstance(options.credentials, Mapping):
        raise ConfigurationError("credentials must be a dict of source credential id to target credential id")
    try:
        from dataclasses import replace

        return replace(options, owner=as_email(options.owner, "owner"),
                       is_public=as_bool(options.is_public, "is_public"),
                       can_download=as_bool(options.can_download, "can_download"),
                       validate=bool(as_bool(options.validate, "validate")), credentials=dict(options.credentials or {}))
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None


def migrate(source: Connection, target: Connection, frame: Any = None, *, owner: str | None = None,
            collections: str | Sequence[str] | None = None, worker_tag: str | None = None,
            is_public: bool | None = None, can_download: bool | None = None, validate: bool = False,
            comments: str | None = None, credentials: Mapping[str, str] | None = None, unmovable: str = "fail",
            existing: str = "fail", reset_flag: bool = False, dry_run: bool = False,
            package_dir: str | os.PathLike | None = None, max_workers: int | None = DEFAULT_WORKERS,
            progress: bool | None = None, journal: str | os.PathLike | None = None) -> Result:
    """Move workflows from a source Server to a target Server, one row each.

    For each row, in order: read the workflow on the source
    (``GET /v3/workflows/{id}``), check its owner on the target
    (``GET /v3/users?email=``) and its collections and run-as credential,
    download its package (``GET /admin/v1/{appId}/package``), publish it on the
    target with ``sourceId`` = the source id (``POST /admin/v1/workflows``: if
    the target already has a workflow with that source id, it gets a new
    version; a target workflow of the same name and owner without it is dealt
    with as *existing* says), set its credential, add it to collections
    (``POST /v3/collections/{id}/workflows``), and, with ``reset_flag``, reset
    the source's migration flag (``PUT /admin/v1/workflows/migratable/{appId}``,
    which flips it, so only when it is set).  Rows run concurrently.

    Parameters
    ----------
    source, target : Connection
        Curators' connections.  The source may be a legacy (OAuth1)
        connection; the target must be OAuth2 (``/webapi``).
    frame : pandas.DataFrame, optional
        One row per workflow, with ``RecordID`` and ``workflowId`` (the id on
        the source); optional columns, named like the publish form, override
        the keywords per row: ``owner`` (email on the target), ``name``,
        ``collections`` (target collection ids or names: a list, JSON array
        text, or comma-separated), ``workerTag``, ``isPublic``,
        ``canDownload``, ``validate``, ``comments``.  By default, every
        workflow :func:`migratable` lists.
    owner : str, optional
        The owner's email on the target (default: the source owner's email).
    collections : str or list of str, optional
        Target collections (ids or names) to add every workflow to.
    worker_tag : str, optional
        The target worker tag (default: none).
    is_public, can_download : bool, optional
        Default: as on the source.
    validate : bool
        Ask the target to validate each workflow on publishing.
    comments : str, optional
        Version comments (default: the source published version's).
    credentials : dict, optional
        Source credential id to target credential id, for workflows that run
        as a specific credential.
    unmovable : {"fail", "warn"}
        What to do with a workflow that cannot move as it is (a specific
        credential the target lacks, a shared data connection the target has
        no connection of that name for): fail the row with ``ErrorType``
        ``NotMigratable`` without sending it anything (default), or migrate
        it and say why in ``Warning``.
    existing : {"fail", "version", "copy"}
        What to do when the target has no workflow migrated from this one
        (``sourceAppId``; that match always comes first) but has one of the
        same name (case-insensitive) and the same owner, published by hand or
        by :func:`deploy`: fail the row with ``ErrorType`` ``Conflict``, naming
        it, and publish nothing (default: a migration never duplicates nor
        overwrites a workflow unless asked); add the package to it as a new
        published version (``POST /v3/workflows/{id}/versions``, keeping its
        name and settings; several such workflows fail the row); or publish a
        second workflow beside it.  Workflows of other owners never match.
    reset_flag : bool
        Reset the migration flag on the source after a successful migration.
    dry_run : bool
        Only read (both Servers, packages included): the success frame shows
        what each row would do.
    package_dir : path, optional
        Keep the downloaded packages there (default: a temporary folder,
        removed afterwards).
    max_workers : int, optional
        Rows in flight at once (default 4).
    progress : bool, optional
        Show a progress bar (default: at a terminal or in a notebook only).
    journal : path, optional
        Record each row's steps: running the same frame again with the same
        journal after a crash resumes each row after its last step done,
        and never publishes a workflow twice.

    Returns
    -------
    Result
        Unpacks into ``(success, failure)``: ``RecordID``, the input columns
        unchanged, ``SourceWorkflowId``, ``TargetWorkflowId``, ``Name``,
        ``Owner``, ``Action`` (``created`` or ``new version``, of the workflow
        with the source id or, with ``existing="version"``, of the same-named
        one; ``failed`` in the failure frame), ``FlagReset``, ``Warning``,
        ``StatusCode``, and in the failure frame ``ErrorType`` and
        ``Error``.  A failure after the publish (a collection, the flag)
        keeps ``TargetWorkflowId`` and says what was done in ``Error``;
        running the row again adds a version.

    Raises
    ------
    ConfigurationError, FrameError
        Before anything is sent: a legacy target, a bad option, a frame
        without ``RecordID`` or ``workflowId``.
    """
    try:
        shared = id_list(collections, "collections") if collections is not None else []
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    options = MigrationOptions(owner, tuple(shared), worker_tag, is_public, can_download, validate, comments,
                               credentials if credentials is not None else {}, unmovable, existing, reset_flag,
                               dry_run, package_dir)
    return migrate_with(source, target, frame, options, RunOptions(max_workers, progress, journal))


def migrate_with(source: Connection, target: Connection, frame: Any, options: MigrationOptions,
                 run: RunOptions) -> Result:
    """:func:`migrate` with its options as objects."""
    started = time.perf_counter()
    options = _check_options(source, target, options)
    if frame is None:
        frame = migratable(source, details=False)
    df = frames.prepare_input(frame)
    df = df.drop(columns=[c for c in df.columns if c in _OUTPUT])
    if "workflowId" not in df.columns:
        hint = " (there is an 'id' column: rename it to 'workflowId')" if "id" in df.columns else ""
        raise FrameError(f"the frame has no 'workflowId' column{hint}: each row needs the workflow's id on the source")
    records = df.to_dict("records")
    refused_rows, specs = _checked_rows(records, options)
    own_dir = options.package_dir is None
    folder = Path(tempfile.mkdtemp(prefix="axframe-migrate-")) if own_dir else Path(options.package_dir)  # type: ignore[arg-type]
    folder.mkdir(parents=True, exist_ok=True)
    migration = _Migration(source, target, options, folder)
    rows = [Row(pos, frames.record_key(records[pos][frames.RECORD_ID]), functools.partial(migration.program, spec),
                digest("migrate", spec.__dict__, options.existing) if run.journal is not None else "")
            for pos, spec in sorted(specs.items())]
    if options.dry_run:
        run = run.but(journal=None)
    try:
        result, _ = run_rows(source, df, rows, refused_rows, spec=MIGRATE, summary=Summary("migrate",
                             dry_run=options.dry_run), options=run, action="migrate", started=started, also=(target,))
    finally:
        if own_dir:
            shutil.rmtree(folder, ignore_errors=True)
    return result


def _checked_rows(records: list[dict], options: MigrationOptions) -> tuple[dict[int, Ending], dict[int, _Spec]]:
    """Rows refused before anything is sent, and the others' specs (one row per source workflow)."""
    refused_rows: dict[int, Ending] = {pos: Ending.refused(p.error_type, p.error) for pos, p in
                                       frames.record_id_problems([r[frames.RECORD_ID] for r in records]).items()}
    specs: dict[int, _Spec] = {}
    first_row: dict[str, int] = {}
    for pos, record in enumerate(records):
        if pos in refused_rows:
            continue
        spec = _spec(record, options)
        if isinstance(spec, Ending):
            refused_rows[pos] = spec
        elif spec.workflow_id in first_row:
            refused_rows[pos] = Ending.refused(ErrorType.INVALID_PARAMETER,
                                               f"workflow {spec.workflow_id} is already migrated by RecordID "
                                               f"{records[first_row[spec.workflow_id]][frames.RECORD_ID]!r} in this run")
        else:
            first_row[spec.workflow_id] = pos
            specs[pos] = spec
    for pos, ending in refused_rows.items():
        wid = records[pos].get("workflowId")
        ending.values.setdefault("SourceWorkflowId", "" if frames.is_missing(wid) else frames.as_text(wid))
    return refused_rows, specs
