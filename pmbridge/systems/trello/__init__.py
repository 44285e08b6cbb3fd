"""The Trello connector: an async API client and Trello as a pmbridge ``System``.

TrelloClient   the REST API as async methods (auth header, rate budget, retries)
TrelloSystem   organizations, boards, cards and comments as records
TrelloLimits   the client's rate budget (per token, per key, ``/1/members/``)
RetryPolicy    how transient failures are retried
"""

from pmbridge.systems.http import RetryPolicy
from pmbridge.systems.trello.client import ActionsQuery, BatchItem, TrelloClient, batch_url
from pmbridge.systems.trello.limiter import RateLimit, TrelloLimits
from pmbridge.systems.trello.system import TrelloSystem

__all__ = [
    "ActionsQuery",
    "BatchItem",
    "RateLimit",
    "RetryPolicy",
    "TrelloClient",
    "TrelloLimits",
    "TrelloSystem",
    "batch_url",
]
