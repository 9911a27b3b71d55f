"""Secrets: with the API key, secret and tokens in play, none of them appears anywhere axframe writes.

The scenarios (macros, a journal, reconciliation, token expiry, jobs, migration, deploy, audit, legacy
OAuth1, the command line, errors) run with DEBUG logging on the root logger, ``axframe`` and ``urllib3``.
Then every output frame, file written (CSV, Excel unzipped, Parquet read back, journals, downloads), log
line, warning, exception text and ``repr`` is searched for the key, the secret, and every token the
emulators issued (recorded at the emulator as it issues them) or the connections held.

TLS and plain-http warnings complete tests/client/test_engine.py (``test_insecure_settings_warn``,
``test_no_warning_for_loopback_http``).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import traceback
import warnings
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import axframe as ax
from axframe import client
from axframe.emulator import Emulator
from axframe.packages import build_package

from ..conftest import fast_retry


def _record_tokens(server, issued: list[str]) -> None:
    """Keep every token the emulator issues (its ``state.tokens`` forgets expired ones)."""
    original = server.state.issue_token

    def issue_token(client_id, client_secret):
        answer = original(client_id, client_secret)
        issued.append(answer["access_token"])
        return answer

    server.state.issue_token = issue_token


def _file_texts(folder: Path) -> dict[str, str]:
    """The text of every file under *folder*: workbooks unzipped, Parquet read back, the rest as bytes."""
    texts = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        text = data.decode("latin-1")
        if path.suffix in (".xlsx", ".yxzp") and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as book:
                text += "".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())
        if path.suffix == ".parquet":
            text += pd.read_parquet(path).to_csv()
        texts[str(path)] = text
    return texts


def _frames_text(*results) -> str:
    parts = []
    for result in results:
        for frame in (result.success, result.failure):
            parts.append(frame.to_csv())
            parts.append(repr(frame.to_dict("records")))
        parts += [repr(result), str(result.summary), repr(result.summary.as_dict())]
        outputs = getattr(result, "outputs", None)
        if outputs is not None:
            parts.append(outputs.to_csv())
    return "\n".join(parts)


def _exception_text(call) -> str:
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the text of whatever it raised is what is checked
        return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)
    raise AssertionError("expected an exception")


def _cli(args, server, extra_env=None, cwd=None, debug=True):
    """The command line in a subprocess, with DEBUG logging to stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AXFRAME_")}
    env.update(AXFRAME_BASE_URL=server.url, AXFRAME_CLIENT_ID=server.curator[0],
               AXFRAME_CLIENT_SECRET=server.curator[1])
    env.update(extra_env or {})
    code = ("import logging, sys; logging.basicConfig(level=logging.DEBUG); "
            "from axframe.cli import main; sys.exit(main(sys.argv[1:]))") if debug else \
        "import sys; from axframe.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120, stdin=subprocess.DEVNULL)


