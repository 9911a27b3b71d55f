"""The workbook format: the Server's content as plain sheets that name each other, never by id.

Each :class:`Sheet` declares its key (the columns that say which thing a row
is), its columns (what can be compared and changed), and what it names (a
``user`` column names a user by email; a ``group`` a user group by name...).
Everything else -- export, plan, apply, diff -- is derived from these
declarations.

========================  ======================  ==================================================
sheet                     key                     columns
========================  ======================  ==================================================
``Users``                 ``email``               firstName, lastName, role, isActive, the permissions
``UserGroups``            ``name``                role
``GroupMembers``          ``group``, ``user``     (a relation: the group's members, by email)
``Collections``           ``name``                owner (email)
``CollectionUsers``       ``collection``, ``user``  isAdmin, canAddAssets... (the collection permissions)
``CollectionGroups``      ``collection``, ``group``  the same permissions
``CollectionWorkflows``   ``collection``, ``workflow``  (a relation; ``owner`` tells same-named workflows apart)
``Workflows``             ``name``, ``owner``      workerTag, isPublic, othersMayDownload... (settings)
``Schedules``             ``name``, ``workflow``   owner, enabled, priority, frequency, timeZone (read only)
``Credentials``           ``credential``           (the user name; never a password)
``CredentialShares``      ``credential``, ``user``, ``group``  (a relation: a user or a group per row)
``DataConnections``       ``name``                 connectionType (the connection string is never exported)
``DataConnectionShares``  ``dataConnection``, ``user``, ``group``  (a relation)
========================  ======================  ==================================================

Workflows are matched by name *and* owner: names are unique only per owner.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Column", "Sheet", "SHEETS", "sheet", "PERMISSIONS", "USER_FLAGS"]

PERMISSIONS = ("isAdmin", "canAddAssets", "canRemoveAssets", "canUpdateAssets", "canAddUsers", "canRemoveUsers")
USER_FLAGS = ("canScheduleJobs", "canPrioritizeJobs", "canAssignJobs", "canCreateCollections", "isApiEnabled")


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its name, how its cells compare (``text`` or ``bool``), and what it names."""

    name: str
    kind: str = "text"
    names: str | None = None  # "user", "group", "collection", "workflow", "credential", "dataConnection"


@dataclass(frozen=True)
class Sheet:
    """One sheet of the workbook format.

    Attributes
    ----------
    name : str
    key : tuple of str
        The columns that say which thing a row is (compared without letter case).
    columns : tuple of Column
        Every column, the key's first.
    parent : str or None
        For a relation sheet (members, shares), the key column naming the thing the relation belongs
        to: a prune removes only what belongs to the parents the sheet names.
    managed : bool
        Whether a plan may change it (read-only sheets are exported and compared, never applied).
    order : int
        When its changes are made: creates and updates in rising order, removals in falling order.
    either : tuple of str
        Key columns of which exactly one is filled per row (a share goes to a user or to a group).
    context : tuple of str
        Columns that help find what a row names (a workflow's owner) but are not compared.
    """

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    parent: str | None = None
    managed: bool = True
    order: int = 0
    either: tuple[str, ...] = field(default_factory=tuple)
    context: tuple[str, ...] = field(default_factory=tuple)

    @property
    def relation(self) -> bool:
        return self.parent is not None

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def values(self) -> tuple[str, ...]:
        """The columns a plan compares: those besides the key and the context."""
        return tuple(c.name for c in self.columns if c.name not in self.key and c.name not in self.context)


def _bools(names: tuple[str, ...]) -> tuple[Column, ...]:
    return tuple(Column(n, "bool") for n in names)


SHEETS: tuple[Sheet, ...] = (
    Sheet("Users", ("email",),
          (Column("email"), Column("firstName"), Column("lastName"), Column("role"), Column("isActive", "bool"),
           Column("defaultWorkerTag"), *_bools(USER_FLAGS), Column("timeZone")), order=1),
    Sheet("UserGroups", ("name",), (Column("name"), Column("role")), order=1),
    Sheet("GroupMembers", ("group", "user"), (Column("group", names="group"), Column("user", names="user")),
          parent="group", order=3),
    Sheet("Collections", ("name",), (Column("name"), Column("owner", names="user")), order=2),
    Sheet("CollectionUsers", ("collection", "user"),
          (Column("collection", names="collection"), Column("user", names="user"), *_bools(PERMISSIONS),
           Column("expirationDate")), parent="collection", order=3),
    Sheet("CollectionGroups", ("collection", "group"),
          (Column("collection", names="collection"), Column("group", names="group"), *_bools(PERMISSIONS),
           Column("expirationDate")), parent="collection", order=3),
    Sheet("CollectionWorkflows", ("collection", "workflow"),
          (Column("collection", names="collection"), Column("workflow", names="workflow"),
           Column("owner", names="user")), parent="collection", order=3, context=("owner",)),
    Sheet("Workflows", ("name", "owner"),
          (Column("name"), Column("owner", names="user"), Column("workerTag"), Column("comments"),
           Column("isPublic", "bool"), Column("isReadyForMigration", "bool"), Column("othersMayDownload", "bool"),
           Column("othersCanExecute", "bool"), Column("executionMode")), order=2),
    Sheet("Schedules", ("name", "workflow"),
          (Column("name"), Column("workflow", names="workflow"), Column("owner", names="user"),
           Column("enabled", "bool"), Column("priority"), Column("frequency"), Column("timeZone")),
          managed=False, order=4),
    Sheet("Credentials", ("credential",), (Column("credential"),), managed=False, order=0),
    Sheet("CredentialShares", ("credential", "user", "group"),
          (Column("credential", names="credential"), Column("user", names="user"), Column("group", names="group")),
          parent="credential", order=3, either=("user", "group")),
    Sheet("DataConnections", ("name",), (Column("name"), Column("connectionType")), managed=False, order=0),
    Sheet("DataConnectionShares", ("dataConnection", "user", "group"),
          (Column("dataConnection", names="dataConnection"), Column("user", names="user"),
           Column("group", names="group")), parent="dataConnection", order=3, either=("user", "group")),
)

_BY_NAME = {s.name.lower(): s for s in SHEETS}


def sheet(name: str) -> Sheet | None:
    """The sheet called *name* (any letter case), or None."""
    return _BY_NAME.get(str(name).strip().lower())
