"""Keeping secrets out of outputs, logs, exceptions and reprs.

- :func:`register_secret` / :func:`forget_secret`: the key, the secret and the
  live tokens, counted (two connections may share a key); :func:`redact`
  masks every one of them wherever it appears, and the log filter does the
  same for the loggers of axframe and of the libraries it sends with.
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
from collections import Counter
from typing import Any

__all__ = ["register_secret", "forget_secret", "redact", "mask", "scrub", "masked", "masked_text",
           "is_secret_name", "install_log_filter", "MASK"]

MASK = "***"
_MIN_LENGTH = 6  # shorter values would mask ordinary words

_secrets: Counter[str] = Counter()
_snapshot: tuple[str, ...] = ()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember *value* so that :func:`redact` masks it wherever it appears (until forgotten as often)."""
    global _snapshot
    if value and len(value) >= _MIN_LENGTH:
        with _lock:
            _secrets[value] += 1
            _snapshot = tuple(_secrets)


def forget_secret(value: str | None) -> None:
    """Undo one :func:`register_secret` of *value* (a token that has been replaced, a closed connection)."""
    global _snapshot
    if value and value in _secrets:
        with _lock:
            _secrets[value] -= 1
            if _secrets[value] <= 0:
                del _secrets[value]
            _snapshot = tuple(_secrets)


def live_secrets() -> int:
    """How many secrets are being masked (for tests and benchmarks)."""
    return len(_snapshot)


def redact(text: str) -> str:
    """*text* with every registered secret replaced by ``***``."""
    if not text:
        return text
    for secret in _snapshot:
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
_ANSWER_HINT = re.compile("|".join(sorted(_ANSWER_SECRETS)), re.I)
# the fallback for text that is not JSON: a quoted key and its value (a string with escapes, or a bare word)
_ANSWER_PAIR = re.compile(r'"(' + "|".join(sorted(_ANSWER_SECRETS)) + r')"\s*:\s*("(?:[^"\\]|\\.)*"|[^,}\]\s]+)',
                          re.I)


def scrub(text: str) -> str:
    """A Server's answer with secret-bearing fields (a studio's ``apiSecret``, tokens, passwords) masked.

    Text in which no such name appears at all (nearly every answer) costs one scan.  Otherwise the
    JSON is parsed and every such field's value, at any depth, becomes ``"***"``; text that is not
    JSON falls back to masking ``"name": value`` pairs.  Registered secrets are redacted either way.
    """
    if not text:
        return text
    if _ANSWER_HINT.search(text):
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
_INPUT_HINT = re.compile("|".join(sorted(_INPUT_SECRETS)), re.I)


def is_secret_name(name: str) -> bool:
    """Whether a column (dotted names at any depth) holds something a row sends as a secret."""
    return any(part.lower() in _INPUT_SECRETS for part in name.split("."))


def masked(value: Any) -> Any:
    """*value* with every secret-named field's value replaced by ``***``."""
    return _masking(value, _INPUT_SECRETS)


def masked_text(text: str) -> str:
    """A contract's JSON text with its secret fields masked (other text: only the answer patterns)."""
    if not _INPUT_HINT.search(text):
        return text
    try:
        return json.dumps(masked(json.loads(text)), ensure_ascii=False)
    except (ValueError, RecursionError):
        return scrub(text)


# --------------------------------------------------------------------------
# logs
# --------------------------------------------------------------------------


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _snapshot:
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
