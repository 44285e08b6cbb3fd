"""The HTTP routes of customers: change feed, get, create, patch, soft delete."""

from pmbridge.sandbox.custompms.resources import CUSTOMERS
from pmbridge.sandbox.custompms.routes.records import records_router

router = records_router(CUSTOMERS)
