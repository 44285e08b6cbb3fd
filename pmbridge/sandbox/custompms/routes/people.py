"""The HTTP routes of people (contract 1.1, optional): change feed, get, create, patch, delete."""

from pmbridge.sandbox.custompms.resources import PEOPLE
from pmbridge.sandbox.custompms.routes.records import records_router

router = records_router(PEOPLE)
