"""The HTTP routes of projects: change feed, get, create, patch, soft delete."""

from pmbridge.sandbox.custompms.resources import PROJECTS
from pmbridge.sandbox.custompms.routes.records import records_router

router = records_router(PROJECTS)
