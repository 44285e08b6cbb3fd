"""Dead letters: what failed, what to fix, and retry now or dismiss.

Every cycle retries each dead letter by itself; "Retry now" runs one without waiting (a
prompt cycle of ``pmbridge serve``, or a cycle of the record's flow under ``pmbridge ui``).
"Dismiss" forgets the failed write: no cycle retries it until its record changes again.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pmbridge.errors import PmbridgeError
from pmbridge.serve.ui.dashboard import PREFIX, ActionSessionDep, DashboardDep, SessionDep, back
from pmbridge.serve.ui.render import render
from pmbridge.store import DeadLetter

router = APIRouter()
PAGE = f"{PREFIX}/dead-letters"

HINTS = (
    (
        "value of 'desc'",
        "Trello takes at most 16,384 characters in a description, pmbridge's backlink footer "
        "included: shorten the text in Custompms.",
    ),
    (
        "value of 'name'",
        "Trello takes a name of 1 to 16,384 characters: correct the title in Custompms.",
    ),
    ("waiting for", "It waits for its parent (project, card) to be linked; fix the parent first."),
    ("held", "A deletion held by the circuit breaker: run pmbridge sync --allow-deletes."),
    ("must be", "The value is not one the other system accepts: correct it where it was made."),
    ("not a valid", "The value is not one the other system accepts: correct it where it was made."),
)


def what_to_fix(letter: DeadLetter) -> str:
    """A sentence saying what a person can do about ``letter``."""
    text = letter.error.lower()
    for needle, hint in HINTS:
        if needle.lower() in text:
            return hint
    source = "Trello" if letter.side == "custompms" else "Custompms"
    return f"Correct the record in {source} (the error names the field); the next cycle retries."


@router.get("/dead-letters")
def dead_letters_page(request: Request, dashboard: DashboardDep, session: SessionDep) -> Response:
    letters = dashboard.store.dead_letters()
    context = {
        "letters": letters,
        "what_to_fix": what_to_fix,
        "can_write": dashboard.actions.can_write or dashboard.actions.trigger is not None,
    }
    return render(request, "dead_letters.html", context, session=session)


@router.post("/dead-letters/{letter_id}/retry")
async def retry(letter_id: int, dashboard: DashboardDep, _: ActionSessionDep) -> Response:
    letter = dashboard.store.get_dead_letter(letter_id)
    if letter is None:
        return back(PAGE, f"Dead letter {letter_id} is gone: it went through or was dismissed.")
    try:
        message = await dashboard.actions.retry(letter.flow)
    except PmbridgeError as err:
        return back(PAGE, f"Could not retry: {err}", error=True)
    return back(PAGE, message)


@router.post("/dead-letters/{letter_id}/dismiss")
def dismiss(letter_id: int, dashboard: DashboardDep, _: ActionSessionDep) -> Response:
    if dashboard.store.dismiss_dead_letter(letter_id):
        return back(PAGE, f"Dead letter {letter_id} dismissed: no cycle retries it.")
    return back(PAGE, f"Dead letter {letter_id} is gone already.", error=True)
