"""Realistic answers: the ways real Servers' answers are less tidy than the Swagger, one named switch each.

Each :class:`Quirk` is a row of ``real-server-evidence.md`` ("Divergences"): what a real Server was seen to
answer, and how sure the evidence is.  ``Emulator(realistic=True)`` (the default) turns on every quirk
whose ``default`` is true; ``Emulator(quirks={"bom": True})`` or ``emulator.set_quirks(bom=True)`` turns
single quirks on or off; ``realistic=False`` starts from all off (the tidy answers of the Swagger).

A quirk whose ``default`` is false is one the client does not survive yet, or one whose evidence is too
thin to make it the rule; docs/emulator.md lists them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["Quirk", "QUIRKS", "Realism"]


@dataclass(frozen=True)
class Quirk:
    """One way a real Server's answers differ from the tidy ones."""

    name: str
    what: str  # what the emulator does when the quirk is on
    evidence: str  # the evidence file's row and its confidence
    default: bool  # on in realistic mode


QUIRKS: dict[str, Quirk] = {q.name: q for q in (
    Quirk("nulls", "V3 detail views carry the properties they have no value for as null (Json.NET writes "
          "nulls); a version's empty comments and credentialId are null",
          "nulls (high)", True),
    Quirk("date_fractions", "date-times drop trailing zeros of their fraction, and a zero fraction entirely "
          "(2014-03-10T14:18:35Z beside 2014-03-10T14:18:25.603Z)", "date-time fractions (high)", True),
    Quirk("list_without_source_app_id", "GET /v3/workflows items have no sourceAppId property at all",
          "GET /v3/workflows items (high)", True),
    Quirk("published_version_zero", "GET /v3/workflows items carry publishedVersionNumber 0 (the detail view "
          "carries the real number)", "publishedVersionNumber (medium)", True),
    Quirk("package_type_integer", "V1 and Admin V1/V2 workflow views carry packageType as an integer: "
          "0 App, 1 Module, 2 Macro (the order of the Swagger's packageWorkflowType enum)",
          "V1 packageType (high)", True),
    Quirk("opaque_tokens", "access tokens are ~700-character opaque tickets (AQAAANCMnd8B...) instead of 64 hex "
          "characters", "token format (high)", True),
    Quirk("bom", "answers under /gallery/api/ (the legacy OAuth1 API) start with a UTF-8 byte-order mark",
          "legacy answers (medium)", True),
    Quirk("admin_v1_collection_permissions", "Admin V1 collections carry permissions in the Admin V1 shape: "
          "collection.isAdmin, applications.{canAdd,canRemove,canUpdate}, users.{canAdd,canRemove}, "
          "optOutUsers", "Admin V1 collection permissions (medium)", True),
    Quirk("admin_v1_schedule_iteration", "Admin V1 schedules carry iteration as "
          "{__type, day, days, hours, minutes, startTime, endTime, weekday}",
          "Admin V1 schedule iteration (medium)", True),
    Quirk("admin_v2_author_case", "Admin V2 workflows/all authors carry subscription.Id and .Name, capitalised",
          "Admin V2 workflows/all author subscription (medium)", True),
    Quirk("admin_v2_subscription_fields", "Admin V2 subscriptions carry defaultWorkerTag and no "
          "defaultWorkflowCredentialId", "Admin V2 subscriptions (medium)", True),
)}


@dataclass(frozen=True)
class Realism:
    """Which quirks are on.  Immutable: :meth:`with_` makes a changed copy."""

    on: frozenset[str] = frozenset()

    @classmethod
    def of(cls, realistic: bool = True, quirks: Mapping[str, bool] | None = None) -> Realism:
        """Realistic defaults (or none), changed by *quirks* (name -> on/off)."""
        on = {q.name for q in QUIRKS.values() if q.default} if realistic else set()
        return cls(frozenset(on)).with_(**dict(quirks or {}))

    def with_(self, **flags: bool) -> Realism:
        """A copy with the named quirks turned on (True) or off (False)."""
        _check(flags)
        on = set(self.on)
        for name, value in flags.items():
            (on.add if value else on.discard)(name)
        return Realism(frozenset(on))

    def __call__(self, name: str) -> bool:
        """Whether quirk *name* is on."""
        if name not in QUIRKS:
            raise KeyError(f"no quirk {name!r}; the quirks are {', '.join(QUIRKS)}")
        return name in self.on

    def names(self) -> list[str]:
        return sorted(self.on)


def _check(names: Iterable[str]) -> None:
    unknown = sorted(set(names) - set(QUIRKS))
    if unknown:
        raise ValueError(f"no quirk {', '.join(map(repr, unknown))}; the quirks are {', '.join(QUIRKS)}")
