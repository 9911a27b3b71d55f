"""A local emulator of an Alteryx Server's Web API, for tests, notebooks and rehearsals.

>>> from axframe.emulator import Emulator
>>> with Emulator() as server:                      # doctest: +SKIP
...     conn = ax.authenticate(server.url, *server.curator)

Layout, like moto: :mod:`.state` is the Server's domain model (no HTTP; one
service per family), :mod:`.routes` a row per catalogue endpoint naming its
state method, :mod:`.binding` the generic parsing and validation of a
request, :mod:`.error_map` the one map from refusals to answers, :mod:`.app`
the application that joins them, :mod:`.faults` the fault injection,
:mod:`.server` the loopback socket server and :class:`Emulator`, and
:mod:`.wsgi` the same application without a socket.  Choices made where the
Server's documentation is silent are listed in ``docs/emulator.md``.
"""

from .faults import FaultSettings, Faults, ResetConnection
from .server import Emulator, check_loopback, wait_until_ready
from .state import Clock, State
from .wsgi import WsgiApp

__all__ = ["Emulator", "State", "Clock", "Faults", "FaultSettings", "ResetConnection", "WsgiApp", "check_loopback",
           "wait_until_ready"]
