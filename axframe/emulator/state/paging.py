"""Paging and sorting of the V1 and Admin listings (reference.md section 6; choices in docs/emulator.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .core import Invalid, Refused
from .store import PAGING_MODES

__all__ = ["page", "offset_page", "admin_page", "sort_views", "PAGING_MODES"]


def page(items: list, number: Any, size: Any, *, zero_based: bool, required: bool = False,
         lenient: bool = False) -> list:
    """``page``/``pageSize`` paging: all items when either is absent (unless *required*).

    *lenient* reads a page below the first as the first, what a Server
    computing ``Skip(max(0, (page - 1) * size))`` does.
    """
    if number in (None, "") or size in (None, ""):
        if required:
            raise Invalid.field("page", "page and pageSize are required.")
        return items
    try:
        number, size = int(number), int(size)
    except (TypeError, ValueError):
        raise Invalid.field("page", "page and pageSize must be whole numbers.") from None
    first = 0 if zero_based else 1
    if lenient and number < first:
        number = first
    if number < first or size < 0:
        base = "zero-based" if zero_based else "one-based"
        raise Invalid.field("page", f"page is {base} and pageSize must not be negative.")
    if size == 0:
        return items if zero_based else []
    start = (number - first) * size
    return items[start:start + size]


def admin_page(items: list, number: Any, size: Any, mode: str, required: bool = False) -> list:
    """Paging of the Admin listings that count pages as *mode* (one of :data:`PAGING_MODES`) says."""
    return page(items, number, size, zero_based=mode == "zero-based", required=required,
                lenient=mode == "one-based-lenient")


def offset_page(items: list, offset: Any, limit: Any) -> list:
    """``offset``/``limit`` paging: a limit of 0 (or none) means the rest."""
    try:
        start = int(offset) if offset not in (None, "") else 0
        size = int(limit) if limit not in (None, "") else 0
    except (TypeError, ValueError):
        raise Invalid.field("offset", "offset and limit must be whole numbers.") from None
    return items[start:start + size] if size > 0 else items[start:]


_VIEW_KEYS: dict[str, Callable[[dict], Any]] = {
    "name": lambda v: v["metaInfo"]["name"].lower(), "uploaddate": lambda v: v["uploadDate"],
    "runcount": lambda v: v["runCount"], "author": lambda v: v["metaInfo"]["author"].lower(),
    "owner": lambda v: v.get("publishedVersionOwner", {}).get("email", ""),
    "subscriptionid": lambda v: v["subscriptionId"], "description": lambda v: v["metaInfo"]["description"],
    "copyright": lambda v: v["metaInfo"]["copyright"], "executionmode": lambda v: v.get("packageType", ""),
    "datemadepublic": lambda v: v["uploadDate"]}


def sort_views(views: list[dict], field: str | None, direction: str | None) -> list[dict]:
    """Workflow views sorted by a V1 ``sortField`` (any letter case); ascending unless ``desc``."""
    if not field:
        return views
    key = _VIEW_KEYS.get(field.lower())
    if key is None:
        raise Refused(f"Cannot sort by '{field}'.")
    return sorted(views, key=key, reverse=(direction or "asc").lower() == "desc")
