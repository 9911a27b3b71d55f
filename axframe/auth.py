"""Signing requests: the OAuth2 client-credentials token, and legacy OAuth1.

:class:`TokenAuth` gets one token for all threads, renews it shortly before
it ends (10% of its lifetime, at most 60 s early) and once when the Server
answers 401 to it.  The key, secret and token never appear in a ``repr``, an
exception or a log line: every one is registered with :func:`register_secret`
and masked by :func:`redact` and the ``axframe`` logger's filter.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable
from urllib.parse import urlsplit

import requests

from .errors import AuthenticationError, ServerUnreachable, proxy_note

__all__ = ["TokenAuth", "oauth1_auth", "register_secret", "redact", "mask", "install_log_filter"]

log = logging.getLogger("axframe")

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember *value* so that :func:`redact` masks it wherever it appears."""
    if value and len(value) >= 6:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """*text* with every registered secret replaced by ``***``."""
    if not _secrets or not text:
        return text
    for secret in list(_secrets):
        if secret in text:
            text = text.replace(secret, "***")
    return text


def mask(value: str | None) -> str:
    """A hint of an identifier (first and last 2 characters) for messages and reprs."""
    if not value:
        return "<none>"
    return value[:2] + "…" + value[-2:] if len(value) > 8 else "***"


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            try:
                message = record.getMessage()
            except Exception:  # a malformed log call: the handler reports it, as it would without us
                return True
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


_filter = _RedactingFilter()
_FILTERED = ("axframe", "urllib3", "requests", "requests_oauthlib", "oauthlib")


def install_log_filter() -> None:
    """Mask secrets in the log records of axframe and of the libraries it sends and signs with.

    A logger's filter sees only the records logged on that very logger, not those its children
    pass up (``urllib3.connectionpool``, ``oauthlib.oauth1.rfc5849``), so every logger under these
    names gets the filter; this runs again when a connection is made, after those libraries have
    been imported and have made their loggers.
    """
    names = set(_FILTERED)
    names.update(name for name in list(logging.root.manager.loggerDict)
                 if any(name.startswith(prefix + ".") for prefix in _FILTERED))
    for name in names:
        logger = logging.getLogger(name)
        if _filter not in logger.filters:
            logger.addFilter(_filter)


install_log_filter()


class _NoAuth(requests.auth.AuthBase):
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


_NO_AUTH = _NoAuth()


class TokenAuth(requests.auth.AuthBase):
    """Bearer-token signing with one shared, self-renewing client-credentials token."""

    def __init__(self, token_url: str, client_id: str, client_secret: str, *, session: requests.Session,
                 timeout: float | tuple[float, float] = 30.0, clock: Callable[[], float] = time.monotonic,
                 max_margin: float = 60.0):
        register_secret(client_id)
        register_secret(client_secret)
        self.token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._session = session
        self._timeout = timeout
        self._clock = clock
        self._max_margin = max_margin
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self._use_form = False
        self.requested = 0  # tokens asked for (for the token-economy benchmark)
        self.lifetime: float | None = None
        # the token got (or adopted) after 401s, and the endpoints that refused its predecessor -> doubted yet;
        # set before the token itself, so that whoever can send the token can see why it was got
        self.renewal: tuple[str | None, dict[str, bool]] = (None, {})

    def __repr__(self) -> str:
        return f"<TokenAuth client_id={mask(self._client_id)} tokens_requested={self.requested}>"

    # the token -----------------------------------------------------------------
    def token(self) -> str:
        token = self._token
        if token is not None and self._clock() < self._renew_at:
            return token
        return self.refresh(stale=token)

    def refresh(self, stale: str | None = None, reason: str | None = None) -> str:
        """A new token, unless another thread already replaced *stale*; *reason*: the endpoint that refused it."""
        with self._lock:
            if self._token is not None and self._token != stale and self._clock() < self._renew_at:
                if reason is not None:
                    if self.renewal[0] == self._token:
                        self.renewal[1].setdefault(reason, False)
                    else:
                        self.renewal = (self._token, {reason: False})
                return self._token
            token, lifetime = self._request()
            self.lifetime = lifetime
            self._renew_at = self._clock() + lifetime - min(self._max_margin, lifetime * 0.1)
            self.renewal = (token, {} if reason is None else {reason: False})
            self._token = token  # last: a thread that sees it unlocked sees its renewal time and reason too
            return token

    def _request(self) -> tuple[str, float]:
        attempts = [self._use_form] if self._use_form else [False, True]
        last: requests.Response | None = None
        for use_form in attempts:
            data = {"grant_type": "client_credentials"}
            auth: requests.auth.AuthBase | None = _NO_AUTH  # never the session's own (bearer) auth
            if use_form:
                data.update(client_id=self._client_id, client_secret=self._client_secret)
            else:
                auth = requests.auth.HTTPBasicAuth(self._client_id, self._client_secret)
            try:
                # never follow a redirect: the key and secret would go to whatever address it names
                response = self._session.post(self.token_url, data=data, auth=auth, timeout=self._timeout,
                                              headers={"Accept": "application/json"}, allow_redirects=False,
                                              stream=True)
                read_bounded(response, _MAX_TOKEN_ANSWER)
            except AnswerRefused:
                raise AuthenticationError(f"the token endpoint's answer is larger than {_MAX_TOKEN_ANSWER:,} bytes; "
                                          "is this an Alteryx Server's Web API address?") from None
            except requests.RequestException as exc:
                raise ServerUnreachable(f"cannot reach the Server's token endpoint {self.token_url}: "
                                        f"{type(exc).__name__}"
                                        f"{proxy_note(exc, self._session.proxies, self.token_url)}") from None
            self.requested += 1
            if response.status_code == 200:
                try:
                    body = response.json()
                    token = body["access_token"]
                except (ValueError, KeyError, TypeError):
                    raise AuthenticationError(f"the token endpoint {self.token_url} did not answer a token; "
                                              "is this an Alteryx Server's Web API address?") from None
                register_secret(token)
                self._use_form = use_form
                try:
                    lifetime = float(body.get("expires_in") or 3600)
                except (TypeError, ValueError):
                    lifetime = 3600.0
                log.debug("got a token (%s credentials), lifetime %.0f s", "form" if use_form else "Basic", lifetime)
                return token, max(lifetime, 1.0)
            last = response
            if response.status_code not in (400, 401):
                break
        assert last is not None
        raise AuthenticationError(_refusal(last, self.token_url))

    # requests hook --------------------------------------------------------------
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request


