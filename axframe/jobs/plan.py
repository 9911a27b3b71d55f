"""From a row to the job it asks for: the workflow, the settings, the answers.

Column conventions (see :func:`axframe.run_jobs`): ``workflowId``; optional
``priority``, ``credentialId``, ``workerTag``; answers in a ``questions`` JSON
column and in columns named after the questions.  A row that cannot be sent
(no workflowId, bad ``questions`` JSON, unknown priority...) is refused with
its reason, and nothing is sent for it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterable
from urllib.parse import quote

import pandas as pd

from .. import catalogue, frames
from ..catalogue import Endpoint, JobPath
from ..client.connection import Connection
from ..errors import ConfigurationError, ErrorType, FrameError

__all__ = ["Job", "Api", "api_for", "plan_job", "question_columns", "input_frame", "endpoint_path",
           "WORKFLOW_ID", "WORKFLOW_NAME", "QUESTIONS", "SETTINGS_COLUMNS", "JOB_COLUMNS", "named_workflows"]

WORKFLOW_ID, PRIORITY, CREDENTIAL_ID, WORKER_TAG, QUESTIONS = \
    "workflowId", "priority", "credentialId", "workerTag", "questions"
SETTINGS_COLUMNS = (WORKFLOW_ID, PRIORITY, CREDENTIAL_ID, WORKER_TAG, QUESTIONS)
WORKFLOW_NAME = "workflow"  # names the workflow where there is no workflowId column (see axframe.names)
JOB_COLUMNS = ("JobId", "Status", "Disposition", "QueuedAt", "EndedAt", "Seconds", "StatusRequests",
               "Messages", "Outputs")

_PRIORITY_NAMES = {"default": "Default", "low": "Low", "medium": "Medium", "high": "High", "critical": "Critical",
                   "0": "Low", "1": "Medium", "2": "High", "3": "Critical"}
_V1_PRIORITY = {"Low": "0", "Medium": "1", "High": "2", "Critical": "3"}
_API_ALIASES = {"v3": "v3", "v1": "v1", "user_v2": "user_v2", "userv2": "user_v2", "v2": "user_v2",
                "user/v2": "user_v2"}


@dataclass(frozen=True)
class Api:
    """The job path a run queues through: its enqueue endpoint and how it is declared (``JobPath``)."""

    run: Endpoint
    path: JobPath

    @property
    def name(self) -> str:
        return self.path.api

    @property
    def status(self) -> Endpoint:
        return catalogue.find(self.path.status)


def api_for(conn: Connection, api: str | None) -> Api:
    """The job path for *api* (default V3; V1 on a legacy connection), or :class:`ConfigurationError`."""
    if api is None:
        name = "v1" if conn.legacy else "v3"
    else:
        found = _API_ALIASES.get(str(api).strip().lower())
        if found is None:
            raise ConfigurationError(f"api must be 'v3', 'v1' or 'user_v2', not {api!r}")
        if conn.legacy and found != "v1":
            raise ConfigurationError(f"the legacy OAuth1 API has only the V1 job paths; use api='v1', not {api!r}")
        name = found
    endpoint = catalogue.job_path(name)
    assert endpoint.job is not None
    return Api(endpoint, endpoint.job)


@dataclass
class Job:
    """One row on its way through the Server, as its program sees it."""

    pos: int
    key: str
    workflow_id: str
    answers: list[dict]
    settings: dict
    files: list[tuple[int, str]] = field(default_factory=list)  # (index into answers, local path)
    job_id: str = ""
    status: str = ""
    disposition: str = ""
    queued_at: str = ""
    messages: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    submitted: float = math.nan  # wall-clock seconds (journaled, so that a resumed run keeps it)
    sent_at: list[float] = field(default_factory=list)  # every time its queuing went out (journaled too)
    ended: float = math.nan
    ended_at: str = ""
    polls: int = 0
    active: bool = False  # queued on the Server and not yet seen to end

    def plan(self) -> dict:
        """What the row asks for, for its fingerprint."""
        return {"workflowId": self.workflow_id, "answers": self.answers, "settings": self.settings,
                "files": self.files}


class _Problem(ValueError):
    def __init__(self, error_type: ErrorType, error: str):
        super().__init__(error)
        self.error_type = error_type
        self.error = error


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return frames.as_text(value)  # lists and dicts as JSON text, numpy numbers and all


def _parse_questions(raw: Any) -> list[dict]:
    if frames.is_missing(raw):
        return []
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise _Problem(ErrorType.INVALID_CONTRACT, f"questions is not valid JSON: {exc}") from None
    if isinstance(value, dict):
        value = [{"name": k, "value": v} for k, v in value.items()]
    if not isinstance(value, list):
        raise _Problem(ErrorType.INVALID_CONTRACT,
                       'questions must be a JSON list of {"name": ..., "value": ...} or an object of answers')
    answers = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise _Problem(ErrorType.INVALID_CONTRACT, f"questions[{i}] must be an object with a 'name'")
        extra = set(item) - {"name", "value"}
        if extra:
            raise _Problem(ErrorType.INVALID_CONTRACT,
                           f"questions[{i}] has unknown fields {', '.join(sorted(extra))}; use name and value")
        answer = item.get("value")
        answers.append({"name": item["name"], "value": "" if answer is None else _text(answer)})
    return answers


def _workflow_id(record: dict) -> str:
    raw_id = record.get(WORKFLOW_ID)
    if frames.is_missing(raw_id):
        raise _Problem(ErrorType.MISSING_PARAMETER, "workflowId is missing: each row needs the id of the "
                                                    "workflow to run in a 'workflowId' column")
    workflow_id = frames.as_text(raw_id)
    if workflow_id in (".", "..") or any(ord(c) < 32 for c in workflow_id):
        raise _Problem(ErrorType.INVALID_PARAMETER, f"workflowId {workflow_id!r} is not a valid id")
    return workflow_id


def _settings(record: dict, api: Api) -> dict[str, str]:
    settings: dict[str, str] = {}
    for name in (PRIORITY, CREDENTIAL_ID, WORKER_TAG):
        value = record.get(name)
        if frames.is_missing(value):
            continue
        if name not in api.path.settings:
            raise _Problem(ErrorType.NOT_AVAILABLE, f"{name} cannot be sent through the {api.name} job path; "
                                                    "use api='v3' (or leave the column empty)")
        settings[name] = frames.as_text(value)
    if PRIORITY in settings:
        priority = _PRIORITY_NAMES.get(settings[PRIORITY].strip().lower())
        if priority is None:
            raise _Problem(ErrorType.INVALID_PARAMETER,
                           f"priority {settings[PRIORITY]!r} is not one of Default, Low, Medium, High, "
                           "Critical (or 0-3)")
        if priority == "Default" and api.name != "v3":
            del settings[PRIORITY]
        else:
            settings[PRIORITY] = priority if api.name == "v3" else _V1_PRIORITY[priority]
    return settings


def _answers(record: dict, columns: list[str]) -> list[dict]:
    answers = _parse_questions(record.get(QUESTIONS))
    by_name = {a["name"]: i for i, a in enumerate(answers)}
    for column in columns:
        value = record.get(column)
        if frames.is_missing(value):
            continue
        name = str(column)
        entry = {"name": name, "value": _text(value)}
        if name in by_name:
            answers[by_name[name]] = entry
        else:
            by_name[name] = len(answers)
            answers.append(entry)
    return answers


def plan_job(pos: int, key: str, record: dict, api: Api, columns: list[str]) -> Job | tuple[ErrorType, str]:
    """The job a row asks for (its uploads come later), or why it cannot be sent (``(error_type, error)``)."""
    try:
        return Job(pos, key, _workflow_id(record), _answers(record, columns), _settings(record, api))
    except _Problem as problem:
        return problem.error_type, problem.error


def input_frame(frame: Any) -> pd.DataFrame:
    """The input, checked as a whole: a RecordID and a workflowId column, axframe's own columns dropped."""
    df = frames.prepare_input(frame)
    ours = [c for c in JOB_COLUMNS if c in df.columns]
    if ours:
        df = df.drop(columns=ours)
    if WORKFLOW_ID not in df.columns and WORKFLOW_NAME not in df.columns:
        near = [c for c in df.columns if str(c).strip().lower().replace("_", "").replace(" ", "")
                in ("workflowid", "appid")]
        hint = f" (there is a column {near[0]!r}; rename it to 'workflowId')" if near else ""
        raise FrameError(f"the frame has no 'workflowId' column{hint}: each row names the workflow to run by its "
                         "id, or by its name in a 'workflow' column", hint="list them with "
                         "ax.get(conn, 'workflows.list').expand()", file_hint="list them with: axframe get workflows.list")
    return df


