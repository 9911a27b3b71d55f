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

import csv
import html
import io
import math
from typing import Any

from .core import BadRequest, Core, Forbidden, NotFound, check, invalid, iso, project

MESSAGE_INFO, MESSAGE_WARNING, MESSAGE_ERROR = 1, 2, 3
OUTPUT_FORMATS = ("Csv", "Xlsx", "Html", "Raw")
_V1_PRIORITY = {"0": "Low", "1": "Medium", "2": "High", "3": "Critical"}
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class Jobs(Core):
    # -------------------------------------------------------------- schedule
    def tick(self) -> None:
        """Bring every job up to the clock: start queued jobs, finish running ones."""
        now = self.clock.now()
        running = [j for j in self.jobs.values() if j["status"] == "Running"]
        queued = sorted((j for j in self.jobs.values() if j["status"] == "Queued"),
                        key=lambda j: (-j["_rank"], j["_created"], j["_seq"]))
        if not running and not queued:
            return
        cursor = getattr(self, "_slot_cursor", 0.0)
        while True:
            next_end = min((j["_end"] for j in running), default=math.inf)
            if queued and len(running) < self.job_slots:
                job = queued[0]
                start = max(job["_created"], cursor)
                if start <= now and start <= next_end:
                    queued.pop(0)
                    job["status"] = "Running"
                    job["_start"] = start
                    job["_end"] = start + job["_duration"]
                    running.append(job)
                    continue
            if next_end <= now:
                job = min(running, key=lambda j: j["_end"])
                running.remove(job)
                cursor = max(cursor, job["_end"])
                self._finish(job)
                continue
            break
        self._slot_cursor = cursor

    def _finish(self, job: dict) -> None:
        job["status"] = "Completed"
        wf = self.workflows.get(job["appId"])
        answers = {q["name"]: q.get("value", "") for q in job["questions"]}
        disposition, note = job["_behaviour"].get("disposition", "Success"), job["_behaviour"].get("message", "")
        for value in answers.values():
            text = str(value)
            if text.startswith("ERROR:"):
                disposition, note = "Error", text[len("ERROR:"):].strip()
                break
            if text.startswith("WARNING:") and disposition == "Success":
                disposition, note = "Warning", text[len("WARNING:"):].strip()
        job["disposition"] = disposition
        seconds = job["_end"] - job["_start"]
        name = wf["name"] if wf else job["appId"]
        messages = [{"status": MESSAGE_INFO, "text": f"Running {name}", "toolId": 0}]
        if disposition == "Error":
            messages.append({"status": MESSAGE_ERROR, "text": note or "The workflow ended with an error.",
                             "toolId": 2})
        elif disposition == "Warning":
            messages.append({"status": MESSAGE_WARNING, "text": note or "The workflow ended with warnings.",
                             "toolId": 2})
        messages.append({"status": MESSAGE_INFO, "text": f"Finished in {seconds:.3f} seconds", "toolId": 0})
        job["messages"] = messages
        if disposition != "Error":
            job["outputs"] = [{"id": self.new_id(), "name": "Output", "fileName": "Output.csv",
                               "formats": list(OUTPUT_FORMATS)}]
        if wf:
            wf["runCount"] += 1
        self.usage_events.append({"eventId": self._ulid(job["_end"]), "timestamp": iso(job["_end"]),
                                  "userId": job["ownerId"], "workflowId": job["appId"],
                                  "jobId": job["id"], "seconds": round(seconds, 3)})

    def _ulid(self, ts: float) -> str:
        value = (int(ts * 1000) << 80) | self.rng.getrandbits(80)
        return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))

    # -------------------------------------------------------------- enqueue
    def enqueue(self, actor: dict, workflow_id: str, contract: Any, param: str = "contract",
                definition: str = "EnqueueJobContract") -> dict:
        wf = self.visible_workflow(actor, workflow_id, forbid=True)  # type: ignore[attr-defined]
        contract = {} if contract is None else contract
        check(contract, {"$ref": definition}, param)
        if not (self.is_curator(actor) or wf["ownerId"] == actor["id"] or wf["othersCanExecute"]):
            raise Forbidden("You do not have permission to run this workflow.")
        version = self.published(wf)  # type: ignore[attr-defined]
        names = {q.name: q for q in version["questions"]}
        answers = []
        for i, item in enumerate(contract.get("questions") or []):
            qname = item.get("name")
            if qname not in names:
                raise invalid({f"{param}.questions[{i}].name": [f"The app has no question named '{qname}'."]})
            answers.append({"name": qname, "value": "" if item.get("value") is None else str(item["value"])})
        given = {a["name"] for a in answers}
        answers += [{"name": q.name, "value": q.default} for q in version["questions"] if q.name not in given]
        credential = contract.get("credentialId")
        if credential and credential not in self.credentials:
            raise invalid({f"{param}.credentialId": [f"Credential '{credential}' was not found."]})
        priority = str(contract.get("priority") or "Default")
        priority = _V1_PRIORITY.get(priority, priority)
        if priority not in ("Default", "Low", "Medium", "High", "Critical"):
            raise invalid({f"{param}.priority": [f"'{priority}' is not a valid priority."]})
        if not (self.is_curator(actor) or actor.get("canPrioritizeJobs")):
            priority = "Default"
        behaviour = self.behaviour(wf, version)  # type: ignore[attr-defined]
        try:
            duration = float(behaviour.get("runSeconds", self.default_run_seconds))
        except (TypeError, ValueError):
            duration = self.default_run_seconds
        self.tick()
        now = self.clock.now()
        self._job_seq = getattr(self, "_job_seq", 0) + 1
        job = {"id": self.new_id(), "appId": wf["id"], "versionId": version["versionId"],
               "createDateTime": iso(now), "status": "Queued", "disposition": "",
               "outputs": [], "messages": [], "priority": priority,
               "workerTag": contract.get("workerTag") or wf["workerTag"] or "",
               "runWithE2": False, "questions": answers, "credentialId": credential or "",
               "ownerId": actor["id"], "_created": now, "_seq": self._job_seq,
               "_rank": self.priority_rank(priority), "_duration": max(0.0, duration),  # type: ignore[attr-defined]
               "_behaviour": behaviour, "_start": None, "_end": None}
        self.jobs[job["id"]] = job
        self.counters["jobs_queued"] += 1
        return job  # answered as Queued; the next look at the job moves it on

    # ---------------------------------------------------------------- views
    def job_view(self, job: dict, include_messages: bool = True) -> dict:
        full = dict(job, outputs=[{"id": o["id"], "availableFormats": o["formats"], "fileName": o["fileName"]}
                                  for o in job["outputs"]])
        if not include_messages:
            full.pop("messages")
        return project(full, "JobView")

    def job_view_v1(self, job: dict, include_messages: bool = True) -> dict:
        view = {"id": job["id"], "appId": job["appId"], "createDate": job["createDateTime"],
                "status": job["status"], "disposition": job["disposition"],
                "outputs": [{"id": o["id"], "formats": o["formats"], "name": o["name"]} for o in job["outputs"]],
                "messages": job["messages"] if include_messages else [],
                "priority": job["priority"], "workerTag": job["workerTag"], "runWithE2": False}
        return view

    def _visible_job(self, actor: dict, job_id: str) -> dict:
        self.tick()
        job = self.job(job_id)
        if not self.is_curator(actor) and job["ownerId"] != actor["id"]:
            wf = self.workflows.get(job["appId"])
            if wf is None or wf["ownerId"] != actor["id"]:
                raise NotFound(f"Job '{job_id}' was not found.")
        return job

    def get_job(self, actor: dict, job_id: str, includeMessages: bool | None = None) -> dict:
        return self.job_view(self._visible_job(actor, job_id), includeMessages is not False)

    def job_messages(self, actor: dict, job_id: str) -> list[dict]:
        return [project(m, "JobMessageView") for m in self._visible_job(actor, job_id)["messages"]]

    def cancel_job(self, actor: dict, job_id: str) -> None:
        job = self._visible_job(actor, job_id)
        if not self.is_curator(actor) and job["ownerId"] != actor["id"]:
            raise BadRequest("Only Curators can cancel jobs of other users.")
        if job["status"] == "Queued":
            del self.jobs[job_id]
        elif job["status"] == "Running":
            job["status"], job["disposition"] = "Cancelled", "Cancelled"
            job["_end"] = self.clock.now()
            self._slot_cursor = max(getattr(self, "_slot_cursor", 0.0), job["_end"])
            job["messages"] = job["messages"] + [
                {"status": MESSAGE_WARNING, "text": "The job was cancelled.", "toolId": 0}]
        else:
            raise BadRequest(f"The job has already ended ({job['status']}).")
        self.counters["jobs_cancelled"] += 1

    def workflow_jobs(self, actor: dict, workflow_id: str, sortField: str | None = None,
                      direction: str | None = None, offset: str | None = None, limit: str | None = None,
                      status: str | None = None, resultCode: str | None = None) -> list[dict]:
        self.visible_workflow(actor, workflow_id)  # type: ignore[attr-defined]
        self.tick()
        jobs = [j for j in self.jobs.values() if j["appId"] == workflow_id]
        if status:
            wanted = {"Complete": "Completed"}.get(status, status)
            jobs = [j for j in jobs if (j["status"] == wanted) or (status == "Error" and j["disposition"] == "Error")]
        if resultCode:
            jobs = [j for j in jobs if j["disposition"] == resultCode]
        jobs = _page(_sort(jobs, sortField or "createDate", direction), offset, limit)
        return [project(dict(j, createDate=j["createDateTime"]), "WorkflowJobView") for j in jobs]

    def job_queue(self, actor: dict, sortField: str | None = None, direction: str | None = None,
                  offset: str | None = None, limit: str | None = None, priorities: str | None = None,
                  statuses: str | None = None, users: str | None = None, allUsers: bool | None = None,
                  workflowNames: str | None = None, completedBefore: str | None = None,
                  completedAfter: str | None = None) -> dict:
        self.tick()
        jobs = list(self.jobs.values())
        if not allUsers:
            jobs = [j for j in jobs if j["ownerId"] == actor["id"]]
        elif users:
            wanted = set(_split(users))
            jobs = [j for j in jobs if j["ownerId"] in wanted]
        if statuses:
            wanted = {"Complete": "Completed"}
            names = {wanted.get(s, s) for s in _split(statuses)}
            jobs = [j for j in jobs if j["status"] in names]
        if priorities:
            names = {_V1_PRIORITY.get(p, p) for p in _split(priorities)}
            jobs = [j for j in jobs if j["priority"] in names]
        if workflowNames:
            names = {n.lower() for n in _split(workflowNames)}
            jobs = [j for j in jobs if self.workflows.get(j["appId"], {}).get("name", "").lower() in names]
        for bound, keep in ((completedAfter, lambda end, b: end >= b), (completedBefore, lambda end, b: end < b)):
            if bound:
                from .core import parse_time

                limit_ts = parse_time(bound, "completed")
                jobs = [j for j in jobs if j["_end"] is not None and j["status"] != "Running"
                        and keep(j["_end"], limit_ts)]
        field = {"CreateDate": "createDate", "AppName": "appName", "CompletionDateTime": "end",
                 "Priority": "priority", "Status": "status"}.get(sortField or "CreateDate", "createDate")
        jobs = _sort(jobs, field, direction, names={j["id"]: self.workflows.get(j["appId"], {}).get("name", "")
                                                     for j in jobs})
        total = len(jobs)
        start = _int(offset, 0)
        size = _int(limit, 20) or 20
        page = jobs[start:start + size]
        data = []
        for j in page:
            wf = self.workflows.get(j["appId"], {})
            submitter = self.users.get(j["ownerId"], {})
            elapsed = (j["_end"] - j["_start"]) if j["_end"] is not None and j["_start"] is not None else None
            data.append(project({"jobId": j["id"], "status": j["status"], "workflowName": wf.get("name", ""),
                                 "workflowId": j["appId"], "submittedBy": submitter.get("email", ""),
                                 "startTime": iso(j["_start"]), "queueTime": j["createDateTime"],
                                 "executionTime": f"{elapsed:.3f}" if elapsed is not None else None,
                                 "priority": j["priority"]}, "PagedJobSummaryView"))
        pages = max(1, math.ceil(total / size))
        current = start // size + 1
        return {"data": data, "pagination": {"currentPage": current, "pageSize": size, "totalItems": total,
                                             "totalPages": pages, "hasNextPage": start + size < total,
                                             "hasPreviousPage": start > 0}}

    # -------------------------------------------------------------- outputs
    def job_output(self, actor: dict, job_id: str, output_id: str, format: str | None) -> tuple[bytes, str, str]:
        job = self._visible_job(actor, job_id)
        output = next((o for o in job["outputs"] if o["id"] == output_id), None)
        if output is None:
            raise NotFound(f"Output '{output_id}' was not found for job '{job_id}'.")
        if not format:
            raise BadRequest("The format query parameter is required.")
        fmt = next((f for f in output["formats"] if f.lower() == format.lower()), None)
        if fmt is None:
            raise BadRequest(f"Format '{format}' is not available; use one of {', '.join(output['formats'])}.")
        header, rows = self._output_table(job)
        base = output["fileName"].rsplit(".", 1)[0]
        if fmt in ("Csv", "Raw"):
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(header)
            writer.writerows(rows)
            return buffer.getvalue().encode("utf-8"), "text/csv", base + ".csv"
        if fmt == "Html":
            cells = "".join(f"<th>{html.escape(h)}</th>" for h in header)
            body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
            page = f"<html><body><table><tr>{cells}</tr>{body}</table></body></html>"
            return page.encode("utf-8"), "text/html", base + ".html"
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.append(header)
        for row in rows:
            sheet.append([str(c) for c in row])
        buffer = io.BytesIO()
        book.save(buffer)
        return (buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                base + ".xlsx")

    def _output_table(self, job: dict) -> tuple[list[str], list[list[Any]]]:
        """One row of the job's answers; a File Browse answer also reports the file's size."""
        if not job["questions"]:
            wf = self.workflows.get(job["appId"], {})
            return ["Workflow", "JobId", "RunCount"], [[wf.get("name", ""), job["id"], wf.get("runCount", 0)]]
        header, row = [], []
        for answer in job["questions"]:
            header.append(answer["name"])
            row.append(answer["value"])
            upload = self.input_files.get(answer["value"])
            if upload is not None:
                header.append(f"{answer['name']}_bytes")
                row.append(len(upload["data"]))
        return header, [row]

    # ---------------------------------------------------------- input files
    def upload_input_file(self, actor: dict, form: dict, file: tuple[str, bytes] | None) -> str:
        if file is None:
            raise invalid({"file": ["A file is required."]})
        file_name = (form.get("name") or file[0] or "upload").replace("\\", "/").rsplit("/", 1)[-1]
        ref = f"inputfiles/{self.new_id()}/{file_name}"
        self.input_files[ref] = {"name": file_name, "data": file[1], "ownerId": actor["id"],
                                 "uploaded": self.now_iso()}
        return ref

    # ---------------------------------------------------------------- usage
    def usage_file(self, actor: dict) -> bytes:
        self.tick()
        if not self.usage_events:
            raise NotFound("No usage records are available for download.")
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(self.usage_events[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(self.usage_events)
        return buffer.getvalue().encode("utf-8")

    def usage_cleanup(self, actor: dict, file: tuple[str, bytes] | None) -> None:
        if file is None or not file[1].strip():
            raise BadRequest("Missing or empty AAC response file.")
        try:
            cutoff = file[1].decode("utf-8").strip()
        except UnicodeDecodeError:
            raise BadRequest("The file must hold one event id (ULID) as text.") from None
        if len(cutoff) != 26 or any(c not in _CROCKFORD for c in cutoff.upper()):
            raise BadRequest("The file must hold one event id (ULID) as text.")
        self.usage_events = [e for e in self.usage_events if e["eventId"] > cutoff.upper()]


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _int(text: Any, default: int) -> int:
    if text in (None, ""):
        return default
    try:
        value = int(str(text))
    except ValueError:
        raise BadRequest(f"'{text}' is not a whole number.") from None
    if value < 0:
        raise BadRequest(f"'{text}' must not be negative.")
    return value


def _sort(jobs: list[dict], field: str, direction: str | None, names: dict | None = None) -> list[dict]:
    def key(j: dict):
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
