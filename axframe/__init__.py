"""axframe: the Alteryx Server Web API as pandas dataframes.

>>> import axframe as ax
>>> conn = ax.authenticate("https://alteryx.example.com/webapi", key, secret)   # doctest: +SKIP
>>> ok, failed = ax.create(conn, "collections.create", frame)                    # doctest: +SKIP

Rows in, success and failure frames out, for every endpoint of every API
family (``ax.actions()``), with a local emulator of the Server
(:mod:`axframe.emulator`) to rehearse on.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .admin import admin_listing, audit_log, deploy, migratable, migrate
from .client import Connection, RetryPolicy, authenticate
from .engine.run import RunOptions
from .engine.shape import Result, Summary
from .errors import (AuthenticationError, AxframeError, ConfigurationError, ErrorType, FrameError, InputFileError,
                     JournalError, ListingError, OutputFileError, ServerUnreachable, UnknownActionError,
                     WrongMacroError)
from .frames import add_record_id
from .io import read_frame, sheet_names, write_frame, write_results, write_sheets
from .jobs import JobsResult, JobSummary, download_packages, job_outputs, package_frame, run_jobs
from .macros import actions, create, delete, get, post
from .sync import Plan, apply, diff, export, plan, read_workbook

__all__ = [
    "__version__",
    # the five macros
    "authenticate", "get", "create", "post", "delete",
    # helpers
    "actions", "add_record_id",
    # jobs and packages
    "run_jobs", "job_outputs", "package_frame", "download_packages", "JobsResult", "JobSummary",
    # migration, deployment, audit
    "migratable", "migrate", "deploy", "audit_log", "admin_listing", "ListingError",
    # the Server as a workbook
    "export", "plan", "apply", "diff", "Plan", "read_workbook",
    # files
    "read_frame", "write_frame", "write_sheets", "write_results", "sheet_names",
    # types
    "Connection", "Result", "Summary", "RetryPolicy", "RunOptions", "ErrorType",
    # errors
    "AxframeError", "ConfigurationError", "AuthenticationError", "ServerUnreachable", "FrameError",
    "UnknownActionError", "WrongMacroError", "InputFileError", "OutputFileError", "JournalError",
]