_MAX_TOKEN_ANSWER = 1 << 20  # a token answer is a few hundred bytes


class AnswerRefused(Exception):
    """An answer too large, or too slow, to be read to its end (:func:`read_bounded`)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def read_bounded(response: requests.Response, limit: int, deadline: float | None = None,
                 limit_name: str = "max_answer_bytes") -> None:
    """Read the whole body of a ``stream=True`` *response* into it, within *limit* bytes and
    *deadline* seconds (both checked between blocks of 64 KiB, so a trickle is caught at the end of
    the block it is filling); else close the response and raise :class:`AnswerRefused`."""
    try:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise AnswerRefused(response.status_code, f"the Server's answer is {int(declared):,} bytes, more than "
                                                      f"{limit_name} ({limit:,})")
        begun, size, chunks = time.monotonic(), 0, []
        for chunk in response.iter_content(1 << 16):
            size += len(chunk)
            if size > limit:
                raise AnswerRefused(response.status_code, f"the Server's answer grew past {limit_name} ({limit:,})")
            if deadline is not None and time.monotonic() - begun > deadline:
                raise AnswerRefused(response.status_code, f"the Server's answer took longer than answer_deadline "
                                                          f"({deadline:g} s)")
            chunks.append(chunk)
    except BaseException:
        response.close()
        raise
    response._content = b"".join(chunks)


def redirect_refusal(status: int, location: str | None) -> str:
    """Why a redirect was not followed, naming where it pointed (scheme, host and path only)."""
    where = ""
    if location:
        parts = urlsplit(location)
        where = f" to {parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}{parts.path}" \
            if parts.hostname else f" to {parts.path}"
    return (f"the Server answered {status}, a redirect{where}; axframe does not follow redirects, so that a "
            "request and its body never go to another address. If the Server moved, use its new address as the "
            "base URL")


def _refusal(response: requests.Response, url: str) -> str:
    detail = ""
    try:
        body = response.json()
        if isinstance(body, dict):
            detail = str(body.get("error") or body.get("message") or "")
    except ValueError:
        pass
    if response.status_code in (400, 401):
        return (f"the Server refused the API key and secret ({response.status_code}"
                f"{' ' + detail if detail else ''}). Check the key and secret (My Profile > Keys) "
                "and that an admin enabled API access for this user.")
    if response.status_code == 404:
        return f"no token endpoint at {url} (404): check the base URL (it ends in /webapi)."
    if 300 <= response.status_code < 400:
        return redirect_refusal(response.status_code, response.headers.get("Location"))
    return f"the token endpoint answered {response.status_code}{' ' + detail if detail else ''}."


OAUTH1_TRANSPORTS = ("header", "query")


def oauth1_auth(client_id: str, client_secret: str, transport: str = "header") -> "_MaskedOAuth1":
    """Legacy OAuth 1.0a two-legged HMAC-SHA1 signing (Servers before 2022.1).

    *transport* ``"header"`` puts the signature in an ``Authorization: OAuth``
    header, so that the key never shows in a URL; ``"query"`` appends it to the
    query string, as most legacy clients did (reference.md 2.2 rates the query
    string as the surer of the two).  :meth:`Connection.check` tries the header
    first and falls back to the query string on a 401.
    """
    import requests_oauthlib  # noqa: F401 - makes its loggers, so that the filter below covers them

    register_secret(client_id)
    register_secret(client_secret)
    install_log_filter()  # oauthlib's loggers exist now: they log the key at DEBUG
    return _MaskedOAuth1(client_id, client_secret, transport)


class _MaskedOAuth1(requests.auth.AuthBase):
    def __init__(self, client_id: str, client_secret: str, transport: str):
        self._client_id = client_id
        self._client_secret = client_secret
        self.requested = 0
        self.use(transport)

    def use(self, transport: str) -> None:
        """Sign in the ``"header"`` or in the ``"query"`` string from now on."""
        from requests_oauthlib import OAuth1

        if transport not in OAUTH1_TRANSPORTS:
            raise ValueError(f"the OAuth1 transport is 'header' or 'query', not {transport!r}")
        self.transport = transport
        self._inner = OAuth1(self._client_id, client_secret=self._client_secret, signature_method="HMAC-SHA1",
                             signature_type="AUTH_HEADER" if transport == "header" else "QUERY")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return self._inner(request)

    def __repr__(self) -> str:
        return f"<OAuth1 client_id={mask(self._client_id)} transport={self.transport}>"
