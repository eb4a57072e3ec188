"""The one place background tasks are created: supervised, restarted, counted, reported.

STYLE.md Rule 4. :meth:`TaskSupervisor.spawn` takes a *factory* (a callable returning a fresh
coroutine), not a coroutine, so that a task can be started again after it failed:

- the supervisor keeps a strong reference to every task (a set, ``discard`` on done);
- an exception is logged with the task's name, attempt and traceback, counted in
  ``riskmon_task_restarts_total{task}``, and the factory is called again after a capped, jittered
  exponential backoff (:class:`streams.backoff.Backoff`, default 0.5 s doubling to 30 s);
- a factory whose coroutine *returns* is done (one-shot work such as a meta-alert flush);
- after ``failing_after`` failures in a row the task is *failing*: :meth:`unhealthy` lists it
  (``/healthz`` must then fail) and ``on_failing(name, True, error)`` is called once; when a
  restarted attempt has run for ``healthy_after_s`` without failing, the count resets and
  ``on_failing(name, False, "")`` is called;
- :meth:`aclose` cancels everything and waits at most ``timeout_s``.

Backoff sleeps and the healthy timer run on the injected :class:`~streams.clock.Clock`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import REGISTRY, CollectorRegistry, Counter

from streams.backoff import Backoff
from streams.clock import Clock, SystemClock

__all__ = ["TaskFactory", "TaskSupervisor"]

log = structlog.get_logger(__name__)

#: a callable returning a fresh coroutine each time it is called
TaskFactory = Callable[[], Coroutine[Any, Any, None]]
#: called with (task name, failing?, last error)
OnFailing = Callable[[str, bool, str], None]


@dataclass(slots=True)
class _TaskState:
    failures: int = 0  # in a row
    restarts: int = 0
    failing: bool = False
    last_error: str = ""


class TaskSupervisor:
    """Own background tasks: keep them referenced, restart them on failure, report the failing.

    Args:
        registry: Prometheus registry for ``riskmon_task_restarts_total``.
        clock: clock for the backoff sleeps and the healthy timer.
        backoff: delay before restart number ``n`` (0-based) after failures in a row.
        failing_after: failures in a row after which a task counts as failing.
        healthy_after_s: an attempt that runs this long resets the failure count.
        on_failing: told when a task becomes failing and when it recovers.
        rng: random source for the jitter (tests).
    """

    def __init__(
        self,
        registry: CollectorRegistry = REGISTRY,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        failing_after: int = 3,
        healthy_after_s: float = 60.0,
        on_failing: OnFailing | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.backoff = backoff or Backoff(initial_s=0.5, max_s=30.0, factor=2.0, jitter=0.5)
        self.failing_after = failing_after
        self.healthy_after_s = healthy_after_s
        self.on_failing = on_failing
        self.rng = rng or random.Random()
        self.restarts = Counter(
            "riskmon_task_restarts",
            "Background tasks restarted after an exception, by task",
            ["task"],
            registry=registry,
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._state: dict[str, _TaskState] = {}
        self._closing = False

    def spawn(self, factory: TaskFactory, name: str, *, restart: bool = True) -> asyncio.Task[None]:
        """Start ``factory()`` as a supervised task called ``name``; return the task.

        With ``restart=False`` a failure is logged and counted but the task is not started again.
        """
        if self._closing:
            raise RuntimeError("supervisor is closed")
        self._state.setdefault(name, _TaskState())
        task = asyncio.get_running_loop().create_task(
            self._supervise(factory, name, restart), name=name
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def unhealthy(self) -> list[str]:
        """Names of the tasks that keep failing (for ``/healthz``: non-empty means not ok)."""
        return sorted(n for n, s in self._state.items() if s.failing)

    def status(self) -> dict[str, dict[str, Any]]:
        """Per task: failures in a row, restarts, failing?, last error (for logs and tests)."""
        return {
            n: {
                "failures": s.failures,
                "restarts": s.restarts,
                "failing": s.failing,
                "last_error": s.last_error,
            }
            for n, s in sorted(self._state.items())
        }

    def _set_failing(self, name: str, failing: bool) -> None:
        st = self._state[name]
        if st.failing == failing:
            return
        st.failing = failing
        if failing:
            log.error(
                "supervisor.task_failing", task=name, failures=st.failures, error=st.last_error
            )
        else:
            log.info("supervisor.task_recovered", task=name)
        if self.on_failing is not None:
            try:
                self.on_failing(name, failing, st.last_error if failing else "")
            except Exception:  # a broken callback must not take the supervisor down
                log.exception("supervisor.on_failing_failed", task=name)

    async def _supervise(self, factory: TaskFactory, name: str, restart: bool) -> None:
        st = self._state[name]
        while True:
            attempt = asyncio.get_running_loop().create_task(factory(), name=f"{name}#run")
            try:
                await self._watch(attempt, name)
                st.failures = 0
                self._set_failing(name, False)
                return
            except asyncio.CancelledError:
                attempt.cancel()
                raise
            except Exception as e:
                st.failures += 1
                st.last_error = f"{type(e).__name__}: {e}"[:300]
                log.error(
                    "supervisor.task_failed",
                    task=name,
                    failures=st.failures,
                    restart=restart,
                    error=st.last_error,
                    exc_info=e,
                )
                if st.failures >= self.failing_after or not restart:
                    self._set_failing(name, True)
                if not restart:
                    return
            delay = self.backoff.delay(st.failures - 1, self.rng)
            await self.clock.sleep(delay)
            st.restarts += 1
            self.restarts.labels(name).inc()
            log.warning("supervisor.task_restarted", task=name, restarts=st.restarts, after_s=delay)

    async def _watch(self, attempt: asyncio.Task[None], name: str) -> None:
        """Await ``attempt``; if it outlives ``healthy_after_s``, clear its failure count."""
        st = self._state[name]
        if st.failures:
            timer = asyncio.get_running_loop().create_task(
                self.clock.sleep(self.healthy_after_s), name=f"{name}#healthy"
            )
            try:
                done, _ = await asyncio.wait({attempt, timer}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                timer.cancel()
            if attempt not in done:
                st.failures = 0
                self._set_failing(name, False)
        await attempt

    async def aclose(self, timeout_s: float = 5.0) -> None:
        """Cancel every task and wait for them at most ``timeout_s``."""
        self._closing = True
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout_s)
            for t in pending:
                log.error("supervisor.task_ignored_cancel", task=t.get_name())
