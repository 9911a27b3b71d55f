"""The control API under ``/_emulator/`` (no auth; loopback only): a table of small handlers.

==========  ===================================  ====================================================
method      path                                  does
==========  ===================================  ====================================================
any         ``health``                           ``{"ok": true}``
GET         ``stats``, ``info``                  counters; URL, keys and counts
POST        ``reset`` ``{"seed"}``               throw the content away, load a seed
POST        ``seed`` (a seed)                    add a seed's content; answers its refs
GET/PUT/    ``faults``                           read, replace, change, clear the fault settings
PATCH/DEL
POST        ``clock`` ``{"advance": s}``         move the clock
POST        ``tokens/expire``                    expire every token
PUT         ``settings`` (see :data:`SETTINGS`)  change settings; answers them all
PUT         ``workflows/{id}/behaviour``         ``{"runSeconds", "disposition", "message"}``
GET/PATCH   ``quirks``                           read, or turn on/off (``{"bom": false}``), quirks of real answers
==========  ===================================  ====================================================
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from .faults import Faults
from .http import Request, Response, json_response
from .state import Clock, State
from .state.errors import EmulatorError
from .state.realism import QUIRKS
from .state.store import PAGING_MODES

__all__ = ["Controlled", "control", "SETTINGS", "apply_settings", "settings_of", "parse_control_json"]


class Controlled(Protocol):
    """What the control API drives: an :class:`~axframe.emulator.server.Emulator`."""

    state: State
    faults: Faults
    clock: Clock

    def stats(self) -> dict: ...
    def info(self) -> dict: ...
    def reset(self, seed: Any = None) -> None: ...
    def apply_seed(self, seed: Any) -> dict[str, str]: ...
    def set_quirks(self, **flags: bool) -> Any: ...


def _choices(allowed: set[str], kind: Callable[[Iterable[str]], Any], name: str) -> Callable[[Any], Any]:
    def read(value: Any) -> Any:
        chosen = set(value) if isinstance(value, (list, tuple, set)) else None
        if not chosen or chosen - allowed:
            raise ValueError(f"{name} takes {' and/or '.join(repr(a) for a in sorted(allowed))}")
        return kind(chosen)
    return read


def _one_of(allowed: tuple[str, ...], name: str) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        if value not in allowed:
            raise ValueError(f"{name} takes one of {', '.join(allowed)}")
        return str(value)
    return read


# setting name -> (State attribute, reader of the sent value, writer of the answered value)
SETTINGS: dict[str, tuple[str, Callable[[Any], Any], Callable[[Any], Any]]] = {
    "tokenLifetime": ("token_lifetime", int, int),
    "tokenCredentialForms": ("token_forms", _choices({"basic", "form"}, set, "tokenCredentialForms"), sorted),
    "jobSlots": ("job_slots", int, int),
    "defaultRunSeconds": ("default_run_seconds", float, float),
    "adminPaging": ("admin_paging", _one_of(PAGING_MODES, "adminPaging"), str),
    "oauth1Transports": ("oauth1_transports", _choices({"header", "query"}, frozenset, "oauth1Transports"), sorted),
}


def apply_settings(state: State, body: dict, names: Iterable[str] = SETTINGS) -> None:
    """Set the settings *body* names (of *names*); every value is read before any is set."""
    chosen = {SETTINGS[name][0]: SETTINGS[name][1](body[name]) for name in names if name in body}
    for attribute, value in chosen.items():
        setattr(state, attribute, value)


def settings_of(state: State) -> dict[str, Any]:
    """Every setting, as ``PUT settings`` answers them."""
    return {name: show(getattr(state, attribute)) for name, (attribute, _, show) in SETTINGS.items()}


def parse_control_json(request: Request) -> Any:
    """The JSON body of a control request (``{}`` for none)."""
    if not request.body:
        return {}
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValueError("The body is not valid JSON.") from None


def _object(request: Request) -> dict:
    body = parse_control_json(request)
    if not isinstance(body, dict):
        raise ValueError("The body must be a JSON object.")
    return body


def _reset(emulator: Controlled, request: Request) -> dict:
    emulator.reset(_object(request).get("seed"))
    return {"ok": True, "counts": emulator.state.counts()}


def _faults(change: str) -> Callable[[Controlled, Request], dict]:
    def handle(emulator: Controlled, request: Request) -> dict:
        if change == "configure":
            emulator.faults.configure(**_object(request))
        elif change == "update":
            emulator.faults.update(**_object(request))
        elif change == "clear":
            emulator.faults.clear()
        return emulator.faults.snapshot()
    return handle


def _clock(emulator: Controlled, request: Request) -> dict:
    seconds = float(_object(request).get("advance", 0))
    emulator.clock.advance(seconds)
    return {"now": emulator.clock.now()}


def _expire(emulator: Controlled, request: Request) -> dict:
    with emulator.state.lock:
        return {"expired": emulator.state.expire_tokens()}


def _settings(emulator: Controlled, request: Request) -> dict:
    body = _object(request)
    with emulator.state.lock:
        apply_settings(emulator.state, body)
        return settings_of(emulator.state)


def _quirks(change: bool) -> Callable[[Controlled, Request], dict]:
    def handle(emulator: Controlled, request: Request) -> dict:
        if change:
            flags = _object(request)
            if not all(isinstance(v, bool) for v in flags.values()):
                raise ValueError("quirks takes names with true or false")
            emulator.set_quirks(**flags)
        on = emulator.state.realism.on
        return {name: name in on for name in QUIRKS}
    return handle


_BEHAVIOUR = {"runSeconds", "disposition", "message"}


def _behaviour(emulator: Controlled, request: Request, workflow_id: str) -> dict:
    body = _object(request)
    if set(body) - _BEHAVIOUR:
        raise ValueError(f"behaviour takes only {', '.join(sorted(_BEHAVIOUR))}")
    with emulator.state.lock:
        emulator.state.workflow(workflow_id)["behaviour"] = dict(body)
    return {"id": workflow_id, "behaviour": body}


Handler = Callable[[Controlled, Request], Any]

# (method, path after /_emulator/) -> handler of (emulator, request); "*" matches any method
ROUTES: dict[tuple[str, str], Handler] = {
    ("*", "health"): lambda emulator, request: {"ok": True},
    ("GET", "stats"): lambda emulator, request: emulator.stats(),
    ("GET", "info"): lambda emulator, request: emulator.info(),
    ("POST", "reset"): _reset,
    ("POST", "seed"): lambda emulator, request: {"refs": emulator.apply_seed(parse_control_json(request))},
    ("GET", "faults"): _faults("read"),
    ("PUT", "faults"): _faults("configure"),
    ("PATCH", "faults"): _faults("update"),
    ("DELETE", "faults"): _faults("clear"),
    ("POST", "clock"): _clock,
    ("POST", "tokens/expire"): _expire,
    ("PUT", "settings"): _settings,
    ("GET", "quirks"): _quirks(False),
    ("PATCH", "quirks"): _quirks(True),
}


def _handler(method: str, path: str) -> Handler | None:
    found = ROUTES.get((method, path)) or ROUTES.get(("*", path))
    if found is not None:
        return found
    parts = path.split("/")
    if method == "PUT" and len(parts) == 3 and parts[0] == "workflows" and parts[2] == "behaviour":
        return lambda emulator, request: _behaviour(emulator, request, parts[1])
    return None


def control(emulator: Controlled, request: Request) -> Response:
    """Answer one ``/_emulator/`` request; a bad one is 400 with a message, an unknown one 404."""
    path = request.path.rstrip("/")
    handler = _handler(request.method, path[len("/_emulator/"):])
    if handler is None:
        return json_response(404, {"message": f"No emulator control route {request.method} {path}."})
    try:
        return json_response(200, handler(emulator, request))
    except (EmulatorError, ValueError, KeyError, TypeError) as exc:
        message = exc.message if isinstance(exc, EmulatorError) else str(exc)
        return json_response(400, {"message": message})
