"""The Trello sandbox: a local HTTP server that answers like ``https://api.trello.com/1``.

    app = create_app(SandboxConfig())          # an ASGI app; serve it with ServerThread
    app.state.world                            # the in-memory state (World)
    app.state.control.set_faults(...)          # injected faults (SandboxControl)

Modules: ``config`` (settings), ``app`` (assembly), ``auth``, ``world`` (state and the
action log), one module per object kind for changes (``organizations``, ``boards``,
``lists``, ``cards``, ``comments``, ``labels``, ``memberships``, ``checklists``,
``attachments``, ``customfields``; ``activity`` is what changes to card parts share),
``feeds`` (action lists), ``render``/``render_parts``/``render_actions`` (wire shapes),
``routes/`` (the ``/1`` paths, one module per resource), ``persist`` (state file),
``webhooks/`` (registration, delivery, signing), ``ratelimit``.
"""

from __future__ import annotations

from pmbridge.sandbox.trello.app import create_app
from pmbridge.sandbox.trello.config import MemberConfig, SandboxConfig
from pmbridge.sandbox.trello.world import World

__all__ = ["MemberConfig", "SandboxConfig", "World", "create_app"]
