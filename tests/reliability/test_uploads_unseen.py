"""An upload whose outcome is unknown, on a Server whose workflow lists leave ``sourceAppId`` out (one real
Server did, in the evidence): axframe must never end with two workflows.

The emulator's answers are passed through a WSGI middleware that removes ``sourceAppId`` from the items of
``GET /v3/workflows`` (the detail view keeps it, as real Servers' do).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import axframe as ax
from axframe.emulator import Emulator
from axframe.packages import build_package

from ..conftest import fast_retry


def without_source_ids(app, also_in_detail: bool = False):
    def middleware(environ, start_response):
        path = environ.get("PATH_INFO", "")
        listing = environ["REQUEST_METHOD"] == "GET" and path.rstrip("/").endswith("/v3/workflows")
        detail = environ["REQUEST_METHOD"] == "GET" and "/v3/workflows/" in path and also_in_detail
        body = b"".join(app(environ, lambda status, headers, exc=None: kept.update(status=status, headers=headers)))
        if (listing or detail) and kept["status"].startswith("200"):
            value = json.loads(body)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    item.pop("sourceAppId", None)
            body = json.dumps(value).encode()
            kept["headers"] = [(k, str(len(body)) if k.lower() == "content-length" else v) for k, v in kept["headers"]]
        start_response(kept["status"], kept["headers"])
        return [body]

    kept: dict = {}
    return middleware


def _uploads(tmp_path, owner: str, count: int) -> pd.DataFrame:
    rows = []
    for i in range(count):
        path = tmp_path / f"w{i}.yxzp"
        path.write_bytes(build_package(f"Unseen {i:03d}"))
        rows.append({"RecordID": i + 1, "file": str(path), "name": f"Unseen {i:03d}", "ownerId": owner,
                     "sourceAppId": f"src-{i:04d}", "isPublic": "false", "isReadyForMigration": "false",
                     "othersMayDownload": "true", "othersCanExecute": "true", "executionMode": "Standard",
                     "workflowCredentialType": "Default"})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("detail_shows_it", [True, False], ids=["detail-view", "name-owner-time"])
def test_unknown_uploads_on_a_server_that_lists_no_source_id_never_make_two_workflows(tmp_path, detail_shows_it):
    emulator = Emulator()
    app = without_source_ids(emulator.wsgi_app, also_in_detail=not detail_shows_it)
    conn = ax.authenticate(emulator.wsgi_url, *emulator.curator, wsgi_app=app, retry=fast_retry())
    owner = emulator.refs["user:ana"]
    frame = _uploads(tmp_path, owner, 200)
    emulator.faults.configure(reset_after=0.2, reset_before=0.1, methods=["POST"], path_pattern=r"/v3/workflows$",
                              seed=8)
    result = ax.create(conn, "workflows.upload", frame, max_workers=4)
    emulator.faults.clear()
    names = [w["name"] for w in emulator.state.workflows.values() if w["name"].startswith("Unseen ")]
    assert len(names) == len(set(names))  # never two workflows
    assert set(result.failure["ErrorType"]) <= {"OutcomeUnknown"}, result.failure["Error"].head().tolist()
    assert result.summary.reconciled > 0  # settled by what the Server does show
    assert len(result.success) + len(result.failure) == 200
    made = set(names)
    for row in result.success.itertuples():
        assert row.name in made
