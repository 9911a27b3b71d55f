"""The sentence a failure row gets for the Server's refusal: its own message and modelState, and what it most
likely means (a role the endpoint needs, a Windows-authentication Server)."""

from __future__ import annotations

import json

from ..catalogue import Endpoint
from . import retry as retrying
from .call import Call
from .secrets import redact

__all__ = ["describe_refusal", "WINDOWS_USERS"]


def _server_says(text: str) -> str:
    """The Server's own message and modelState in an error answer (its start, when it is not JSON)."""
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        parts = [str(body.get("message") or body.get("error") or "")]
        model_state = body.get("modelState")
        if isinstance(model_state, dict):
            parts += [f"{k}: {'; '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in model_state.items()]
        return " ".join(p for p in parts if p)
    if isinstance(body, str):
        return body
    return text[:300] if text else ""


def describe_refusal(status: int, text: str, call: Call, attempts: int) -> str:
    """A sentence for a non-2xx answer, with the Server's own message and modelState."""
    detail = _server_says(text)
    label = {400: "the Server rejected the request", 401: "not authorized", 403: "forbidden",
             404: "not found", 409: "conflict", 413: "the request is too large",
             415: "the Server does not accept this content type", 429: "too many requests",
             503: "the Server is unavailable"}.get(status, "the Server answered an error")
    sentence = f"{label} ({status})"
    if detail:
        sentence += f": {detail}"
    if status == 401 and call.endpoint is not None:
        sentence += _role_needed(call.endpoint)
    if status == 400 and call.endpoint is not None and call.endpoint.name == "users.create" and \
            "windows authentication" in detail.lower():
        sentence += WINDOWS_USERS
    if status in retrying.RETRY_STATUSES:
        sentence += f" (after {attempts} attempt{'s' * (attempts > 1)})"
    return redact(sentence)


WINDOWS_USERS = (". On a Server that uses Windows authentication, people come from Active Directory: each has an "
                 "account once they first sign in. To give people access ahead of that, link their AD group to a "
                 "user group (usergroups.add_ad_group) and give the group its role and collections; after they "
                 "sign in, users.update changes a role")


def _role_needed(endpoint: Endpoint) -> str:
    """What a 401 on *endpoint* most likely means about the key's role ("" when nothing is known)."""
    if endpoint.min_role == "Curator":
        return f". {endpoint.name} needs a Curator's API key"
    if endpoint.min_role is not None:
        return (f". {endpoint.name} needs the API key of an {endpoint.min_role} or above: Servers since 2022.1 "
                "refuse Viewers' and Members' keys on the V1 and User V2 APIs")
    return ""
