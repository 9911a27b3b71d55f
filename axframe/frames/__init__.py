"""Rows to calls, and calls' outcomes back to success and failure frames.

Column conventions
------------------
- ``RecordID``: required, unique, not null; :func:`add_record_id` adds one.
- Path and query parameters: columns named exactly as in the Swagger
  (``collectionId``, ``view``...).
- ``contract``: the request body as JSON text, a dict, a list, or a plain
  string for string bodies.  Without a ``contract`` column, the body is built
  from the columns whose names are the body's fields (or those listed in
  ``contract_columns``; dotted names nest: ``collectionsPermissions.isAdmin``),
  with text turned into the types the schema asks for.
- Uploads: the ``file`` column holds the local path of the ``.yxzp``; the
  other form fields come from the contract or columns.
- Output columns ``StatusCode``, ``ErrorType``, ``Error``, ``Response`` (and
  ``Method``, ``URL``, ``Body`` of a dry run, ``File``, ``Bytes`` of a
  download) are axframe's: an input frame's copies are dropped, so a failure
  frame can be fed straight back in.

Planning a run's rows
---------------------
:class:`RowPlan` works out once per run what :func:`plan_row` works out for
each row (the body's columns, each one's schema, check and key, the path and
query parameters), then plans the rows a column at a time, a chunk of rows at
once, each distinct value of a column checked once.  A row with any problem is
planned by :func:`plan_row` itself, so that its message is the one it always
was; a large dry run costs its URL and body text per row and little more.

One row's plan is in :mod:`.row` (and the record IDs, the input's preparation, the shared column
names); the compiled plan, a column at a time, in :mod:`.columns`.  The two must give the same call and
the same message for every row (tests/client/test_row_plan.py).
"""

from __future__ import annotations

from __future__ import annotations

from .columns import PlannedRows, RowPlan
from .row import (CONTRACT, OUTPUT_COLUMNS, RECORD_ID, Planned, Problem, add_record_id, as_text, column_values,
                  contract_columns_for, is_missing, plan_row, prepare_input, record_id_problems, record_key)

__all__ = ["RECORD_ID", "CONTRACT", "OUTPUT_COLUMNS", "add_record_id", "record_key", "record_id_problems",
           "prepare_input", "Planned", "Problem",
           "plan_row", "RowPlan", "PlannedRows", "column_values", "contract_columns_for", "is_missing", "as_text"]
