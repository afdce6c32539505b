"""Which cluster `serve` uses: explicit kubeconfig, in-cluster, opted-in kubeconfig, embedded."""

from __future__ import annotations

from pathlib import Path

import pytest

from event_registry.cluster.connecting import Connection, choose

HOME = Path("/home/user")


@pytest.fixture
def token(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text("service-account-token")
    return path


def test_explicit_kubeconfig_wins_over_everything(token: Path) -> None:
    chosen = choose(
        kubeconfig=Path("/k"),
        context="prod",
        cluster="auto",
        environ={"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBECONFIG": "/env"},
        home=HOME,
        token_file=token,
    )
    assert chosen == Connection("kubeconfig", Path("/k"), "prod")


def test_context_alone_uses_the_default_kubeconfig() -> None:
    chosen = choose(kubeconfig=None, context="dev", cluster="auto", environ={}, home=HOME)
    assert chosen == Connection("kubeconfig", HOME / ".kube" / "config", "dev")


def test_in_cluster_when_running_in_a_pod(token: Path) -> None:
    environ = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBECONFIG": "/env"}
    chosen = choose(
        kubeconfig=None, context=None, cluster="auto", environ=environ, home=HOME, token_file=token
    )
    assert chosen.mode == "in-cluster"


def test_service_host_without_a_token_is_not_in_cluster(tmp_path: Path) -> None:
    environ = {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}
    chosen = choose(
        kubeconfig=None,
        context=None,
        cluster="auto",
        environ=environ,
        home=HOME,
        token_file=tmp_path / "missing",
    )
    assert chosen.mode == "embedded"


def test_a_stray_kubeconfig_is_never_used_unless_asked(tmp_path: Path) -> None:
    environ = {"KUBECONFIG": "/env/config"}
    chosen = choose(
        kubeconfig=None,
        context=None,
        cluster="auto",
        environ=environ,
        home=HOME,
        token_file=tmp_path / "missing",
    )
    assert chosen == Connection("embedded")
    asked = choose(kubeconfig=None, context=None, cluster="kubeconfig", environ=environ, home=HOME)
    assert asked == Connection("kubeconfig", Path("/env/config"))


def test_kubeconfig_mode_falls_back_to_home(tmp_path: Path) -> None:
    chosen = choose(kubeconfig=None, context=None, cluster="kubeconfig", environ={}, home=HOME)
    assert chosen == Connection("kubeconfig", HOME / ".kube" / "config")


def test_descriptions_name_the_mode() -> None:
    assert "embedded" in Connection("embedded").describe()
    assert "/k" in Connection("kubeconfig", Path("/k"), "c").describe()
    assert "in-cluster" in Connection("in-cluster").describe()
