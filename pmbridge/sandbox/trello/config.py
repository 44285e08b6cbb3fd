"""Settings of the Trello sandbox: its API key and app secret, its members and their tokens,
rate limits and webhook delivery.

The defaults are fixed demo credentials for a local sandbox (never real Trello ones), so a
demo or a test can start the sandbox with ``SandboxConfig()`` and know the key and token.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, Field, field_validator, model_validator

from pmbridge.sandbox.trello.ratelimit import RateLimitConfig

DEMO_KEY = "5a4d1c0ffee0b5a1d0b0a7c0de5a11ed"
DEMO_SECRET = "5ec2e75a1d0b0a7c0de5a11ed0b5a1d05ec2e75a1d0b0a7c0de5a11ed0b5a1d0"
DEMO_TOKEN = "ATTA" + "5a4db0c5" * 8 + "E1D3C0DE"  # 76 chars, shaped like a real token
DEMO_MEMBER_ID = "5f00000000000000000000a1"

_KEY = re.compile(r"^[0-9a-fA-F]{32}$")
_USERNAME = re.compile(r"^[a-z0-9_]{3,}$")
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


class MemberConfig(BaseModel):
    """A sandbox member (a Trello user) and the token that acts as them, if any.

    Extra members seed the people a test or demo puts on boards and cards
    (``PUT /1/boards/{id}/members/{idMember}``)."""

    id: str | None = Field(None, description="24-hex id; generated when absent")
    username: str
    full_name: str
    token: str | None = Field(
        None, min_length=1, description="None: a person who is on boards but never calls the API"
    )

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str | None) -> str | None:
        if value is not None and not _OBJECT_ID.match(value):
            raise ValueError("a member id is 24 lowercase hex characters")
        return value

    @field_validator("username")
    @classmethod
    def _check_username(cls, value: str) -> str:
        if not _USERNAME.match(value):
            raise ValueError("a username is at least 3 characters: lowercase letters, digits and _")
        return value

    @field_validator("full_name")
    @classmethod
    def _check_full_name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("full_name must not be empty")
        return value


class WebhookConfig(BaseModel):
    """How the sandbox delivers webhooks; tests shrink the delays and the threshold."""

    retry_delays_s: list[float] = Field(
        default_factory=lambda: [1.0, 5.0, 25.0],
        description="wait before each retry of a failed delivery (Trello retries 3 times)",
    )
    disable_after_failures: int = Field(
        100, ge=1, description="consecutive failed POSTs that set a webhook inactive (our choice)"
    )
    delivery_timeout_s: float = Field(30.0, gt=0, description="Trello waits 30 s for a reply")
    check_timeout_s: float = Field(5.0, gt=0, description="timeout of the HEAD check on create")


def _default_members() -> list[MemberConfig]:
    return [
        MemberConfig(
            id=DEMO_MEMBER_ID, username="sandboxuser", full_name="Sandbox User", token=DEMO_TOKEN
        )
    ]


class SandboxConfig(BaseModel):
    """Everything the Trello sandbox needs to start.

    :param key: the API key (32 hex) every request must carry
    :param secret: the app secret paired with the key; signs webhook deliveries
    :param members: the users; each token acts as its member
    :param rate_limits: Trello's rate limits, or None for none
    :param webhooks: webhook delivery settings
    :param persist_path: JSON file the state is saved to and restored from
    """

    key: str = DEMO_KEY
    secret: str = Field(DEMO_SECRET, min_length=1)
    members: list[MemberConfig] = Field(default_factory=_default_members, min_length=1)
    rate_limits: RateLimitConfig | None = Field(default_factory=RateLimitConfig)
    webhooks: WebhookConfig = Field(default_factory=WebhookConfig)
    persist_path: Path | None = None

    @field_validator("key")
    @classmethod
    def _check_key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError("a Trello API key is 32 hexadecimal characters")
        return value

    @model_validator(mode="after")
    def _check_members_unique(self) -> SandboxConfig:
        for attr in ("username", "token", "id"):
            values = [getattr(m, attr) for m in self.members if getattr(m, attr) is not None]
            if len(values) != len(set(values)):
                raise ValueError(f"two members share the same {attr}")
        if self.members[0].token is None:
            raise ValueError("the first member (the default one) needs a token")
        return self

    @property
    def default_member(self) -> MemberConfig:
        return self.members[0]
