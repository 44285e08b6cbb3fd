"""Running awaitables together: one ``asyncio.TaskGroup`` whose first failure is what the
caller sees, as its own type (not wrapped in an ``ExceptionGroup``), the others cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

T = TypeVar("T")


async def run_all(coroutines: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """The results of ``coroutines`` run together, in their order; the first one to fail
    cancels the others and its error is raised."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(c) for c in coroutines]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]
