"""Jobs: a queue served by a fixed number of simulated workers, outputs, input files, usage.

Time is simulated lazily.  Each job takes the run time of its workflow; at
most ``job_slots`` jobs run at once; a queued job starts the moment a slot is
free (highest priority first, then oldest).  :meth:`Jobs.tick` replays that
schedule up to the clock's ``now()`` whenever jobs are looked at, so there is
no background thread, and a test can finish every job at once by moving the
clock forward.

How a job ends: the workflow's ``disposition`` setting (package hint or
``/_emulator/workflows/{id}/behaviour``), else Success; an answer whose text
starts with ``ERROR:`` ends it with disposition Error and that message, one
that starts with ``WARNING:`` with disposition Warning.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .actor import Actor
from .core import File, Forbidden, Invalid, NotFound, Record, Refused, Upload, iso, parse_time, project
from .outputs import output_file, usage_csv
from .store import Store
from .workflows import Workflows

__all__ = ["Jobs", "priority_rank", "V1_PRIORITY", "CROCKFORD"]

MESSAGE_INFO, MESSAGE_WARNING, MESSAGE_ERROR = 1, 2, 3
OUTPUT_FORMATS = ("Csv", "Xlsx", "Html", "Raw")
V1_PRIORITY = {"0": "Low", "1": "Medium", "2": "High", "3": "Critical"}
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PRIORITY_RANK = {"Low": 0, "Default": 1, "Medium": 2, "High": 3, "Critical": 4}
_STATUS_NAMES = {"Complete": "Completed"}
_QUEUE_SORT = {"CreateDate": "createDate", "AppName": "appName", "CompletionDateTime": "end", "Priority": "priority",
               "Status": "status"}


def priority_rank(priority: str | None) -> int:
    """Higher runs first; an unknown priority ranks as Default."""
    return _PRIORITY_RANK.get(priority or "Default", 1)


class Jobs:
    """The job queue.  Uses :class:`Workflows` (what a job runs, and who may run it)."""

    def __init__(self, store: Store, *, workflows: Workflows):
        self.store = store
        self.workflows = workflows
        self._slot_cursor = 0.0  # when the last slot came free, on the emulator's clock
        self._seq = 0  # orders jobs queued at the same instant

    # -------------------------------------------------------------- the schedule
    def tick(self) -> None:
        """Bring every job up to the clock: start queued jobs, finish running ones."""
        store = self.store
        now = store.clock.now()
        running = [j for j in store.jobs.values() if j["status"] == "Running"]
        queued = sorted((j for j in store.jobs.values() if j["status"] == "Queued"),
                        key=lambda j: (-j["_rank"], j["_created"], j["_seq"]))
        cursor = self._slot_cursor
        while running or queued:
            next_end = min((j["_end"] for j in running), default=math.inf)
            if queued and len(running) < store.job_slots:
                job = queued[0]
                start = max(job["_created"], cursor)
                if start <= now and start <= next_end:
                    queued.pop(0)
                    job.update(status="Running", _start=start, _end=start + job["_duration"])
                    running.append(job)
                    continue
            if next_end > now:
                break
            job = min(running, key=lambda j: j["_end"])
            running.remove(job)
            cursor = max(cursor, job["_end"])
            self._finish(job)
        self._slot_cursor = cursor

    def _finish(self, job: Record) -> None:
        job["status"] = "Completed"
        wf = self.store.workflows.get(job["appId"])
        disposition, note = _ending(job)
        job["disposition"] = disposition
        seconds = job["_end"] - job["_start"]
        messages = [{"status": MESSAGE_INFO, "text": f"Running {wf['name'] if wf else job['appId']}", "toolId": 0}]
        if disposition in ("Error", "Warning"):
            level = MESSAGE_ERROR if disposition == "Error" else MESSAGE_WARNING
            default = "The workflow ended with an error." if disposition == "Error" else \
                "The workflow ended with warnings."
            messages.append({"status": level, "text": note or default, "toolId": 2})
        messages.append({"status": MESSAGE_INFO, "text": f"Finished in {seconds:.3f} seconds", "toolId": 0})
        job["messages"] = messages
        if disposition != "Error":
            job["outputs"] = [{"id": self.store.new_id(), "name": "Output", "fileName": "Output.csv",
                               "formats": list(OUTPUT_FORMATS)}]
        if wf:
            wf["runCount"] += 1
        self.store.usage_events.append({"eventId": self._ulid(job["_end"]), "timestamp": iso(job["_end"]),
                                        "userId": job["ownerId"], "workflowId": job["appId"], "jobId": job["id"],
                                        "seconds": round(seconds, 3)})

    def _ulid(self, ts: float) -> str:
        value = (int(ts * 1000) << 80) | self.store.rng.getrandbits(80)
        return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))

    # -------------------------------------------------------------- queueing
    def enqueue(self, actor: Actor, workflow_id: str, *, questions: list[dict] | None = None,
                priority: str | None = None, credential_id: str | None = None,
                worker_tag: str | None = None) -> Record:
        """Queue a job (the record; answered as Queued, the next look at it moves it on)."""
        store = self.store
        wf = self.workflows.visible(actor, workflow_id, forbid=True)
        if not (actor.is_curator or wf["ownerId"] == actor.id or wf["othersCanExecute"]):
            raise Forbidden("You do not have permission to run this workflow.")
        version = self.workflows.published(wf)
        answers = _answers(version["questions"], questions or [])
        if credential_id:
            store.require(store.credentials, credential_id, "credentialId", "Credential")
        chosen = str(priority or "Default")
        chosen = V1_PRIORITY.get(chosen, chosen)
        if chosen not in _PRIORITY_RANK:
            raise Invalid.field("priority", f"'{chosen}' is not a valid priority.")
        if not actor.may_prioritize:
            chosen = "Default"
        behaviour = self.workflows.behaviour(wf, version)
        try:
            duration = float(behaviour.get("runSeconds", store.default_run_seconds))
        except (TypeError, ValueError):
            duration = store.default_run_seconds
        self.tick()
        now = store.clock.now()
        self._seq += 1
        job = {"id": store.new_id(), "appId": wf["id"], "versionId": version["versionId"],
               "createDateTime": iso(now), "status": "Queued", "disposition": "", "outputs": [], "messages": [],
               "priority": chosen, "workerTag": worker_tag or wf["workerTag"] or "", "runWithE2": False,
               "questions": answers, "credentialId": credential_id or "", "ownerId": actor.id,
               "_created": now, "_seq": self._seq, "_rank": priority_rank(chosen), "_duration": max(0.0, duration),
               "_behaviour": behaviour, "_start": None, "_end": None}
        store.jobs[job["id"]] = job
        store.counters["jobs_queued"] += 1
        return job

    def run(self, actor: Actor, workflow_id: str, *, questions: list[dict] | None = None,
            priority: str | None = None, credential_id: str | None = None, worker_tag: str | None = None) -> Record:
        """``POST /v3/workflows/{id}/jobs``: queue a job; answers its view."""
        return self.view(self.enqueue(actor, workflow_id, questions=questions, priority=priority,
                                      credential_id=credential_id, worker_tag=worker_tag))

    # ---------------------------------------------------------------- views
    @staticmethod
    def view(job: Record, include_messages: bool = True) -> Record:
        """The V3 ``JobView``."""
        full = dict(job, outputs=[{"id": o["id"], "availableFormats": o["formats"], "fileName": o["fileName"]}
                                  for o in job["outputs"]])
        if not include_messages:
            full.pop("messages")
        return project(full, "JobView")

    def visible(self, actor: Actor, job_id: str) -> Record:
        """The job, up to the clock, if *actor* ran it, owns its workflow or is a Curator."""
        self.tick()
        job = self.store.job(job_id)
        if not actor.is_curator and job["ownerId"] != actor.id:
            wf = self.store.workflows.get(job["appId"])
            if wf is None or wf["ownerId"] != actor.id:
                raise NotFound(f"Job '{job_id}' was not found.")
        return job

    def get_job(self, actor: Actor, job_id: str, *, include_messages: bool | None = None) -> Record:
        return self.view(self.visible(actor, job_id), include_messages is not False)

    def messages(self, actor: Actor, job_id: str) -> list[Record]:
        return [project(m, "JobMessageView") for m in self.visible(actor, job_id)["messages"]]

    def cancel(self, actor: Actor, job_id: str) -> None:
        """``DELETE /v3/jobs/{id}``: a queued job is removed, a running one cancelled, a finished one refused."""
        job = self.visible(actor, job_id)
        if not actor.is_curator and job["ownerId"] != actor.id:
            raise Refused("Only Curators can cancel jobs of other users.")
        if job["status"] == "Queued":
            del self.store.jobs[job_id]
        elif job["status"] == "Running":
            job.update(status="Cancelled", disposition="Cancelled", _end=self.store.clock.now())
            self._slot_cursor = max(self._slot_cursor, job["_end"])
            job["messages"] = job["messages"] + [
                {"status": MESSAGE_WARNING, "text": "The job was cancelled.", "toolId": 0}]
        else:
            raise Refused(f"The job has already ended ({job['status']}).")
        self.store.counters["jobs_cancelled"] += 1

    def workflow_jobs(self, actor: Actor, workflow_id: str, *, sort_field: str | None = None,
                      direction: str | None = None, offset: str | None = None, limit: str | None = None,
                      status: str | None = None, result_code: str | None = None) -> list[Record]:
        """``GET /v3/workflows/{id}/jobs``."""
        self.workflows.visible(actor, workflow_id)
        self.tick()
        jobs = [j for j in self.store.jobs.values() if j["appId"] == workflow_id]
        if status:
            wanted = _STATUS_NAMES.get(status, status)
            jobs = [j for j in jobs if j["status"] == wanted or (status == "Error" and j["disposition"] == "Error")]
        if result_code:
            jobs = [j for j in jobs if j["disposition"] == result_code]
        jobs = _page(_sort(jobs, sort_field or "createDate", direction), offset, limit)
        return [project(dict(j, createDate=j["createDateTime"]), "WorkflowJobView") for j in jobs]

    def queue(self, actor: Actor, *, sort_field: str | None = None, direction: str | None = None,
              offset: str | None = None, limit: str | None = None, priorities: str | None = None,
              statuses: str | None = None, users: str | None = None, all_users: bool | None = None,
              workflow_names: str | None = None, completed_before: str | None = None,
              completed_after: str | None = None) -> Record:
        """``GET /v3/jobs``: the caller's jobs (all users' with ``allUsers``), filtered, sorted and paged."""
        self.tick()
        jobs = [j for j in self.store.jobs.values() if self._queued_for(j, actor, users, all_users)]
        tests = _queue_tests(statuses, priorities, completed_after, completed_before)
        if workflow_names:
            wanted = {n.lower() for n in _split(workflow_names)}
            tests.append(lambda j: self._workflow_name(j).lower() in wanted)
        jobs = [j for j in jobs if all(test(j) for test in tests)]
        names = {j["id"]: self._workflow_name(j) for j in jobs}
        field = _QUEUE_SORT.get(sort_field or "CreateDate", "createDate")
        return self._queue_page(_sort(jobs, field, direction, names=names), offset, limit)

    def _workflow_name(self, job: Record) -> str:
        return str(self.store.workflows.get(job["appId"], {}).get("name", ""))

    @staticmethod
    def _queued_for(job: Record, actor: Actor, users: str | None, all_users: bool | None) -> bool:
        if not all_users:
            return bool(job["ownerId"] == actor.id)
        return not users or job["ownerId"] in set(_split(users))

    def _queue_page(self, jobs: list[Record], offset: str | None, limit: str | None) -> Record:
        total = len(jobs)
        start = _int(offset, 0)
        size = _int(limit, 20) or 20
        data = [self._summary(j) for j in jobs[start:start + size]]
        return {"data": data, "pagination": {"currentPage": start // size + 1, "pageSize": size, "totalItems": total,
                                             "totalPages": max(1, math.ceil(total / size)),
                                             "hasNextPage": start + size < total, "hasPreviousPage": start > 0}}

    def _summary(self, job: Record) -> Record:
        submitter = self.store.users.get(job["ownerId"], {})
        elapsed = job["_end"] - job["_start"] if job["_end"] is not None and job["_start"] is not None else None
        return project({"jobId": job["id"], "status": job["status"], "workflowName": self._workflow_name(job),
                        "workflowId": job["appId"], "submittedBy": submitter.get("email", ""),
                        "startTime": iso(job["_start"]), "queueTime": job["createDateTime"],
                        "executionTime": f"{elapsed:.3f}" if elapsed is not None else None,
                        "priority": job["priority"]}, "PagedJobSummaryView")

    # -------------------------------------------------------------- outputs
    def output(self, actor: Actor, job_id: str, output_id: str, *, format: str | None = None) -> File:
        """``GET /v1/jobs/{id}/output/{outputId}?format=``: one output in one of its formats."""
        job = self.visible(actor, job_id)
        output = next((o for o in job["outputs"] if o["id"] == output_id), None)
        if output is None:
            raise NotFound(f"Output '{output_id}' was not found for job '{job_id}'.")
        if not format:
            raise Invalid.required("format")
        chosen = next((f for f in output["formats"] if f.lower() == format.lower()), None)
        if chosen is None:
            raise Refused(f"Format '{format}' is not available; use one of {', '.join(output['formats'])}.")
        header, rows = self._output_table(job)
        return output_file(chosen, output["fileName"].rsplit(".", 1)[0], header, rows)

    def _output_table(self, job: Record) -> tuple[list[str], list[list[Any]]]:
        """One row of the job's answers; a File Browse answer also reports the file's size."""
        if not job["questions"]:
            wf = self.store.workflows.get(job["appId"], {})
            return ["Workflow", "JobId", "RunCount"], [[wf.get("name", ""), job["id"], wf.get("runCount", 0)]]
        header, row = [], []
        for answer in job["questions"]:
            header.append(answer["name"])
            row.append(answer["value"])
            upload = self.store.input_files.get(answer["value"])
            if upload is not None:
                header.append(f"{answer['name']}_bytes")
                row.append(len(upload["data"]))
        return header, [row]

    # ---------------------------------------------------------- input files
    def upload_input_file(self, actor: Actor, *, file: Upload, name: str | None = None) -> str:
        """``POST /user/v2/inputfiles``: answers the reference a File Browse answer names."""
        file_name = (name or file.name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
        ref = f"inputfiles/{self.store.new_id()}/{file_name}"
        self.store.input_files[ref] = {"name": file_name, "data": file.data, "ownerId": actor.id,
                                       "uploaded": self.store.now_iso()}
        return ref

    # ---------------------------------------------------------------- usage
    def usage_file(self, actor: Actor) -> File:
        """``GET /v3/usage``: the usage records as CSV."""
        self.tick()
        if not self.store.usage_events:
            raise NotFound("No usage records are available for download.")
        return File(usage_csv(self.store.usage_events), "usage.csv")

    def usage_cleanup(self, actor: Actor, *, file: Upload) -> None:
        """``POST /v3/usage``: delete the usage events up to the event id (a ULID) the file holds."""
        if not file.data.strip():
            raise Refused("Missing or empty AAC response file.")
        try:
            cutoff = file.data.decode("utf-8").strip().upper()
        except UnicodeDecodeError:
            raise Refused("The file must hold one event id (ULID) as text.") from None
        if len(cutoff) != 26 or any(c not in CROCKFORD for c in cutoff):
            raise Refused("The file must hold one event id (ULID) as text.")
        self.store.usage_events = [e for e in self.store.usage_events if e["eventId"] > cutoff]


def _answers(questions: list, given: list[dict]) -> list[dict]:
    """The job's answers: those given (each naming a question of the app), then the defaults of the rest."""
    names = {q.name for q in questions}
    answers = []
    for i, item in enumerate(given):
        name = item.get("name")
        if name not in names:
            raise Invalid.field(f"questions[{i}].name", f"The app has no question named '{name}'.")
        answers.append({"name": name, "value": "" if item.get("value") is None else str(item["value"])})
    answered = {a["name"] for a in answers}
    return answers + [{"name": q.name, "value": q.default} for q in questions if q.name not in answered]


