"""``python -m pmbridge``: the same as the ``pmbridge`` command."""

from pmbridge.cli import main

main()
