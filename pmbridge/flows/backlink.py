"""The backlink footer: a short line at the end of a Trello description naming its
Custompms record. People follow it; the engine uses it to find a card it created when a
crash lost the answer. It is added on every write and stripped on every read, so it never
shows up as a change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pmbridge.flows.models import Backlink

_SEPARATOR = "\n\n---\n"


@dataclass(frozen=True)
class BacklinkFooter:
    """Renders and recognises the footer of one flow.

    :param custompms_url: the Custompms base URL put into ``{custompms_url}``
    """

    spec: Backlink
    custompms_url: str = ""

    def render(self, custompms_id: str) -> str:
        text = self.spec.text.format(id=custompms_id)
        url = self.spec.url.format(id=custompms_id, custompms_url=self.custompms_url.rstrip("/"))
        return f"{_SEPARATOR}[{text}]({url})" if url else f"{_SEPARATOR}{text}"

    def add(self, text: str | None, custompms_id: str) -> str:
        return (self.strip(text or "")[0]).rstrip() + self.render(custompms_id)

    def strip(self, text: str) -> tuple[str, str | None]:
        """``text`` without its footer, and the Custompms id the footer named (or None)."""
        match = self._pattern.search(text.replace("\r\n", "\n"))
        if match is None:
            return text, None
        return text.replace("\r\n", "\n")[: match.start()], match.group("id") or match.group("bare")

    @property
    def _pattern(self) -> re.Pattern[str]:
        return _compile(self.spec.text)


_cache: dict[str, re.Pattern[str]] = {}


def _compile(template: str) -> re.Pattern[str]:
    if template not in _cache:
        before, _, after = template.partition("{id}")

        def label(group: str) -> str:
            return re.escape(before) + rf"(?P<{group}>[^\]\s)]+)" + re.escape(after)

        _cache[template] = re.compile(
            r"\s*---\n(?:\[" + label("id") + r"\]\([^)\n]*\)|" + label("bare") + r")\s*\Z"
        )
    return _cache[template]
