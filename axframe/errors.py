"""axframe's exceptions, and the ``ErrorType`` of failure rows.

Set-up problems raise, before anything is sent; problems of single rows never
raise: they become failure rows whose ``ErrorType`` is an :class:`ErrorType`
and whose ``Error`` is a sentence a person can act on.

The exception tree::

    AxframeError
    ├── ConfigurationError (ValueError)      a setting or option is missing or wrong
    │   ├── UsageError                       the command line was used wrongly (exit code 2)
    │   └── JournalError                     the journal belongs to another run, or is in use
    ├── AuthenticationError                  the Server refused the key and secret
    ├── ServerUnreachable (ConnectionError)  nothing could be sent at all
    ├── FrameError (ValueError)              the input frame as a whole cannot be used
    │   ├── InputFileError                   ... nor the file it comes from
    │   └── OutputFileError                  an output file cannot be written
    ├── UnknownActionError (LookupError)     no endpoint of that name
    ├── WrongMacroError (ValueError)         the endpoint belongs to another macro (.expected names it)
    ├── ListingError                         a listing or set-up read failed (.status)
    ├── PackageError (ValueError)            a .yxzp that cannot be read or built
    └── AnswerRefused                        an answer too large or too slow to read (.status, .reason)

Every message is made where the problem is found and carries the facts as
fields; callers add context around a message, never reword it.
"""

from __future__ import annotations

from enum import Enum
from typing import Mapping, Sequence
from urllib.parse import urlsplit
from urllib.request import getproxies

__all__ = ["AxframeError", "ConfigurationError", "UsageError", "JournalError", "AuthenticationError",
           "ServerUnreachable", "FrameError", "InputFileError", "OutputFileError", "UnknownActionError",
           "WrongMacroError", "ListingError", "PackageError", "AnswerRefused", "ErrorType", "proxy_note"]


class AxframeError(Exception):
    """Base class of every exception axframe raises on purpose."""


class ConfigurationError(AxframeError, ValueError):
    """A setting is missing or wrong (base URL, keys, options)."""


class UsageError(ConfigurationError):
    """The command line was used wrongly: something to fix before anything is sent (exit code 2)."""


class JournalError(ConfigurationError):
    """The journal cannot be used by this run: it belongs to another action, or another run holds it.

    Attributes
    ----------
    path : str
        The journal file.
    """

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.path = path


class AuthenticationError(AxframeError):
    """The Server refused the API key and secret."""


class ServerUnreachable(AxframeError, ConnectionError):
    """The Server could not be reached at all (nothing was sent)."""


class FrameError(AxframeError, ValueError):
    """The input frame as a whole cannot be used (for example it has no ``RecordID`` column).

    Attributes
    ----------
    hint : str
        What to do about it, said for Python (``ax.add_record_id(frame)``).
    file_hint : str
        The same, said for someone working with files (``add a column RecordID ...``); empty when it
        is the same.
    """

    def __init__(self, message: str, *, hint: str = "", file_hint: str = ""):
        super().__init__(f"{message}; {hint}" if hint else message)
        self.problem = message
        self.hint = hint
        self.file_hint = file_hint

    def for_files(self) -> str:
        """The message for a user of files and the command line rather than Python."""
        if self.file_hint:
            return f"{self.problem}; {self.file_hint}"
        return str(self)


class InputFileError(FrameError):
    """An input file cannot be read as a frame (missing, wrong format, bad encoding...)."""


class OutputFileError(FrameError):
    """An output file cannot be written where it was asked for."""


class UnknownActionError(AxframeError, LookupError):
    """No endpoint of that name, operationId or ``METHOD /path``.

    Attributes
    ----------
    action : str
        What was asked for.
    near : list of str
        The nearest names.
    """

    def __init__(self, action: object, near: Sequence[str] = ()):
        self.action = action
        self.near = list(near)
        if not isinstance(action, str) or not action.strip():
            message = f"an action must be a non-empty name, got {action!r}"
        else:
            hint = f" Did you mean {', '.join(repr(n) for n in self.near)}?" if self.near else ""
            message = f"unknown action {action!r}.{hint}"
        super().__init__(message)
        self.problem = message

    def __str__(self) -> str:
        return f"{self.problem} ax.actions() lists all of them." if isinstance(self.action, str) \
            and self.action.strip() else self.problem

    def for_files(self) -> str:
        """The message for a user of the command line."""
        return f"{self.problem} 'axframe actions' lists all of them."


