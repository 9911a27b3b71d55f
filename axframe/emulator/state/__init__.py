"""The emulated Server's domain model: what exists, who may do what, what happens.

Nothing here knows about HTTP or pandas.  :class:`State` is the storage
(:class:`~.store.Store`: the tables tests and notebooks read, the settings)
with one service per family under :attr:`State.services`; each service names
the others it uses.  The HTTP layer (:mod:`axframe.emulator.app`) calls one
service method per request, with named, typed arguments, while holding
:attr:`State.lock`; services raise the refusals of :mod:`.errors`.

============  ===========================================  ===============
service       what                                          module
============  ===========================================  ===============
auth          tokens, API keys                              ``tokens``
studios       subscriptions                                 ``studios``
people        users, user groups                            ``people``
sharing       collections                                   ``sharing``
credentials   credentials, server data connections          ``credentials``
workflows     workflows, versions, packages                 ``workflows``
schedules     schedules (their times: ``calendar``, zones)  ``schedules``
jobs          the queue, outputs, input files, usage        ``jobs``
dcm           DCM connections and handling rules            ``dcm``
legacy        V1 Subscription API, User V2                  ``legacy``
admin         Admin V1/V2                                   ``admin``
============  ===========================================  ===============
"""

from __future__ import annotations

from typing import TypeVar

from .actor import Actor
from .admin import Admin
from .core import Clock, Record, iso, project
from .credentials import Credentials
from .dcm import Dcm
from .errors import Conflict, Denied, EmulatorError, Forbidden, Invalid, NotEmpty, NotFound, Refused, Unauthorized
from .jobs import Jobs
from .legacy import Legacy
from .people import People
from .schedules import Schedules
from .sharing import Sharing
from .store import Store
from .studios import Studios
from .tokens import Auth
from .workflows import Workflows

__all__ = ["State", "Services", "Actor", "Clock", "EmulatorError", "Invalid", "Refused", "NotEmpty", "Unauthorized",
           "Denied", "Forbidden", "NotFound", "Conflict", "iso", "project"]

T = TypeVar("T")


class Services:
    """One service per family, built over one store; each gets the others it names."""

    def __init__(self, store: Store):
        self.auth = Auth(store)
        self.studios = Studios(store)
        self.credentials = Credentials(store)
        self.sharing = Sharing(store)
        self.workflows = Workflows(store, sharing=self.sharing)
        self.people = People(store, studios=self.studios, auth=self.auth, credentials=self.credentials,
                             workflows=self.workflows)
        self.schedules = Schedules(store, workflows=self.workflows)
        self.jobs = Jobs(store, workflows=self.workflows)
        self.dcm = Dcm(store)
        self.legacy = Legacy(store, workflows=self.workflows, jobs=self.jobs, credentials=self.credentials)
        self.admin = Admin(store, workflows=self.workflows, jobs=self.jobs, schedules=self.schedules,
                           legacy=self.legacy)

    def of(self, kind: type[T]) -> T:
        """The service of class *kind* (the routes find their method's service by its class)."""
        for service in vars(self).values():
            if type(service) is kind:
                return service  # type: ignore[no-any-return]
        raise LookupError(f"no {kind.__name__} service")


class State(Store):
    """Everything the emulated Server holds.  Use under ``with state.lock``.

    The tables and settings are attributes (``state.users``,
    ``state.job_slots``); the operations are on :attr:`services`.  The few
    methods below are the Server-wide ones the transports, the control API and
    tests call.
    """

    def __init__(self, *, seed: int | None = 0, clock: Clock | None = None, token_lifetime: int = 3599,
                 job_slots: int = 4):
        super().__init__(seed=seed, clock=clock, token_lifetime=token_lifetime, job_slots=job_slots)
        self.services = Services(self)

    def issue_token(self, client_id: str, client_secret: str, node: int = 0) -> dict:
        """Client-credentials grant on Server node *node* (see :meth:`Auth.issue`)."""
        return self.services.auth.issue(client_id, client_secret, node)

    def authenticate(self, token: str, node: int = 0) -> Record:
        """The user a live bearer token belongs to, as node *node* sees it (see :meth:`Auth.authenticate`)."""
        return self.services.auth.authenticate(token, node)

    def expire_tokens(self) -> int:
        """Make every issued token invalid at once; answer how many there were."""
        return self.services.auth.expire_all()

    def user_by_api_key(self, key: str) -> Record | None:
        """The active, API-enabled user with this key, if any."""
        return self.services.auth.by_api_key(key)

    def tick(self) -> None:
        """Bring every job up to the clock."""
        self.services.jobs.tick()

    def counts(self) -> dict[str, int]:
        """How many records of each kind exist, jobs up to the clock."""
        self.tick()
        return super().counts()

    @staticmethod
    def published(wf: Record) -> Record:
        """The published version of a workflow record."""
        return Workflows.published(wf)

    def __repr__(self) -> str:  # counts only: never a key, secret or token
        return "<State " + ", ".join(f"{k}={v}" for k, v in Store.counts(self).items()) + ">"
