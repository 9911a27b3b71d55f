"""The connection to a Server: base URL, pooled session, signing, retries.

:class:`Connection` sends one :class:`Call` and returns one :class:`Outcome`,
never raising for what the Server or the network did: every ending (success,
refusal, broken connection, unknown outcome) is an outcome a bulk run can put
in a row.  Retry decisions come from :mod:`axframe.retry`.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import threading
import time
import warnings
from typing import Any, Callable
from urllib.parse import urlsplit

import requests

from ..catalogue import Endpoint
from ..errors import AnswerRefused, AuthenticationError, ConfigurationError, ErrorType, ServerUnreachable, proxy_note
from . import retry as retrying
from .auth import LET_THROUGH, MaskedOAuth1, TokenAuth, oauth1_auth
from .call import Call, Outcome
from .limits import DEFAULT_MAX_BYTES_IN_FLIGHT, Budget, late, read_bounded, watch
from .secrets import hold_secrets, install_log_filter, mask, redact
from .refusals import describe_refusal
from .server import ServerInfo
from .transport import Sender, WSGIApp, answer_text, classify, make_session, mount_wsgi, redirect_refusal

__all__ = ["Connection", "authenticate", "normalise_base_url", "load_env_file", "describe_refusal"]

log = logging.getLogger("axframe")

ENV_BASE_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET = "AXFRAME_BASE_URL", "AXFRAME_CLIENT_ID", "AXFRAME_CLIENT_SECRET"
ENV_CA_BUNDLE = "AXFRAME_CA_BUNDLE"
DEFAULT_TIMEOUT = (10.0, 300.0)
DEFAULT_MAX_ANSWER_BYTES = 1024 * 1024 * 1024  # one answer (a listing, a download) held in memory
_MAX_DOCUMENT = 64 * 1024 * 1024  # the Server's Swagger document (ours is about 1 MB)
DEFAULT_ANSWER_DEADLINE = 3600.0  # seconds to receive one whole answer, however slowly it trickles
DEFAULT_WORKERS = 8
TOKEN_DEADLINE = 120.0  # seconds for a whole token answer (a few hundred bytes), at most answer_deadline
_warned: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, stacklevel=3)


def normalise_base_url(base_url: str, legacy: bool = False) -> str:
    """The API root: ``.../webapi`` (OAuth2) or ``.../gallery/api`` (legacy OAuth1)."""
    if not isinstance(base_url, str) or not base_url.strip():
        raise ConfigurationError("a base URL is needed, such as https://alteryx.example.com/webapi "
                                 f"(or set {ENV_BASE_URL})")
    url = base_url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"the base URL must start with https:// or http://, got {base_url!r}")
    if parts.query or parts.fragment:
        raise ConfigurationError("the base URL must not have a query string or fragment")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError("the base URL must not hold a user name or password (user:password@host): "
                                 "it would show in messages and logs; the API key and secret authenticate")
    lowered = url.lower()
    if legacy:
        if lowered.endswith("/gallery/api"):
            return url
        if lowered.endswith("/gallery"):
            return url + "/api"
        if lowered.endswith("/webapi"):
            url = url[: -len("/webapi")]
        return url + "/gallery/api"
    if lowered.endswith("/webapi"):
        return url
    if lowered.endswith("/gallery/api") or lowered.endswith("/gallery"):
        raise ConfigurationError("this is the legacy OAuth1 address (/gallery/api); use the /webapi address, "
                                 "or authenticate(..., legacy=True) for a Server older than 2022.1")
    return url + "/webapi"


def load_env_file(path: str | os.PathLike) -> dict[str, str]:
    """The ``KEY=VALUE`` lines of a .env file (``export`` and quotes allowed, ``#`` comments)."""
    from pathlib import Path

    values: dict[str, str] = {}
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the settings file {path}: {exc.strerror}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):]
        key, sep, value = line.partition("=")
        if not sep:
            raise ConfigurationError(f"{path}:{number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _RateLimiter:
    """At most *rate* calls per second across all threads (evenly spaced)."""

    def __init__(self, rate: float, clock: Callable[[], float], sleep: Callable[[float], None]):
        if rate <= 0:
            raise ConfigurationError("max_per_second must be positive")
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)


