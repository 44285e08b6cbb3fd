"""The reference Custompms: a FastAPI + SQLite server implementing docs/custompms-api.yaml.

    app = create_app("sqlite:///custompms.db", token="secret")   # an ASGI app
    with ServerThread(app) as server: ...                          # server.url is the API root

It is the demo's embedded Custompms, the ground of the end-to-end tests, and a template for
adapter authors. ``pmbridge sandbox custompms`` runs it from the command line.
"""

from pmbridge.sandbox.custompms.app import DEFAULT_TOKEN, CustompmsApp, create_app
from pmbridge.sandbox.custompms.notify import SIGNATURE_HEADER, sign, verify

__all__ = ["DEFAULT_TOKEN", "SIGNATURE_HEADER", "CustompmsApp", "create_app", "sign", "verify"]