class WrongMacroError(AxframeError, ValueError):
    """The action exists but belongs to another macro function.

    Attributes
    ----------
    action : str
        The endpoint's short name.
    spelling : str
        ``METHOD /path``.
    expected : str
        The macro that sends it (``"create"``).
    used : str
        The macro it was given to.
    """

    def __init__(self, action: str, spelling: str, expected: str, used: str):
        self.action, self.spelling, self.expected, self.used = action, spelling, expected, used
        super().__init__(f"{action!r} ({spelling}) is a {expected!r} action: call ax.{expected}(conn, {action!r}, "
                         f"frame) instead of ax.{used}(...).")

    def for_files(self) -> str:
        """The message for a user of the command line."""
        return f"{self.action!r} ({self.spelling}) is a {self.expected!r} action: use axframe {self.expected} " \
               f"{self.action}"


class ListingError(AxframeError):
    """A listing (or the read that sets up a run) could not be read from the Server.

    Attributes
    ----------
    status : int or None
        The Server's status, if it answered.
    """

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class PackageError(AxframeError, ValueError):
    """A workflow package (``.yxzp``) that cannot be read or built."""


class AnswerRefused(AxframeError):
    """An answer too large, or too slow, to be read to its end.

    Attributes
    ----------
    status : int or None
        The status the answer began with.
    reason : str
        Which bound it crossed.
    """

    def __init__(self, status: int | None, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class ErrorType(str, Enum):
    """The values of a failure row's ``ErrorType`` column.

    A ``str`` enum: each member equals its text (``ErrorType.NOT_FOUND == "NotFound"``), and the
    frames hold the plain text.
    """

    # the row itself (nothing was sent)
    INVALID_RECORD_ID = "InvalidRecordID"
    DUPLICATE_RECORD_ID = "DuplicateRecordID"
    MISSING_PARAMETER = "MissingParameter"
    INVALID_PARAMETER = "InvalidParameter"
    INVALID_CONTRACT = "InvalidContract"
    INVALID_FILE = "InvalidFile"
    NOT_AVAILABLE = "NotAvailable"
    AMBIGUOUS = "Ambiguous"  # a name that matches several things on the Server
    CHANGED_SINCE_JOURNAL = "ChangedSinceJournal"  # done in an earlier run with other values
    CHANGED_SINCE_PLAN = "ChangedSincePlan"  # its target changed on the Server after the plan was made
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
    UNEXPECTED_ANSWER = "UnexpectedAnswer"  # a 2xx that is not what the endpoint answers (an HTML sign-in page...)
    # steps around the call
    MERGE_FAILED = "MergeFailed"
    SAVE_FAILED = "SaveFailed"
    JOB_FAILED = "JobFailed"
    JOB_TIMEOUT = "JobTimeout"
    NOT_MIGRATABLE = "NotMigratable"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @classmethod
    def for_status(cls, status: int) -> "ErrorType":
        """The error type of a non-2xx answer."""
        known = _BY_STATUS.get(status)
        if known is not None:
            return known
        return cls.SERVER_ERROR if status >= 500 else cls.HTTP_ERROR


_BY_STATUS = {400: ErrorType.BAD_REQUEST, 401: ErrorType.UNAUTHORIZED, 403: ErrorType.FORBIDDEN,
              404: ErrorType.NOT_FOUND, 409: ErrorType.CONFLICT, 413: ErrorType.TOO_LARGE,
              415: ErrorType.UNSUPPORTED, 429: ErrorType.RATE_LIMITED, 503: ErrorType.UNAVAILABLE}


def proxy_note(exc: BaseException, proxies: Mapping[str, str], url: str) -> str:
    """A clause naming the proxy a failed request went through, when the proxy is what failed.

    The proxy comes from the environment (``HTTPS_PROXY``...) and users often do not know it is in
    play.  Only its scheme, host and port are named: never a user name or password it may carry.
    """
    if not any(cls.__name__ == "ProxyError" for cls in type(exc).__mro__):
        return ""
    scheme = urlsplit(url).scheme.lower()
    environment = getproxies()  # a session that reads the environment on each call (trust_env) names none
    proxy = proxies.get(scheme) or proxies.get("all") or environment.get(scheme) or environment.get("all") or ""
    where = "a proxy"  # one neither names (not a URL, or a proxy manager of its own)
    try:
        parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
        if parts.hostname:
            where = f"the proxy {parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        pass
    return (f" through {where} (from the environment: HTTPS_PROXY/HTTP_PROXY); check it, or add "
            f"this Server's host to NO_PROXY to go direct")
