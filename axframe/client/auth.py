"""Signing requests: the OAuth2 client-credentials token with its renewal, and legacy OAuth1.

:class:`TokenAuth` gets one token for all threads, renews it shortly before
it ends (10% of its lifetime, at most 60 s early), and decides what a 401
means (:meth:`TokenAuth.after_refusal`): an expiry (renew once and send
again) or the Server's answer for that endpoint (a missing role: stop).  The
key, secret and token never appear in a ``repr``, an exception or a log line:
every one is registered with :func:`~axframe.client.secrets.register_secret` for as
long as it lives (the key and secret until their signer is garbage-collected; a
token until it is replaced twice over, or its signer closed or collected).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
import weakref
from typing import Callable

import requests

from ..errors import AnswerRefused, AuthenticationError, ServerUnreachable, proxy_note
from .limits import expired, read_bounded, watch
from .reach import why_unreachable
from .secrets import forget_later, forget_secret, hold_secrets, mask, register_secret
from .transport import redirect_refusal

__all__ = ["TokenAuth", "oauth1_auth", "OAUTH1_TRANSPORTS", "LET_THROUGH"]

log = logging.getLogger("axframe")

_MAX_TOKEN_ANSWER = 1 << 20  # a token answer is a few hundred bytes
_DEFAULT_LIFETIME = 3599.0  # what Servers answer (reference 2.1)
_MAX_LIFETIME = 86400.0  # a lifetime beyond a day is taken for a mistake
_TOKEN = re.compile(r"[\x21-\x7e]+")  # visible ASCII: what a header value can carry as a bearer token
# Answers that prove the Server let the key through to the endpoint (it checks authorization first).
LET_THROUGH = frozenset({400, 403, 404, 405, 409, 413, 415})
# New tokens refused at once on an endpoint the key was let through to, taken for expiries before the
# endpoint must be let through again (bounds the tokens spent if the user loses a role mid-run).
_MAX_DOUBTS = 3
_MAX_TOKENS_PER_CALL = 10


class _NoAuth(requests.auth.AuthBase):
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request

    def authorization(self) -> str | None:
        """The ``Authorization`` header it signs every request with: none."""
        return None


_NO_AUTH = _NoAuth()


def _forget_tokens(tokens: list[str]) -> None:
    """Forget the tokens a signer registered (it was closed, or it or its connection garbage-collected):
    when the registry is next used, for this may run inside a finalizer."""
    forget_later(tokens[:])
    tokens.clear()


class TokenAuth(requests.auth.AuthBase):
    """Bearer-token signing with one shared, self-renewing client-credentials token."""

    renews = True

    def __init__(self, token_url: str, client_id: str, client_secret: str, *, session: requests.Session,
                 timeout: float | tuple[float, float] = 30.0, clock: Callable[[], float] = time.monotonic,
                 max_margin: float = 60.0, deadline: float | None = 120.0):
        self._held = hold_secrets(self, client_id, client_secret)
        self._registered: list[str] = []  # the tokens registered, forgotten when replaced, closed or collected
        weakref.finalize(self, _forget_tokens, self._registered)
        self.token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._session = session
        self._timeout = timeout
        self._clock = clock
        self._max_margin = max_margin
        self._deadline = deadline
        self._lock = threading.Lock()
        self._token: str | None = None
        self._previous: str | None = None
        self._renew_at = 0.0
        self._use_form = False
        self._warned_lifetime = False
        self.requested = 0  # tokens asked for (for the token-economy benchmark)
        self.lifetime: float | None = None
        # the token got (or adopted) after 401s, and the endpoints that refused its predecessor -> doubted yet;
        # set before the token itself, so that whoever can send the token can see why it was got
        self.renewal: tuple[str | None, dict[str, bool]] = (None, {})
        self._let_through: dict[str, int] = {}  # endpoints the Server let this key through -> doubts since
        self._accepted: set[str | None] = set()  # the live tokens some call got through with
        self._doubts_lock = threading.Lock()

    def forget_when_gone(self, owner: object) -> None:
        """Forget this signer's tokens when *owner* (its connection) is garbage-collected, even unclosed."""
        weakref.finalize(owner, _forget_tokens, self._registered)

    def __repr__(self) -> str:
        return f"<TokenAuth client_id={mask(self._client_id)} tokens_requested={self.requested}>"

    def close(self) -> None:
        """Forget the tokens (the key and secret stay masked for as long as this signer lives)."""
        with self._lock:
            while self._registered:
                forget_secret(self._registered.pop())
            self._token = self._previous = None
            self._renew_at = 0.0

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
            self._forget(self._previous)  # two tokens live at most: the new one and the one still in flight
            self._previous = self._token
            self._token = token  # last: a thread that sees it unlocked sees its renewal time and reason too
            return token

    def _forget(self, token: str | None) -> None:
        if token is not None and token in self._registered:
            self._registered.remove(token)
            forget_secret(token)

    # what a 401 means -------------------------------------------------------------
    def let_through(self, where: str, token: str | None = None) -> None:
        """The Server answered *where* past its authorization check: this key (and *token*) may call it."""
        self._let_through[where] = 0
        if token is not None and token not in self._accepted:
            self._accepted = (self._accepted | {token}) & {self._token, self._previous}

    def was_let_through(self, where: str) -> bool:
        """Whether the Server has let this key through to *where* in this connection."""
        return where in self._let_through

    def never_accepted(self, token: str | None) -> bool:
        """Whether *token* was got from the Server and refused by it before any call got through with it."""
        return token is not None and token in (self._token, self._previous) and token not in self._accepted

    def after_refusal(self, where: str, token_used: str | None, refused_tokens: set[str | None]) -> bool:
        """After a 401 on *where*: renew and send again (True), or take the refusal as the answer (False)?

        A 401 usually means the token expired: send again with the token another thread has just got,
        or ask for a new one.  But a token got *because of* a 401 on this endpoint, refused there too,
        is the Server's answer for this endpoint (a missing role, say), whichever thread sent it, and
        asking on would only burn tokens -- unless the Server has let this key through to this endpoint
        before, in which case the new token has expired too (believed up to ``_MAX_DOUBTS`` times until
        the endpoint lets the key through again).  The refusal is tied to that token and endpoint, so a
        later expiry is still renewed, here and everywhere else.  At most ten tokens per call (enough for tokens
        that live 15 calls under 8 workers; a bound on what a Server that refuses every new token costs).

        When it says True the token has been renewed (raises :class:`AuthenticationError` or
        :class:`ServerUnreachable` when the renewal itself fails); *refused_tokens* records the
        refused token.
        """
        if not self._may_renew(where, token_used, refused_tokens):
            return False
        refused_tokens.add(token_used)
        self.refresh(stale=token_used, reason=where)
        return True

    def _may_renew(self, where: str, token_used: str | None, refused_tokens: set[str | None]) -> bool:
        if token_used in refused_tokens or len(refused_tokens) >= _MAX_TOKENS_PER_CALL:
            return False
        token, refused_at = self.renewal
        if token != token_used or where not in refused_at:
            return True  # not the token a refusal here brought: it may simply have expired
        with self._doubts_lock:
            trusted = self._let_through.get(where, _MAX_DOUBTS) < _MAX_DOUBTS
            if trusted and not refused_at[where]:
                refused_at[where] = True  # one doubt per renewed token, however many threads it was refused to
                self._let_through[where] += 1
            return trusted

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
                with watch(self._deadline):  # wall-clock, however slowly the answer trickles
                    response = self._session.post(self.token_url, data=data, auth=auth, timeout=self._timeout,
                                                  headers={"Accept": "application/json"}, allow_redirects=False,
                                                  stream=True)
                    read_bounded(response, _MAX_TOKEN_ANSWER, self._deadline)
            except AnswerRefused as exc:
                why = f"is larger than {_MAX_TOKEN_ANSWER:,} bytes" if "answer_deadline" not in exc.reason else \
                    f"took longer than {self._deadline:g} s"
                raise AuthenticationError(f"the token endpoint's answer {why}; is this an Alteryx Server's Web API "
                                          "address?") from None
            except requests.RequestException as exc:
                if expired():
                    raise AuthenticationError(f"the token endpoint sent no whole answer within {self._deadline:g} s; "
                                              "is this an Alteryx Server's Web API address?") from None
                raise ServerUnreachable(f"cannot reach the Server's token endpoint {self.token_url}: "
                                        f"{why_unreachable(exc, self.token_url)}"
                                        f"{proxy_note(exc, self._session.proxies, self.token_url)}") from None
            self.requested += 1
            if response.status_code == 200:
                try:
                    body = response.json()
                    token = body["access_token"]
                except (ValueError, KeyError, TypeError):
                    raise AuthenticationError(f"the token endpoint {self.token_url} did not answer a token; "
                                              "is this an Alteryx Server's Web API address?") from None
                if not isinstance(token, str) or not _TOKEN.fullmatch(token):
                    # never in a header: a CR/LF would split it, and its text is never repeated anywhere
                    raise AuthenticationError(f"the token endpoint {self.token_url} answered a token that cannot be "
                                              "sent in a header (it is empty, or holds spaces, line breaks or other "
                                              "characters a token cannot hold); is this an Alteryx Server?")
                register_secret(token)
                self._registered.append(token)
                self._use_form = use_form
                lifetime = self._lifetime(body.get("expires_in"))
                log.debug("got a token (%s credentials), lifetime %.0f s", "form" if use_form else "Basic", lifetime)
                return token, lifetime
            last = response
            if response.status_code not in (400, 401):
                break
        assert last is not None
        raise AuthenticationError(_refusal(last, self.token_url))

    def _lifetime(self, value: object) -> float:
        """The token's lifetime: the Server's ``expires_in``, or its documented 3599 s when that is missing,
        not a number, not finite, not positive, or more than a day (said once per connection)."""
        try:
            lifetime = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            lifetime = math.nan
        if math.isfinite(lifetime) and 1.0 <= lifetime <= _MAX_LIFETIME:
            return lifetime
        if not self._warned_lifetime:
            self._warned_lifetime = True
            log.warning("the token endpoint gave the lifetime %r; taking the Server's documented %d s",
                        value if isinstance(value, (int, float)) or value is None else str(value)[:20],
                        int(_DEFAULT_LIFETIME))
        return _DEFAULT_LIFETIME

    # requests hook --------------------------------------------------------------
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self.authorization()
        return request

    def authorization(self) -> str:
        """The ``Authorization`` header it signs every request with, whatever the request (the transport
        sets it without preparing the request for :meth:`__call__`)."""
        return f"Bearer {self.token()}"


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
                f"{' ' + detail if detail else ''}). Check the key and secret: they are the API access key "
                "and secret of My Profile > Keys (not a Private Studio's or subscription's key, which looks "
                "alike but is refused here), and an admin must have enabled API access for this user.")
    if response.status_code == 404:
        return f"no token endpoint at {url} (404): check the base URL (it ends in /webapi)."
    if 300 <= response.status_code < 400:
        return redirect_refusal(response.status_code, response.headers.get("Location"))
    return f"the token endpoint answered {response.status_code}{' ' + detail if detail else ''}."


