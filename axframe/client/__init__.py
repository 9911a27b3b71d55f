"""The connection to a Server: signing, sending, retrying, pacing, reading within bounds.

- :mod:`.connection`: :class:`Connection` (sends one :class:`Call`, returns one
  :class:`Outcome`, never raising for what the Server or the network did) and
  :func:`authenticate`;
- :mod:`.auth`: the OAuth2 token and what a 401 means; legacy OAuth1;
- :mod:`.transport`: the ``requests`` session, or a WSGI application in-process;
- :mod:`.retry`: retry decisions as pure functions; :mod:`.pace`: finding the
  Server's pace (``max_workers="auto"``);
- :mod:`.limits`: bounded reading; :mod:`.secrets`: keeping secrets out of
  everything axframe writes;
- :mod:`.call`: the :class:`Call` and :class:`Outcome` data.
"""

from __future__ import annotations

from .call import Call, Outcome
from .connection import (DEFAULT_ANSWER_DEADLINE, DEFAULT_MAX_ANSWER_BYTES, DEFAULT_TIMEOUT, DEFAULT_WORKERS,
                         ENV_BASE_URL, ENV_CA_BUNDLE, ENV_CLIENT_ID, ENV_CLIENT_SECRET, Connection, authenticate,
                         describe_refusal, load_env_file, normalise_base_url)
from .retry import RetryPolicy

__all__ = ["Connection", "authenticate", "Call", "Outcome", "RetryPolicy", "normalise_base_url", "load_env_file",
           "describe_refusal", "DEFAULT_TIMEOUT", "DEFAULT_WORKERS", "DEFAULT_MAX_ANSWER_BYTES",
           "DEFAULT_ANSWER_DEADLINE", "ENV_BASE_URL", "ENV_CLIENT_ID", "ENV_CLIENT_SECRET", "ENV_CA_BUNDLE"]
