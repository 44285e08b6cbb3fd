"""The continuous sync: one engine for the service's life, a cycle every interval and a
prompt one after deliveries (see ``pmbridge.serve``).

One module because the service's loop, hint debouncing, spread ticks and registrations share
its state; next split: the spread-tick scheduler and the registration bookkeeping into
modules of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack

import httpx
import uvicorn
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential

from pmbridge.config import Settings
from pmbridge.engine.context import Targets
from pmbridge.engine.report import CycleReport
from pmbridge.engine.run import CycleStopped, SyncOptions
from pmbridge.errors import (
    AuthenticationError,
    ConfigError,
    PmbridgeError,
    RemoteSystemError,
    StoreError,
)
from pmbridge.serve.health import ServeStatus
from pmbridge.serve.hooks import (
    SERVE_LEASE_PREFIX,
    BoardWebhooks,
    CustompmsSubscription,
    public_url_of,
    remove_leftovers,
)
from pmbridge.serve.receiver import CUSTOMPMS_PATH, TRELLO_PATH, Hint, create_receiver
from pmbridge.serve.targets import PendingTargets, SpreadReads
from pmbridge.serve.ui import mount_on_service
from pmbridge.store import RUN_LEASE_S, LeaseHeldError
from pmbridge.store.guard import guard_cycle
from pmbridge.systems.trello import TrelloLimits
from pmbridge.wiring import Runtime, open_engine

log = logging.getLogger("pmbridge.serve")

DEFAULT_LISTEN = ("127.0.0.1", 8770)
# With webhooks, the periodic cycle only catches what a delivery missed: it can be long.
WEBHOOK_INTERVAL_S = 900.0
TICK_S = 30.0  # the spread periodic reconcile's tick, about (see ``SpreadReads``)


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handlers: the service decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port} ({err.strerror or err}); choose another "
            "address with --listen HOST:PORT"
        ) from None
    return sock


class _Stopping(Exception):
    """Raised out of a backoff pause when the service is asked to stop."""


def _transient(err: BaseException) -> bool:
    cause = err.cause if isinstance(err, CycleStopped) else err
    return bool(getattr(cause, "retryable", False))


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
        self._sock = sock
        self._given_runtime = runtime
        self._trello_limits = trello_limits
        self._custompms_secret = secrets.token_hex(32)
        self.runtime: Runtime | None = None
        self.webhooks: BoardWebhooks | None = None
        self.subscription: CustompmsSubscription | None = None
        self.cycles = 0
        self.hints = 0
        self.echoes = 0  # notices of our own writes, ignored
        self.last_report: CycleReport | None = None
        self.last_error: PmbridgeError | None = None
        self.failure: PmbridgeError | None = None
        self._pending_since: float | None = None
        self._pending: list[Hint] = []  # hints since the last cycle started
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._stack = AsyncExitStack()
        self._server: _Uvicorn | None = None
        self._server_task: asyncio.Task[None] | None = None
        self._server_sock: socket.socket | None = None
        self._subscribe_refused = False
        self._loop_task: asyncio.Task[None] | None = None
        self._warned: set[str] = set()
        self._closed = False
        self._in_cycle = False
        self._alive_lease: str | None = None  # this serve's lease in the store, while it runs
        self._keep_alive: asyncio.Task[None] | None = None

    @property
    def trello_callback_url(self) -> str | None:
        return f"{self.public_url}{TRELLO_PATH}" if self.public_url else None

    @property
    def custompms_callback_url(self) -> str | None:
        return f"{self.public_url}{CUSTOMPMS_PATH}" if self.public_url else None

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
            if self.public_url is not None or self.http:
                await self._start_receiver()
        except BaseException:
            await self._stack.aclose()
            raise
        self._loop_task = asyncio.create_task(self._loop(), name="pmbridge serve")
        if self.public_url is None and not self.http:
            log.info("serving: a cycle every %g s (no public URL: polling only)", self.interval_s)
        elif self.public_url is None:
            host, port = self.receiver_address()
            log.info(
                "serving: a cycle every %g s (no public URL: polling only); dashboard at "
                "http://%s:%s/ui/",
                self.interval_s,
                host,
                port,
            )
        else:
            host, port = self.receiver_address()
            log.info(
                "serving: a cycle every %g s, and one after deliveries to %s/hooks/… "
                "(listening on %s:%s)",
                self.interval_s,
                self.public_url,
                host,
                port,
            )

    def request_stop(self) -> None:
        """Ask the loop to end after the current cycle (call it on the service's event loop,
        e.g. from a ``loop.add_signal_handler`` callback)."""
        self._stopping.set()
        self._wake.set()

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
            await self._unregister()
        finally:
            await self._release_claim()
            await self._stop_receiver()
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
        return len(self._pending)

    @property
    def idle(self) -> bool:
        """No cycle is running and no hint is waiting for one."""
        return not self._in_cycle and not self._pending

    def hint(self, hint: Hint) -> None:
        """Something changed: run a cycle once ``once_per_s`` has passed since the first hint.
        A notice of our own write (its echo) changes nothing and starts none."""
        if self._is_echo(hint):
            return
        self.hints += 1
        self.status.hint_received(hint.source, hint.what, hint.board)
        self._pending.append(hint)
        if self._pending_since is None:
            self._pending_since = asyncio.get_running_loop().time()
            self._wake.set()
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
        self._pending = [hint for hint in self._pending if not self._is_echo(hint)]
        if not self._pending:
            self._pending_since = None

    def prompt_cycle(self) -> None:
        """Run a cycle soon, as after a delivery (the dashboard's "Retry now")."""
        self.hint(Hint("dashboard", "retry now"))

    # --- the loop --------------------------------------------------------------------------

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_timer = loop.time()  # the first cycle runs at once
        try:
            await self._claim()
            await self._clean_leftovers()
            await self._register()
            while True:
                trigger = await self._wait_until_due(next_timer)
                if trigger is None:
                    return
                first = self.cycles == 0 and trigger == "timer"
                tick: tuple[Targets | None, bool] | None = None
                if trigger == "timer":  # hint cycles do not postpone the periodic reads
                    spread = self.spread is not None
                    wait = self.interval_s / self.spread.ticks if spread else self.interval_s
                    next_timer = loop.time() + wait
                    if spread and not first:
                        tick = self._next_tick()
                        if tick is None:
                            continue  # the rest of a pass that was one full reconcile
                await self._cycle_until_done("start" if first else trigger, tick)
                await self._clean_leftovers()
                await self._register()
        except _Stopping:
            return
        except PmbridgeError as err:
            self.failure = err.cause if isinstance(err, CycleStopped) else err
            log.error("stopped: %s", self.failure)

    async def _wait_until_due(self, next_timer: float) -> str | None:
        """The reason of the next cycle ("timer" or "hints") once it is due; None to stop."""
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            now = loop.time()
            hinted = self._pending_since is not None
            due = next_timer
            if hinted:
                due = min(due, self._pending_since + self.once_per_s)  # type: ignore[operator]
            if now >= due:
                return "hints" if hinted and due < next_timer else "timer"
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), due - now)
        return None

    def _next_tick(self) -> tuple[Targets | None, bool] | None:
        assert self.runtime is not None and self.spread is not None
        flows = self.runtime.flow_file.flows
        return self.spread.next(
            self._linked_boards(), {f.trello for f in flows}, {f.custompms for f in flows}
        )

    async def _cycle_until_done(
        self, trigger: str, tick: tuple[Targets | None, bool] | None = None
    ) -> None:
        """One cycle, tried again with backoff while a system is unreachable."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(_transient),
            wait=wait_exponential(
                multiplier=self.backoff_s, max=max(self.interval_s, self.backoff_s)
            ),
            sleep=self._pause,
            before_sleep=self._say_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                again = attempt.retry_state.attempt_number > 1
                await self._cycle("retry" if again else trigger, tick)

    async def _cycle(self, trigger: str, tick: tuple[Targets | None, bool] | None = None) -> None:
        """One cycle: of the pending hints, or a tick of the spread reconcile (``tick``: its
        targets and whether it is full; the hints then wait for their own cycle)."""
        assert self.runtime is not None
        if tick is not None:
            (targets, full), hints = tick, 0
        else:
            # Hints from now on may have come after this cycle read the feeds: another cycle.
            taken, self._pending, self._pending_since = self._pending, [], None
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

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        if self._stopping.is_set():
            raise _Stopping

    def _say_retry(self, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("cycle %d stopped: %s; trying again in %.3g s", self.cycles, failure, wait)

    # --- webhooks, subscription, receiver ----------------------------------------------------

    async def _register(self) -> None:
        """Subscribe to Custompms (once) and give every linked board a webhook."""
        if self.public_url is None:
            return
        assert self.runtime and self.custompms_callback_url and self.trello_callback_url
        subscription = await self._subscriptions()
        if subscription.id is None and not self._subscribe_refused:
            try:
                await subscription.subscribe(self.custompms_callback_url, self._custompms_secret)
                log.info("Custompms notifications go to %s", self.custompms_callback_url)
            except AuthenticationError:
                raise
            except RemoteSystemError as err:
                if getattr(err, "retryable", False):
                    self._warn_once(f"no Custompms subscription yet (tried again later): {err}")
                else:
                    # An optional part of the contract: the periodic cycle still finds changes.
                    self._subscribe_refused = True
                    log.warning(
                        "Custompms refused the subscription, so its changes wait for the "
                        "periodic cycle: %s",
                        err,
                    )
        if self.webhooks is None:
            self.webhooks = BoardWebhooks(
                self.runtime.trello.client, self.trello_callback_url, self.runtime.store
            )
        await self.webhooks.track(self._linked_boards(), self._warn_once)

    def _linked_boards(self) -> set[str]:
        assert self.runtime is not None
        return {
            link.trello_id
            for flow in self.runtime.flow_file.flows
            if flow.trello == "board"
            for link in self.runtime.store.links(flow.name)
        }

    async def _unregister(self) -> None:
        removed = 0
        if self.webhooks is not None:
            removed = await self.webhooks.remove_all(log.warning)
        unsubscribed = False
        if self.subscription is not None:
            try:
                unsubscribed = await self.subscription.unsubscribe()
            except RemoteSystemError as err:
                log.warning("could not remove the Custompms subscription: %s", err)
        if self.public_url is None:
            log.info("stopped after %d cycle%s", self.cycles, "" if self.cycles == 1 else "s")
            return
        log.info(
            "stopped: %d Trello webhook%s deleted%s",
            removed,
            "" if removed == 1 else "s",
            ", Custompms subscription removed" if unsubscribed else "",
        )

    # --- registrations kept in the store ---------------------------------------------------

    async def _subscriptions(self) -> CustompmsSubscription:
        """The Custompms subscription client of this service (made on first use)."""
        assert self.runtime is not None
        if self.subscription is None:
            token = self.settings.custompms_token
            assert self.settings.custompms_url and token
            http = await self._stack.enter_async_context(
                httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))
            )
            self.subscription = CustompmsSubscription(
                self.settings.custompms_url,
                token.get_secret_value(),
                http=http,
                store=self.runtime.store,
            )
        return self.subscription

    async def _claim(self) -> None:
        """Say in the store that this serve is alive: a lease its heartbeat renews."""
        assert self.runtime is not None
        store = self.runtime.store
        name = self._alive_lease = f"{SERVE_LEASE_PREFIX}{store.owner.key}"
        store.acquire_lease(name, lease_s=RUN_LEASE_S)

        async def keep_alive() -> None:
            while True:
                await asyncio.sleep(RUN_LEASE_S / 4)
                with contextlib.suppress(StoreError):
                    store.acquire_lease(name, lease_s=RUN_LEASE_S)

        self._keep_alive = asyncio.create_task(keep_alive(), name="pmbridge serve heartbeat")

    async def _clean_leftovers(self) -> None:
        """Delete what serve processes that are gone left registered (one that ran on another
        machine counts as gone once its lease expired: it is looked for after every cycle)."""
        assert self.runtime is not None
        removed = await remove_leftovers(
            self.runtime.store,
            self.runtime.trello.client,
            await self._subscriptions(),
            self._warn_once,
        )
        if removed:
            log.info(
                "removed what an earlier serve left: %s",
                ", ".join(f"{entry.system} {entry.remote_id}" for entry in removed),
            )

    async def _release_claim(self) -> None:
        if self._keep_alive is not None:
            self._keep_alive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keep_alive
        if self._alive_lease is not None and self.runtime is not None:
            with contextlib.suppress(StoreError):
                self.runtime.store.release_lease(self._alive_lease)

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning("%s", message)

    async def _start_receiver(self) -> None:
        secret = self.settings.trello_secret if self.public_url else None
        app = create_receiver(
            self.hint,
            trello_secret=secret.get_secret_value() if secret else None,
            trello_callback_url=self.trello_callback_url,
            custompms_secret=self._custompms_secret if self.public_url else None,
        )
        mount_on_service(app, self)
        sock = self._sock or _listening_socket(*self.listen)
        config = uvicorn.Config(
            app,
            log_config=None,  # leave the process's logging alone
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = _Uvicorn(config)
        task = asyncio.create_task(self._server.serve(sockets=[sock]), name="pmbridge receiver")
        deadline = time.monotonic() + 10
        while not self._server.started:
            if task.done() or time.monotonic() > deadline:
                self._server.should_exit = True
                sock.close()
                raise ConfigError(f"the receiver could not start on {self._address(sock)}")
            await asyncio.sleep(0.01)
        self._server_task = task
        self._server_sock = sock

    def receiver_address(self) -> tuple[str, int]:
        """The receiver's (host, port), e.g. the free port a test's socket was bound to."""
        if self._server_sock is None:
            raise RuntimeError("the receiver is not running (no public URL, no --listen)")
        host, port = self._server_sock.getsockname()[:2]
        return str(host), int(port)

    @staticmethod
    def _address(sock: socket.socket) -> str:
        with contextlib.suppress(OSError):
            host, port = sock.getsockname()[:2]
            return f"{host}:{port}"
        return "its address"

    async def _stop_receiver(self) -> None:
        if self._server is None:
            return
        self._server.should_exit = True
        if self._server_task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._server_task, 5)
        self._server = None


# --- output ----------------------------------------------------------------------------------


def summary_line(report: CycleReport, number: int, why: str, seconds: float) -> str:
    """One line for a finished cycle: writes per system, conflicts, errors, held deletes."""
    writes = {"to_trello": 0, "to_custompms": 0}
    for (_, direction), counts in report.counts.items():
        writes[direction] += sum(counts[what] for what in ("created", "updated", "deleted"))

    def n(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    parts = [
        f"→ Trello {n(writes['to_trello'], 'write')}",
        f"→ Custompms {n(writes['to_custompms'], 'write')}",
        n(report.count("conflicts"), "conflict"),
        n(report.errors, "error") + (" (see pmbridge dead-letters)" if report.errors else ""),
    ]
    if report.held_deletes:
        parts.append(f"{len(report.held_deletes)} deletion(s) held (pmbridge sync --allow-deletes)")
    full = ", full" if report.full else ""
    return f"cycle {number} ({why}{full}): {', '.join(parts)} in {seconds:.1f} s"
