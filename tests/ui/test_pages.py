"""The pages' contents and the actions that need no browser: run details, dismissing a
conflict or a dead letter, paging through links, and ``pmbridge ui``'s own checks."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
from importlib.resources import files

import httpx
from pydantic import SecretStr
from typer.testing import CliRunner

from pmbridge.cli import app
from pmbridge.sockets import free_port
from pmbridge.store import Link
from tests.engine.test_cli import env_of
from tests.fixtures.bridge import seed
from tests.ui.conftest import Site, serve_dashboard_with
from tests.ui.test_access import csrf_of, make_conflict


def notice(answer: httpx.Response) -> str:
    params = httpx.URL(answer.headers["location"]).params
    return params.get("notice") or params.get("error") or ""


def test_run_details_show_writes_per_flow_and_system_and_the_conflicts_logged(site: Site):
    conflict_id = make_conflict(site.bridge)
    with site.signed_in() as client:
        first = client.get("/ui/runs/1").text
        assert re.search(r"<th scope=\"row\">tasks</th><td>Trello</td><td>1</td>", first)
        second = client.get("/ui/runs/2").text
        assert "Conflicts logged" in second and f"#c{conflict_id}" in second
        for value in ("Task 0", "From PMS", "From Trello"):  # before, and both sides
            assert value in second
        # Each write, with the values it replaced: the task took Trello's newer title.
        writes = html.unescape(second)
        assert re.search(
            r"<td>tasks</td><td>Custompms</td><td>task \S+</td><td>update</td>"
            r'<td>\{"title": "From PMS"\}</td><td>\{"title": "From Trello"\}</td>',
            writes,
        ), writes
        assert "<td>create</td>" in html.unescape(first)
        assert client.get("/ui/runs/99").status_code == 404


def test_dismissing_a_settled_conflict_keeps_the_policys_value(site: Site):
    conflict_id = make_conflict(site.bridge)
    with site.signed_in() as client:
        page = client.get("/ui/conflicts").text
        seen = re.search(r'name="seen" value="([^"]+)"', page).group(1)
        answer = client.post(
            f"/ui/conflicts/{conflict_id}/dismiss", data={"seen": seen, "csrf_token": csrf_of(page)}
        )
        assert notice(answer) == f"Conflict {conflict_id} dismissed: trello's value stays."
        assert "No conflicts to look at." in client.get("/ui/conflicts").text
        assert "From PMS" in client.get("/ui/conflicts?all=1").text
    with site.bridge.store() as store:
        conflict = store.get_conflict(conflict_id)
    assert (conflict.status, conflict.resolution) == ("dismissed", None)
    assert site.bridge.pms.all("tasks")[0]["title"] == "From Trello"


def test_dismissing_a_dead_letter_forgets_it(site: Site):
    data = seed(site.bridge.pms, tasks=1, comments=False)
    site.bridge.pms.update("tasks", data["tasks"][0]["id"], description="x" * 16384)
    site.bridge.sync()
    with site.bridge.store() as store:
        [letter] = [d for d in store.dead_letters() if d.operation == "sync"]
    with site.signed_in() as client:
        token = csrf_of(client.get("/ui/dead-letters").text)
        answer = client.post(f"/ui/dead-letters/{letter.id}/dismiss", data={"csrf_token": token})
        assert notice(answer) == f"Dead letter {letter.id} dismissed: no cycle retries it."
        answer = client.post(f"/ui/dead-letters/{letter.id}/dismiss", data={"csrf_token": token})
        assert notice(answer) == f"Dead letter {letter.id} is gone already."
    with site.bridge.store() as store:
        assert letter.id not in {d.id for d in store.dead_letters()}


def test_links_come_a_page_at_a_time_and_new_ones_are_found_at_once(site: Site):
    with site.bridge.store() as store:
        for i in range(120):
            base = {"custompms": {"title": f"Job {i:03}"}, "trello": {"title": f"Job {i:03}"}}
            store.put_link(Link("tasks", f"t{i:03}", f"{i:024x}", base=base))
        with site.signed_in() as client:
            page = client.get("/ui/links", params={"flow": "tasks", "page": 3}).text
            assert "120 link(s); page 3 of 3." in page
            assert page.count("<tr><td>tasks</td>") == 20
            assert 'rel="prev"' in page and 'rel="next"' not in page
            assert "Job 119" in page and "Job 099" not in page
            store.put_link(Link("tasks", "t999", "f" * 24, base={"custompms": {"title": "Late"}}))
            page = client.get("/ui/links", params={"q": "LATE"}).text
            assert "1 link(s) matching “LATE”" in page
            assert 'href="https://trello.com/c/ffffffffffffffffffffffff"' in page


def test_pmbridge_ui_refuses_a_public_address_without_a_password(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PMBRIDGE_UI_PASSWORD", raising=False)
    result = CliRunner().invoke(app, ["ui", "--listen", "0.0.0.0:8771"])
    assert result.exit_code == 2
    assert "served only on a loopback address" in result.output
    assert "PMBRIDGE_UI_PASSWORD" in result.output
    help_text = CliRunner().invoke(app, ["ui", "--help"]).output
    assert "Example:" in help_text and "--listen" in help_text


def test_pmbridge_ui_serves_the_store_it_is_given(bridge, tmp_path):
    seed(bridge.pms, tasks=1, comments=False)
    bridge.sync()
    port = free_port()
    env = {**os.environ, **env_of(bridge, PMBRIDGE_UI_PASSWORD="let me in")}
    command = [sys.executable, "-m", "pmbridge", "ui", "--listen", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        root = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stderr.read()
            try:
                if httpx.get(root + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "pmbridge ui did not answer"
            time.sleep(0.1)
        with httpx.Client(base_url=root) as client:
            assert client.post("/ui/login", data={"password": "let me in"}).status_code == 303
            page = client.get("/ui/links", params={"q": "task 0"}).text
            assert "1 link(s) matching “task 0”" in page
    finally:
        process.terminate()
        process.wait(timeout=10)
    output = process.stdout.read() + process.stderr.read()
    assert f"pmbridge dashboard for {bridge.settings.database_url}" in output
    assert "let me in" not in output


def test_a_held_conflict_offers_both_values_and_no_dismiss(bridge, tmp_path):
    flows = (files("pmbridge.flows") / "flows.yaml").read_text()
    manual = tmp_path / "flows.yaml"
    manual.write_text(flows.replace("conflict: newest_wins", "conflict: manual"))
    bridge.settings = bridge.settings.model_copy(update={"flows": manual})
    conflict_id = make_conflict(bridge)
    settings = bridge.settings.model_copy(update={"ui_password": SecretStr("pw")})
    site_gen = serve_dashboard_with(bridge, settings)
    site = next(site_gen)
    try:
        with site.signed_in() as client:
            page = client.get("/ui/conflicts").text
            assert "held for a person" in page and "(policy manual)" in page
            assert f"/ui/conflicts/{conflict_id}/dismiss" not in page
            seen = re.search(r'name="seen" value="([^"]+)"', page).group(1)
            answer = client.post(
                f"/ui/conflicts/{conflict_id}/resolve",
                data={"take": "trello", "seen": seen, "csrf_token": csrf_of(page)},
            )
            assert "is now 'From Trello' on both sides" in notice(answer)
    finally:
        site_gen.close()
    assert bridge.pms.all("tasks")[0]["title"] == "From Trello"
