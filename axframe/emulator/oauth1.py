"""Legacy OAuth 1.0a verification for ``/gallery/api/`` (Servers before 2022.1).

Two-legged HMAC-SHA1 signing with the API key as consumer key and the secret
as consumer secret, no token (reference.md 2.2).  The signature is checked
with ``oauthlib``'s signature-only endpoint; this module supplies the
key/secret lookup and a nonce store, and does no cryptography of its own.

Choices where the reference is silent: the timestamp window is oauthlib's
default of 600 seconds, on real time; a nonce may be used once per key and
timestamp; parameters may come in the query string (as the public clients
send them) or in an ``Authorization: OAuth`` header.  ``state.oauth1_transports``
narrows that to one of the two, to rehearse a Server that takes only one.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint

from .state.errors import Unauthorized

if TYPE_CHECKING:  # pragma: no cover
    from .http import Request
    from .state import State

__all__ = ["verify", "invalid_signature", "INVALID_SIGNATURE"]

INVALID_SIGNATURE = "The provided signature(oauth_signature) is invalid."


def invalid_signature() -> Unauthorized:
    """The refusal of a request whose OAuth1 signature does not verify."""
    return Unauthorized(INVALID_SIGNATURE)


class _Validator(RequestValidator):
    enforce_ssl = False
    allowed_signature_methods = ("HMAC-SHA1",)

    def __init__(self, state: State):
        super().__init__()
        self.state = state
        self._nonces: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()

    @property
    def client_key_length(self) -> tuple[int, int]:
        return 1, 256

    @property
    def nonce_length(self) -> tuple[int, int]:
        return 1, 128  # the public clients send 5 to 9 alphanumerics

    @property
    def dummy_client(self) -> str:
        return "dummy-client"

    def check_client_key(self, client_key: str) -> bool:
        return bool(client_key) and client_key.isprintable()

    def check_nonce(self, nonce: str) -> bool:
        return bool(nonce) and nonce.isalnum()

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return self.state.user_by_api_key(client_key) is not None

    def get_client_secret(self, client_key: str, request: Any) -> str:
        user = self.state.user_by_api_key(client_key)
        return str(user["apiSecret"]) if user else "dummy-secret"

    def validate_timestamp_and_nonce(self, client_key: str, timestamp: Any, nonce: str, request: Any,
                                     request_token: Any = None, access_token: Any = None) -> bool:
        key = (client_key, str(timestamp), nonce)
        with self._lock:
            if key in self._nonces:
                return False
            self._nonces.add(key)
            if len(self._nonces) > 100_000:
                self._nonces.clear()
        return True


_validators: dict[int, _Validator] = {}
_validators_lock = threading.Lock()


def _validator(state: State) -> _Validator:
    with _validators_lock:
        validator = _validators.get(id(state))
        if validator is None or validator.state is not state:
            validator = _validators[id(state)] = _Validator(state)
        return validator


def verify(request: Request, state: State) -> str | None:
    """The API key of a correctly signed request, else ``None``."""
    endpoint = SignatureOnlyEndpoint(_validator(state))
    headers: dict[str, str] = {}
    in_header = request.header("authorization").lower().startswith("oauth ")
    if in_header:
        headers["Authorization"] = request.header("authorization")
    if ("header" if in_header else "query") not in state.oauth1_transports:
        return None
    body = None
    if request.content_type == "application/x-www-form-urlencoded":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = request.body.decode("utf-8", "replace")
    try:
        valid, oauth_request = endpoint.validate_request(request.url(), request.method, body, headers)
    except ValueError:
        return None
    if not valid:
        return None
    return str(oauth_request.client_key)
