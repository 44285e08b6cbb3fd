"""The continuous sync: one engine for the service's life, a cycle every interval and a
prompt one after deliveries (see ``pmbridge.serve``).

``Service`` runs the loop and the cycles (tried again with backoff) and owns the engine; its
parts have modules of their own: when a cycle is due and what a spread tick reads
(``schedule``), the webhooks, subscription and lease (``registrations``), the receiver's
server (``server``) and the lines it logs (``lines``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import socket
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

from tenacity import RetryCallState

from pmbridge.config import Settings
from pmbridge.engine.report import CycleReport
from pmbridge.engine.run import CycleStopped, SyncOptions
from pmbridge.errors import ConfigError, PmbridgeError
from pmbridge.serve.health import ServeStatus
from pmbridge.serve.hooks import BoardWebhooks, CustompmsSubscription, public_url_of
from pmbridge.serve.lines import serving_line, stopped_line, summary_line
from pmbridge.serve.receiver import CUSTOMPMS_PATH, TRELLO_PATH, Hint, create_receiver
from pmbridge.serve.registrations import Registrations
from pmbridge.serve.schedule import Schedule, Stopping, Tick
from pmbridge.serve.server import AppServer, listening_on
from pmbridge.serve.targets import PendingTargets, SpreadReads, linked_boards, spread_choices
from pmbridge.serve.ui import mount_on_service
from pmbridge.store import LeaseHeldError
from pmbridge.store.guard import guard_cycle
from pmbridge.systems.trello import TrelloLimits
from pmbridge.wiring import Runtime, open_engine

log = logging.getLogger("pmbridge.serve")

DEFAULT_LISTEN = ("127.0.0.1", 8770)
# With webhooks, the periodic cycle only catches what a delivery missed: it can be long.
WEBHOOK_INTERVAL_S = 900.0
TICK_S = 30.0  # the spread periodic reconcile's tick, about (see ``SpreadReads``)


class Service:
    """Continuous sync between Custompms and Trello; see the module docstring.

    :param settings: the settings (``trello_secret`` is required with ``public_url``)
    :param public_url: where Trello and Custompms reach the receiver; None: only poll
    :param listen: the receiver's address (host, port)
    :param sock: an already bound socket to serve on instead of ``listen`` (tests bind port 0)
    :param interval_s: seconds between periodic cycles (default ``settings.interval_s`` when
        set, else 900 with ``public_url`` and 60 without)
    :param once_per_s: deliveries within this many seconds of the first make one cycle
    :param backoff_s: the first wait before trying a stopped cycle again (then doubling,
        up to ``interval_s``)
    :param runtime: an open engine to use (not closed here); default: one from ``settings``
    :param trello_limits: the Trello rate budget of the engine this service opens
    :param http: listen even without ``public_url``, for the dashboard, ``/healthz``,
        ``/readyz`` and ``/metrics`` (always served when listening)
    :param targeted: a cycle prompted by deliveries reads only the boards and resources they
        name (``pmbridge.serve.targets``); False: every feed, as the periodic cycle
    :param spread_ticks: ticks the periodic reconcile is spread over (``SpreadReads``);
        default with ``public_url``: one per ~30 s of the interval; 1 (and the default
        without ``public_url``): one whole cycle per interval
    """

    def __init__(
        self,
        settings: Settings,
        *,
        public_url: str | None = None,
        listen: tuple[str, int] = DEFAULT_LISTEN,
        sock: socket.socket | None = None,
        interval_s: float | None = None,
        once_per_s: float = 1.0,
        backoff_s: float = 1.0,
        runtime: Runtime | None = None,
        trello_limits: TrelloLimits | None = None,
        http: bool = False,
        targeted: bool = True,
        spread_ticks: int | None = None,
    ):
        self.settings = settings
        self.public_url = public_url_of(public_url) if public_url is not None else None
        needed = ["trello_key", "trello_token", "custompms_url", "custompms_token"]
        settings.require(*needed, *(["trello_secret"] if self.public_url else []))
        if interval_s is None:
            explicit = "interval_s" in settings.model_fields_set
            use_default = self.public_url is not None and not explicit
            interval_s = WEBHOOK_INTERVAL_S if use_default else settings.interval_s
        self.interval_s = float(interval_s)
        if self.interval_s <= 0 or once_per_s < 0 or backoff_s <= 0:
            raise ConfigError("the interval and backoff must be positive, once-per not negative")
        if spread_ticks is None:
            spread_ticks = max(1, round(self.interval_s / TICK_S)) if self.public_url else 1
        if spread_ticks < 1:
            raise ConfigError("spread_ticks must be at least 1")
        # Ticks of at least 2: one for the listings, one or more for the boards.
        self.spread = SpreadReads(spread_ticks, settings.full_every) if spread_ticks > 1 else None
        self.listen = listen
        self.http = http
        self.targeted = targeted
        self.status = ServeStatus(self.interval_s)
        self.once_per_s = once_per_s
        self.backoff_s = backoff_s
        self._schedule = Schedule(self.interval_s, once_per_s, backoff_s, self.spread)
        self._sock = sock
        self._given_runtime = runtime
        self._trello_limits = trello_limits
        self._custompms_secret = secrets.token_hex(32)
        self.runtime: Runtime | None = None
        self.cycles = 0
        self.hints = 0
        self.echoes = 0  # notices of our own writes, ignored
        self.last_report: CycleReport | None = None
        self.last_error: PmbridgeError | None = None
        self.failure: PmbridgeError | None = None
        self._stack = AsyncExitStack()
        self._registrations: Registrations | None = None
        self._server: AppServer | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._closed = False
        self._in_cycle = False

    @property
    def trello_callback_url(self) -> str | None:
        return f"{self.public_url}{TRELLO_PATH}" if self.public_url else None

    @property
    def custompms_callback_url(self) -> str | None:
        return f"{self.public_url}{CUSTOMPMS_PATH}" if self.public_url else None

    @property
    def webhooks(self) -> BoardWebhooks | None:
        """The Trello webhooks of this run (None until the first are registered)."""
        return self._registrations.webhooks if self._registrations else None

    @property
    def subscription(self) -> CustompmsSubscription | None:
        """The Custompms subscription client of this run (None until first used)."""
        return self._registrations.subscription if self._registrations else None

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the engine, start the receiver (with a public URL) and the cycle loop."""
        if self._loop_task is not None:
            raise RuntimeError("this service was started already")
        try:
            if self._given_runtime is not None:
                self.runtime = self._given_runtime
            else:
                self.runtime = await self._stack.enter_async_context(
                    open_engine(self.settings, trello_limits=self._trello_limits)
                )
            self.status.store = self.runtime.store
            self.status.watch(self.runtime)
            registrations = Registrations(
                self.settings,
                self.runtime.store,
                self.runtime.trello.client,
                trello_callback_url=self.trello_callback_url,
                custompms_callback_url=self.custompms_callback_url,
                custompms_secret=self._custompms_secret,
            )
            self._registrations = registrations
            self._stack.push_async_callback(registrations.close)
            if self.public_url is not None or self.http:
                await self._start_receiver()
        except BaseException:
            await self._stack.aclose()
            raise
        self._loop_task = asyncio.create_task(self._loop(), name="pmbridge serve")
        address = self._server.address() if self._server is not None else None
        log.info("%s", serving_line(self.interval_s, self.public_url, address))

    def request_stop(self) -> None:
        """Ask the loop to end after the current cycle (call it on the service's event loop,
        e.g. from a ``loop.add_signal_handler`` callback)."""
        self._schedule.stop()

    async def wait(self) -> None:
        """Until the loop ends; raises ``failure`` when a system refused the credentials."""
        if self._loop_task is None:
            raise RuntimeError("the service is not started")
        try:
            await asyncio.shield(self._loop_task)
        except asyncio.CancelledError:
            if not self._loop_task.cancelled():
                raise  # the waiter is cancelled, not the loop
        if self.failure is not None:
            raise self.failure

    async def stop(self) -> None:
        """Finish the current cycle, remove the webhooks and the subscription, close."""
        if self._closed:
            return
        self._closed = True
        self.request_stop()
        if self._loop_task is not None:
            try:
                await self._loop_task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # stop() itself is being cancelled
                log.warning("the running cycle was cancelled; the next run repeats its reads")
            except Exception as err:
                log.error("the cycle loop ended with an error: %r", err)
        try:
            removed, unsubscribed = 0, False
            if self._registrations is not None:
                removed, unsubscribed = await self._registrations.unregister()
            log.info("%s", stopped_line(self.cycles, self.public_url, removed, unsubscribed))
        finally:
            if self._server is not None:
                await self._server.stop()
            await self._stack.aclose()

    def abort(self) -> None:
        """Cancel the running cycle (a second Ctrl-C); ``stop`` still cleans up."""
        self.request_stop()
        if self._loop_task is not None:
            self._loop_task.cancel()

    async def run(self) -> None:
        """Start, serve until ``request_stop`` (or a refused credential), then stop."""
        await self.start()
        try:
            await self.wait()
        finally:
            await self.stop()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Service]:
        """``async with service.running():`` started inside, stopped on the way out."""
        await self.start()
        try:
            yield self
        finally:
            await self.stop()

    # --- hints -----------------------------------------------------------------------------

    @property
    def pending_hints(self) -> int:
        """Hints received since the last cycle started (they are waiting for the next)."""
        return self._schedule.waiting

    @property
    def idle(self) -> bool:
        """No cycle is running and no hint is waiting for one."""
        return not self._in_cycle and not self._schedule.waiting

    def hint(self, hint: Hint) -> None:
        """Something changed: run a cycle once ``once_per_s`` has passed since the first hint.
        A notice of our own write (its echo) changes nothing and starts none."""
        if self._is_echo(hint):
            return
        self.hints += 1
        self.status.hint_received(hint.source, hint.what, hint.board)
        self._schedule.add(hint)
        log.debug("hint from %s: %s", hint.source, hint.what)

    def _is_echo(self, hint: Hint) -> bool:
        """Whether ``hint`` is only the notice of a write of ours (counted in ``echoes``)."""
        if hint.change is None or self.runtime is None:
            return False
        if not self.runtime.engine.echoes.is_ours(hint.source, *hint.change):
            return False
        self.echoes += 1
        log.debug("echo of our own write from %s: %s", hint.source, hint.what)
        return True

    def _drop_echoes(self) -> None:
        """A notice may arrive before the answer of the write it tells of (a system that
        notifies while it answers): hints that came during a cycle are looked at again."""
        self._schedule.drop(self._is_echo)

    def prompt_cycle(self) -> None:
        """Run a cycle soon, as after a delivery (the dashboard's "Retry now")."""
        self.hint(Hint("dashboard", "retry now"))

    # --- the loop --------------------------------------------------------------------------

    async def _loop(self) -> None:
        assert self.runtime is not None and self._registrations is not None
        runtime, registrations = self.runtime, self._registrations
        try:
            await registrations.claim()
            await registrations.clean_leftovers()
            await registrations.register(linked_boards(runtime))
            choices = functools.partial(spread_choices, runtime)
            while True:
                due = await self._schedule.next_due(self.cycles > 0, choices)
                if due is None:
                    return
                await self._cycle_until_done(due.trigger, due.tick)
                await registrations.clean_leftovers()
                await registrations.register(linked_boards(runtime))
        except Stopping:
            return
        except PmbridgeError as err:
            self.failure = err.cause if isinstance(err, CycleStopped) else err
            log.error("stopped: %s", self.failure)

    async def _cycle_until_done(self, trigger: str, tick: Tick | None = None) -> None:
        """One cycle, tried again with backoff while a system is unreachable."""
        async for attempt in self._schedule.retrying(self._say_retry):
            with attempt:
                again = attempt.retry_state.attempt_number > 1
                await self._cycle("retry" if again else trigger, tick)

    async def _cycle(self, trigger: str, tick: Tick | None = None) -> None:
        """One cycle: of the pending hints, or a tick of the spread reconcile (``tick``: its
        targets and whether it is full; the hints then wait for their own cycle)."""
        assert self.runtime is not None
        if tick is not None:
            (targets, full), hints = tick, 0
        else:
            # Hints from now on may have come after this cycle read the feeds: another cycle.
            taken = self._schedule.take()
            hints, full = len(taken), any(hint.full for hint in taken)
            pending = PendingTargets()
            for hint in taken:
                pending.add(hint)
            targets = pending.targets() if trigger == "hints" and self.targeted else None
        options = SyncOptions(
            targets=targets,
            full=full,
            # Spread, the service itself makes every full_every-th pass a full one.
            full_every=None if self.spread is not None else self.settings.full_every,
            delete_share=self.settings.allow_delete_share,
            delete_min=self.settings.allow_delete_min,
        )
        started = time.monotonic()
        why = f"{hints} hint{'s' if hints != 1 else ''}" if trigger == "hints" else trigger
        if tick is not None and targets is not None:
            why = f"tick: {targets.describe()}"
        self._in_cycle = True
        self.status.cycle_started()
        try:
            async with guard_cycle(self.runtime.store, wait_s=self.settings.lease_wait_s):
                report = await self.runtime.engine.run(options)
        except LeaseHeldError as held:
            log.info("cycle skipped (%s): %s", why, held)
            return
        except CycleStopped as stopped:
            self.cycles += 1
            self.last_report, self.last_error = stopped.report, stopped.cause
            self.status.cycle_ended(stopped.report, time.monotonic() - started, stopped.cause)
            raise
        finally:
            self._in_cycle = False
            self._drop_echoes()
        self.status.cycle_ended(report, time.monotonic() - started)
        self.cycles += 1
        self.last_report, self.last_error = report, None
        log.info("%s", summary_line(report, self.cycles, why, time.monotonic() - started))

    def _say_retry(self, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("cycle %d stopped: %s; trying again in %.3g s", self.cycles, failure, wait)

    # --- the receiver ----------------------------------------------------------------------

    async def _start_receiver(self) -> None:
        secret = self.settings.trello_secret if self.public_url else None
        app = create_receiver(
            self.hint,
            trello_secret=secret.get_secret_value() if secret else None,
            trello_callback_url=self.trello_callback_url,
            custompms_secret=self._custompms_secret if self.public_url else None,
        )
        mount_on_service(app, self)
        sock = self._sock or listening_on(*self.listen)
        server = AppServer(app, sock)
        await server.start()
        self._server = server

    def receiver_address(self) -> tuple[str, int]:
        """The receiver's (host, port), e.g. the free port a test's socket was bound to."""
        if self._server is None:
            raise RuntimeError("the receiver is not running (no public URL, no --listen)")
        return self._server.address()
