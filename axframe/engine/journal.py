"""A run's journal: an append-only record of each row's steps, for resumable runs.

One JSON object per line:

- ``{"kind": "header", "action": ...}`` first;
- ``{"RecordID": ..., "step": n, "fp": ..., "sent": true}`` just before a
  step that may change the Server goes out -- the row's *intent*;
- ``{"RecordID": ..., "step": n, "fp": ..., "answer": {...}}`` when its
  answer came, if the row goes on after it (a row's last answer is in its
  result line);
- ``{"RecordID": ..., "step": n, "fp": ..., "fact": ...}`` a value the row's
  program decided on and must decide the same way when it resumes;
- ``{"RecordID": ..., "ok": ..., "StatusCode", "ErrorType", "Error",
  "Response", "Note", "Values", "fp"}`` when the row has finished.

``fp`` is the row's fingerprint: a digest of what it asks of the Server
(:func:`fingerprint` of its call, for the macros), never the values themselves.

Running the same frame again with the same journal resumes it:

- a finished row is taken from the journal while it would ask the same; one
  that succeeded with other values (a journal reused for another batch, or a
  row edited since) is refused as ``ChangedSinceJournal`` and not sent; one
  that failed and has been changed since (fixed) is run again;
- an unfinished row runs its program again; each step the journal holds an
  answer for is answered from the journal, not sent; the step that was in
  flight when the process died (an intent without an answer) is never sent
  again blindly: its program is told (``Outcome.journal == "in_flight"``) and
  looks the record up where it can, or fails the row as ``OutcomeUnknown``.
  Idempotent steps (a PUT, a DELETE) in flight are simply sent again.

One run at a time: a journal is locked by the operating system while a run
holds it (``fcntl`` on Linux and macOS, ``msvcrt`` on Windows, on a
``.lock`` file beside it); a second run gets a :class:`JournalError` naming the
process that holds it.  The lock goes with the process, however it ends.

Every line is handed to the operating system as it is written (before
:meth:`Journal.write` returns), so a killed process loses nothing: a step's
intent is in the file before its step goes out.  Lines are encoded outside
any lock; the lock covers only the one ``write`` of one line.  Lines are also
forced to disk (``fsync``) at most every 0.2 s, by the thread that wrote last
but outside the lock (no writer waits for the disk), and when the journal
closes, so a power cut loses at most the last fraction of a second.  A
half-written last line is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, IO

from ..errors import JournalError
from ..frames import record_key

__all__ = ["Journal", "JournalState", "record_key", "fingerprint", "digest"]

SYNC_INTERVAL = 0.2
_LOCK_OFFSET = 1 << 20  # Windows locks a byte range; the holder's name stays readable before it


def fingerprint(call: Any) -> str:
    """A short digest of what a call sends: method, path, query, body, form and uploaded file's content.

    Equal for the same row read again from the same file; different as soon as a value that reaches the
    Server differs.  Only a digest is journaled, never the values themselves.
    """
    params = _dumps(list(call.params)) if call.params else "[]"
    form = _SORTED.encode(call.form) if call.form else "{}"
    text = "\0".join((call.method, call.path, params, call.content_type or "", form, ""))
    hasher = hashlib.sha256(text.encode("utf-8", "surrogatepass"))
    hasher.update(call.body or b"")
    hasher.update(b"\0")
    if call.file_path:
        try:
            with open(call.file_path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    hasher.update(block)
        except OSError:
            hasher.update(b"unreadable:" + str(call.file_path).encode("utf-8", "surrogatepass"))
    return hasher.hexdigest()[:32]


def digest(*parts: Any) -> str:
    """A short digest of any JSON-able values (a row's plan, for programs of several steps)."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass
class JournalState:
    """What earlier runs left."""

    finished: dict[str, dict] = field(default_factory=dict)  # RecordID -> result line (the last wins)
    steps: dict[str, dict[int, dict]] = field(default_factory=dict)  # RecordID -> step -> what is known of it

    @property
    def in_flight(self) -> set[str]:
        """Rows with a step sent and never answered, that did not finish."""
        return {key for key, steps in self.steps.items() if key not in self.finished
                and any(s.get("sent") and "answer" not in s for s in steps.values())}

    def steps_of(self, key: str, fp: str) -> dict[int, dict]:
        """The recorded steps of row *key* made with fingerprint *fp* (or by a journal without fingerprints)."""
        return {n: s for n, s in self.steps.get(key, {}).items() if s.get("fp") in (None, fp)}


class Journal:
    """Append-only record of a run's rows and their steps; held by one run at a time."""

    def __init__(self, path: str | os.PathLike, action: str | None = None):
        self.path = Path(path)
        self.action = action
        self._writer = threading.Lock()  # one line at a time is handed to the operating system
        self._syncing = threading.Lock()  # one fsync at a time, outside the writer's lock
        self._broken: BaseException | None = None  # a write that failed: nothing more is written
        self._handle: IO[bytes] | None = None
        self._lock_file: IO[bytes] | None = None
        self._synced = 0.0
        self.written = 0

    # ------------------------------------------------------------------ reading
    def load(self) -> JournalState:
        """What earlier runs left: finished rows, and the steps of the others."""
        state = JournalState()
        if not self.path.exists():
            return state
        with open(self.path, "r", encoding="utf-8") as handle:
            for line in handle:
                entry = _parse(line)
                if entry is None:
                    continue
                if entry.get("kind") == "header":
                    self._check_action(entry.get("action"))
                    continue
                if "RecordID" in entry:
                    _apply(state, entry)
        return state

    def _check_action(self, action: Any) -> None:
        if self.action and action not in (None, self.action):
            raise JournalError(f"the journal {self.path} belongs to a run of {action!r}, not {self.action!r}; "
                               "give this run a journal of its own", str(self.path))

    # ------------------------------------------------------------------ holding
    def open(self) -> JournalState:
        """Take the journal for this run (or raise :class:`JournalError`), and say what earlier runs left."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._acquire()
        try:
            state = self.load()
            fresh = not self.path.exists() or self.path.stat().st_size == 0
            self._handle = open(self.path, "ab", buffering=0)
            if not fresh:
                self._terminate_partial_line()
            if fresh and self.action:
                self._hand_over(_encode({"kind": "header", "action": self.action}))
        except BaseException:
            self._release()
            raise
        return state

    def _acquire(self) -> None:
        lock_path = self.path.with_name(self.path.name + ".lock")
        handle = open(lock_path, "a+b")
        try:
            _lock(handle)
        except OSError:
            handle.seek(0)
            holder = handle.read(200).decode("utf-8", "replace").strip() or "another process"
            handle.close()
            raise JournalError(f"the journal {self.path} is in use by another run ({holder}); two runs on one "
                               "journal would do everything twice: wait for that run to end, or give this one "
                               "another journal", str(self.path)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()} on {socket.gethostname()}".encode("utf-8"))
        handle.flush()
        self._lock_file = handle

    def _release(self) -> None:
        if self._lock_file is not None:
            try:
                _unlock(self._lock_file)
            finally:
                self._lock_file.close()
                self._lock_file = None

    def _terminate_partial_line(self) -> None:
        assert self._handle is not None
        with open(self.path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                self._hand_over(b"\n")

    # ------------------------------------------------------------------ writing
    def step_sent(self, key: str, fp: str, step: int) -> None:
        """A step that may change the Server is about to go out: in the file when this returns."""
        # the line _encode would make of {"RecordID": key, "step": step, "fp": fp, "sent": True}, made cheaply
        self._write_line(f'{{"RecordID": {_string(key)}, "step": {int(step)}, "fp": {_string(fp)}, '
                         f'"sent": true}}\n'.encode("utf-8", _LONE))

    def step_answer(self, key: str, fp: str, step: int, answer: dict) -> None:
        """The answer of a step the row goes on after."""
        self.write({"RecordID": key, "step": step, "fp": fp, "answer": answer})

    def fact(self, key: str, fp: str, step: int, value: Any) -> None:
        """A value the row's program decided on."""
        self.write({"RecordID": key, "step": step, "fp": fp, "fact": value})

    def finished(self, key: str, fp: str, record: dict) -> None:
        """The row has ended."""
        if "RecordID" in record or "fp" in record:  # pragma: no cover - an ending's record holds neither
            return self.write({"RecordID": key, **record, "fp": fp})
        # the line _encode would make of {"RecordID": key, **record, "fp": fp}, made a field at a time (a
        # row's result is mostly None, numbers and one text: json's encoder costs more to set up than that)
        fields = ", ".join([f"{_string(name)}: {_value(value)}" for name, value in record.items()])
        self._write_line(f'{{"RecordID": {_string(key)}, {fields}, "fp": {_string(fp)}}}\n'.encode("utf-8", _LONE)
                         if fields else _encode({"RecordID": key, "fp": fp}))

    def write(self, entry: dict) -> None:
        """Append *entry*: in the file (handed to the operating system) when this returns."""
        self._write_line(_encode(entry))  # encoded outside the lock

    def _write_line(self, line: bytes) -> None:
        with self._writer:  # the critical section is one write of one line
            self._check()
            self._hand_over(line)
            self.written += 1
        self._sync_if_due()

    def _hand_over(self, data: bytes) -> None:
        assert self._handle is not None, "open() the journal first"
        view = memoryview(data)
        try:
            while view:
                done = self._handle.write(view)
                view = view[done or 0:]
        except BaseException as exc:
            self._broken = exc
            raise

    def _check(self) -> None:
        if self._broken is not None:
            raise JournalError(f"the journal {self.path} cannot be written: {self._broken}",
                               str(self.path)) from self._broken

    def _sync_if_due(self) -> None:
        """``fsync`` at most every SYNC_INTERVAL, by one thread at a time, holding up no writer."""
        now = time.monotonic()
        if now - self._synced < SYNC_INTERVAL or not self._syncing.acquire(blocking=False):
            return
        try:
            handle = self._handle
            if handle is not None and now - self._synced >= SYNC_INTERVAL:
                self._synced = now
                os.fsync(handle.fileno())
        except (OSError, ValueError):  # closed meanwhile: close() syncs itself
            pass
        finally:
            self._syncing.release()

    def close(self) -> None:
        """Force what was written to disk, and let the journal go."""
        try:
            with self._writer, self._syncing:
                if self._handle is not None:
                    try:
                        if self._broken is None:
                            os.fsync(self._handle.fileno())
                    finally:
                        self._handle.close()
                        self._handle = None
        finally:
            self._release()

    def __enter__(self) -> "Journal":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# encoders made once (json.dumps with options makes a new one per call)
_LINE = json.JSONEncoder(ensure_ascii=False, default=str)
_SORTED = json.JSONEncoder(sort_keys=True, default=str)
_dumps = json.JSONEncoder(default=str).encode
_string = json.encoder.encode_basestring  # a str as a JSON string, as _LINE writes it
# a lone surrogate (a str no UTF-8 holds) can only be inside a JSON string here: written as its \uXXXX
# escape, it reads back as the same str
_LONE = "backslashreplace"


def _value(value: Any) -> str:
    """*value* as _LINE writes it inside a line."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is int:
        return int.__repr__(value)
    return _LINE.encode(value)


def _encode(entry: dict) -> bytes:
    return (_LINE.encode(entry) + "\n").encode("utf-8", _LONE)


def _parse(line: str) -> dict | None:
    line = line.strip()
    if not line:
        return None
    try:
        entry = json.loads(line)
    except ValueError:
        return None  # a line cut off when the process died
    return entry if isinstance(entry, dict) else None


def _apply(state: JournalState, entry: dict) -> None:
    key = str(entry["RecordID"])
    if "ok" in entry:
        state.finished[key] = entry
        state.steps.pop(key, None)  # a finished row's steps are done with (a fixed row starts afresh)
        return
    if not any(k in entry for k in ("sent", "answer", "fact")):
        return
    step = int(entry.get("step", 0))
    known = state.steps.setdefault(key, {}).setdefault(step, {})
    if known.get("fp") not in (None, entry.get("fp")):  # the row was changed and ran again: its new steps win
        known.clear()
    known.update({k: v for k, v in entry.items() if k in ("sent", "answer", "fact", "fp")})


# --------------------------------------------------------------------------
# the operating system's lock
# --------------------------------------------------------------------------

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(handle: IO[bytes]) -> None:
        handle.seek(_LOCK_OFFSET)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(_LOCK_OFFSET)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
