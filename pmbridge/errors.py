"""The error tree of pmbridge: every error a user can meet, and what to do about it.

    PmbridgeError                 base; ``str(err)`` is a complete sentence for a person
    ├── CycleStopped              a sync cycle stopped early (carries what it had done)
    ├── ConfigError               a bad flow file, config file or setting (names file and line)
    ├── StoreError                the state store cannot be used
    │   └── SchemaVersionError    the store was written by another pmbridge version
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

    def __init__(self, cause: PmbridgeError, report: object):
        self.cause = cause
        self.report = report
        super().__init__(str(cause))
