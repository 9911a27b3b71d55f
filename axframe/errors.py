"""axframe's exceptions, and the ``ErrorType`` values of failure rows.

Set-up problems raise (before anything is sent); row problems become failure
rows whose ``ErrorType`` is one of the names below and whose ``Error`` is a
sentence a person can act on.
"""

from __future__ import annotations

from typing import Mapping
from urllib.parse import urlsplit

from .catalogue import UnknownAction

__all__ = ["AxframeError", "ConfigurationError", "AuthenticationError", "ServerUnreachable", "FrameError",
           "UnknownActionError", "WrongMacroError", "ErrorType"]


class AxframeError(Exception):
    """Base class of every exception axframe raises on purpose."""


class ConfigurationError(AxframeError, ValueError):
    """A setting is missing or wrong (base URL, keys, options)."""


class AuthenticationError(AxframeError):
    """The Server refused the API key and secret."""


class ServerUnreachable(AxframeError, ConnectionError):
    """The Server could not be reached at all (nothing was sent)."""


class FrameError(AxframeError, ValueError):
    """The input frame as a whole cannot be used (for example it has no ``RecordID`` column)."""


class UnknownActionError(AxframeError, UnknownAction):
    """No endpoint of that name, operationId or ``METHOD /path``."""


class WrongMacroError(AxframeError, ValueError):
    """The action exists but belongs to another macro function."""


class ErrorType:
    """The values of a failure row's ``ErrorType`` column."""

    # the row itself (nothing was sent)
    INVALID_RECORD_ID = "InvalidRecordID"
    DUPLICATE_RECORD_ID = "DuplicateRecordID"
    MISSING_PARAMETER = "MissingParameter"
    INVALID_PARAMETER = "InvalidParameter"
    INVALID_CONTRACT = "InvalidContract"
    INVALID_FILE = "InvalidFile"
    NOT_AVAILABLE = "NotAvailable"
    CHANGED_SINCE_JOURNAL = "ChangedSinceJournal"  # done in an earlier run with other values
    # the Server's answer
    BAD_REQUEST = "BadRequest"
    UNAUTHORIZED = "Unauthorized"
    FORBIDDEN = "Forbidden"
    NOT_FOUND = "NotFound"
    CONFLICT = "Conflict"
    UNSUPPORTED = "UnsupportedMediaType"
    TOO_LARGE = "PayloadTooLarge"
    RATE_LIMITED = "TooManyRequests"
    SERVER_ERROR = "ServerError"
    UNAVAILABLE = "ServiceUnavailable"
    HTTP_ERROR = "HTTPError"
    # the transport
    CONNECTION = "ConnectionError"
    TIMEOUT = "Timeout"
    OUTCOME_UNKNOWN = "OutcomeUnknown"
    ANSWER_REFUSED = "AnswerRefused"  # an answer too large or too slow to read (max_answer_bytes, answer_deadline)
    # steps around the call
    MERGE_FAILED = "MergeFailed"
    SAVE_FAILED = "SaveFailed"
    JOB_FAILED = "JobFailed"
    JOB_TIMEOUT = "JobTimeout"
    NOT_MIGRATABLE = "NotMigratable"

    BY_STATUS = {400: BAD_REQUEST, 401: UNAUTHORIZED, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT,
                 413: TOO_LARGE, 415: UNSUPPORTED, 429: RATE_LIMITED, 503: UNAVAILABLE}

    @classmethod
    def for_status(cls, status: int) -> str:
        if status in cls.BY_STATUS:
            return cls.BY_STATUS[status]
        return cls.SERVER_ERROR if status >= 500 else cls.HTTP_ERROR


def proxy_note(exc: BaseException, proxies: Mapping[str, str], url: str) -> str:
    """A clause naming the proxy a failed request went through, when the proxy is what failed.

    The proxy comes from the environment (``HTTPS_PROXY``...) and users often do not know it is in
    play.  Only its scheme, host and port are named: never a user name or password it may carry.
    """
    if not any(cls.__name__ == "ProxyError" for cls in type(exc).__mro__):
        return ""
    scheme = urlsplit(url).scheme.lower()
    proxy = proxies.get(scheme) or proxies.get("all") or ""
    try:
        parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
        where = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        where = "the environment's proxy"
    return (f" through the proxy {where} (from the environment: HTTPS_PROXY/HTTP_PROXY); check it, or add "
            f"this Server's host to NO_PROXY to go direct")
