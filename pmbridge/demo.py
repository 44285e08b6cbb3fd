"""The demo: a real two-way sync between the embedded sandboxes, start to finish.

``run_demo`` starts the Trello sandbox and the reference Custompms on free ports, fills
Custompms with a few customers, projects, tasks and comments, syncs, edits one task on each
side through the systems' own APIs, syncs again, and shows both sides. Everything it says
is read back from the systems, not assumed.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pmbridge.config import Settings, load_settings
from pmbridge.sandbox.custompms import create_app as create_custompms
from pmbridge.sandbox.server import ServerThread
from pmbridge.sandbox.trello.app import create_app as create_trello
from pmbridge.sandbox.trello.config import SandboxConfig

SAMPLE = {
    "Acme Anvils": {
        "website": "https://acme.example",
        "projects": {
            "Website relaunch": [
                ("Write the copy", "todo", "Homepage and about page."),
                ("Pick a typeface", "in_progress", "Two candidates left."),
                ("Launch", "todo", "Coordinate with marketing."),
            ],
            "Warehouse move": [
                ("Book the trucks", "done", "Booked for the 14th."),
                ("Label the shelves", "todo", ""),
            ],
        },
    },
    "Globex": {
        "website": "https://globex.example",
        "projects": {
            "Quarterly report": [
                ("Collect the numbers", "in_progress", "Finance sends them Friday."),
                ("Draft the summary", "todo", ""),
            ],
        },
    },
}


@dataclass
class DemoSystems:
    """The two running sandboxes and how to reach them."""

    trello: ServerThread
    custompms: ServerThread
    trello_config: SandboxConfig
    custompms_token: str
    workdir: Path

    @property
    def trello_api(self) -> str:
        return self.trello.url + "/1"

    def settings(self, database_url: str | None = None) -> Settings:
        member = self.trello_config.members[0]
        return load_settings(
            None,
            trello_url=self.trello_api,
            trello_key=self.trello_config.key,
            trello_token=member.token,
            custompms_url=self.custompms.url,
            custompms_token=self.custompms_token,
            database_url=database_url or f"sqlite:///{self.workdir / 'pmbridge.db'}",
        )

    def trello_http(self) -> httpx.Client:
        member = self.trello_config.members[0]
        auth = f'OAuth oauth_consumer_key="{self.trello_config.key}", oauth_token="{member.token}"'
        return httpx.Client(base_url=self.trello_api, headers={"Authorization": auth})

    def custompms_http(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.custompms.url,
            headers={"Authorization": f"Bearer {self.custompms_token}"},
        )


@contextmanager
def demo_systems(workdir: Path | None = None) -> Iterator[DemoSystems]:
    """Both sandboxes on free ports of 127.0.0.1, with state under ``workdir``."""
    with tempfile.TemporaryDirectory(prefix="pmbridge-demo-") as temp:
        folder = workdir or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        trello_config = SandboxConfig()
        token = "demo-custompms-token"
        custompms_app = create_custompms(f"sqlite:///{folder / 'custompms.db'}", token=token)
        with (
            ServerThread(create_trello(trello_config)) as trello,
            ServerThread(custompms_app) as custompms,
        ):
            yield DemoSystems(trello, custompms, trello_config, token, folder)


def seed_sample(pms: httpx.Client) -> dict[str, Any]:
    """Create the sample customers, projects, tasks and comments; returns the tasks by title."""
    keys = itertools.count()

    def create(resource: str, **body: Any) -> dict[str, Any]:
        answer = pms.post(
            f"/{resource}", json=body, headers={"Idempotency-Key": f"demo-{next(keys)}"}
        )
        answer.raise_for_status()
        return answer.json()

    tasks: dict[str, Any] = {}
    for name, customer in SAMPLE.items():
        made = create(
            "customers", name=name, description=f"{name} account", website=customer["website"]
        )
        for project_name, items in customer["projects"].items():
            project = create(
                "projects",
                customer_id=made["id"],
                name=project_name,
                description=f"{project_name} for {name}",
            )
            create(
                "comments",
                project_id=project["id"],
                author="Dana (PM)",
                text=f"Kick-off for {project_name} is on Monday.",
            )
            for title, status, description in items:
                task = create(
                    "tasks",
                    project_id=project["id"],
                    title=title,
                    status=status,
                    description=description,
                    completed=status == "done",
                )
                tasks[title] = task
                create(
                    "comments",
                    task_id=task["id"],
                    author="Dana (PM)",
                    text=f"Owner for '{title}' to be confirmed.",
                )
    return tasks
