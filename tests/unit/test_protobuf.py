"""Tests for the hand-written Kubernetes protobuf decoder.

Bodies are built with the tiny encoder below, laid out the way kube's gogo-generated
marshallers lay them out (every non-pointer field written, even when empty).
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from event_registry.controlplane.machinery.protobuf import (
    PROTOBUF_CONTENT_TYPE,
    PROTOBUF_MAGIC,
    ProtobufDecodeError,
    decode_object,
)

# --------------------------------------------------------------------------- encoder


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negatives as 64-bit two's complement, like int64/int32 fields
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def f_varint(number: int, value: int) -> bytes:
    return tag(number, 0) + varint(value)


def f_fixed64(number: int, value: int) -> bytes:
    return tag(number, 1) + value.to_bytes(8, "little")


def f_fixed32(number: int, value: int) -> bytes:
    return tag(number, 5) + value.to_bytes(4, "little")


def f_bytes(number: int, data: bytes) -> bytes:
    return tag(number, 2) + varint(len(data)) + data


def f_str(number: int, text: str) -> bytes:
    return f_bytes(number, text.encode())


def f_map(number: int, mapping: dict[str, str] | dict[str, bytes]) -> bytes:
    out = b""
    for key in sorted(mapping):
        value = mapping[key]
        raw = value if isinstance(value, bytes) else value.encode()
        out += f_bytes(number, f_str(1, key) + f_bytes(2, raw))
    return out


def f_time(number: int, seconds: int, nanos: int = 0) -> bytes:
    inner = (f_varint(1, seconds) if seconds else b"") + (f_varint(2, nanos) if nanos else b"")
    return f_bytes(number, inner)


def object_meta(
    name: str = "",
    namespace: str = "",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> bytes:
    """ObjectMeta as a typed client marshals a fresh object: empty scalars included."""
    return (
        f_str(1, name)
        + f_str(2, "")
        + f_str(3, namespace)
        + f_str(4, "")
        + f_str(5, "")
        + f_str(6, "")
        + f_varint(7, 0)
        + f_bytes(8, b"")  # zero creationTimestamp
        + f_map(11, labels or {})
        + f_map(12, annotations or {})
    )


def envelope(
    api_version: str,
    kind: str,
    raw: bytes,
    content_encoding: str = "",
    content_type: str = "",
) -> bytes:
    type_meta = f_str(1, api_version) + f_str(2, kind)
    return (
        PROTOBUF_MAGIC
        + f_bytes(1, type_meta)
        + f_bytes(2, raw)
        + f_str(3, content_encoding)
        + f_str(4, content_type)
    )


def namespace_raw(meta: bytes, spec: bytes = b"", status: bytes = b"") -> bytes:
    return f_bytes(1, meta) + f_bytes(2, spec) + f_bytes(3, status)


# One unknown field of every wire type, with field numbers no decoded message uses.
UNKNOWN_FIELDS = (
    f_varint(900, 1 << 63)
    + f_fixed64(901, 0xFFFF_FFFF_FFFF_FFFF)
    + f_bytes(902, f_varint(1, 5) + b"\xff\xfe")  # looks like a message, must not be read
    + f_fixed32(903, 0xDEADBEEF)
    + f_varint(536870911, 0)  # the largest legal field number
)


def test_encoder_matches_known_bytes() -> None:
    assert varint(0) == b"\x00"
    assert varint(300) == b"\xac\x02"
    assert varint(-1) == b"\xff" * 9 + b"\x01"
    assert f_str(1, "x") == b"\x0a\x01x"


# --------------------------------------------------------------------------- namespaces


KUBECTL_CREATE_NAMESPACE = envelope("v1", "Namespace", namespace_raw(object_meta(name="x")))


def test_kubectl_create_namespace_body() -> None:
    # The exact framing: magic, TypeMeta, raw, empty contentEncoding/contentType.
    assert KUBECTL_CREATE_NAMESPACE.startswith(b"k8s\x00\x0a\x0f\x0a\x02v1\x12\x09Namespace")
    assert KUBECTL_CREATE_NAMESPACE.endswith(b"\x1a\x00\x22\x00")
    assert decode_object(KUBECTL_CREATE_NAMESPACE) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "x"},
    }


def test_content_type_constant() -> None:
    assert PROTOBUF_CONTENT_TYPE == "application/vnd.kubernetes.protobuf"
    assert PROTOBUF_MAGIC == b"k8s\x00"


def test_namespace_spec_and_status() -> None:
    condition = (
        f_str(1, "NamespaceDeletionContentFailure")
        + f_str(2, "False")
        + f_time(4, 1_700_000_000)
        + f_str(5, "ContentDeleted")
        + f_str(6, "All content successfully deleted")
    )
    raw = namespace_raw(
        object_meta(name="team-a", labels={"env": "dev"}),
        spec=f_str(1, "kubernetes") + f_str(1, "example.com/cleanup"),
        status=f_str(1, "Terminating") + f_bytes(2, condition),
    )
    assert decode_object(envelope("v1", "Namespace", raw)) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "team-a", "labels": {"env": "dev"}},
        "spec": {"finalizers": ["kubernetes", "example.com/cleanup"]},
        "status": {
            "phase": "Terminating",
            "conditions": [
                {
                    "type": "NamespaceDeletionContentFailure",
                    "status": "False",
                    "lastTransitionTime": "2023-11-14T22:13:20Z",
                    "reason": "ContentDeleted",
                    "message": "All content successfully deleted",
                }
            ],
        },
    }


def test_namespace_without_spec_or_status_fields() -> None:
    raw = f_bytes(1, f_str(1, "bare"))
    assert decode_object(envelope("v1", "Namespace", raw)) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "bare"},
    }


# --------------------------------------------------------------------------- configmaps


def test_configmap_data_labels_annotations() -> None:
    meta = object_meta(
        name="x",
        namespace="default",
        labels={"app": "demo", "tier": "web"},
        annotations={"note": "hello world", "empty": ""},
    )
    raw = f_bytes(1, meta) + f_map(2, {"a": "b", "c": "d"})
    assert decode_object(envelope("v1", "ConfigMap", raw)) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "x",
            "namespace": "default",
            "labels": {"app": "demo", "tier": "web"},
            "annotations": {"empty": "", "note": "hello world"},
        },
        "data": {"a": "b", "c": "d"},
    }


def test_configmap_binary_data_and_immutable() -> None:
    blob = bytes(range(256))
    raw = (
        f_bytes(1, f_str(1, "bin"))
        + f_map(2, {"text": "ünïcödé"})
        + f_map(3, {"blob": blob, "empty": b""})
        + f_varint(4, 1)
    )
    assert decode_object(envelope("v1", "ConfigMap", raw)) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "bin"},
        "data": {"text": "ünïcödé"},
        "binaryData": {"blob": base64.b64encode(blob).decode(), "empty": ""},
        "immutable": True,
    }


def test_configmap_immutable_false_is_kept_absent_is_omitted() -> None:
    meta = f_bytes(1, f_str(1, "cm"))
    assert decode_object(envelope("v1", "ConfigMap", meta + f_varint(4, 0)))["immutable"] is False
    assert "immutable" not in decode_object(envelope("v1", "ConfigMap", meta))


def test_map_entries_missing_key_or_value_and_duplicates() -> None:
    raw = (
        f_bytes(1, b"")
        + f_bytes(2, f_str(2, "no-key"))  # key defaults to ""
        + f_bytes(2, f_str(1, "no-value"))  # value defaults to ""
        + f_bytes(2, f_str(1, "dup") + f_str(2, "first"))
        + f_bytes(2, f_str(2, "second") + f_str(1, "dup"))  # field order inside the entry is free
    )
    assert decode_object(envelope("v1", "ConfigMap", raw))["data"] == {
        "": "no-key",
        "no-value": "",
        "dup": "second",
    }


# --------------------------------------------------------------------------- ObjectMeta


def test_every_object_meta_field() -> None:
    owner = (
        f_str(1, "Deployment")
        + f_str(3, "web")
        + f_str(4, "1234-abcd")
        + f_str(5, "apps/v1")
        + f_varint(6, 1)
        + f_varint(7, 0)
    )
    managed = f_bytes(17, f_str(1, "kubectl") + f_str(2, "Update"))  # managedFields: skipped
    meta = (
        f_str(1, "obj")
        + f_str(2, "obj-")
        + f_str(3, "ns")
        + f_str(4, "/api/v1/namespaces/ns/configmaps/obj")
        + f_str(5, "0c3f-uid")
        + f_str(6, "42")
        + f_varint(7, 3)
        + f_time(8, 1_700_000_000, nanos=123_456_789)
        + f_time(9, 1_700_000_030)
        + f_varint(10, 30)
        + f_map(11, {"app": "demo"})
        + f_map(12, {"kubectl.kubernetes.io/last-applied-configuration": "{}"})
        + f_bytes(13, owner)
        + f_bytes(13, f_str(1, "ReplicaSet") + f_str(3, "web-1"))
        + f_str(14, "example.com/a")
        + f_str(14, "example.com/b")
        + f_str(15, "legacy-cluster-name")
        + managed
    )
    result = decode_object(envelope("v1", "ConfigMap", f_bytes(1, meta)))
    assert result["metadata"] == {
        "name": "obj",
        "generateName": "obj-",
        "namespace": "ns",
        "selfLink": "/api/v1/namespaces/ns/configmaps/obj",
        "uid": "0c3f-uid",
        "resourceVersion": "42",
        "generation": 3,
        "creationTimestamp": "2023-11-14T22:13:20Z",
        "deletionTimestamp": "2023-11-14T22:13:50Z",
        "deletionGracePeriodSeconds": 30,
        "labels": {"app": "demo"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": "web",
                "uid": "1234-abcd",
                "controller": True,
                "blockOwnerDeletion": False,
            },
            {"kind": "ReplicaSet", "name": "web-1"},
        ],
        "finalizers": ["example.com/a", "example.com/b"],
    }


def test_zero_grace_period_is_kept() -> None:
    meta = f_str(1, "n") + f_varint(10, 0)
    result = decode_object(envelope("v1", "Namespace", f_bytes(1, meta)))
    assert result["metadata"] == {"name": "n", "deletionGracePeriodSeconds": 0}


def test_negative_int64_generation() -> None:
    meta = f_varint(7, -5)
    assert decode_object(envelope("v1", "Namespace", f_bytes(1, meta)))["metadata"] == {
        "generation": -5
    }


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (-1, "1969-12-31T23:59:59Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (-62135596800, "0001-01-01T00:00:00Z"),
        (253402300799, "9999-12-31T23:59:59Z"),
    ],
)
def test_timestamp_formatting(seconds: int, expected: str) -> None:
    # A present Time message with seconds == 0 is a real instant (the epoch), not "unset".
    meta = f_bytes(8, f_varint(1, seconds) + f_varint(2, -1))
    result = decode_object(envelope("v1", "Namespace", f_bytes(1, meta)))
    assert result["metadata"] == {"creationTimestamp": expected}


@pytest.mark.parametrize("seconds", [-62135596801, 253402300800, (1 << 63) - 1, -(1 << 63)])
def test_timestamp_out_of_range(seconds: int) -> None:
    meta = f_time(9, seconds)
    with pytest.raises(ProtobufDecodeError, match=r"deletionTimestamp.*outside years 1-9999"):
        decode_object(envelope("v1", "Namespace", f_bytes(1, meta)))


def test_empty_time_message_is_omitted() -> None:
    meta = f_str(1, "n") + f_bytes(8, b"") + f_bytes(9, b"")
    assert decode_object(envelope("v1", "Namespace", f_bytes(1, meta)))["metadata"] == {"name": "n"}


def test_invalid_utf8_is_replaced() -> None:
    meta = f_bytes(1, b"bad\xffname") + f_bytes(11, f_bytes(1, b"k\xc3") + f_bytes(2, b"\xe2v"))
    result = decode_object(envelope("v1", "Namespace", f_bytes(1, meta)))
    assert result["metadata"] == {"name": "bad\ufffdname", "labels": {"k\ufffd": "\ufffdv"}}


# --------------------------------------------------------------------------- other kinds


def test_generic_kind_decodes_only_type_meta_and_metadata() -> None:
    raw = (
        f_bytes(1, object_meta(name="p", namespace="ns", labels={"a": "b"}))
        + f_bytes(2, f_str(1, "never decoded"))  # Pod.spec
        + f_str(3, "Running")
    )
    assert decode_object(envelope("v1", "Pod", raw)) == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "ns", "labels": {"a": "b"}},
    }


def test_secret_data_as_base64_string_data_type_and_immutable() -> None:
    raw = (
        f_bytes(1, object_meta(name="s", namespace="ns"))
        + f_map(2, {"password": b"hunter2", "empty": b""})
        + f_str(3, "kubernetes.io/basic-auth")
        + f_map(4, {"username": "admin"})
        + f_varint(5, 0)
    )
    assert decode_object(envelope("v1", "Secret", raw)) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "ns"},
        "data": {"password": base64.b64encode(b"hunter2").decode(), "empty": ""},
        "stringData": {"username": "admin"},
        "type": "kubernetes.io/basic-auth",
        "immutable": False,
    }


def test_service_spec_as_kubectl_create_service_sends_it() -> None:
    int_target = f_varint(1, 0) + f_varint(2, 8080)
    named_target = f_varint(1, 1) + f_str(3, "http")
    spec = (
        f_bytes(1, f_str(1, "80-8080") + f_str(2, "TCP") + f_varint(3, 80) + f_bytes(4, int_target))
        + f_bytes(
            1, f_str(1, "web") + f_varint(3, 81) + f_bytes(4, named_target) + f_varint(5, 30001)
        )
        + f_map(2, {"app": "web"})
        + f_str(3, "")
        + f_str(4, "NodePort")
    )
    raw = f_bytes(1, object_meta(name="web")) + f_bytes(2, spec)
    assert decode_object(envelope("v1", "Service", raw)) == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {
            "ports": [
                {"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080},
                {"name": "web", "port": 81, "targetPort": "http", "nodePort": 30001},
            ],
            "selector": {"app": "web"},
            "type": "NodePort",
        },
    }


def test_namespace_kind_in_another_group_is_generic() -> None:
    raw = namespace_raw(object_meta(name="x"), spec=f_str(1, "kubernetes"))
    assert decode_object(envelope("example.com/v1", "Namespace", raw)) == {
        "apiVersion": "example.com/v1",
        "kind": "Namespace",
        "metadata": {"name": "x"},
    }


def test_missing_type_meta_and_raw() -> None:
    assert decode_object(PROTOBUF_MAGIC) == {"metadata": {}}
    assert decode_object(PROTOBUF_MAGIC + f_bytes(2, b"")) == {"metadata": {}}


def test_content_type_is_accepted() -> None:
    body = envelope("v1", "Namespace", namespace_raw(object_meta(name="x")), content_type="x/y")
    assert decode_object(body)["metadata"] == {"name": "x"}


# --------------------------------------------------------------------------- protobuf semantics


def test_unknown_fields_of_every_wire_type_are_skipped_everywhere() -> None:
    u = UNKNOWN_FIELDS
    type_meta = u + f_str(1, "v1") + u + f_str(2, "ConfigMap") + u
    owner = u + f_str(1, "Deployment") + u + f_varint(6, 1) + u
    meta = (
        u
        + f_str(1, "x")
        + u
        + f_bytes(8, u + f_varint(1, 60) + u)
        + f_bytes(11, u + f_str(1, "app") + u + f_str(2, "demo") + u)
        + u
        + f_bytes(13, owner)
        + u
    )
    raw = (
        u
        + f_bytes(1, meta)
        + u
        + f_bytes(2, f_str(1, "a") + u + f_str(2, "b"))
        + u
        + f_bytes(3, u + f_str(1, "k") + f_bytes(2, b"\x00\x01"))
        + u
    )
    body = (
        PROTOBUF_MAGIC
        + u
        + f_bytes(1, type_meta)
        + u
        + f_bytes(2, raw)
        + u
        + f_str(3, "")
        + u
        + f_str(4, "")
        + u
    )
    assert decode_object(body) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "x",
            "creationTimestamp": "1970-01-01T00:01:00Z",
            "labels": {"app": "demo"},
            "ownerReferences": [{"kind": "Deployment", "controller": True}],
        },
        "data": {"a": "b"},
        "binaryData": {"k": "AAE="},
    }


def test_unknown_fields_in_namespace_spec_and_status() -> None:
    u = UNKNOWN_FIELDS
    raw = namespace_raw(
        f_str(1, "x"),
        spec=u + f_str(1, "kubernetes") + u,
        status=u + f_str(1, "Active") + u + f_bytes(2, u + f_str(1, "T") + u) + u,
    )
    result = decode_object(envelope("v1", "Namespace", raw))
    assert result["spec"] == {"finalizers": ["kubernetes"]}
    assert result["status"] == {"phase": "Active", "conditions": [{"type": "T"}]}


def test_split_embedded_messages_are_merged() -> None:
    body = (
        PROTOBUF_MAGIC
        + f_bytes(1, f_str(1, "v1"))
        + f_bytes(2, f_bytes(1, f_str(1, "first")) + f_bytes(1, f_str(3, "ns")))
        + f_bytes(1, f_str(2, "Namespace"))
    )
    assert decode_object(body) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "first", "namespace": "ns"},
    }


def test_last_scalar_wins_and_last_raw_wins() -> None:
    first = namespace_raw(f_str(1, "ignored"))
    second = f_bytes(1, f_str(1, "a") + f_str(1, "b")) + f_bytes(1, f_str(1, "c"))
    body = PROTOBUF_MAGIC + f_bytes(1, f_str(1, "v1") + f_str(2, "Namespace"))
    body += f_bytes(2, first) + f_bytes(2, second)
    assert decode_object(body)["metadata"] == {"name": "c"}


def test_time_split_across_occurrences_is_merged() -> None:
    meta = f_bytes(8, f_varint(1, 60)) + f_bytes(8, f_varint(2, 5))
    result = decode_object(envelope("v1", "Namespace", f_bytes(1, meta)))
    assert result["metadata"] == {"creationTimestamp": "1970-01-01T00:01:00Z"}


def test_bool_accepts_any_nonzero_varint() -> None:
    raw = f_bytes(1, b"") + f_varint(4, 1 << 40)
    assert decode_object(envelope("v1", "ConfigMap", raw))["immutable"] is True


# --------------------------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    "body",
    [b"", b"k", b"k8s", b"k8s\x01", b"K8S\x00", b'{"kind":"Namespace"}', b"\x00k8s\x00"],
)
def test_bad_magic(body: bytes) -> None:
    with pytest.raises(ProtobufDecodeError, match=r"magic prefix"):
        decode_object(body)


def test_decode_error_is_value_error() -> None:
    assert issubclass(ProtobufDecodeError, ValueError)


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        (PROTOBUF_MAGIC + b"\x80", r"^Unknown: truncated varint at offset 0$"),
        (PROTOBUF_MAGIC + b"\x08\xff\xff", r"^Unknown: truncated varint at offset 1$"),
        (PROTOBUF_MAGIC + b"\x12", r"^Unknown: truncated varint"),
        (PROTOBUF_MAGIC + b"\x12\x05abc", r"^Unknown: truncated field 2: length 5 .* 3 remaining"),
        (PROTOBUF_MAGIC + b"\x12" + varint(1 << 63), r"length 9223372036854775808"),
        (PROTOBUF_MAGIC + b"\x09" + b"\x00" * 7, r"truncated 64-bit value of field 1"),
        (PROTOBUF_MAGIC + b"\x0d" + b"\x00" * 3, r"truncated 32-bit value of field 1"),
        (PROTOBUF_MAGIC + b"\x08" + b"\xff" * 10 + b"\x01", r"overflows 64 bits"),
        (PROTOBUF_MAGIC + b"\x08" + b"\xff" * 9 + b"\x02", r"overflows 64 bits"),
        (PROTOBUF_MAGIC + b"\x00\x00", r"invalid field number 0"),
        (PROTOBUF_MAGIC + b"\x02\x00", r"invalid field number 0"),
        (PROTOBUF_MAGIC + varint(1 << 32 | 2) + b"\x00", r"invalid field number 536870912"),
        (PROTOBUF_MAGIC + b"\x0b\x0c", r"field 1 uses the deprecated group encoding"),
        (PROTOBUF_MAGIC + b"\x0c", r"wire type 4"),
        (PROTOBUF_MAGIC + b"\x0e", r"invalid wire type 6 for field 1"),
        (PROTOBUF_MAGIC + b"\x0f", r"invalid wire type 7 for field 1"),
    ],
)
def test_malformed_framing(body: bytes, pattern: str) -> None:
    with pytest.raises(ProtobufDecodeError, match=pattern):
        decode_object(body)


def test_max_varint_is_accepted() -> None:
    # Ten bytes with a final 0x01 is exactly 2**64 - 1: valid, skipped as unknown.
    body = PROTOBUF_MAGIC + f_varint(99, (1 << 64) - 1)
    assert body.endswith(b"\xff" * 9 + b"\x01")
    assert decode_object(body) == {"metadata": {}}


def test_truncated_by_one_byte() -> None:
    with pytest.raises(ProtobufDecodeError, match=r"truncated"):
        decode_object(KUBECTL_CREATE_NAMESPACE[:-1])


def test_every_prefix_either_decodes_or_raises() -> None:
    body = envelope(
        "v1",
        "ConfigMap",
        f_bytes(1, object_meta(name="x", labels={"a": "b"})) + f_map(2, {"k": "v"}),
    )
    failures = 0
    for cut in range(len(body)):
        try:
            decode_object(body[:cut])
        except ProtobufDecodeError:
            failures += 1
    assert failures > len(body) // 2


def test_truncation_inside_nested_message_names_the_path() -> None:
    meta = f_str(1, "x")[:-1]  # claims one byte of name, has none
    body = envelope("v1", "Namespace", f_bytes(1, meta))
    with pytest.raises(ProtobufDecodeError, match=r"^Namespace\.metadata: truncated field 1"):
        decode_object(body)


@pytest.mark.parametrize(
    ("raw", "kind", "pattern"),
    [
        (f_bytes(1, f_varint(1, 7)), "Namespace", r"Namespace\.metadata\.name \(field 1\)"),
        (f_varint(1, 7), "Namespace", r"Namespace\.metadata \(field 1\): expected length-deli"),
        (f_bytes(1, f_str(7, "x")), "Namespace", r"metadata\.generation .*expected varint"),
        (f_bytes(1, f_fixed64(8, 1)), "Namespace", r"creationTimestamp .*got 64-bit"),
        (f_bytes(1, f_bytes(8, f_fixed32(1, 1))), "Namespace", r"seconds .*got 32-bit"),
        (f_bytes(1, f_varint(11, 1)), "Namespace", r"metadata\.labels \(field 11\)"),
        (f_bytes(1, f_bytes(11, f_varint(1, 1))), "Namespace", r"metadata\.labels\.key"),
        (f_bytes(1, f_bytes(13, f_str(6, "y"))), "Namespace", r"ownerReferences\[0\]\.contr"),
        (f_varint(2, 1), "Namespace", r"Namespace\.spec \(field 2\)"),
        (f_bytes(2, f_varint(1, 1)), "Namespace", r"Namespace\.spec\.finalizers"),
        (f_bytes(3, f_varint(1, 1)), "Namespace", r"Namespace\.status\.phase"),
        (f_bytes(3, f_bytes(2, f_varint(4, 1))), "Namespace", r"conditions\[0\]\.lastTrans"),
        (f_fixed32(2, 1), "ConfigMap", r"ConfigMap\.data \(field 2\)"),
        (f_bytes(3, f_varint(2, 1)), "ConfigMap", r"ConfigMap\.binaryData\.value"),
        (f_str(4, "true"), "ConfigMap", r"ConfigMap\.immutable \(field 4\): expected varint"),
        (f_bytes(1, f_varint(3, 1)), "Secret", r"^Secret\.metadata\.namespace"),
    ],
)
def test_wrong_wire_type_for_known_field(raw: bytes, kind: str, pattern: str) -> None:
    with pytest.raises(ProtobufDecodeError, match=pattern):
        decode_object(envelope("v1", kind, raw))


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        (PROTOBUF_MAGIC + f_varint(1, 1), r"Unknown\.typeMeta"),
        (PROTOBUF_MAGIC + f_fixed64(2, 1), r"Unknown\.raw"),
        (PROTOBUF_MAGIC + f_varint(3, 1), r"Unknown\.contentEncoding"),
        (PROTOBUF_MAGIC + f_fixed32(4, 1), r"Unknown\.contentType"),
        (PROTOBUF_MAGIC + f_bytes(1, f_varint(2, 1)), r"Unknown\.typeMeta\.kind"),
    ],
)
def test_wrong_wire_type_in_envelope(body: bytes, pattern: str) -> None:
    with pytest.raises(ProtobufDecodeError, match=pattern):
        decode_object(body)


def test_content_encoding_is_rejected() -> None:
    body = envelope("v1", "Namespace", b"\x1f\x8b", content_encoding="gzip")
    with pytest.raises(ProtobufDecodeError, match=r"unsupported contentEncoding 'gzip'"):
        decode_object(body)


# --------------------------------------------------------------------------- property tests

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decode_or_error(body: bytes) -> dict[str, Any] | None:
    """Decode ``body``; only a dict with metadata or a ProtobufDecodeError may come out."""
    error: ProtobufDecodeError | None = None
    try:
        result = decode_object(body)
    except ProtobufDecodeError as exc:
        error = exc
    if error is not None:
        assert str(error), "decode errors must carry a message"
        return None
    assert isinstance(result, dict)
    assert isinstance(result["metadata"], dict)
    return result


@FUZZ
@given(st.binary(max_size=512))
def test_fuzz_random_bytes_after_magic(tail: bytes) -> None:
    _decode_or_error(PROTOBUF_MAGIC + tail)


@FUZZ
@given(st.binary(max_size=64))
def test_fuzz_random_bytes_without_magic(body: bytes) -> None:
    _decode_or_error(body)


@FUZZ
@given(st.sampled_from(["Namespace", "ConfigMap", "Secret", ""]), st.binary(max_size=512))
def test_fuzz_random_raw_object(kind: str, raw: bytes) -> None:
    _decode_or_error(envelope("v1", kind, raw))


@FUZZ
@given(st.sampled_from(["Namespace", "ConfigMap"]), st.binary(max_size=512))
def test_fuzz_random_object_meta(kind: str, meta: bytes) -> None:
    _decode_or_error(envelope("v1", kind, f_bytes(1, meta)))


def _mutations() -> st.SearchStrategy[tuple[int, int, bytes]]:
    return st.tuples(st.integers(0, 10_000), st.integers(0, 255), st.binary(max_size=8))


@FUZZ
@given(st.lists(_mutations(), max_size=4))
def test_fuzz_mutated_valid_body(mutations: list[tuple[int, int, bytes]]) -> None:
    body = bytearray(
        envelope(
            "v1",
            "ConfigMap",
            f_bytes(1, object_meta(name="x", labels={"a": "b"}, annotations={"c": "d"}))
            + f_map(2, {"k": "v"})
            + f_map(3, {"b": b"\x00"}),
        )
    )
    for position, value, insert in mutations:
        index = 4 + position % (len(body) - 4)
        body[index] = value
        body[index:index] = insert
    _decode_or_error(bytes(body))


_text = st.text(max_size=20)


@FUZZ
@given(
    name=_text,
    labels=st.dictionaries(_text, _text, max_size=5),
    data=st.dictionaries(_text, _text, max_size=5),
    binary=st.dictionaries(_text, st.binary(max_size=20), max_size=5),
)
def test_roundtrip_configmap(
    name: str, labels: dict[str, str], data: dict[str, str], binary: dict[str, bytes]
) -> None:
    raw = f_bytes(1, object_meta(name=name, labels=labels)) + f_map(2, data) + f_map(3, binary)
    result = decode_object(envelope("v1", "ConfigMap", raw))
    expected_meta: dict[str, Any] = {}
    if name:
        expected_meta["name"] = name
    if labels:
        expected_meta["labels"] = labels
    assert result["metadata"] == expected_meta
    assert result.get("data", {}) == data
    assert {k: base64.b64decode(v) for k, v in result.get("binaryData", {}).items()} == binary


def test_module_docstring_states_guarantees() -> None:
    from event_registry.controlplane.machinery import protobuf

    assert protobuf.__doc__ is not None
    assert re.search(r"Guarantees", protobuf.__doc__)