def _ending(job: Record) -> tuple[str, str]:
    """Disposition and note: the behaviour's, unless an answer starts with ERROR: or WARNING:."""
    disposition = job["_behaviour"].get("disposition", "Success")
    note = job["_behaviour"].get("message", "")
    by_name = {a["name"]: a.get("value", "") for a in job["questions"]}  # a repeated answer: the last counts
    for value in by_name.values():
        text = str(value)
        if text.startswith("ERROR:"):
            return "Error", text[len("ERROR:"):].strip()
        if text.startswith("WARNING:") and disposition == "Success":
            disposition, note = "Warning", text[len("WARNING:"):].strip()
    return disposition, note


def _queue_tests(statuses: str | None, priorities: str | None, completed_after: str | None,
                 completed_before: str | None) -> list[Callable[[Record], bool]]:
    tests: list[Callable[[Record], bool]] = []
    if statuses:
        wanted = {_STATUS_NAMES.get(s, s) for s in _split(statuses)}
        tests.append(lambda j: j["status"] in wanted)
    if priorities:
        chosen = {V1_PRIORITY.get(p, p) for p in _split(priorities)}
        tests.append(lambda j: j["priority"] in chosen)
    for bound, after in ((completed_after, True), (completed_before, False)):
        if bound:
            tests.append(_completed(parse_time(bound, "completed"), after))
    return tests


def _completed(limit: float, after: bool) -> Callable[[Record], bool]:
    """Jobs that ended (not running) at or after *limit*, or before it."""
    def test(j: Record) -> bool:
        end = j["_end"]
        return end is not None and j["status"] != "Running" and (end >= limit if after else end < limit)
    return test


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _int(text: Any, default: int) -> int:
    if text in (None, ""):
        return default
    try:
        value = int(str(text))
    except ValueError:
        raise Refused(f"'{text}' is not a whole number.") from None
    if value < 0:
        raise Refused(f"'{text}' must not be negative.")
    return value


def _sort(jobs: list[Record], field: str, direction: str | None, names: dict | None = None) -> list[Record]:
    def key(j: Record) -> Any:
        if field == "appName" and names is not None:
            return names.get(j["id"], "")
        if field == "end":
            return j["_end"] or 0
        if field == "priority":
            return j["_rank"]
        if field == "status":
            return j["status"]
        return (j["_created"], j["_seq"])

    return sorted(jobs, key=key, reverse=(direction or "desc").lower() == "desc")


def _page(items: list, offset: Any, limit: Any) -> list:
    start = _int(offset, 0)
    size = _int(limit, 0)
    return items[start:start + size] if size else items[start:]
