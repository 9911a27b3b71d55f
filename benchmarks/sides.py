"""The sides of a comparison: axframe, and the code a competent person would write instead.

A *side* makes a batch of calls of one workload against the emulator: GET one
collection (``GET /v3/collections/{id}``) or create one (``POST
/v3/collections``), every call different for creates.  Every side is built
once and kept warm across rounds (connections open, token fetched), so that a
round times the calls and nothing else; :meth:`Side.prepare` builds the inputs
(a frame, a list of names) outside the timing, and returns what is timed.

Every plain side keeps what a script needs from each answer: its status and
its JSON, parsed (axframe shapes the same answers into its success frame).

- :class:`AxframeSide`: ``ax.get`` / ``ax.create`` with ``max_workers=width``.
- :class:`RequestsSide`: one ``requests.Session`` with ``trust_env=False`` (so
  that it does not re-read proxy, netrc and CA settings on every call), its
  adapter's pool as wide as the thread pool; a plain loop at width 1, a
  ``ThreadPoolExecutor`` of *width* otherwise.  With ``trust_env=True`` (the
  default of ``requests``) it is the old, flattering baseline: context only.
- :class:`HttpxSide`: an ``httpx.AsyncClient`` (as many connections as the
  width, ``trust_env=False``), a semaphore of *width*, ``asyncio.gather``.
- :class:`MinimalSide`: :class:`benchmarks.minimal.MinimalThreads` in this
  process, the floor of client CPU per call.
- :class:`CeilingSide`: :class:`benchmarks.emulator_throughput.CeilingWorkers`,
  the emulator's own ceiling.

The peers (``alteryx-server-py``, the client generated inside
``mcp-server-alteryx``) are in :mod:`benchmarks.peers`.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Coroutine

import pandas as pd
import requests

import axframe as ax

from .common import EmulatorProcess, Sample, measure
from .emulator_throughput import CeilingWorkers
from .minimal import CREATE, GET, ROUTES, MinimalThreads


@dataclass(frozen=True)
class Batch:
    """The calls of one round: *kind* (``GET`` or ``create``) and one target a call (an id, or a new name)."""

    kind: str
    targets: list[str]


@dataclass(frozen=True)
class Done:
    """What a timed batch returns: the calls answered 200, and its own clock's seconds when it has one."""

    ok: int
    seconds: float | None = None


def make_batch(kind: str, name: str, round_: int, calls: int, collection: str = "") -> Batch:
    """*calls* GETs of *collection*, or *calls* creates of names unique to the side *name* and the round."""
    if kind == GET:
        return Batch(GET, [collection] * calls)
    return Batch(CREATE, [f"{name}-{round_}-{i}" for i in range(calls)])


class Side:
    """A way of making a batch of calls (see the module's docstring)."""

    #: whether the process CPU time of this process measures the side (not for the ceiling's workers)
    in_process = True

    def __init__(self, name: str, label: str, width: int):
        self.name, self.label, self.width = name, label, width

    def prepare(self, batch: Batch) -> Callable[[], Done]:
        """Build the inputs of *batch*, untimed; return the timed part."""
        raise NotImplementedError

    def close(self) -> None:
        pass


def pool_map(width: int, fn: Callable[[str], Any], targets: list[str]) -> list[Any]:
    """*fn* over *targets*: a plain loop at width 1, a thread pool of *width* otherwise."""
    if width == 1:
        return [fn(t) for t in targets]
    with ThreadPoolExecutor(width) as pool:
        return list(pool.map(fn, targets))


