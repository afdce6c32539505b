"""schema.graphql is generated from the code and must never go stale."""

from __future__ import annotations

import re
from pathlib import Path

from event_registry.graphql import export

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_graphql_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text() == export.sdl(), (
        "schema.graphql is stale: run scripts/export-schema and commit the result"
    )


def test_schema_declares_the_federation_entities() -> None:
    text = SCHEMA_FILE.read_text()
    for entity in ("Broker", "EventType", "Trigger"):
        assert re.search(
            rf'type {entity} implements Node[^{{]*@key\(fields: "namespace name"\)', text
        )
    assert 'type Namespace implements Node @key(fields: "name")' in text