OAUTH1_TRANSPORTS = ("header", "query")


def oauth1_auth(client_id: str, client_secret: str, transport: str = "header",
                sign_as: tuple[str, str] | None = None) -> "MaskedOAuth1":
    """Legacy OAuth 1.0a two-legged HMAC-SHA1 signing (Servers before 2022.1).

    *transport* ``"header"`` puts the signature in an ``Authorization: OAuth``
    header, so that the key never shows in a URL; ``"query"`` appends it to the
    query string, as most legacy clients did (reference.md 2.2 rates the query
    string as the surer of the two).  :meth:`Connection.check` tries the header
    first and falls back to the query string on a 401.  *sign_as* ``(sent to, seen as)``: behind a load
    balancer that changes the address, the signature covers the URL the Server sees (its scheme, host,
    port and path), not the one the request is sent to.
    """
    import requests_oauthlib  # noqa: F401 - makes its loggers, so that the filter below covers them

    from .secrets import install_log_filter

    install_log_filter()  # oauthlib's loggers exist now: they log the key at DEBUG
    return MaskedOAuth1(client_id, client_secret, transport, sign_as)


class MaskedOAuth1(requests.auth.AuthBase):
    """OAuth1 signing whose repr shows a masked key only."""

    renews = False

    def __init__(self, client_id: str, client_secret: str, transport: str, sign_as: tuple[str, str] | None = None):
        self._held = hold_secrets(self, client_id, client_secret)  # masked for as long as this signer lives
        self._client_id = client_id
        self._client_secret = client_secret
        self.requested = 0
        self._sign_as = sign_as
        self.use(transport)

    def use(self, transport: str) -> None:
        """Sign in the ``"header"`` or in the ``"query"`` string from now on."""
        from requests_oauthlib import OAuth1

        if transport not in OAUTH1_TRANSPORTS:
            raise ValueError(f"the OAuth1 transport is 'header' or 'query', not {transport!r}")
        self.transport = transport
        self._inner = OAuth1(self._client_id, client_secret=self._client_secret, signature_method="HMAC-SHA1",
                             signature_type="AUTH_HEADER" if transport == "header" else "QUERY")

    def close(self) -> None:
        """Nothing to forget: the key and secret stay masked for as long as this signer lives."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._sign_as is None or not (request.url or "").startswith(self._sign_as[0]):
            return self._inner(request)
        sent_to, seen_as = self._sign_as
        request.url = seen_as + (request.url or "")[len(sent_to):]  # signed for the address the Server sees
        signed = self._inner(request)
        signed.url = sent_to + (signed.url or "")[len(seen_as):]  # sent to the address it is reached at
        return signed

    def __repr__(self) -> str:
        return f"<OAuth1 client_id={mask(self._client_id)} transport={self.transport}>"
