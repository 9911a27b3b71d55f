"""A local emulator of an Alteryx Server's Web API, for tests, notebooks and rehearsals.

>>> from axframe.emulator import Emulator
>>> with Emulator() as server:                      # doctest: +SKIP
...     conn = ax.authenticate(server.url, *server.curator)

Layout, like moto: :mod:`.state` is the Server's domain model (no HTTP),
:mod:`.app` the thin HTTP layer (a route per catalogue endpoint),
:mod:`.faults` the fault injection, :mod:`.server` the loopback socket server
and :class:`Emulator`.  Choices made where the Server's documentation is
silent are listed in ``docs/emulator.md``.
"""

from .faults import FaultSettings, Faults, ResetConnection
from .server import Emulator, check_loopback, wait_until_ready
from .state import Clock, State

__all__ = ["Emulator", "State", "Clock", "Faults", "FaultSettings", "ResetConnection", "check_loopback",
           "wait_until_ready"]
