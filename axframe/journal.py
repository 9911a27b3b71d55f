"""A run's journal: every finished row, appended and flushed as it finishes.

One JSON object per line: ``{"RecordID", "ok", "StatusCode", "ErrorType",
"Error", "Response", "File", "Bytes"}``.  Running the same frame again with
the same journal sends only the rows that have no line yet; the outputs hold
every row exactly once, finished rows taken from the journal.

A half-written last line (the process died mid-write) is ignored, so the row
is simply sent again; a line is written only after its row's call has ended,
so a row whose call was in flight when the process died has no line and is
sent again too.  For non-idempotent calls that is the one window in which a
row can be applied twice; axframe keeps it to the time between the Server's
answer and one flushed write.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Iterator

__all__ = ["Journal", "record_key"]


def record_key(value: Any) -> str:
    """The text a RecordID is journaled under (``7``, ``7.0`` and ``"7"`` are one row)."""
    if isinstance(value, bool):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Journal:
    """Append-only record of finished rows."""

    def __init__(self, path: str | os.PathLike, action: str | None = None):
        self.path = Path(path)
        self.action = action
        self._lock = threading.Lock()
        self._handle = None
        self.written = 0

    def load(self) -> dict[str, dict]:
        """The finished rows so far, by RecordID key (the last line wins)."""
        done: dict[str, dict] = {}
        if not self.path.exists():
            return done
        with open(self.path, "r", encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if not line:
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut off when the process died
                if not isinstance(entry, dict):
                    continue
                if entry.get("kind") == "header":
                    if self.action and entry.get("action") not in (None, self.action):
                        raise ValueError(f"the journal {self.path} belongs to a run of {entry.get('action')!r}, "
                                         f"not {self.action!r}")
                    continue
                if "RecordID" in entry:
                    done[str(entry["RecordID"])] = entry
        return done

    def open(self) -> "Journal":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        self._handle = open(self.path, "a", encoding="utf-8")
        if not fresh:
            self._terminate_partial_line()
        if fresh and self.action:
            self._write({"kind": "header", "action": self.action})
        return self

    def _terminate_partial_line(self) -> None:
        with open(self.path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                assert self._handle is not None
                self._handle.write("\n")
                self._handle.flush()

    def write(self, entry: dict) -> None:
        with self._lock:
            self._write(entry)
            self.written += 1

    def _write(self, entry: dict) -> None:
        assert self._handle is not None, "open() the journal first"
        self._handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> "Journal":
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def entries(self) -> Iterator[dict]:
        yield from self.load().values()
