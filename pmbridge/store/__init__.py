"""The state store: links and their base values, feed cursors, the write journal,
conflicts, dead letters and run history, in SQLite (embedded) or PostgreSQL (shared).

    store = open_store("sqlite:///./pmbridge.db")   # creates / migrates / checks the schema
    store.put_link(Link("task", custompms_id="t1", trello_id="c1", base={"name": "Ship"}))
    with store.transaction() as tx:                 # one transaction, rolled back on error
        tx.set_cursor("custompms", "task", "42")
        tx.complete_intent(intent.id, result_id="c2")

Processes sharing a store (``processes.py``): runs carry their process and a heartbeat,
leases give a name to one process at a time, and ``guard.guard_cycle`` wraps a cycle in the
sync lease so that every run ends with a status. ``SystemMemo(store, "trello")`` is what a
connector keeps between runs (``memos.py``).
"""

from pmbridge.errors import DuplicateIntentError, LeaseHeldError, LinkConflictError
from pmbridge.store.memos import SystemMemo
from pmbridge.store.migrations import MIGRATIONS, SCHEMA_VERSION, Migrations
from pmbridge.store.processes import RUN_LEASE_S, SYNC_LEASE, Owner
from pmbridge.store.rows import Conflict, DeadLetter, Intent, Lease, Link, Registration, Run
from pmbridge.store.store import Store, Transaction, open_store

__all__ = [
    "MIGRATIONS",
    "RUN_LEASE_S",
    "SCHEMA_VERSION",
    "SYNC_LEASE",
    "Conflict",
    "DeadLetter",
    "DuplicateIntentError",
    "Intent",
    "Lease",
    "LeaseHeldError",
    "Link",
    "LinkConflictError",
    "Migrations",
    "Owner",
    "Registration",
    "Run",
    "Store",
    "SystemMemo",
    "Transaction",
    "open_store",
]
