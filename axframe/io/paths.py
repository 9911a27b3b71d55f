"""Paths and formats: which files are read and written, a path checked before reading or writing, and a file
written whole (to a temporary file, then moved into place)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Callable, Union

from ..errors import FrameError, InputFileError, OutputFileError

PathLike = Union[str, "os.PathLike[str]"]

FORMATS = (".csv", ".xlsx", ".parquet")
READABLE = FORMATS + (".xlsm",)


def as_path(path: PathLike) -> Path:
    return Path(os.fspath(path)).expanduser()


def extension(path: Path, allowed: tuple[str, ...], error: type[FrameError]) -> str:
    ext = path.suffix.lower()
    if ext == ".xls":
        raise error(f"{path}: the old .xls format is not supported; open it in Excel and save it as .xlsx "
                    "(Excel Workbook)")
    if ext not in allowed:
        raise error(f"{path}: unsupported file type {ext or '(no extension)'!r}; use one of "
                    f"{', '.join(allowed)}")
    return ext


def looks_like(head: bytes) -> str | None:
    """The real format of a file from its first bytes, for error hints."""
    if head.startswith(b"PK\x03\x04"):
        return "an Excel workbook (.xlsx) or another zip archive"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old .xls workbook or a password-protected workbook (save it as .xlsx without a password)"
    if head.startswith(b"PAR1"):
        return "a Parquet file"
    return None


def check_input(path: PathLike) -> tuple[Path, str]:
    p = as_path(path)
    ext = extension(p, READABLE, InputFileError)
    if not p.exists():
        raise InputFileError(f"no such file: {p}")
    if p.is_dir():
        raise InputFileError(f"{p} is a folder, not a file")
    if p.stat().st_size == 0:
        raise InputFileError(f"{p} is empty (0 bytes)")
    return p, ext


def check_output_path(path: PathLike) -> Path:
    """*path* if a frame can be written there (a known format, a writable folder); else :class:`OutputFileError`.

    Nothing is written: a command line uses it to refuse a bad ``--output``
    before it sends a single call.
    """
    p = as_path(path)
    extension(p, FORMATS, OutputFileError)
    folder = p.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the nearest folder that exists: the missing ones are made when writing
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise OutputFileError(f"{p}: cannot write in {folder}")
    if p.is_dir():
        raise OutputFileError(f"{p} is a folder; give a file name")
    return p


def write_whole(target: Path, write: Callable[[Path], None]) -> Path:
    """Write to a temporary file beside *target*, then move it into place."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFileError(f"cannot create the folder {target.parent}: {exc}") from None
    if target.is_dir():
        raise OutputFileError(f"{target} is a folder")
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(temp)
        os.replace(temp, target)
    except OSError as exc:
        hint = " (is it open in Excel or another program?)" if isinstance(exc, PermissionError) else ""
        raise OutputFileError(f"cannot write {target}{hint}: {exc}") from None
    except UnicodeEncodeError as exc:
        raise OutputFileError(f"cannot write {target}: a value is not valid Unicode text ({exc.reason})") from None
    finally:
        if temp.exists():
            temp.unlink()
    return target