class Connection:
    """A signed, pooled connection to one Server; share it between threads.

    Made by :func:`authenticate`.  ``repr`` shows the address and a masked key
    only.  Use as a context manager, or call :meth:`close`, to release the
    connection pool.
    """

    def __init__(self, base_url: str, client_id: str, client_secret: str, *, legacy: bool = False,
                 oauth1_transport: str = "auto", verify: bool | str = True,
                 timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
                 max_workers: int | str = DEFAULT_WORKERS, max_per_second: float | None = None,
                 retry: retrying.RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, pool_size: int = 64,
                 max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
                 answer_deadline: float = DEFAULT_ANSWER_DEADLINE, wsgi_app: WSGIApp | None = None,
                 max_bytes_in_flight: int = DEFAULT_MAX_BYTES_IN_FLIGHT, canonical_url: str | None = None):
        if not client_id or not client_secret:
            raise ConfigurationError(f"an API key and secret are needed (or set {ENV_CLIENT_ID} and "
                                     f"{ENV_CLIENT_SECRET}); find them in the Server under My Profile > Keys")
        # masked for as long as this connection lives (its signer holds them too); its tokens until it is closed
        self._held = hold_secrets(self, client_id, client_secret)
        install_log_filter()  # also on the loggers libraries made since axframe was imported
        if oauth1_transport not in ("auto", "header", "query"):
            raise ConfigurationError(f"oauth1_transport is 'auto', 'header' or 'query', not {oauth1_transport!r}")
        self.base_url = normalise_base_url(base_url, legacy)
        self.legacy = legacy
        self._oauth1_transport = oauth1_transport
        host = urlsplit(self.base_url).hostname
        if urlsplit(self.base_url).scheme == "http" and not _is_loopback(host):
            _warn_once(f"http:{host}", f"axframe: {self.base_url} is plain http; the API key, secret and "
                                       "token travel unencrypted. Use https.")
        if verify is False:
            _warn_once("verify", "axframe: TLS certificate verification is off (verify=False); "
                                 "anyone between you and the Server can read and change the traffic.")
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self.timeout = timeout
        self.max_answer_bytes = max_answer_bytes
        self.answer_deadline = answer_deadline
        self.max_workers = max_workers
        self.retry = retry or retrying.RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._limiter = _RateLimiter(max_per_second, clock, sleep) if max_per_second else None
        self._pause = _Pause(clock, sleep, self.retry.max_wait_per_run)
        self.budget = Budget(max_bytes_in_flight)
        self.session = make_session(self.base_url, verify, pool_size)
        if wsgi_app is not None:
            mount_wsgi(self.session, self.base_url, wsgi_app)
        self._sender = Sender(self.session)
        self._client_id = client_id
        self._closed = False
        if legacy:
            seen_as = normalise_base_url(canonical_url, legacy) if canonical_url else None
            self.auth: requests.auth.AuthBase = oauth1_auth(
                client_id, client_secret, "query" if oauth1_transport == "query" else "header",
                (self.base_url, seen_as) if seen_as else None)
        else:
            self.auth = TokenAuth(self.base_url + "/oauth2/token", client_id, client_secret, session=self.session,
                                  timeout=timeout, clock=clock, deadline=min(answer_deadline, TOKEN_DEADLINE))
        self.session.auth = self.auth
        if isinstance(self.auth, TokenAuth):
            self.auth.forget_when_gone(self)  # a connection dropped without being closed
        self.gate: Any = None  # an adaptive concurrency controller, set by bulk runs with max_workers="auto"
        self.server = ServerInfo()  # what this connection has learned of its Server (client/server.py)
        self.stats = {"calls": 0, "retries": 0, "reauthentications": 0}
        self._stats_lock = threading.Lock()

    # ------------------------------------------------------------------ basics
    def __repr__(self) -> str:
        mode = "legacy OAuth1" if self.legacy else "OAuth2"
        return f"<axframe.Connection {self.base_url} ({mode}) key={mask(self._client_id)}>"

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool; its tokens are no longer masked (they are useless now)."""
        self.session.close()
        if not self._closed:
            self._closed = True
            self.auth.close()  # type: ignore[attr-defined]

    def new_run(self) -> None:
        """A run begins: its budget of pauses for a Server that asks to slow down starts afresh."""
        self._pause.reset()

    @property
    def tokens_requested(self) -> int:
        """How many tokens this connection has asked the Server for."""
        return getattr(self.auth, "requested", 0)

    def url(self, path: str) -> str:
        return self.base_url + path

    def check(self) -> None:
        """Make sure the keys work (a token for OAuth2; a cheap signed call for legacy)."""
        if isinstance(self.auth, TokenAuth):
            self.auth.token()
            return
        assert isinstance(self.auth, MaskedOAuth1)
        # the signature travels in a header or in the query string; "auto" tries the header, then the query
        transports = ["header", "query"] if self._oauth1_transport == "auto" else [self._oauth1_transport]
        for transport in transports:
            self.auth.use(transport)
            try:
                response = self.session.get(self.url("/v1/workflows/subscription/"), params={"limit": "1"},
                                            allow_redirects=False, timeout=self.timeout)
            except requests.RequestException as exc:
                raise ServerUnreachable(f"cannot reach {self.base_url}: {type(exc).__name__}"
                                        f"{proxy_note(exc, self.session.proxies, self.base_url)}") from None
            if response.status_code != 401:
                break
            log.debug("the legacy API refused the OAuth1 signature in the %s", transport)
        if response.status_code == 401:
            raise AuthenticationError("the Server refused the OAuth1 signature: check the API key and secret")
        if response.status_code >= 400:
            raise AuthenticationError(f"the legacy API answered {response.status_code} to a signed test call")

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        """A raw signed request (for anything the macros do not cover); redirects are not followed."""
        kw.setdefault("timeout", self.timeout)
        kw.setdefault("allow_redirects", False)
        return self.session.request(method, self.url(path), **kw)

    def learn_server(self) -> ServerInfo:
        """What the Server serves, from its own Swagger document: asked once per connection, then kept."""
        return self.server.learn(self._read_document)

    def _read_document(self, path: str) -> Any:
        """A JSON document the Server serves at *path*, or None (any failure: it has none there)."""
        try:
            with watch(self.answer_deadline):
                response = self.session.get(self.url(path), timeout=self.timeout, allow_redirects=False,
                                            stream=True)
                if response.status_code != 200:
                    response.close()
                    return None
                read_bounded(response, min(self.max_answer_bytes, _MAX_DOCUMENT), self.answer_deadline)
            return json.loads(response.content)
        except (requests.RequestException, AnswerRefused, ValueError):
            return None

    def not_available(self, endpoint: Endpoint | None) -> str | None:
        """Why *endpoint* cannot be sent to this Server (asking its document first when not every Server has it)."""
        if endpoint is None or endpoint.legacy and self.legacy:
            return None
        if endpoint.newer and not self.legacy:
            self.learn_server()
        return self.server.why_not(endpoint) if self.server.lacks(endpoint) else None

    def _count(self, key: str, n: int = 1) -> None:
        with self._stats_lock:
            self.stats[key] += n

    # ------------------------------------------------------------------- send
    def send(self, call: Call) -> Outcome:
        """Send *call*, retrying what is safe to retry; never raises for the Server's doing."""
        missing = self.not_available(call.endpoint)
        if missing is not None:  # this Server has no such operation: nothing is sent
            return Outcome(None, error_type=ErrorType.NOT_AVAILABLE, error=missing)
        tries = _Tries(self._clock())
        while True:
            tries.attempt += 1
            self._wait_for_turn(tries)
            sent_at = self._clock()
            try:
                response = self._send_once(call)
            except requests.RequestException as exc:
                self._release(tries, sent_at, failure=True)
                failed = self._after_failure(call, exc, tries)
                if failed is None:
                    continue
                return failed
            except AnswerRefused as exc:  # an answer came, too large or too slow to read: its call is done
                self._release(tries, sent_at, failure=True)
                return self._refused_answer(call, exc, tries)
            except OSError as exc:  # the upload file vanished between check and send
                self._release(tries, sent_at)
                return tries.end(Outcome(None, error_type=ErrorType.INVALID_FILE,
                                         error=f"cannot read the file: {exc.strerror}"), self._clock())
            self._release(tries, sent_at, status=response.status_code)
            self._count("calls")
            answered = self._after_answer(call, response, tries)
            if answered is None:
                continue
            return answered

    def _wait_for_turn(self, tries: "_Tries") -> None:
        """The rate cap, the run's pause for a Server that asked to slow down, and the adaptive gate."""
        if self._limiter is not None:
            self._limiter.wait()
        tries.waited += self._pause.wait()
        gate = self.gate
        tries.gate = gate
        if gate is not None:
            gate.acquire()

    def _release(self, tries: "_Tries", sent_at: float, failure: bool = False, status: int | None = None) -> None:
        if tries.gate is not None:
            tries.gate.release(self._clock() - sent_at, failure=failure or status in (429, 503), status=status)

    def _retry(self, call: Call, decision: retrying.Decision, tries: "_Tries", what: str) -> None:
        """Wait before the next attempt (the whole run waits when the Server asked it to)."""
        self._count("retries")
        log.debug("%s %s: %s; retry %d in %.2f s", call.method, call.path, what, tries.attempt, decision.delay)
        if decision.pause_all:
            self._pause.extend(decision.delay)
            tries.waited += self._pause.wait()
        else:
            self._sleep(decision.delay)
            tries.waited += decision.delay

    def _after_failure(self, call: Call, exc: requests.RequestException, tries: "_Tries") -> Outcome | None:
        """A request that got no answer: retry it (None), or how it ended."""
        kind, text = classify(exc)
        text += proxy_note(exc, self.session.proxies, self.base_url)
        decision = retrying.decide(self.retry, attempt=tries.attempt, idempotent=call.idempotent, failure=kind,
                                   waited=tries.waited)
        if decision.retry:
            tries.maybe_applied |= kind != retrying.NOT_SENT
            self._retry(call, decision, tries, text)
            return None
        if decision.unknown_outcome:
            return tries.end(Outcome(None, error_type=ErrorType.OUTCOME_UNKNOWN,
                                     error=f"{text} after the request was sent; the Server may or may not have applied "
                                           "it, so it was not sent again"), self._clock())
        error_type = ErrorType.TIMEOUT if kind == retrying.READ_TIMEOUT else ErrorType.CONNECTION
        where = "never reached the Server" if kind == retrying.NOT_SENT else "failed"
        return tries.end(Outcome(None, error_type=error_type,
                                 error=f"{text}: the request {where} ({_attempts(tries.attempt)})"), self._clock())

    def _refused_answer(self, call: Call, exc: AnswerRefused, tries: "_Tries") -> Outcome:
        self._count("calls")
        if exc.status is None and not call.idempotent:  # no answer at all within the deadline
            return tries.end(Outcome(None, error_type=ErrorType.OUTCOME_UNKNOWN,
                                     error=f"{exc.reason}, and nothing of it had come: the Server may or may not have "
                                           "applied the request, so it was not sent again"), self._clock())
        applied = "" if call.idempotent or exc.status is None or not 200 <= exc.status < 300 \
            else "; the Server did make the change"
        return tries.end(Outcome(exc.status, error_type=ErrorType.ANSWER_REFUSED,
                                 error=f"{exc.reason}: it was not read{applied}"), self._clock())

    def _after_answer(self, call: Call, response: requests.Response, tries: "_Tries") -> Outcome | None:
        """An answer came: renew the token and send again, retry (None), or how the call ended."""
        status = response.status_code
        if isinstance(self.auth, TokenAuth) and self._renewed(call, response, tries):
            self._count("reauthentications")
            tries.attempt -= 1  # a renewed token is not a retry
            return None
        if tries.renewal_failed is not None:
            return tries.end(tries.renewal_failed, self._clock())
        if status in retrying.RETRY_STATUSES:
            retried = self._after_busy(call, response, tries)
            if retried is not False:
                return retried  # type: ignore[return-value]
        log.debug("%s %s -> %d (%s)", call.method, call.path, status, _attempts(tries.attempt))
        if status == 404 and call.method == "DELETE" and tries.maybe_applied:
            return tries.end(Outcome(404, text=answer_text(response), headers=response.headers,
                                     note="reconciled: the delete had taken effect before its answer was lost; the "
                                          "retry found nothing left to delete"), self._clock())
        if 200 <= status < 300:
            return tries.end(self._success(call, response), self._clock())
        outcome = Outcome(status, text=answer_text(response), headers=response.headers,
                          error_type=ErrorType.for_status(status))
        if call.endpoint is not None and self.server.saw_unknown_route(call.endpoint, status, outcome.text):
            outcome.error_type, outcome.error = ErrorType.NOT_AVAILABLE, self.server.why_not(call.endpoint)
            return tries.end(outcome, self._clock())
        outcome.error = redirect_refusal(status, response.headers.get("Location")) if 300 <= status < 400 \
            else describe_refusal(status, outcome.text, call, tries.attempt)
        if status == 401 and isinstance(self.auth, TokenAuth) and self.auth.never_accepted(tries.last_token) \
                and (call.endpoint is None or call.endpoint.min_role is None
                     or self.auth.was_let_through(_endpoint_key(call))):  # else a missing role explains it
            outcome.error += (". The Server refused a token it had just issued, before any call got through with "
                              "it: behind a load balancer whose nodes do not share tokens (not sticky), each node "
                              "refuses the others' tokens; turn sticky sessions on, or call one node")
        return tries.end(outcome, self._clock())

    def _renewed(self, call: Call, response: requests.Response, tries: "_Tries") -> bool:
        """The token's part of an answer: was the key let through, or should a new token be tried?"""
        assert isinstance(self.auth, TokenAuth)
        status, where = response.status_code, _endpoint_key(call)
        if status in LET_THROUGH or 200 <= status < 300:
            self.auth.let_through(where, _bearer(response))
            return False
        if status != 401:
            return False
        tries.last_token = _bearer(response)
        try:
            return self.auth.after_refusal(where, tries.last_token, tries.refused_tokens)
        except (AuthenticationError, ServerUnreachable) as exc:
            tries.renewal_failed = Outcome(401, error_type=ErrorType.UNAUTHORIZED, error=redact(str(exc)))
            return False

    def _after_busy(self, call: Call, response: requests.Response, tries: "_Tries") -> Outcome | None | bool:
        """A 429, 502, 503 or 504: retry (None), an unknown outcome, or False to take the answer as it is."""
        status = response.status_code
        wait = retrying.parse_retry_after(response.headers.get("Retry-After"))
        decision = retrying.decide(self.retry, attempt=tries.attempt, idempotent=call.idempotent, status=status,
                                   retry_after=wait, waited=tries.waited, run_left=self._pause.left())
        if decision.retry:
            tries.maybe_applied |= status in (502, 504)
            response.close()
            self._retry(call, decision, tries, str(status))
            return None
        if decision.unknown_outcome:
            return tries.end(Outcome(status, text=answer_text(response), headers=response.headers,
                                     error_type=ErrorType.OUTCOME_UNKNOWN,
                                     error=f"a gateway answered {status} to a request that may change the Server; it "
                                           "may or may not have been applied, so it was not sent again"), self._clock())
        tries.gave_up = decision.reason
        return False

    def _success(self, call: Call, response: requests.Response) -> Outcome:
        """A 2xx: the answer, if it is what the endpoint answers (else an ``UnexpectedAnswer``)."""
        if call.binary:
            outcome = Outcome(response.status_code, content=response.content, headers=response.headers)
        else:
            outcome = Outcome(response.status_code, text=answer_text(response), headers=response.headers)
        problem = unexpected_answer(call, response, outcome)
        if problem:
            outcome.error_type = ErrorType.UNEXPECTED_ANSWER
            outcome.error = problem
        return outcome

    def _send_once(self, call: Call) -> requests.Response:
        url = self.base_url + call.path
        with watch(self.answer_deadline) as watched:  # the whole exchange, however slowly it trickles
            try:
                response = self._request(call, url)
            except requests.RequestException:
                if watched is not None and watched.fired:  # the deadline ended it before the answer began
                    raise AnswerRefused(None, late(self.answer_deadline)) from None
                raise
            read_bounded(response, self.max_answer_bytes, self.answer_deadline, budget=self.budget)
        return response

    def _request(self, call: Call, url: str) -> requests.Response:
        # never follow a redirect: the body (a new user, a password) would go to whatever address it names
        if call.file_path is None:
            return self._sender.send(call.method, url, call.params, call.body, call.content_type, self.timeout)
        with open(call.file_path, "rb") as handle:
            files = {call.file_field: (os.path.basename(call.file_path), handle, "application/octet-stream")}
            return self.session.request(call.method, url, params=call.params or None, data=call.form or {},
                                        files=files, timeout=self.timeout, allow_redirects=False, stream=True)


