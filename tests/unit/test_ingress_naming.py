"""Names of auto-created EventTypes, as knative/eventing's pkg/eventtype derives them."""

from __future__ import annotations

import hashlib
import re

from hypothesis import given
from hypothesis import strategies as st

from event_registry.domain import models
from event_registry.ingress.naming import dns1123_subdomain, event_type_name, is_auto_created
from event_registry.knative import vocabulary

SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def test_the_name_is_et_broker_md5_of_type_source_namespace_broker() -> None:
    # md5("com.example.push" + "/repo" + "demo" + "default"), as Go's %x prints it
    assert (
        event_type_name("default", "demo", "com.example.push", "/repo")
        == "et-default-8878e0186b407d2cc067339bb11c3682"
    )


def test_type_source_namespace_and_broker_each_change_the_name() -> None:
    base = event_type_name("b", "ns", "t", "s")
    assert len({base, *(event_type_name(*args) for args in _variants())}) == 5


def _variants() -> list[tuple[str, str, str, str]]:
    return [
        ("b2", "ns", "t", "s"),
        ("b", "ns2", "t", "s"),
        ("b", "ns", "t2", "s"),
        ("b", "ns", "t", "s2"),
    ]


def test_a_long_broker_name_is_cut_as_knative_cuts_it() -> None:
    broker = "b" * 250
    digest = hashlib.md5(("t" + "s" + "ns" + broker).encode(), usedforsecurity=False).hexdigest()
    name = event_type_name(broker, "ns", "t", "s")
    assert name == f"et-{broker}-{digest}"[:243]
    assert SUBDOMAIN.fullmatch(name)


def test_a_valid_subdomain_is_kept_and_an_invalid_one_repaired() -> None:
    assert dns1123_subdomain("et-default-abc") == "et-default-abc"
    assert dns1123_subdomain("-Et_Default.-") == "etdefault"


@given(
    st.text(max_size=300),
    st.text(max_size=300),
    st.from_regex(r"[a-z][a-z0-9-]{0,60}[a-z0-9]", fullmatch=True),
)
def test_any_type_and_source_give_a_valid_name(type_: str, source: str, broker: str) -> None:
    name = event_type_name(broker, "ns", type_, source)
    assert SUBDOMAIN.fullmatch(name)
    assert len(name) <= 253


def event_type(description: str | None, reference_kind: str | None) -> models.EventType:
    reference = (
        models.Reference("eventing.knative.dev/v1", reference_kind, "default")
        if reference_kind
        else None
    )
    return models.EventType(
        meta=models.Meta(namespace="ns", name="et"),
        api_version="eventing.knative.dev/v1beta3",
        type="t",
        description=description,
        reference=reference,
    )


def test_auto_created_means_knatives_description_and_a_broker_reference() -> None:
    assert is_auto_created(event_type(vocabulary.AUTO_CREATED_DESCRIPTION, "Broker"))
    assert not is_auto_created(event_type(vocabulary.AUTO_CREATED_DESCRIPTION, None))
    assert not is_auto_created(event_type("mine", "Broker"))
    assert not is_auto_created(event_type(vocabulary.AUTO_CREATED_DESCRIPTION, "InMemoryChannel"))
