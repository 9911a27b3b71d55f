"""Running a Server from a workbook: export it, plan a desired state against it, apply the plan, compare two.

- :mod:`.sheets`: the workbook format (sheets, keys, columns), declared once;
- :mod:`.snapshot`: what a Server holds, read once (one listing per kind);
- :mod:`.workbook`: workbooks from snapshots, files and folders;
- :mod:`.plan`: :func:`plan` and the :class:`Plan` (a frame of changes, a diff);
- :mod:`.apply`: :func:`apply`, each change a program on the one engine;
- :mod:`.export`: :func:`export` and :func:`diff`.
"""

from __future__ import annotations

from .apply import apply
from .export import diff, export
from .plan import Plan, plan
from .workbook import read_workbook, write_workbook

__all__ = ["export", "plan", "apply", "diff", "Plan", "read_workbook", "write_workbook"]
