"""The deployment manifests are valid and grant exactly what the registry uses.

No container engine or real cluster exists on the test machines, so the image is not built
here; this checks what can be checked: the YAML, and that RBAC covers every resource and verb
the cluster layer uses — and nothing more.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from event_registry.cli import _parser
from event_registry.cluster import kinds, registry_role

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "registry.yaml"
MONITORING = DEPLOY.parent / "monitoring.yaml"
DASHBOARD = DEPLOY.parent / "grafana" / "event-registry.json"


def documents() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(DEPLOY.read_text()) if doc]


def test_every_document_has_kind_and_name() -> None:
    for doc in documents():
        assert doc["apiVersion"]
        assert doc["metadata"]["name"]


def granted_by(rules: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


READ = ("get", "list", "watch")
RBAC = ("roles", "rolebindings", "clusterroles", "clusterrolebindings")
NEEDED = (
    # what the informers watch: the cache, and RBAC (its changes flush access decisions)
    {
        (r.group, r.plural, verb)
        for r in (kinds.NAMESPACES, kinds.BROKERS, kinds.TRIGGERS, kinds.event_types())
        for verb in READ
    }
    | {("rbac.authorization.k8s.io", plural, verb) for plural in RBAC for verb in READ}
    # who the caller is, and what it may do
    | {
        ("authentication.k8s.io", "tokenreviews", "create"),
        ("authorization.k8s.io", "subjectaccessreviews", "create"),
    }
    # writes made as the caller
    | {("", resource, "impersonate") for resource in ("users", "groups", "serviceaccounts")}
    | {("authentication.k8s.io", "uids", "impersonate")}
)
"""--auth=kubernetes: reads, reviews and impersonation; no write right of its own."""


def test_rbac_grants_exactly_what_the_registry_uses() -> None:
    role = next(doc for doc in documents() if doc["kind"] == "ClusterRole")
    assert granted_by(role["rules"]) == NEEDED


def test_the_embedded_registry_account_has_the_same_rules() -> None:
    assert granted_by(registry_role.rules()) == NEEDED


def test_the_deployment_runs_in_kubernetes_auth_mode_as_its_service_account() -> None:
    deployment = next(doc for doc in documents() if doc["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert "--auth=kubernetes" in pod["containers"][0]["args"]
    binding = next(doc for doc in documents() if doc["kind"] == "ClusterRoleBinding")
    (subject,) = binding["subjects"]
    assert subject == {
        "kind": "ServiceAccount",
        "name": pod["serviceAccountName"],
        "namespace": deployment["metadata"]["namespace"],
    }


def test_probes_use_the_health_endpoints() -> None:
    deployment = next(doc for doc in documents() if doc["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_the_service_monitor_scrapes_the_metrics_path_on_the_services_port() -> None:
    """(That every metric the dashboard queries is served: tests/integration/test_metrics.py,
    against a real scrape.)"""
    (monitor,) = [doc for doc in yaml.safe_load_all(MONITORING.read_text()) if doc]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["kind"] == "ServiceMonitor"
    service = next(doc for doc in documents() if doc["kind"] == "Service")
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"]["matchNames"] == [service["metadata"]["namespace"]]
    port_names = {port["name"] for port in service["spec"]["ports"]}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in port_names
    assert endpoint["path"] == "/metrics"
    deployment = next(doc for doc in documents() if doc["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    target = next(
        p["targetPort"] for p in service["spec"]["ports"] if p["name"] == endpoint["port"]
    )
    assert target in {port["name"] for port in container["ports"]}


def test_the_dashboard_queries_only_registry_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert expressions
    for expr in expressions:
        metrics = re.findall(r"\bevent_registry_\w+", expr)
        assert metrics, expr
        assert "namespace" not in expr, "the registry's metrics carry no namespace label"


# replicas ---------------------------------------------------------------------------------------

AVAILABILITY = DEPLOY.parent / "availability.yaml"


def deployment_pod() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(the Deployment, its pod spec, its container)."""
    deployment = next(doc for doc in documents() if doc["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    return deployment, pod, pod["containers"][0]


def flag(container: dict[str, Any], name: str) -> str:
    args: list[str] = container["args"]
    (value,) = [a.split("=", 1)[1] for a in args if a.startswith(f"{name}=")]
    return value


def test_two_replicas_and_a_budget_that_keeps_one_serving() -> None:
    deployment, _, _ = deployment_pod()
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    (budget,) = [doc for doc in yaml.safe_load_all(AVAILABILITY.read_text()) if doc]
    assert (budget["apiVersion"], budget["kind"]) == ("policy/v1", "PodDisruptionBudget")
    assert budget["spec"]["minAvailable"] == 1
    assert budget["metadata"]["namespace"] == deployment["metadata"]["namespace"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_every_replica_reads_the_cursor_key_from_one_secret() -> None:
    _, pod, container = deployment_pod()
    key_file = Path(flag(container, "--cursor-key-file"))
    (mount,) = [m for m in container["volumeMounts"] if key_file.is_relative_to(m["mountPath"])]
    assert mount["readOnly"] is True
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    secret = volume["secret"]["secretName"]
    assert key_file.name not in {"", mount["mountPath"]}
    assert f"create secret generic {secret}" in AVAILABILITY.read_text()
    assert f"--from-literal={key_file.name}=" in AVAILABILITY.read_text()


def test_the_grace_period_outlasts_the_pre_stop_pause_and_the_drain() -> None:
    _, pod, container = deployment_pod()
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    drain = float(flag(container, "--drain-timeout"))
    assert pod["terminationGracePeriodSeconds"] >= pause + drain + 10


def test_the_containers_arguments_are_flags_serve_accepts(tmp_path: Path) -> None:
    _, _, container = deployment_pod()
    key = tmp_path / "key"
    key.write_text("a secret of sixteen bytes or more\n")
    args = [
        f"--cursor-key-file={key}" if a.startswith("--cursor-key-file=") else a
        for a in container["args"]
    ]
    parsed = _parser().parse_args(["serve", *args])
    assert parsed.drain_timeout == float(flag(container, "--drain-timeout"))
    assert parsed.cursor_key_file == key
