"""docs/custompms-api.yaml against the reference server, property-based (schemathesis).

Generated requests, valid and invalid, go to every operation over real HTTP; no answer may be
a 5xx, and every answer must match the document (status, content type, headers, body
schema); invalid requests must be refused. Item operations get the id of a fresh live
record and creates get live parents, so the happy paths run too, not only 404s and 422s.
"""

from __future__ import annotations

from itertools import count
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pmbridge.sandbox.server import ServerThread
from tests.sandbox_custompms.conftest import Api

DOCUMENT = Path(__file__).parents[2] / "docs" / "custompms-api.yaml"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
RESOURCES = ("customers", "projects", "tasks", "comments", "people")


@pytest.fixture(scope="module")
def schema() -> Any:
    return schemathesis.openapi.from_path(DOCUMENT)


def test_the_document_is_a_valid_openapi_3_1_description(schema: Any) -> None:
    schema.validate()
    operations = {op.ok().label for op in schema.get_all_operations()}
    for resource in RESOURCES:
        assert {
            f"GET /{resource}",
            f"POST /{resource}",
            f"GET /{resource}/{{id}}",
            f"PATCH /{resource}/{{id}}",
            f"DELETE /{resource}/{{id}}",
        } <= operations
    assert {"POST /subscriptions", "GET /subscriptions", "DELETE /subscriptions/{id}"} <= (
        operations
    )
    assert "GET /capabilities" in operations


class _Fresh:
    """Live records to aim generated requests at."""

    def __init__(self, api: Api):
        self.api = api
        self.emails = count()
        task = api.task()
        self.parents = {
            "customer_id": api.http.get(f"/projects/{task['project_id']}").json()["customer_id"],
            "project_id": task["project_id"],
            "task_id": task["id"],
        }

    def record(self, resource: str) -> str:
        body: dict[str, Any] = {
            "customers": {"name": "c"},
            "projects": {"name": "p", "customer_id": self.parents["customer_id"]},
            "tasks": {"title": "t", "project_id": self.parents["project_id"]},
            "comments": {"text": "c", "task_id": self.parents["task_id"]},
            "people": {"email": f"p{next(self.emails)}@example.com", "name": "P"},
        }[resource]
        return self.api.create(resource, **body)["id"]

    def aim(self, case: Any) -> None:
        resource = case.operation.path.split("/")[1]
        if resource not in RESOURCES:
            return
        if "{id}" in case.operation.path:
            case.path_parameters = {"id": self.record(resource)}
        elif case.method == "POST" and isinstance(case.body, dict):
            for field, parent in self.parents.items():
                if case.body.get(field) is not None:
                    case.body[field] = parent
            if resource == "comments" and case.body.get("task_id") and case.body.get("project_id"):
                case.body["project_id"] = None


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_the_reference_server_conforms_to_the_document(
    schema: Any, custompms_server: ServerThread, custompms_token: str, api: Api, mode: str
) -> None:
    fresh = _Fresh(api)
    auth = {"Authorization": f"Bearer {custompms_token}"}
    generation_mode = schemathesis.GenerationMode(mode)
    strategy = schema.as_strategy(generation_mode=generation_mode, headers=auth)

    @settings(
        max_examples=100,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        if generation_mode is schemathesis.GenerationMode.POSITIVE:
            fresh.aim(case)
        case.call_and_validate(base_url=custompms_server.url, checks=CHECKS, headers=auth)

    run()
