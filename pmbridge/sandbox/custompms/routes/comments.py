"""The HTTP routes of comments: change feed, get, create, patch, soft delete."""

from pmbridge.sandbox.custompms.resources import COMMENTS
from pmbridge.sandbox.custompms.routes.records import records_router

router = records_router(COMMENTS)
