"""YAML a client sends (request bodies, ConfigMap data the control plane reads), parsed safely.

:func:`load` is ``yaml.safe_load`` that refuses aliases (``*name``): an alias repeats a node
without its bytes, so a few hundred bytes of nested aliases expand into billions of values
when the object is walked or written back as JSON. Manifests do not use them; kubectl and the
Python clients send JSON or plain YAML. The refusal is a ``yaml.YAMLError`` naming where the
alias stands, which callers answer as they answer any YAML syntax error.
"""

from __future__ import annotations

from typing import Any

import yaml


class _NoAliases(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases are not accepted", event.start_mark
            )
        return super().compose_node(parent, index)


def load(text: str | bytes) -> Any:
    """The one YAML document in ``text``; raises ``yaml.YAMLError`` (aliases included)."""
    return yaml.load(text, Loader=_NoAliases)
