"""The files jobs answer: a job's output table in each format, and the usage records."""

from __future__ import annotations

import csv
import html
import io
from typing import Any

from .core import File

__all__ = ["output_file", "usage_csv"]

_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def output_file(fmt: str, base: str, header: list[str], rows: list[list[Any]]) -> File:
    """One output table as a file in *fmt* (``Csv``/``Raw``, ``Html`` or ``Xlsx``) named after *base*."""
    if fmt in ("Csv", "Raw"):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
        return File(buffer.getvalue().encode("utf-8"), base + ".csv", "text/csv")
    if fmt == "Html":
        cells = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
        page = f"<html><body><table><tr>{cells}</tr>{body}</table></body></html>"
        return File(page.encode("utf-8"), base + ".html", "text/html")
    from openpyxl import Workbook  # only when a workbook is asked for: it is slow to import

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.append(header)
    for row in rows:
        sheet.append([str(c) for c in row])
    buffer_bytes = io.BytesIO()
    book.save(buffer_bytes)
    return File(buffer_bytes.getvalue(), base + ".xlsx", _XLSX)


def usage_csv(events: list[dict]) -> bytes:
    """The usage events as CSV, their keys as the header."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(events[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(events)
    return buffer.getvalue().encode("utf-8")
