"""The conformance table's pieces: command and operation shapes, verdicts from the declared
differences, rendering, and the committed docs/conformance.md as the pytest check reads it."""

from __future__ import annotations

import pytest

from tests.support import conformance
from tests.support.command_shapes import Shape, client_shape, kubectl_shape


@pytest.mark.parametrize(
    ("args", "shape", "resources"),
    [
        (
            ["get", "eventtypes.v1beta2.eventing.knative.dev", "pr", "-n", "a", "-o", "yaml"],
            "kubectl get <type> <name> -n <ns> -o yaml",
            ("eventtypes",),
        ),
        (
            ["get", "--namespace=b", "--output", "yaml", "eventtype", "pr"],
            "kubectl get <type> <name> -n <ns> -o yaml",
            ("eventtypes",),
        ),
        (
            ["get", "-ojsonpath={.items}", "ns"],
            "kubectl get <type> -o jsonpath=<template>",
            ("namespaces",),
        ),
        (
            ["get", "eventtypes,triggers", "-A", "-o", "name"],
            "kubectl get <types> -A -o name",
            ("eventtypes", "triggers"),
        ),
        (
            ["create", "secret", "generic", "s", "--from-literal=a=b", "-n", "x"],
            "kubectl create secret generic <name> --from-literal <from-literal> -n <ns>",
            ("secrets",),
        ),
        (["apply", "-f", "-"], "kubectl apply -f -", ()),
        (["apply", "-f", "/tmp/dir", "--server-side"], "kubectl apply --server-side -f <path>", ()),
        (
            ["patch", "broker", "b", "--subresource=status", "--type", "merge", "-p", "{}"],
            "kubectl patch <type> <name> --subresource status --type merge -p <patch>",
            ("brokers",),
        ),
        (
            ["label", "svc", "web", "a=b", "c-"],
            "kubectl label <type> <name> <key>=<value> <key>-",
            ("services",),
        ),
        (
            ["auth", "can-i", "list", "brokers", "-A"],
            "kubectl auth can-i <verb> <type> -A",
            ("brokers",),
        ),
        (["explain", "brokers.spec.delivery"], "kubectl explain <type>.<field>", ("brokers",)),
        (
            ["delete", "broker/default", "-n", "x"],
            "kubectl delete <type>/<name> -n <ns>",
            ("brokers",),
        ),
        (["cluster-info"], "kubectl cluster-info", ()),
        (
            ["create", "token", "default", "--kubeconfig=/x", "-n", "x"],
            "kubectl create token <name> -n <ns>",
            ("serviceaccounts",),
        ),
    ],
)
def test_kubectl_shapes(args: list[str], shape: str, resources: tuple[str, ...]) -> None:
    assert kubectl_shape(args) == Shape(shape, resources)


def test_client_shapes_name_the_resource_and_the_query() -> None:
    listed = client_shape("get", "/api/v1/namespaces/{namespace}/secrets", ["watch", "limit"])
    assert listed == Shape("GET /api/v1/namespaces/{namespace}/secrets ?limit&watch", ("secrets",))
    assert client_shape("GET", "/api/v1/namespaces/{name}", []).resources == ("namespaces",)
    custom = "/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}"
    assert client_shape("PATCH", custom, []).resources == ()
    assert client_shape("PATCH", custom, [], {"plural": "brokers"}).resources == ("brokers",)


def test_verdicts_come_from_the_declared_differences() -> None:
    assert conformance.verdict("kubectl get <type> -n <ns>", ["eventtypes"]) == "as on a cluster"
    assert conformance.verdict("kubectl get <types>", ["pods", "brokers", "jobs"]).startswith(
        "differs: jobs, pods: stored as sent"
    )
    assert conformance.verdict("kubectl cluster-info", []).startswith("differs: lists no add-on")


def test_render_then_read_back_the_shapes() -> None:
    recording = conformance.Recording()
    recording.add(recording.kubectl, kubectl_shape(["get", "svc", "-n", "x"]), "ok")
    recording.add(recording.kubectl, kubectl_shape(["get", "svc", "-n", "x"]), "error")
    recording.add(recording.client, client_shape("GET", "/api/v1/services", []), "HTTP 403")
    table = conformance.render(recording, "1.37.1")
    assert (
        "| `kubectl get <type> -n <ns>` | services | error, ok | differs: services: cluster"
        in table
    )
    assert "| `GET /api/v1/services` | services | HTTP 403 |" in table
    assert conformance.committed_shapes(table) == recording.shapes()


def test_the_committed_table_has_a_verdict_on_every_row() -> None:
    text = conformance.TABLE.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert rows, "docs/conformance.md has no rows: run scripts/conformance"
    for row in rows:
        assert row.rstrip(" |").endswith("as on a cluster") or "| differs: " in row, row
