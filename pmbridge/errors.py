"""The error tree of pmbridge: every error a user can meet, and what to do about it.

    PmbridgeError                 base; ``str(err)`` is a complete sentence for a person
    ├── CycleStopped              a sync cycle stopped early (carries what it had done)
    ├── ConfigError               a bad flow file, config file or setting (names file and line)
    ├── StoreError                the state store cannot be used
    │   ├── SchemaVersionError    the store was written by another pmbridge version
    │   ├── LinkConflictError     a Trello object would get a second Custompms partner
    │   ├── DuplicateIntentError  a create is journaled twice under one key
    │   ├── LeaseHeldError        another pmbridge is syncing this store (who, since when)
    │   └── LeaseLostError        another process took this one's lease
    └── RemoteSystemError         a connected system (Custompms or Trello) refused or failed
        ├── AuthenticationError   key/token missing, wrong, expired or lacking permission
        ├── NotFoundError         the object does not exist (or no longer)
        │   └── GoneError         it existed and was deleted (a Custompms tombstone, 410)
        ├── InvalidValueError     the system rejected a value (permanent: dead-letter it)
        ├── StaleVersionError     a conditional write lost a race (re-read and merge)
        ├── RateLimitedError      the system keeps answering 429 after our retries
        └── UnavailableError      unreachable, timing out or answering 5xx after retries

Every ``RemoteSystemError`` carries ``system`` ("trello" or "custompms") so messages can say
which system to look at. Messages never contain keys, tokens or URLs with credentials.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pmbridge.engine.report import CycleReport
    from pmbridge.store.rows import Intent, Link


class PmbridgeError(Exception):
    """Base of all pmbridge errors; the message is meant for a person."""


class ConfigError(PmbridgeError):
    """A configuration mistake.

    :param file: the file at fault, if any
    :param line: 1-based line in that file, if known
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        self.file = file
        self.line = line
        where = ""
        if file:
            where = f"{file}:{line}: " if line else f"{file}: "
        super().__init__(f"{where}{message}")


class StoreError(PmbridgeError):
    """The state store cannot be opened or used."""


class SchemaVersionError(StoreError):
    """The store's schema version is not one this pmbridge can use."""


class LinkConflictError(StoreError):
    """``put_link`` would give a Trello object a second Custompms partner in one flow.

    :param link: the link that was refused
    :param existing: the link that holds the Trello id, if it could be read
    """

    def __init__(self, link: Link, existing: Link | None):
        self.link = link
        self.existing = existing
        holder = f"custompms {existing.custompms_id}" if existing else "another record"
        super().__init__(
            f"cannot link custompms {link.custompms_id} to trello {link.trello_id} in flow "
            f"{link.flow!r}: trello {link.trello_id} is already linked to {holder} "
            "(another worker may have linked it first)"
        )


class DuplicateIntentError(StoreError):
    """``add_intent`` with an idempotency key that is already journaled.

    :param existing: the intent holding the key (open: a write may be under way)
    """

    def __init__(self, idempotency_key: str, existing: Intent | None):
        self.idempotency_key = idempotency_key
        self.existing = existing
        state = ""
        if existing is not None:
            state = (
                f" (intent {existing.id}, still open)"
                if existing.is_open
                else f" (intent {existing.id}, completed as {existing.result_id})"
            )
        super().__init__(
            f"a write with idempotency key {idempotency_key!r} is already journaled{state}"
        )


class LeaseHeldError(StoreError):
    """Another live process holds the lease this one asked for.

    :param lease: the lease as its holder took it (``pmbridge.store.Lease``)
    :param holder: who holds it, as a person reads it ("pid 4242 on worker-2")
    """

    def __init__(self, lease: Any, holder: str):
        self.lease = lease
        super().__init__(
            f"another pmbridge ({holder}) has held the {lease.name} lease on this store since "
            f"{lease.acquired_at:%Y-%m-%d %H:%M:%S} UTC"
        )


class LeaseLostError(StoreError):
    """Another process took this process's lease, so the cycle was stopped."""


class RemoteSystemError(PmbridgeError):
    """A connected system failed or refused a request.

    :param system: "trello" or "custompms"
    :param status: the HTTP status, if there was an answer
    :param retryable: whether trying again later may succeed
    """

    retryable = False

    def __init__(self, message: str, *, system: str, status: int | None = None):
        self.system = system
        self.status = status
        super().__init__(message)


class AuthenticationError(RemoteSystemError):
    """Credentials missing, wrong, expired, or without the needed permission."""


class NotFoundError(RemoteSystemError):
    """The requested object does not exist on that system."""


class GoneError(NotFoundError):
    """The object existed and was deleted (HTTP 410): it can be restored, not changed.

    :param id: the deleted object's id, when the system named it
    :param current_version: the version of its tombstone, when the system said
    """

    def __init__(
        self,
        message: str,
        *,
        system: str,
        status: int | None = 410,
        id: str | None = None,
        current_version: str | None = None,
    ):
        self.id = id
        self.current_version = current_version
        super().__init__(message, system=system, status=status)


class InvalidValueError(RemoteSystemError):
    """The system rejected a value; retrying the same write will fail the same way.

    :param field: the field the system named, if any
    """

    def __init__(
        self, message: str, *, system: str, status: int | None = None, field: str | None = None
    ):
        self.field = field
        super().__init__(message, system=system, status=status)


class StaleVersionError(RemoteSystemError):
    """A conditional write (If-Match) found a newer version on the system.

    :param current_version: the version the system holds now, if it said
    """

    def __init__(
        self,
        message: str,
        *,
        system: str,
        status: int | None = 412,
        current_version: str | None = None,
    ):
        self.current_version = current_version
        super().__init__(message, system=system, status=status)


class RateLimitedError(RemoteSystemError):
    """The system kept answering 429 after all retries."""

    retryable = True


class UnavailableError(RemoteSystemError):
    """The system could not be reached, timed out, or answered 5xx after all retries.

    :param maybe_applied: True when a write was sent but its answer was lost, so the
        write may have taken effect (the engine then repairs instead of repeating it)
    """

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        system: str,
        status: int | None = None,
        maybe_applied: bool = False,
    ):
        self.maybe_applied = maybe_applied
        super().__init__(message, system=system, status=status)


class CycleStopped(PmbridgeError):
    """A cycle stopped before its end because a system stopped it.

    :param cause: the error that stopped it
    :param report: what the cycle had done until then (a ``CycleReport``)
    """

    def __init__(self, cause: PmbridgeError, report: CycleReport):
        self.cause = cause
        self.report = report
        super().__init__(str(cause))