class _Tries:
    """One call's attempts so far: their number, the time waited, the tokens refused, what may have happened."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.attempt = 0
        self.waited = 0.0
        self.refused_tokens: set[str | None] = set()
        self.maybe_applied = False  # an attempt may have reached the Server before its answer was lost
        self.renewal_failed: Outcome | None = None
        self.last_token: str | None = None  # the token of the last 401
        self.gave_up = ""
        self.gate: Any = None

    def end(self, outcome: Outcome, now: float) -> Outcome:
        outcome.attempts = self.attempt
        outcome.elapsed = now - self.started
        if self.gave_up and outcome.error:
            outcome.error += f" ({self.gave_up})"
        return outcome


def _attempts(n: int) -> str:
    return f"{n} attempt{'s' * (n > 1)}"


class _Pause:
    """The run's pause for a Server that asked it to slow down: every call waits until it is over.

    The pauses add up to at most *budget* seconds until :meth:`reset` (each run resets it).
    """

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None], budget: float):
        self._clock, self._sleep, self.budget = clock, sleep, budget
        self._until = 0.0
        self.spent = 0.0
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Wait until the pause is over; the seconds waited."""
        remaining = self._until - self._clock()
        if remaining <= 0:
            return 0.0
        self._sleep(remaining)
        return remaining

    def left(self) -> float:
        return max(0.0, self.budget - self.spent)

    def extend(self, delay: float) -> None:
        with self._lock:
            now = self._clock()
            until = now + delay
            self.spent += max(0.0, until - max(self._until, now))
            self._until = max(self._until, until)

    def reset(self) -> None:
        with self._lock:
            self.spent = 0.0