@pytest.mark.slow
def test_no_key_secret_or_token_in_any_output_file_log_exception_or_repr(tmp_path, server, caplog, capsys, ids):
    for name in (None, "axframe", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    issued: list[str] = []
    _record_tokens(server, issued)
    key, secret = server.curator
    texts: dict[str, str] = {}
    held: list[str] = []  # tokens the connections held

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        conn = ax.authenticate(server.url, key, secret, retry=fast_retry())
        held.append(conn.auth._token)

        # the macros, with a journal, reconciliation and token expiry
        journal = tmp_path / "users.journal"
        frame = ax.add_record_id(pd.DataFrame({"firstName": ["S"] * 30, "lastName": ["T"] * 30,
                                               "email": [f"sec{i}@example.com" for i in range(30)]}))
        server.faults.configure(expire_tokens_every=15, reset_after=0.1, seed=2)
        created = ax.create(conn, "users.create", frame, journal=journal, max_workers=4)
        server.faults.clear()
        held.append(conn.auth._token)
        assert created.summary.reconciled > 0 and created.summary.tokens_requested > 0
        listed = ax.get(conn, "users.list", ax.add_record_id(pd.DataFrame({"view": ["Full"]})))
        me = ax.get(conn, "users.get", pd.DataFrame({"RecordID": [1, 2], "userId": [ids["user:admin"], "nope"]}))
        subscription = ax.create(conn, "subscriptions.create", pd.DataFrame({"RecordID": [1], "name": ["Sec"]}))
        updated = ax.post(conn, "users.update", pd.DataFrame({"RecordID": [1], "userId": [ids["user:ana"]],
                                                              "firstName": ["Anabel"]}))
        removed = ax.delete(conn, "collections.remove_user",
                            pd.DataFrame({"RecordID": [1], "collectionId": [ids["collection:fin"]],
                                          "userId": [ids["user:ana"]]}))
        dry = ax.create(conn, "collections.create", pd.DataFrame({"RecordID": [1], "name": ["dry"]}), dry_run=True)
        download = ax.get(conn, "workflows.download", pd.DataFrame({"RecordID": [1],
                                                                    "workflowId": [ids["workflow:sales"]]}),
                          download_dir=tmp_path / "downloads")
        macro_results = [created, listed, me, subscription, updated, removed, dry, download]
        assert all(r.failure.empty for r in (created, listed, subscription, updated, removed, download))

        # jobs, with their outputs
        jobs = ax.run_jobs(conn, pd.DataFrame({"RecordID": [1, 2], "workflowId": [ids["workflow:sales"]] * 2,
                                               "Region": ["North", "ERROR: bad"]}),
                           outputs="Csv", output_folder=tmp_path / "outputs", poll_interval=(0.02, 0.2))
        assert len(jobs.success) == 1 and jobs.outputs is not None

        # migration to a second Server, deploy, audit
        with Emulator(random_seed=7) as target:
            _record_tokens(target, issued)
            tgt = ax.authenticate(target.url, *target.curator, retry=fast_retry())
            held.append(tgt.auth._token)
            flagged = ax.post(conn, "workflows.update",
                              pd.DataFrame({"RecordID": [1], "workflowId": [ids["workflow:sales"]],
                                            "isReadyForMigration": [True]}))
            moved = ax.migrate(conn, tgt, package_dir=tmp_path / "packages", existing="version")
            assert len(moved.success) >= 1, moved.failure.to_dict("records")
            target_secret = target.curator[1]
            tgt.close()
        folder = tmp_path / "deploy"
        folder.mkdir()
        (folder / "Secret Check.yxzp").write_bytes(build_package("Secret Check"))
        deployed = ax.deploy(conn, folder, owner="ada.admin@example.com")
        assert deployed.failure.empty, deployed.failure.to_dict("records")
        audit = ax.audit_log(conn, "Collection")
        listing = ax.admin_listing(conn, "users")

        # legacy OAuth1: the key travels in every signature (and oauthlib logs it at DEBUG)
        legacy = ax.authenticate(server.url, key, secret, legacy=True, retry=fast_retry())
        legacy_jobs = ax.get(legacy, "v1.workflows")

        # errors
        texts["exceptions"] = "\n".join([
            _exception_text(lambda: ax.authenticate(server.url, key, secret + "x")),
            _exception_text(lambda: ax.authenticate(server.url, key + "x", secret)),
            _exception_text(lambda: ax.authenticate("http://127.0.0.1:9/webapi", key, secret)),
            _exception_text(lambda: ax.create(conn, "collections.create_it", frame)),
            _exception_text(lambda: ax.create(conn, "collections.create", pd.DataFrame({"name": [secret]}))),
            _exception_text(lambda: ax.Connection(server.url, key, "")),
        ])
        for result in (created, listed, subscription, jobs, moved, deployed):
            ax.write_results(result, tmp_path / "results" / f"{result.summary.action}.xlsx")
            ax.write_results(result, tmp_path / "results" / f"{result.summary.action}.csv")
            ax.write_results(result, tmp_path / "results" / f"{result.summary.action}.parquet")
        ax.write_frame(audit, tmp_path / "results" / "audit.csv")
        ax.write_frame(listing, tmp_path / "results" / "listing.parquet")
        texts["reprs"] = "\n".join(repr(x) for x in (conn, conn.auth, conn.session.auth, legacy, legacy.auth,
                                                     conn.stats, client.Call("GET", "/v3/users")))
        conn.close()
        legacy.close()

    # the command line, at DEBUG: a run with a journal and Excel results, a legacy run, refused keys
    source = ax.write_frame(pd.DataFrame({"RecordID": [1, 2], "name": ["cli sec a", ""]}), tmp_path / "cli.csv")
    runs = [
        _cli(["create", "collections.create", "--input", str(source), "--journal", str(tmp_path / "cli.journal"),
              "--output", str(tmp_path / "cli-out.xlsx")], server),
        _cli(["get", "v1.workflows", "--legacy", "--input", str(source)], server),
        _cli(["create", "collections.create", "--input", str(source), "--overwrite"], server,
             extra_env={"AXFRAME_CLIENT_SECRET": secret + "x"}),
        _cli(["create", "collections.create", "--input", str(source), "--overwrite"], server,
             extra_env={"AXFRAME_BASE_URL": "http://127.0.0.1:9/webapi"}),
    ]
    assert [r.returncode for r in runs] == [1, 0, 2, 2], [(r.returncode, r.stderr[-500:]) for r in runs]
    assert "DEBUG" in runs[0].stderr  # the logs were on
    texts["cli"] = "\n".join(r.stdout + r.stderr for r in runs)

    out, err = capsys.readouterr()
    texts["stdout"], texts["stderr"] = out, err
    texts["logs"] = caplog.text + "\n".join(logging.Formatter().format(r) for r in caplog.records)
    texts["warnings"] = "\n".join(str(w.message) for w in caught)
    texts["frames"] = _frames_text(*macro_results, jobs, flagged, moved, deployed, legacy_jobs) + \
        audit.to_csv() + listing.to_csv()
    texts.update(_file_texts(tmp_path))
    assert journal.exists() and (tmp_path / "cli.journal").exists() and (tmp_path / "downloads").exists()
    assert caplog.records and any(r.name.startswith("urllib3") for r in caplog.records)
    assert any(r.name.startswith("oauthlib") or r.name.startswith("requests_oauthlib") for r in caplog.records)

    tokens = set(issued) | set(held)
    assert len(issued) >= 4 and None not in tokens
    wanted = {"API key": key, "secret": secret, "target secret": target_secret,
              **{f"token {t[:4]}…": t for t in tokens}}
    leaks = [(what, where) for where, text in texts.items() for what, value in wanted.items() if value in text]
    assert not leaks, leaks


def test_insecure_tls_warns_once_and_is_never_the_default(server, recwarn):
    client.connection._warned.discard("verify")
    default = ax.authenticate(server.url, *server.curator)
    assert default.session.verify is True or os.path.isfile(default.session.verify)  # a CA bundle checks too
    assert not [w for w in recwarn if "verification is off" in str(w.message)]
    with pytest.warns(UserWarning, match="verification is off"):
        off = ax.authenticate(server.url, *server.curator, verify=False)
    assert off.session.verify is False
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        ax.authenticate(server.url, *server.curator, verify=False)
    assert not [w for w in again if "verification is off" in str(w.message)]  # once per process
    ca = ax.authenticate(server.url, *server.curator, ca_bundle=__file__)  # a CA bundle keeps checking on
    assert ca.session.verify == __file__


def test_the_command_line_warns_of_plain_http_and_of_insecure(tmp_path, server):
    source = ax.write_frame(pd.DataFrame({"RecordID": [1], "name": ["x"]}), tmp_path / "in.csv")
    args = ["create", "collections.create", "--input", str(source)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AXFRAME_")}
    far = subprocess.run([sys.executable, "-m", "axframe.cli", *args, "--dry-run", "--base-url",
                          "http://alteryx.example.com"], capture_output=True, text=True, env=env, timeout=60,
                         stdin=subprocess.DEVNULL)
    assert "plain http" in far.stderr  # a dry run sends nothing, but the address is checked
    checked = _cli(args, server, debug=False)
    insecure = _cli([*args, "--insecure", "--overwrite"], server, debug=False)
    assert checked.returncode == insecure.returncode == 0, (checked.stderr, insecure.stderr)
    assert "verification is off" not in checked.stderr
    assert insecure.stderr.count("verification is off") == 1


@pytest.mark.parametrize("url, warned", [
    ("http://alteryx.example.com/webapi", True),
    ("http://10.1.2.3/webapi", True),
    ("http://[::1]:8080/webapi", False),
    ("http://localhost:8080/webapi", False),
    ("http://127.0.0.5:8080/webapi", False),
    ("https://alteryx.example.com/webapi", False),
])
def test_plain_http_warns_unless_loopback(url, warned):
    from urllib.parse import urlsplit

    client.connection._warned.discard(f"http:{urlsplit(url).hostname}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.Connection(url, "k" * 8, "s" * 8)
    assert bool([w for w in caught if "plain http" in str(w.message)]) is warned


def test_passwords_sent_in_rows_are_masked_in_success_and_dry_run_but_kept_for_a_retry(tmp_path, server, conn):
    frame = pd.DataFrame({"RecordID": [1, 2, 3],
                          "username": ["svc-one", "svc-two", None],
                          "password": ["Pa55-one!", "Pa55-two!", "Pa55-three!"]})
    success, failure = ax.create(conn, "credentials.create", frame)
    assert success["password"].tolist() == ["***", "***"]
    made = {c["userName"]: c["password"] for c in server.state.credentials.values()}
    assert made["svc-one"] == "Pa55-one!" and made["svc-two"] == "Pa55-two!"  # the real passwords were sent
    # the failure frame is an input to fix and send again: it keeps what the user typed
    assert failure["password"].tolist() == ["Pa55-three!"]
    paths = ax.write_results((success, failure), tmp_path / "creds.csv")
    assert "Pa55-one!" not in paths[0].read_text(encoding="utf-8-sig")
    # contracts as JSON text and as dicts: masked in success and in a dry run's Body, plain text cells
    contracts = pd.DataFrame({"RecordID": [1, 2],
                              "contract": [{"username": "svc-three", "password": "Pa55-four!"},
                                           '{"username": "svc-four", "newPassword": "x", "password": "Pa55-five!"}']})
    for result in (ax.create(conn, "credentials.create", contracts),
                   ax.create(conn, "credentials.create", contracts, dry_run=True)):
        text = result.success.to_csv()
        assert "Pa55-four!" not in text and "Pa55-five!" not in text
        assert all(isinstance(v, str) for v in result.success["contract"])


def test_a_dict_contract_comes_back_as_json_text_in_a_failure_frame(server, conn):
    frame = pd.DataFrame({"RecordID": [1], "contract": [{"name": ""}]})
    success, failure = ax.create(conn, "collections.create", frame)
    assert success.empty and failure["contract"].tolist() == ['{"name": ""}']


def test_a_dry_run_shows_query_values_encoded_as_they_are_sent(server, conn):
    frame = pd.DataFrame({"RecordID": [1], "email": ["a&b=c@example.com"]})
    shown = ax.get(conn, "users.list", frame, dry_run=True).success["URL"][0]
    assert shown.endswith("/v3/users?email=a%26b%3Dc%40example.com")
