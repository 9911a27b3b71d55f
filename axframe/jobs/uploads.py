"""File Browse answers: which answers are local files to upload before a job, and the upload steps.

An answer to a File Browse question that is the path of a local file is
uploaded (``POST /user/v2/inputfiles``) just before its job is queued, and the
reference the Server answers becomes the answer.  Which questions are File
Browse is asked of the Server once per workflow (``files="auto"``), or named
(``files=[...]``).  Only files inside the folder uploads may come from
(``files_root``, links resolved), and never a hidden one, ever leave the
machine: an input file may come from someone else.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Generator, Iterable

from .. import catalogue
from ..client.call import Call, Outcome
from ..client.connection import Connection
from ..engine.rows import Send, Step
from ..errors import ErrorType
from .plan import Job, endpoint_path

__all__ = ["plan_uploads", "file_browse_questions", "local_file", "upload"]

log = logging.getLogger("axframe")


def plan_uploads(job: Job, files: set[str], browse: set[str], root: Path, legacy: bool) -> tuple[str, str] | None:
    """Set the files *job* uploads first: answers to the questions named in *files*, and answers to the
    File Browse questions *browse* that are local files; or say why the row cannot be sent
    (``(error_type, error)``)."""
    by_name = {a["name"]: i for i, a in enumerate(job.answers)}
    wanted = files & set(by_name)
    wanted |= {name for name in browse & set(by_name) - wanted
               if local_file(job.answers[by_name[name]]["value"])}  # found by asking the Server: only real files
    for name in sorted(wanted):
        index = by_name[name]
        path = os.path.expanduser(job.answers[index]["value"].strip())
        if legacy:
            return ErrorType.NOT_AVAILABLE, ("File Browse uploads (/user/v2/inputfiles) are not available on the "
                                             "legacy OAuth1 API")
        if not os.path.isfile(path):
            return ErrorType.INVALID_FILE, f"{name}: no such file: {path}"
        problem = _outside(Path(path), root)
        if problem:
            return ErrorType.INVALID_FILE, f"{name}: {path} {problem}; nothing was uploaded"
        job.files.append((index, path))
    return None


def _outside(path: Path, root: Path) -> str:
    """Why *path* may not be uploaded from *root* ("" when it may).

    An input file names the files to upload, and it may come from someone else: only files inside the
    folder uploads may come from (links resolved), and no hidden file or folder (``.env``, ``.ssh``...),
    ever leave the machine.
    """
    real, base = path.resolve(), root.resolve()
    try:
        inside = real.relative_to(base)
    except ValueError:
        return (f"is outside the folder uploads may come from ({base}); to allow it, give files_root= "
                "(axframe run-jobs --files-root)")
    if any(part.startswith(".") for part in inside.parts):
        return "is a hidden file or in a hidden folder, which are never uploaded"
    return ""


def local_file(value: Any) -> bool:
    """Whether an answer is the path of an existing local file."""
    text = value.strip() if isinstance(value, str) else ""
    return bool(text) and len(text) < 4096 and os.path.isfile(os.path.expanduser(text))


def _is_file_browse(question: Any) -> bool:
    """A question view (V3 ``questionType``, V1 ``type``) of a File Browse question."""
    if not isinstance(question, dict):
        return False
    kind = question.get("questionType", question.get("type"))
    return isinstance(kind, str) and "filebrowse" in "".join(c for c in kind.lower() if c.isalnum())


def file_browse_questions(conn: Connection, workflow_ids: Iterable[str]) -> dict[str, set[str]]:
    """The File Browse questions of each workflow, asked of the Server once per workflow.

    A workflow whose questions cannot be read gets none (its answers are then sent as text, and the
    job itself says what it thinks of them).
    """
    found: dict[str, set[str]] = {}
    v3 = not conn.legacy
    endpoint = catalogue.find("workflows.questions" if v3 else "v1.questions")
    for workflow_id in sorted(set(workflow_ids)):
        path = endpoint_path(conn, endpoint, **{"workflowId" if v3 else "appId": workflow_id})
        outcome = conn.send(Call("GET", path, endpoint))
        questions = outcome.value() if outcome.ok else None
        if not isinstance(questions, list):
            log.warning("could not read the questions of workflow %s (%s); its File Browse answers are sent "
                        "as text, not uploaded", workflow_id, outcome.error or outcome.status)
            questions = []
        found[workflow_id] = {q["name"] for q in questions if _is_file_browse(q) and isinstance(q.get("name"), str)}
    return found


def upload(path: str) -> Generator[Step, Any, tuple[str | None, Outcome]]:
    """Steps that upload one file: ``(the Server's reference or None when it failed, the upload's outcome)``."""
    endpoint = catalogue.find("user_v2.upload_file")
    outcome = yield Send(Call("POST", endpoint.path, endpoint, form={"name": os.path.basename(path)},
                              file_path=path))
    if not outcome.ok:
        return None, outcome
    reference: Any = outcome.value()
    if isinstance(reference, dict):  # a Server that wraps the reference
        reference = reference.get("reference") or reference.get("id") or reference.get("path")
    if not isinstance(reference, str) or not reference:
        outcome.error_type = ErrorType.HTTP_ERROR
        outcome.error = "the Server's answer to the file upload holds no file reference"
        return None, outcome
    return reference, outcome
