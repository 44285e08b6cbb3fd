"""The HTTP routes of tasks: change feed, get, create, patch, soft delete."""

from pmbridge.sandbox.custompms.resources import TASKS
from pmbridge.sandbox.custompms.routes.records import records_router

router = records_router(TASKS)
