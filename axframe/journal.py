"""A run's journal: an append-only record of each row's progress, for resumable runs.

One JSON object per line:

- ``{"kind": "header", "action": ...}`` first;
- ``{"RecordID": ..., "sent": true}`` just before a call that may change the
  Server (a POST) goes out -- the row's *intent*;
- ``{"RecordID": ..., "ok": ..., "StatusCode", "ErrorType", "Error",
  "Response", "File", "Bytes", "Note", "fp"}`` when the row has finished;
  ``fp`` is the :func:`fingerprint` of the call the row made.

Running the same frame again with the same journal sends only the rows that
have not finished.  A finished row is taken from the journal only while it
would make the same call: a row that succeeded with other values (a journal
reused for another batch, or a row edited since) is refused as
``ChangedSinceJournal`` and not sent; a row that failed and has been changed
since (fixed) is sent again.  A row that has an intent line but no result was in flight
when the process died: the Server may or may not have acted on it.  Such a
row is never sent again blindly: for creates with a natural key axframe looks
the record up first (:mod:`axframe.reconcile`) and sends the create only if the
lookup answers that there is no such record; other changes, and creates whose
lookup fails, fail as ``OutcomeUnknown`` for a person to check.  Idempotent
calls (GET, PUT, DELETE) carry no intent line and are simply sent again.

Every line is flushed to the operating system as it is written, so a killed
process loses nothing; lines are also forced to disk (``fsync``) at most every
0.2 s and when the journal closes, so a power cut loses at most the last
fraction of a second.  A half-written last line is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Journal", "JournalState", "record_key", "fingerprint"]

SYNC_INTERVAL = 0.2


def record_key(value: Any) -> str:
    """The text a RecordID is journaled under (``7``, ``7.0`` and ``"7"`` are one row)."""
    if isinstance(value, bool):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fingerprint(call: Any) -> str:
    """A short digest of what a call sends: method, path, query, body, form and uploaded file's content.

    Equal for the same row read again from the same file; different as soon as a value that reaches the
    Server differs.  Only a digest is journaled, never the values themselves.
    """
    digest = hashlib.sha256()
    for part in (call.method, call.path, json.dumps(list(call.params or []), default=str),
                 call.content_type or "", json.dumps(call.form or {}, sort_keys=True, default=str)):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(call.body or b"")
    digest.update(b"\0")
    if call.file_path:
        try:
            with open(call.file_path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError:
            digest.update(b"unreadable:" + str(call.file_path).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


@dataclass
class JournalState:
    finished: dict[str, dict] = field(default_factory=dict)  # RecordID -> result line
    in_flight: set[str] = field(default_factory=set)  # sent, never finished


class Journal:
    """Append-only record of a run's rows."""

    def __init__(self, path: str | os.PathLike, action: str | None = None):
        self.path = Path(path)
        self.action = action
        self._lock = threading.Lock()
        self._handle: Any = None
        self._synced = 0.0
        self.written = 0

    def load(self) -> JournalState:
        """What earlier runs left: finished rows (the last line wins) and rows left in flight."""
        state = JournalState()
        if not self.path.exists():
            return state
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
                if "RecordID" not in entry:
                    continue
                key = str(entry["RecordID"])
                if entry.get("sent") and "ok" not in entry:
                    if key not in state.finished:
                        state.in_flight.add(key)
                else:
                    state.finished[key] = entry
                    state.in_flight.discard(key)
        return state

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
                self._handle.write("\n")
                self._handle.flush()

    def sent(self, key: str) -> None:
        """Record that a call which may change the Server is about to go out."""
        self.write({"RecordID": key, "sent": True})

    def write(self, entry: dict) -> None:
        with self._lock:
            self._write(entry)
            self.written += 1

    def _write(self, entry: dict) -> None:
        assert self._handle is not None, "open() the journal first"
        self._handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        self._handle.flush()
        now = time.monotonic()
        if now - self._synced >= SYNC_INTERVAL:
            os.fsync(self._handle.fileno())
            self._synced = now

    def close(self) -> None:
        if self._handle is not None:
            with self._lock:
                self._handle.flush()
                os.fsync(self._handle.fileno())
                self._handle.close()
                self._handle = None

    def __enter__(self) -> "Journal":
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()
