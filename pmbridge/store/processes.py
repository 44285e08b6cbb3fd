"""Which process does what in a shared store: run records with a heartbeat, leases, and what
``serve`` registered with the systems.

A process is an ``Owner``: host, PID namespace, PID and a random token (so two stores opened
in one process are two owners). It counts as alive while its heartbeat keeps the expiry of
its runs and leases in the future; on its own host a dead PID is recognised at once.

- Runs: ``start_run`` records the owner and an expiry; ``heartbeat`` moves it on;
  ``mark_interrupted_runs`` ends as ``interrupted`` every ``running`` run whose owner is
  gone; ``end_open_runs`` ends the runs of this process that are still ``running``.
- Leases: ``acquire_lease`` gives a name to one owner at a time (one conditional write, so
  SQLite and PostgreSQL alike decide races); ``renew_lease`` and ``release_lease``.
- Registrations: the Trello webhooks and Custompms subscriptions ``serve`` made, so that a
  later ``serve`` adopts or deletes what one that died left behind.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, exc, select

from pmbridge.errors import LeaseHeldError, StoreError
from pmbridge.store import schema
from pmbridge.store.rows import (
    RUN_END_STATUSES,
    Lease,
    Registration,
    Run,
    RunStatus,
    checked_json,
)

T = TypeVar("T")

RUN_LEASE_S = 60.0
"""A run whose process has not sent a heartbeat for this long counts as dead."""

SYNC_LEASE = "sync"
"""The lease held around every cycle that writes (``sync`` and each cycle of ``serve``)."""


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


@dataclass(frozen=True, slots=True)
class Owner:
    """A process using the store. ``key`` is how the store records it."""

    host: str
    namespace: str
    pid: int
    token: str

    @classmethod
    def this_process(cls) -> Owner:
        return cls(socket.gethostname(), _pid_namespace(), os.getpid(), secrets.token_hex(4))

    @property
    def key(self) -> str:
        return f"{self.host}|{self.namespace}|{self.pid}|{self.token}"

    @classmethod
    def parse(cls, key: str) -> Owner:
        host, namespace, pid, token = [*key.split("|"), "", "", "0", ""][:4]
        return cls(host, namespace, int(pid) if pid.isdigit() else 0, token)

    @property
    def label(self) -> str:
        """For people: ``pid 1234 on host``."""
        return f"pid {self.pid} on {self.host}"

    def is_known_dead(self, here: Owner) -> bool:
        """Whether this owner is certainly gone, as seen from process ``here``: only a
        process in the same host and PID namespace can look its PID up."""
        if (self.host, self.namespace) != (here.host, here.namespace) or not self.namespace:
            return False
        return self.pid != here.pid and not _pid_alive(self.pid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child its parent has not reaped yet is a zombie: dead all the same
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _held(lease: Lease) -> LeaseHeldError:
    """The error saying who holds ``lease``."""
    return LeaseHeldError(lease, Owner.parse(lease.owner).label)


def _describe_end(run: Any, now: datetime) -> str:
    owner = Owner.parse(run.owner).label if run.owner else "a pmbridge before schema 2"
    beat = run.heartbeat_at or run.started_at
    return (
        f"interrupted: {owner} stopped without finishing this run "
        f"(last sign of life {beat:%Y-%m-%d %H:%M:%S} UTC, marked {now:%H:%M:%S})"
    )


class ProcessOperations:
    """Runs, leases and registrations; mixed into the store's operations."""

    owner: Owner
    clock: Callable[[], datetime]

    def _run(self, operation: Callable[[Connection], T]) -> T:
        raise NotImplementedError

    # --- runs -------------------------------------------------------------------------

    def start_run(self, *, lease_s: float = RUN_LEASE_S) -> int:
        """Record a run of this process as started; return its id. Until ``lease_s`` has
        passed without a ``heartbeat``, the run counts as alive."""
        now = self.clock()
        statement = (
            schema.runs.insert()
            .values(
                started_at=now,
                status="running",
                owner=self.owner.key,
                heartbeat_at=now,
                lease_expires_at=now + timedelta(seconds=lease_s),
            )
            .returning(schema.runs.c.id)
        )
        return int(self._run(lambda conn: conn.execute(statement).scalar_one()))

    def heartbeat(self, run_id: int | None = None, *, lease_s: float = RUN_LEASE_S) -> int:
        """Keep run ``run_id`` (None: every running run of this process) alive for another
        ``lease_s``; return how many runs were still running."""
        now = self.clock()
        r = schema.runs.c
        statement = (
            schema.runs.update()
            .where(r.status == "running", r.owner == self.owner.key)
            .values(heartbeat_at=now, lease_expires_at=now + timedelta(seconds=lease_s))
        )
        if run_id is not None:
            statement = statement.where(r.id == run_id)
        return self._run(lambda conn: conn.execute(statement).rowcount)

    def finish_run(
        self, run_id: int, status: RunStatus, summary: Any, error: str | None = None
    ) -> Run:
        """Record how a running run ended ("ok", "failed", "partial" or "interrupted")."""
        if status not in RUN_END_STATUSES:
            raise ValueError(f"a run ends as one of {RUN_END_STATUSES}, not {status!r}")
        r = schema.runs.c
        statement = (
            schema.runs.update()
            .where(r.id == run_id, r.status == "running")
            .values(
                status=status,
                summary=checked_json(summary, "the run summary"),
                error=error,
                finished_at=self.clock(),
            )
            .returning(*schema.runs.c)
        )

        def operation(conn: Connection) -> Run:
            row = conn.execute(statement).one_or_none()
            if row is not None:
                return _run_row(row)
            current = conn.execute(select(schema.runs).where(r.id == run_id)).one_or_none()
            if current is None:
                raise StoreError(f"run {run_id} does not exist")
            raise StoreError(f"run {run_id} already finished as {current.status!r}")

        return self._run(operation)

    def end_open_runs(self, status: RunStatus, error: str) -> list[Run]:
        """End every run of this process still ``running`` with ``status``; return them."""
        if status not in RUN_END_STATUSES:
            raise ValueError(f"a run ends as one of {RUN_END_STATUSES}, not {status!r}")
        r = schema.runs.c
        statement = (
            schema.runs.update()
            .where(r.status == "running", r.owner == self.owner.key)
            .values(status=status, error=error, finished_at=self.clock())
            .returning(*schema.runs.c)
        )
        return [_run_row(row) for row in self._run(lambda conn: conn.execute(statement).all())]

    def mark_interrupted_runs(self) -> list[Run]:
        """End as ``interrupted`` every ``running`` run whose process is gone: its lease
        expired, or its PID is dead on this host. Return them."""
        now = self.clock()
        r = schema.runs.c

        def operation(conn: Connection) -> list[Run]:
            marked: list[Run] = []
            for run in conn.execute(select(schema.runs).where(r.status == "running")).all():
                if run.owner == self.owner.key:
                    continue
                expired = run.lease_expires_at is None or run.lease_expires_at <= now
                if not expired and not Owner.parse(run.owner).is_known_dead(self.owner):
                    continue
                row = conn.execute(
                    schema.runs.update()
                    .where(r.id == run.id, r.status == "running")
                    .values(status="interrupted", error=_describe_end(run, now), finished_at=now)
                    .returning(*schema.runs.c)
                ).one_or_none()
                if row is not None:
                    marked.append(_run_row(row))
            return marked

        return self._run(operation)

    def get_run(self, run_id: int) -> Run | None:
        query = select(schema.runs).where(schema.runs.c.id == run_id)
        row = self._run(lambda conn: conn.execute(query).one_or_none())
        return _run_row(row) if row is not None else None

    def runs(self, limit: int = 20) -> list[Run]:
        """The latest runs, newest first."""
        query = select(schema.runs).order_by(schema.runs.c.id.desc()).limit(limit)
        return [_run_row(row) for row in self._run(lambda conn: conn.execute(query).all())]

    # --- leases -----------------------------------------------------------------------

    def acquire_lease(self, name: str, *, lease_s: float) -> Lease:
        """Take lease ``name`` for this process for ``lease_s`` (or renew it if it is this
        process's already). Raises ``LeaseHeldError`` while another live process holds it."""
        now = self.clock()
        expires = now + timedelta(seconds=lease_s)
        table, c = schema.leases, schema.leases.c

        def operation(conn: Connection) -> Lease:
            held = conn.execute(select(table).where(c.name == name).with_for_update()).one_or_none()
            if held is None:
                try:
                    with conn.begin_nested():
                        row = conn.execute(
                            table.insert()
                            .values(
                                name=name,
                                owner=self.owner.key,
                                acquired_at=now,
                                expires_at=expires,
                            )
                            .returning(*table.c)
                        ).one()
                        return Lease(**row._mapping)
                except exc.IntegrityError:  # another process inserted it first
                    taken = conn.execute(select(table).where(c.name == name)).one()
                    raise _held(Lease(**taken._mapping)) from None
            mine = held.owner == self.owner.key
            gone = held.expires_at <= now or Owner.parse(held.owner).is_known_dead(self.owner)
            if not (mine or gone):
                raise _held(Lease(**held._mapping))
            updated = conn.execute(
                table.update()
                .where(c.name == name, c.owner == held.owner, c.expires_at == held.expires_at)
                .values(
                    owner=self.owner.key,
                    acquired_at=held.acquired_at if mine else now,
                    expires_at=expires,
                )
                .returning(*table.c)
            ).one_or_none()
            if updated is None:  # taken over between our read and write (no row lock on SQLite)
                taken = conn.execute(select(table).where(c.name == name)).one()
                raise _held(Lease(**taken._mapping))
            return Lease(**updated._mapping)

        return self._run(operation)

    def renew_lease(self, name: str, *, lease_s: float) -> bool:
        """Move this process's lease on by ``lease_s``; False when it holds it no more."""
        c = schema.leases.c
        statement = (
            schema.leases.update()
            .where(c.name == name, c.owner == self.owner.key)
            .values(expires_at=self.clock() + timedelta(seconds=lease_s))
        )
        return self._run(lambda conn: conn.execute(statement).rowcount > 0)

    def release_lease(self, name: str) -> bool:
        """Give lease ``name`` up, if this process holds it."""
        c = schema.leases.c
        statement = schema.leases.delete().where(c.name == name, c.owner == self.owner.key)
        return self._run(lambda conn: conn.execute(statement).rowcount > 0)

    def get_lease(self, name: str) -> Lease | None:
        row = self._run(
            lambda conn: conn.execute(
                select(schema.leases).where(schema.leases.c.name == name)
            ).one_or_none()
        )
        return Lease(**row._mapping) if row is not None else None

    # --- what serve registered ----------------------------------------------------------

    def add_registration(
        self, system: str, remote_id: str, callback_url: str, model_id: str | None = None
    ) -> Registration:
        """Record a webhook or subscription this process made."""
        statement = (
            schema.registrations.insert()
            .values(
                system=system,
                remote_id=remote_id,
                callback_url=callback_url,
                model_id=model_id,
                owner=self.owner.key,
                created_at=self.clock(),
            )
            .returning(*schema.registrations.c)
        )
        return Registration(**self._run(lambda conn: conn.execute(statement).one())._mapping)

    def registrations(self, *, mine: bool | None = None) -> list[Registration]:
        """What serve processes registered (``mine``: only this process's, or only others')."""
        c = schema.registrations.c
        query = select(schema.registrations).order_by(c.id)
        if mine is not None:
            query = query.where(
                (c.owner == self.owner.key) if mine else (c.owner != self.owner.key)
            )
        rows = self._run(lambda conn: conn.execute(query).all())
        return [Registration(**row._mapping) for row in rows]

    def orphaned_registrations(self, lease_prefix: str) -> list[Registration]:
        """Registrations whose process is gone: its lease ``lease_prefix + owner`` is missing
        or expired, or its PID is dead on this host."""
        now = self.clock()
        alive_owners = {
            lease.name.removeprefix(lease_prefix) for lease in self._live_leases(lease_prefix, now)
        }
        return [
            entry
            for entry in self.registrations(mine=False)
            if entry.owner not in alive_owners or Owner.parse(entry.owner).is_known_dead(self.owner)
        ]

    def _live_leases(self, prefix: str, now: datetime) -> list[Lease]:
        c = schema.leases.c
        query = select(schema.leases).where(c.name.startswith(prefix), c.expires_at > now)
        return [Lease(**row._mapping) for row in self._run(lambda conn: conn.execute(query).all())]

    def adopt_registration(self, registration_id: int) -> bool:
        """Make a registration this process's; False when it is gone."""
        c = schema.registrations.c
        statement = (
            schema.registrations.update()
            .where(c.id == registration_id)
            .values(owner=self.owner.key)
        )
        return self._run(lambda conn: conn.execute(statement).rowcount > 0)

    def delete_registration(self, registration_id: int) -> bool:
        """Forget a registration (once deleted at its system)."""
        statement = schema.registrations.delete().where(
            schema.registrations.c.id == registration_id
        )
        return self._run(lambda conn: conn.execute(statement).rowcount > 0)


def _run_row(row: Row[Any]) -> Run:
    return Run(**row._mapping)
