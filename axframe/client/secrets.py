"""Keeping secrets out of outputs, logs, exceptions and reprs.

- :func:`register_secret` / :func:`forget_secret`: the key, the secret and the
  live tokens, counted (two connections may share a key); :func:`redact`
  masks every one of them wherever it appears, and the log filter does the
  same for the loggers of axframe and of the libraries it sends with.
  :func:`hold_secrets` ties values to an owner (a connection, its signing):
  they leave the registry when the owner releases them or is garbage-collected,
  so that the registry holds the live secrets only and :func:`redact` costs
  one substring test per live secret, however many connections came and went.
  The log filter also masks the last 256 keys and secrets released (a key
  outlives its connection, and a library may log it): log messages are short.
- :func:`scrub`: a Server's answer with its secret-bearing fields masked (a
  studio's ``apiSecret``, a token...), found by walking the JSON, not by a
  pattern over the text, so that escaped quotes or numbers cannot slip past.
- :func:`masked` / :func:`masked_text` / :func:`is_secret_name`: what a row
  *sent* (a password column, DCM ``secrets``), masked in success frames.

Two lists of names, on purpose: an answer's secrets (``apiKey``,
``access_token``...) are masked everywhere, while the input names (``password``,
``secrets``...) are masked only in success frames, because a failure frame is
sent again as it is once fixed.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import weakref
from collections import Counter
from typing import Any, Callable, Iterable

__all__ = ["register_secret", "forget_secret", "forget_later", "hold_secrets", "Held", "live_secrets", "redact", "mask", "scrub",
           "masked", "masked_text", "is_secret_name", "install_log_filter", "MASK"]

MASK = "***"
_MIN_LENGTH = 6  # shorter values would mask ordinary words

_secrets: Counter[str] = Counter()
_snapshot: tuple[str, ...] = ()
_lock = threading.Lock()
# keys and secrets forgotten lately, newest last: no longer redacted from answers, still masked in log records,
# for they stay valid credentials after their connection is gone, and other libraries (oauthlib, at DEBUG) may
# still log them; log messages are short, so this costs little, and it holds a bounded number
_retired: dict[str, None] = {}
_retired_snapshot: tuple[str, ...] = ()
_MAX_RETIRED = 256
# values whose owners were garbage-collected: a finalizer may run inside any allocation, even one made
# while _lock is held, so it only appends here (never taking the lock), and the registry settles them
_released: list[tuple[str, bool]] = []  # (value, retire it: a key or secret)


def register_secret(value: str | None) -> None:
    """Remember *value* so that :func:`redact` masks it wherever it appears (until forgotten as often)."""
    global _snapshot
    if value and len(value) >= _MIN_LENGTH:
        with _lock:
            _secrets[value] += 1
            _settle()
            _snapshot = tuple(_secrets)


def forget_secret(value: str | None) -> None:
    """Undo one :func:`register_secret` of *value* (a token that has been replaced, a closed connection)."""
    global _snapshot
    if value:
        with _lock:
            _forget(value)
            _settle()
            _snapshot = tuple(_secrets)


def forget_later(values: Iterable[str], credentials: bool = False) -> None:
    """:func:`forget_secret` each of *values* at the registry's next use; safe inside a finalizer.
    *credentials*: keys and secrets, which log records go on masking for a while."""
    _released.extend((value, credentials) for value in values)


def _forget(value: str, retire: bool = False) -> None:
    global _retired_snapshot
    count = _secrets.get(value, 0)
    if count > 1:
        _secrets[value] = count - 1
    elif count:
        del _secrets[value]
        if not retire:
            return
        _retired.pop(value, None)
        _retired[value] = None
        while len(_retired) > _MAX_RETIRED:
            del _retired[next(iter(_retired))]
        _retired_snapshot = tuple(_retired)


def _settle() -> None:
    """Forget the values released by finalizers (with _lock held)."""
    while _released:
        _forget(*_released.pop())


def _settled() -> tuple[str, ...]:
    """The live secrets, once what finalizers released has been forgotten."""
    global _snapshot
    if _released:
        with _lock:
            _settle()
            _snapshot = tuple(_secrets)
    return _snapshot


class Held:
    """Secrets registered for one owner, forgotten once: by :meth:`release`, or when the owner is gone."""

    def __init__(self, owner: object, values: Iterable[str | None]) -> None:
        kept = tuple(v for v in values if v and len(v) >= _MIN_LENGTH)
        for value in kept:
            register_secret(value)
        # the callback holds the values, never the owner: collecting the owner runs it
        self._release: Callable[[], Any] = weakref.finalize(owner, forget_later, kept, True)

    def release(self) -> None:
        """Forget the values (at most once, however often called)."""
        self._release()
        _settled()


def hold_secrets(owner: object, *values: str | None) -> Held:
    """Register *values* for as long as *owner* lives (or until the :class:`Held` is released)."""
    return Held(owner, values)


def live_secrets() -> int:
    """How many secrets are being masked (for tests and benchmarks)."""
    return len(_settled())


def redact(text: str) -> str:
    """*text* with every registered secret replaced by ``***`` (a plain substring test for each first)."""
    if not text:
        return text
    for secret in _settled():
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def mask(value: str | None) -> str:
    """A hint of an identifier (first and last 2 characters) for messages and reprs."""
    if not value:
        return "<none>"
    return value[:2] + "…" + value[-2:] if len(value) > 8 else MASK


# --------------------------------------------------------------------------
# answers
# --------------------------------------------------------------------------

_ANSWER_SECRETS = frozenset({"apisecret", "apikey", "password", "newpassword", "secret", "access_token"})
# the fallback for text that is not JSON: a quoted key and its value (a string with escapes, or a bare word)
_ANSWER_PAIR = re.compile(r'"(' + "|".join(sorted(_ANSWER_SECRETS)) + r')"\s*:\s*("(?:[^"\\]|\\.)*"|[^,}\]\s]+)',
                          re.I)
_CHUNK = 1 << 20  # characters lower-cased at a time when looking for a name


def _words(names: frozenset[str]) -> tuple[str, ...]:
    """The names that hold no other name ("secret" finds "apisecret" too): what a search must look for."""
    return tuple(sorted(n for n in names if not any(o != n and o in n for o in names)))


_ANSWER_WORDS = _words(_ANSWER_SECRETS)


def mentions(text: str, words: tuple[str, ...]) -> bool:
    """Whether any of the lower-case *words* appears in *text*, in any case.

    Plain substring tests of the text lower-cased a megabyte at a time (overlapping by a word's
    length): several times cheaper than a case-insensitive pattern, and never a second copy of a
    large answer.
    """
    overlap = max(map(len, words)) - 1
    for start in range(0, len(text), _CHUNK):
        lowered = text[start:start + _CHUNK + overlap].lower() if start or len(text) > _CHUNK else text.lower()
        for word in words:
            if word in lowered:
                return True
    return False


def scrub(text: str) -> str:
    """A Server's answer with secret-bearing fields (a studio's ``apiSecret``, tokens, passwords) masked.

    Text in which no such name appears at all (nearly every answer) costs a few plain substring
    tests (:func:`mentions`).  Otherwise the JSON is parsed and every such field's value, at any depth,
    becomes ``"***"``; text that is not JSON falls back to masking ``"name": value`` pairs.  Registered
    secrets are redacted either way.
    """
    if not text:
        return text
    if mentions(text, _ANSWER_WORDS):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            text = _ANSWER_PAIR.sub(lambda m: f'"{m.group(1)}":"{MASK}"', text)
        else:
            if _has_secret_field(value, _ANSWER_SECRETS):
                text = json.dumps(_masking(value, _ANSWER_SECRETS), ensure_ascii=False)
    return redact(text)


def _has_secret_field(value: Any, names: frozenset[str]) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if isinstance(key, str) and key.lower() in names:
                    return True
                stack.append(inner)
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _masking(value: Any, names: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: (MASK if isinstance(k, str) and k.lower() in names and value[k] not in (None, "")
                    else _masking(v, names)) for k, v in value.items()}
    if isinstance(value, list):
        return [_masking(v, names) for v in value]
    return value


# --------------------------------------------------------------------------
# what rows sent
# --------------------------------------------------------------------------

_INPUT_SECRETS = frozenset({"password", "newpassword", "apisecret", "secret", "secrets", "clientsecret"})
_INPUT_WORDS = _words(_INPUT_SECRETS)


def is_secret_name(name: str) -> bool:
    """Whether a column (dotted names at any depth) holds something a row sends as a secret."""
    return any(part.lower() in _INPUT_SECRETS for part in name.split("."))


def masked(value: Any) -> Any:
    """*value* with every secret-named field's value replaced by ``***``."""
    return _masking(value, _INPUT_SECRETS)


def masked_text(text: str) -> str:
    """A contract's JSON text with its secret fields masked (other text: only the answer patterns)."""
    if not mentions(text, _INPUT_WORDS):
        return text
    try:
        return json.dumps(masked(json.loads(text)), ensure_ascii=False)
    except (ValueError, RecursionError):
        return scrub(text)


# --------------------------------------------------------------------------
# logs
# --------------------------------------------------------------------------


def _redact_log(text: str) -> str:
    """A log message with the live secrets and those forgotten lately masked."""
    text = redact(text)
    for secret in _retired_snapshot:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _settled() or _retired_snapshot:
            try:
                message = record.getMessage()
            except Exception:  # a malformed log call: the handler reports it, as it would without us
                return True
            cleaned = _redact_log(message)
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