_HTML = ("<!doctype", "<html", "<?xml", "<")


def unexpected_answer(call: Call, response: requests.Response, outcome: Outcome) -> str:
    """Why a 2xx answer is not what *call*'s endpoint answers ("" when it is): an HTML sign-in page of a
    proxy, broken JSON, XML where JSON is declared."""
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if call.binary:
        asked_html = any(k == "format" and v.lower() == "html" for k, v in call.params)  # a job output as HTML
        if kind in ("text/html", "application/xhtml+xml") and not asked_html:
            return _unexpected(call, outcome, f"an HTML page ({kind}) where a file was expected",
                               (outcome.content or b"")[:80].decode("utf-8", "replace"))
        return ""
    text = outcome.text.lstrip()
    json_expected = call.endpoint is None or call.endpoint.json_answer
    if not text:
        return ""
    if kind in ("text/html", "application/xhtml+xml", "text/xml", "application/xml") \
            or text[:9].lower().startswith(_HTML):
        what = "an HTML page" if "html" in kind or text[:9].lower().startswith(("<!doctype", "<html")) else "XML"
        return _unexpected(call, outcome, f"{what} ({kind or 'no Content-Type'})", text)
    if json_expected:
        try:
            outcome.json()
        except (ValueError, RecursionError):
            return _unexpected(call, outcome, f"not valid JSON ({kind or 'no Content-Type'})", text)
    return ""