def named_workflows(df: pd.DataFrame) -> bool:
    """Whether the rows name their workflows (a ``workflow`` column and no ``workflowId`` column).

    With a ``workflowId`` column, a ``workflow`` column is a question like any other.
    """
    return WORKFLOW_NAME in df.columns and WORKFLOW_ID not in df.columns


def question_columns(df: pd.DataFrame, chosen: Iterable[str] | str | None, named: bool = False) -> list[str]:
    """The answer columns: those given, or every column that is not a setting (nor, when the rows name their
    workflows, the ``workflow`` column)."""
    if chosen is None:
        return [c for c in df.columns if c != frames.RECORD_ID and c not in SETTINGS_COLUMNS
                and not (named and c == WORKFLOW_NAME)]
    names = [chosen] if isinstance(chosen, str) else list(chosen)
    missing = [c for c in names if c not in df.columns]
    if missing:
        raise FrameError(f"question_columns not in the frame: {', '.join(map(str, missing))}")
    clash = [c for c in names if c == frames.RECORD_ID or c in SETTINGS_COLUMNS]
    if clash:
        raise FrameError(f"{', '.join(map(str, clash))} cannot be question columns; answer such questions "
                         "through the 'questions' column")
    return names


def endpoint_path(conn: Connection, endpoint: Endpoint, **values: str) -> str:
    """*endpoint*'s path with *values* as its path parameters (and the legacy API's trailing slash)."""
    path = endpoint.path
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path + ("/" if conn.legacy and endpoint.family in ("v1", "admin_v1") else "")
