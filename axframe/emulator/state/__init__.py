"""The emulated Server's domain model: what exists, who may do what, what happens.

:class:`State` knows nothing of HTTP or pandas.  Each resource family lives in
its own mixin module; the HTTP layer (:mod:`axframe.emulator.app`) calls one
method per request while holding :attr:`State.lock`.
"""

from __future__ import annotations

from .core import (BadRequest, Clock, Conflict, EmulatorError, Forbidden, NotFound, Unauthorized, iso,
                   project)
from .dcm import Dcm
from .jobs import Jobs
from .legacy import Legacy
from .people import People
from .sharing import Sharing
from .workflows import Workflows

__all__ = ["State", "Clock", "EmulatorError", "BadRequest", "Unauthorized", "Forbidden", "NotFound",
           "Conflict", "iso", "project"]


class State(Legacy, Jobs, Dcm, Workflows, Sharing, People):
    """Everything the emulated Server holds.  Use under ``with state.lock``."""

    def counts(self) -> dict[str, int]:
        """How many records of each kind exist (for tests and the control API)."""
        self.tick()
        return {"subscriptions": len(self.subscriptions), "users": len(self.users),
                "userGroups": len(self.groups), "collections": len(self.collections),
                "workflows": len(self.workflows), "schedules": len(self.schedules),
                "credentials": len(self.credentials), "dataConnections": len(self.data_connections),
                "dcmConnections": len(self.dcm_connections), "jobs": len(self.jobs),
                "auditEvents": len(self.audit), "tokens": len(self.tokens)}
