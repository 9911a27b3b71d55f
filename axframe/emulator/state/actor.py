"""Who is calling: the authenticated user as the model's operations see them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Actor"]


@dataclass(frozen=True)
class Actor:
    """The user a request acts for, read from their record when the request is authenticated.

    Only what decides what the user may see and do; the key and secret stay in
    the record.
    """

    id: str
    role: str
    subscription_id: str = ""
    email: str = ""
    can_create_collections: bool = False
    can_schedule_jobs: bool = False
    can_prioritize_jobs: bool = False
    can_assign_jobs: bool = False

    @property
    def is_curator(self) -> bool:
        """Curators may do everything."""
        return self.role == "Curator"

    @property
    def may_prioritize(self) -> bool:
        """Whether a priority the user asks for is kept."""
        return self.is_curator or self.can_prioritize_jobs

    @property
    def may_assign(self) -> bool:
        """Whether a worker tag the user asks for is kept."""
        return self.is_curator or self.can_assign_jobs

    @classmethod
    def of(cls, user: Mapping[str, Any]) -> Actor:
        """The actor for a stored user record."""
        return cls(id=user["id"], role=user.get("role", ""), subscription_id=user.get("subscriptionId") or "",
                   email=user.get("email", ""),
                   can_create_collections=bool(user.get("canCreateCollections")),
                   can_schedule_jobs=bool(user.get("canScheduleJobs")),
                   can_prioritize_jobs=bool(user.get("canPrioritizeJobs")),
                   can_assign_jobs=bool(user.get("canAssignJobs")))
