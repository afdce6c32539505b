"""The design note's manifests, rewritten to current API versions, apply cleanly."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.controlplane import ControlPlaneProcess

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_examples_create_cleanly_and_read_back(controlplane: ControlPlaneProcess) -> None:
    created = controlplane.kubectl("create", "-f", str(EXAMPLES))
    assert created.returncode == 0, created.stderr
    assert "Warning" not in created.stderr
    listed = json.loads(
        controlplane.kubectl(
            "get",
            "eventtypes.v1beta2.eventing.knative.dev",
            "-n",
            "default",
            "-o",
            "json",
            check=True,
        ).stdout
    )
    by_type = {item["spec"]["type"]: item for item in listed["items"]}
    assert set(by_type) == {
        "com.github.pull_request",
        "org.bitbucket.repo:fork",
        "dev.knative.source.github.push",
        "dev.knative.source.github.pull_request",
        "dev.knative.source.github.issues",
    }
    assert by_type["org.bitbucket.repo:fork"]["spec"]["reference"]["name"] == "dev"
    generated = by_type["dev.knative.source.github.push"]["metadata"]["name"]
    assert generated.startswith("dev.knative.source.github.push-")
    assert len(generated) == len("dev.knative.source.github.push-") + 5
    trigger = json.loads(
        controlplane.kubectl(
            "get",
            "triggers.eventing.knative.dev",
            "my-service-trigger",
            "-n",
            "default",
            "-o",
            "json",
            check=True,
        ).stdout
    )
    assert trigger["spec"]["filter"]["attributes"]["type"] == "dev.knative.source.github.push"


def test_v1beta3_example_reads_back_in_every_version(controlplane: ControlPlaneProcess) -> None:
    controlplane.kubectl("apply", "-f", str(EXAMPLES / "13-eventtype-v1beta3.yaml"))
    name = "dev.knative.source.github.issues"
    for version, field in (("v1beta3", "attributes"), ("v1beta2", "type"), ("v1beta1", "type")):
        obj = json.loads(
            controlplane.kubectl(
                "get",
                f"eventtypes.{version}.eventing.knative.dev",
                name,
                "-n",
                "default",
                "-o",
                "json",
                check=True,
            ).stdout
        )
        assert obj["apiVersion"] == f"eventing.knative.dev/{version}"
        assert field in obj["spec"], (version, obj["spec"])
