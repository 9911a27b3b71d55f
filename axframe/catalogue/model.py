"""The catalogue's vocabulary: an :class:`Endpoint` and the behaviour declared with it (natural key,
membership, paging, job path), its parameters (:class:`Param`), and the constants the tables and callers share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import schemas
from ..merge import Merge

MACROS = ("get", "create", "post", "delete")

#: The output formats of a job (``GET /v1/jobs/{jobId}/output/{outputId}?format=``), reference 6.1.
FORMATS = ("Raw", "Yxdb", "Shp", "Kml", "Tab", "Mif", "Dbf", "Csv", "Pdf", "Docx", "Xlsx", "Html", "Tde", "Zip")
#: The entity types of the audit log (reference 6.5).
AUDIT_ENTITIES = ("AppInfo", "Collection", "Credential", "Subscription", "User", "UserGroup")
#: A user's role (reference 4.4; the Swagger states it in prose only).
ROLES = ("NoAccess", "Viewer", "Member", "Artisan", "Curator", "Evaluated")
#: The V3 operations an older Server may not serve: absent from the older V3 surface on record (the generated
#: client in the mcp-server-alteryx 0.2.22 wheel, issue 17; ``tools/derive_versions.py`` derives the same set).
#: Before sending one, the client asks the Server's own Swagger document whether it serves it (client/server.py).
NOT_ON_EVERY_SERVER = frozenset({
    "Credentials_AddCredential", "Credentials_UpdateCredential", "DCME_ShareDcmConnectionForCollaboration",
    "Jobs_GetJobsInQueue", "Jobs_CancelJob", "Usage_GetUsage", "Usage_UploadUsageEventsCleanupFile"})



@dataclass(frozen=True)
class NaturalKey:
    """How to find the record a create makes, when its outcome is unknown (:mod:`axframe.engine.reconcile`).

    Attributes
    ----------
    lookup : str
        The catalogue name of the listing to look in.
    field : str
        The body (or form) field holding the key.
    query : str or None
        The listing's query parameter that filters by the key, if it has one.
    listed : str
        The field of a listed record that holds the key.
    casefold : bool
        Keys compare without letter case (emails, names).
    detail : str or None
        Where a listing does not show the key (some Servers leave ``sourceAppId`` out of their workflow
        lists), the catalogue name of the detail view that may; the listing's records that match the
        call on *same* are read one by one.
    same : tuple of str
        ``(body or form field, listed field)`` pairs that a record made by the call must match (a
        workflow's name and owner).
    created : str or None
        The listed field of a record's creation time: with no key shown anywhere, one record that
        matches *same* and was created after the call went out is the one it made.
    """

    lookup: str
    field: str
    query: str | None
    listed: str
    casefold: bool = True
    detail: str | None = None
    same: tuple[tuple[str, str], ...] = ()
    created: str | None = None


@dataclass(frozen=True)
class Paging:
    """How a listing pages (``page``/``pageSize``), and the fields of its items.

    Attributes
    ----------
    alias : str
        The short name :func:`axframe.admin_listing` knows it by (``"users"``).
    first : int or None
        The first page's number when documented (0 for ``workflows/all``); None when a Server must
        be asked (the pager works it out).
    fields : tuple of str
        The fields of an item, ``parent.child`` for an object's fields, in the Server's order (as
        the emulator serves them): the columns of an empty listing.
    """

    alias: str
    first: int | None = None
    fields: tuple[str, ...] = ("id",)


@dataclass(frozen=True)
class Membership:
    """How to tell whether an add took effect: its parent's detail view lists the member (:mod:`axframe.engine.reconcile`).

    An add (a user into a group, a group into a collection, a share) whose outcome is unknown is settled by
    reading the parent once: every member the call adds is there, it took effect; none is, it did not (and is
    sent again, after a second look); some are, the row stays ``OutcomeUnknown``.

    Attributes
    ----------
    detail : str
        The catalogue name of the parent's detail read; its one path parameter is the add's.
    listed : str
        The field of the detail that holds the members.
    item : str or None
        The key of each listed member that holds its id (None: the list holds the ids themselves).
    body : str or None
        The body field holding the id the call adds (None: the body is a list of ids).
    """

    detail: str
    listed: str
    item: str | None
    body: str | None


@dataclass(frozen=True)
class JobPath:
    """A path that queues jobs: which API it is, what follows the job, what settings it takes.

    Attributes
    ----------
    api : str
        ``"v3"``, ``"v1"`` or ``"user_v2"``.
    status : str
        The catalogue name of the endpoint that reads the job.
    settings : tuple of str
        The optional settings the body may carry besides the answers.
    workflow_param : str
        The path parameter naming the workflow (``workflowId`` or ``appId``).
    """

    api: str
    status: str
    settings: tuple[str, ...]
    workflow_param: str


@dataclass(frozen=True)
class Param:
    """A path, query or form parameter."""

    name: str
    location: str  # "path", "query" or "form"
    type: str = "string"
    required: bool = False
    enum: tuple[str, ...] | None = None
    format: str | None = None
    json_text: bool = False  # a form field that carries a JSON array as text

    @property
    def schema(self) -> dict:
        out: dict[str, Any] = {"type": "string" if self.type == "file" else self.type}
        if self.enum:
            out["enum"] = list(self.enum)
        if self.format:
            out["format"] = self.format
        if self.json_text:
            out = {"type": "array", "items": {"type": "string"}}
        return out


@dataclass(frozen=True)
class Endpoint:
    """One operation of the Server's API, with everything derived from it."""

    name: str
    operation_id: str | None
    method: str
    path: str
    macro: str
    doc: str
    family: str
    params: tuple[Param, ...] = ()
    body_name: str | None = None
    body_schema: dict | None = field(default=None, hash=False, compare=False)
    body_required: bool = False
    form: tuple[Param, ...] = ()
    binary: bool = False
    curator_only: bool = False
    success_codes: tuple[int, ...] = (200,)
    legacy: bool = False  # also served under /gallery/api/ with OAuth1 signing
    json_answer: bool = True  # its success answers are JSON (else empty, or a file when binary)
    # behaviour
    natural_key: NaturalKey | None = None  # reconciles an unknown create
    merge: Merge | None = field(default=None, hash=False, compare=False)  # a full-record PUT
    paging: Paging | None = None  # a page/pageSize listing
    upload: str | None = None  # "package" (a .yxzp, checked before sending) or "file"
    job: JobPath | None = None  # queues a job
    membership: Membership | None = None  # an add, settled by reading its parent when its outcome is unknown

    @property
    def newer(self) -> bool:
        """Whether an older Server may lack this operation (:data:`NOT_ON_EVERY_SERVER`)."""
        return self.operation_id in NOT_ON_EVERY_SERVER

    @property
    def spelling(self) -> str:
        """``"METHOD /path"`` exactly as in the Swagger."""
        return f"{self.method} {self.path}"

    @property
    def multipart(self) -> bool:
        return bool(self.form)

    @property
    def path_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == "path")

    @property
    def query_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == "query")

    @property
    def idempotent(self) -> bool:
        """Whether sending the request twice has the effect of sending it once."""
        return self.method in ("GET", "PUT", "DELETE", "PATCH", "HEAD")

    @property
    def min_role(self) -> str | None:
        """The least role whose API key a Server lets call it (None: any role the call's data allows).

        Curator-only endpoints need a Curator; the V1 Subscription and User V2 APIs refuse keys below
        Artisan on Servers since 2022.1 (real-server-evidence.md, high confidence).
        """
        if self.curator_only:
            return "Curator"
        if self.family in ("v1", "user_v2"):
            return "Artisan"
        return None

    @property
    def file_field(self) -> Param | None:
        return next((p for p in self.form if p.type == "file"), None)

    def body_kind(self) -> str:
        """``"object"``, ``"array"``, ``"string"``, ``"form"`` or ``"none"``."""
        if self.multipart:
            return "form"
        if self.body_schema is None:
            return "none"
        kind = schemas.resolve(self.body_schema).get("type", "object")
        return kind if kind in ("array", "string") else "object"

    def form_schema(self) -> dict:
        """The multipart text fields as one object schema (for validation)."""
        props = {p.name: p.schema for p in self.form if p.type != "file"}
        required = [p.name for p in self.form if p.required and p.type != "file"]
        return {"type": "object", "properties": props, "required": required}

    def contract_schema(self) -> dict | None:
        """The schema a row's ``contract`` is checked against."""
        if self.multipart:
            return self.form_schema()
        return self.body_schema
