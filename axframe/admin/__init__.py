"""A Server administrator's bulk work: the Admin listings, the audit log, migration and deployment.

- :mod:`.listings`: :class:`~.listings.Pager` and :func:`admin_listing`, the paged Admin listings;
- :mod:`.audit`: :func:`audit_log`;
- :mod:`.migrate`: :func:`migratable` and :func:`migrate`, workflows from one Server to another;
- :mod:`.deploy`: :func:`deploy`, a folder of packages published as what changed;
- :mod:`.steps`: the calls their programs make.

:func:`migrate` and :func:`deploy` return a :class:`~axframe.Result` like the
macros: every input row (or file) lands in exactly one of the success and
failure frames, with ``RecordID`` first, the input columns unchanged, then
axframe's columns.
"""

from __future__ import annotations

from .audit import audit_log
from .deploy import HASH_MARKER, MANIFEST_NAME, deploy
from .listings import Pager, admin_listing
from .migrate import migratable, migrate

__all__ = ["admin_listing", "audit_log", "migratable", "migrate", "deploy", "Pager", "MANIFEST_NAME", "HASH_MARKER"]
