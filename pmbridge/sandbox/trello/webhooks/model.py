"""A registered webhook as the sandbox keeps it, and its JSON as Trello answers it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DUPLICATE = "A webhook with that callback, model, and token already exists"
WRONG_TOKEN = "unauthorized token"
FIELDS = (
    "id",
    "description",
    "idModel",
    "callbackURL",
    "active",
    "consecutiveFailures",
    "firstConsecutiveFailDate",
)


@dataclass
class Webhook:
    """A registered webhook; ``token`` is its owner and never leaves the sandbox."""

    id: str
    token: str
    id_model: str
    callback_url: str
    description: str = ""
    active: bool = True
    consecutive_failures: int = 0
    first_consecutive_fail_date: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "idModel": self.id_model,
            "callbackURL": self.callback_url,
            "active": self.active,
            "consecutiveFailures": self.consecutive_failures,
            "firstConsecutiveFailDate": self.first_consecutive_fail_date,
        }