class AsyncLoop:
    """One event loop kept for a side's lifetime, so that its async client and connections stay warm."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coroutine)

    async def bounded(self, width: int, make: Callable[[str], Coroutine[Any, Any, Any]],
                      targets: list[str]) -> list[Any]:
        """``make(target)`` for every target, at most *width* at once (a semaphore), gathered."""
        gate = asyncio.Semaphore(width)

        async def one(target: str) -> Any:
            async with gate:
                return await make(target)

        return await asyncio.gather(*(one(t) for t in targets))

    def close(self) -> None:
        self.loop.close()


class AxframeSide(Side):
    def __init__(self, url: str, key: tuple[str, str], width: int):
        super().__init__(f"axframe-{width}", f"axframe, {width} worker{'s' * (width > 1)}", width)
        self.conn = ax.authenticate(url, *key)

    def prepare(self, batch: Batch) -> Callable[[], Done]:
        if batch.kind == GET:
            frame = ax.add_record_id(pd.DataFrame({"collectionId": batch.targets}))
            return lambda: Done(len(ax.get(self.conn, "collections.get", frame, max_workers=self.width,
                                           progress=False).success))
        frame = ax.add_record_id(pd.DataFrame({"name": batch.targets}))
        return lambda: Done(len(ax.create(self.conn, "collections.create", frame, max_workers=self.width,
                                          progress=False).success))

    @property
    def tokens_requested(self) -> int:
        return self.conn.tokens_requested

    def close(self) -> None:
        self.conn.close()


class RequestsSide(Side):
    def __init__(self, url: str, token: str, width: int, trust_env: bool = False):
        if trust_env:
            name, label = "requests-trust-env", "a requests.Session loop with trust_env=True"
        elif width == 1:
            name, label = "requests-1", "a requests loop, trust_env=False"
        else:
            name, label = f"requests-{width}", f"a requests pool of {width}, trust_env=False"
        super().__init__(name, label, width)
        self.base = f"{url}/v3/collections"
        self.session = requests.Session()
        self.session.trust_env = trust_env
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(width, 1)))

    def _get(self, collection_id: str) -> tuple[int, Any]:
        r = self.session.get(f"{self.base}/{collection_id}", timeout=60)
        return r.status_code, r.json()

    def _create(self, name: str) -> tuple[int, Any]:
        r = self.session.post(self.base, json={"name": name}, timeout=60)
        return r.status_code, r.json()

    def prepare(self, batch: Batch) -> Callable[[], Done]:
        call = self._get if batch.kind == GET else self._create
        return lambda: Done(sum(status == 200 for status, _ in pool_map(self.width, call, batch.targets)))

    def close(self) -> None:
        self.session.close()


class HttpxSide(Side):
    @staticmethod
    def describe(width: int) -> str:
        return f"httpx async, a semaphore of {width}"

    def __init__(self, url: str, token: str, width: int):
        import httpx

        super().__init__(f"httpx-{width}", self.describe(width), width)
        self.base = f"{url}/v3/collections"
        self.loop = AsyncLoop()
        limits = httpx.Limits(max_connections=width, max_keepalive_connections=width)

        async def make() -> "httpx.AsyncClient":
            return httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                     trust_env=False, timeout=60)

        self.client = self.loop.run(make())

    async def _get(self, collection_id: str) -> tuple[int, Any]:
        r = await self.client.get(f"{self.base}/{collection_id}")
        return r.status_code, r.json()

    async def _create(self, name: str) -> tuple[int, Any]:
        r = await self.client.post(self.base, json={"name": name})
        return r.status_code, r.json()

    def prepare(self, batch: Batch) -> Callable[[], Done]:
        call = self._get if batch.kind == GET else self._create
        return lambda: Done(sum(status == 200 for status, _ in
                                self.loop.run(self.loop.bounded(self.width, call, batch.targets))))

    def close(self) -> None:
        self.loop.run(self.client.aclose())
        self.loop.close()


class MinimalSide(Side):
    def __init__(self, url: str, token: str, width: int):
        label = "a minimal http.client loop" if width == 1 else \
            f"minimal http.client loops, {width} threads with a connection each"
        super().__init__(f"minimal-{width}", label, width)
        self.threads = MinimalThreads(url, token, width)

    def prepare(self, batch: Batch) -> Callable[[], Done]:
        return lambda: Done(self.threads.calls(batch.kind, batch.targets))

    def close(self) -> None:
        self.threads.close()


class CeilingSide(Side):
    in_process = False

    def __init__(self, url: str, token: str, processes: int):
        super().__init__("ceiling", f"the emulator's ceiling ({processes} processes of minimal http.client loops)",
                         processes)
        self.workers = CeilingWorkers(url, token, processes)

    def prepare(self, batch: Batch) -> Callable[[], Done]:
        def timed() -> Done:
            seconds, ok = self.workers.calls(batch.kind, batch.targets)
            return Done(ok, seconds)
        return timed

    def close(self) -> None:
        self.workers.close()


def run_checked(emu: EmulatorProcess, side: Side, batch: Batch) -> Sample:
    """One timed batch of *side*; fails loudly unless the emulator saw exactly the batch's calls succeed.

    The emulator's own counts (the route's calls; for creates, the collections
    it holds) are read before and after, outside the timing.  The sample's wall
    time is the side's own clock when it has one (the ceiling's workers).
    """
    timed = side.prepare(batch)
    before = emu.stats()
    sample = measure(timed)
    after = emu.stats()
    done: Done = sample.value
    route = ROUTES[batch.kind]
    made = after["routes"].get(route, 0) - before["routes"].get(route, 0)
    if batch.kind == CREATE:
        made = min(made, after["counts"]["collections"] - before["counts"]["collections"])
    n = len(batch.targets)
    if done.ok != n or made != n:
        raise AssertionError(f"{side.name}: {done.ok} of {n} calls answered, the emulator saw {made} succeed")
    return Sample(done.seconds if done.seconds is not None else sample.wall, sample.cpu, done)


__all__ = ["Batch", "Done", "Side", "AxframeSide", "RequestsSide", "HttpxSide", "MinimalSide", "CeilingSide",
           "AsyncLoop", "pool_map", "make_batch", "run_checked", "GET", "CREATE"]