def _unexpected(call: Call, outcome: Outcome, what: str, text: str) -> str:
    start = " ".join(text.split())[:80]
    name = call.endpoint.name if call.endpoint is not None else f"{call.method} {call.path}"
    change = "" if not call.changes else "; whether the change was made is not known, so it was not sent again"
    return redact(f"the Server answered {outcome.status} with {what}, which is not what {name} answers, starting "
                  f"{start!r}: a proxy or sign-in page in front of the Server answers like this{change}")


def _bearer(response: requests.Response) -> str | None:
    """The token a request was actually signed with (a proactive renewal may have replaced it meanwhile)."""
    header = str(response.request.headers.get("Authorization", "")) if response.request is not None else ""
    return header[7:] if header.startswith("Bearer ") else None


def _endpoint_key(call: Call) -> str:
    return call.endpoint.name if call.endpoint is not None else f"{call.method} {call.path}"


def authenticate(base_url: str | None = None, client_id: str | None = None, client_secret: str | None = None, *,
                 legacy: bool = False, oauth1_transport: str = "auto", verify: bool | None = None,
                 ca_bundle: str | None = None,
                 timeout: float | tuple[float, float] = DEFAULT_TIMEOUT, max_workers: int | str = DEFAULT_WORKERS,
                 max_per_second: float | None = None, retry: retrying.RetryPolicy | None = None,
                 env_file: str | os.PathLike | None = None, max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
                 answer_deadline: float = DEFAULT_ANSWER_DEADLINE, wsgi_app: WSGIApp | None = None,
                 max_bytes_in_flight: int = DEFAULT_MAX_BYTES_IN_FLIGHT,
                 canonical_url: str | None = None) -> Connection:
    """Connect to a Server and check the keys, before any row is touched.

    Parameters
    ----------
    base_url : str, optional
        The Server's Web API address, with or without ``/webapi``
        (``https://alteryx.example.com`` or ``https://alteryx.example.com/webapi``).
        Defaults to the ``AXFRAME_BASE_URL`` environment variable.
    client_id, client_secret : str, optional
        The user's API access key and secret (My Profile > Keys).  Default to
        ``AXFRAME_CLIENT_ID`` and ``AXFRAME_CLIENT_SECRET``.
    legacy : bool
        Sign with OAuth1 under ``/gallery/api/`` (Servers older than 2022.1).
    oauth1_transport : "auto", "header" or "query"
        Where a legacy signature travels.  ``"auto"`` (default) tries an
        ``Authorization: OAuth`` header (the key stays out of URLs) and falls
        back to the query string, as older clients sent it, if the Server
        refuses the header.
    verify : bool, optional
        Check the Server's TLS certificate (on unless turned off explicitly).
    ca_bundle : str, optional
        A CA bundle file for a private certificate authority (or ``AXFRAME_CA_BUNDLE``).
    timeout : float or (connect, read)
        Seconds to wait; the default is 10 s to connect and 300 s to read.
    max_workers : int or "auto"
        Default concurrency for bulk calls on this connection.
    max_per_second : float, optional
        A cap on calls per second across all threads.
    retry : RetryPolicy, optional
        How hard to retry 429/502/503/504 and broken connections.
    env_file : path, optional
        A file of ``KEY=VALUE`` lines (``AXFRAME_BASE_URL``,
        ``AXFRAME_CLIENT_ID``, ``AXFRAME_CLIENT_SECRET``, ``AXFRAME_CA_BUNDLE``)
        readable only by you: keys out of code and notebooks.  Arguments win
        over environment variables, which win over the file.
    max_answer_bytes, answer_deadline : int, float
        The most one answer may hold (1 GiB, counted after decompression)
        and the longest a whole exchange may take, wall-clock (an hour,
        however slowly it trickles; the token request at most 2 minutes):
        beyond either, the row fails as ``AnswerRefused`` instead of
        exhausting memory or waiting for ever on a misbehaving Server.
    max_bytes_in_flight : int
        The most all the answers being read at once may hold together
        (1 GiB): eight workers reading endless answers stop there, not at
        eight times ``max_answer_bytes``.
    canonical_url : str, optional
        Legacy OAuth1 behind a load balancer that changes the address: the
        Server's own address as it sees requests (``http://node1``); the
        signature covers that address (scheme, host, port, path) instead of
        *base_url*, to which requests are still sent.
    wsgi_app : callable, optional
        Serve *base_url* from this WSGI application in this process instead
        of over a socket (the emulator's ``wsgi_app``: fast tests of client
        logic).  Everything above the socket works as on a network.

    Returns
    -------
    Connection

    Raises
    ------
    ConfigurationError, AuthenticationError, ServerUnreachable
        Before anything else is sent.
    """
    from_file = load_env_file(env_file) if env_file is not None else {}

    def setting(name: str) -> str | None:
        return os.environ.get(name) or from_file.get(name) or None

    base_url = base_url or setting(ENV_BASE_URL)
    client_id = client_id or setting(ENV_CLIENT_ID)
    client_secret = client_secret or setting(ENV_CLIENT_SECRET)
    if base_url is None:
        raise ConfigurationError(f"a base URL is needed: pass base_url or set {ENV_BASE_URL}")
    ca_bundle = ca_bundle or setting(ENV_CA_BUNDLE)
    if ca_bundle and not os.path.isfile(ca_bundle):
        raise ConfigurationError(f"the CA bundle {ca_bundle!r} does not exist")
    verify_setting: bool | str = ca_bundle if ca_bundle and verify is not False else (verify is not False)
    conn = Connection(base_url, client_id or "", client_secret or "", legacy=legacy,
                      oauth1_transport=oauth1_transport, verify=verify_setting,
                      max_answer_bytes=max_answer_bytes, answer_deadline=answer_deadline,
                      timeout=timeout, max_workers=max_workers, max_per_second=max_per_second, retry=retry,
                      wsgi_app=wsgi_app, max_bytes_in_flight=max_bytes_in_flight, canonical_url=canonical_url)
    try:
        conn.check()
    except Exception:
        conn.close()
        raise
    return conn
