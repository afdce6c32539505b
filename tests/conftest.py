"""Shared fixtures (one control plane process per test module, a namespace per test) and the
session's rules: tests marked ``knative_crds`` are collected only when Knative's CRD manifests
are present (see CONTRIBUTING.md), and no child process outlives the session."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import conformance, processes
from tests.support.controlplane import (
    KNATIVE_CRDS,
    KNATIVE_CRDS_VARIABLE,
    ControlPlaneProcess,
    knative_crds_present,
)

_names = itertools.count()
_not_run = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    conformance.add_option(parser)


def pytest_configure(config: pytest.Config) -> None:
    conformance.start()
    if os.environ.get(KNATIVE_CRDS_VARIABLE) and not knative_crds_present():
        raise pytest.UsageError(
            f"{KNATIVE_CRDS_VARIABLE}={KNATIVE_CRDS} holds no Knative CRD manifests "
            "(eventtype.yaml, broker.yaml, ...)"
        )


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    # what the tests send to the control plane must be in docs/conformance.md (checked last)
    conformance.append_check(session, items)
    if knative_crds_present():
        return
    dropped = [item for item in items if item.get_closest_marker("knative_crds")]
    if dropped:
        items[:] = [item for item in items if not item.get_closest_marker("knative_crds")]
        config.hook.pytest_deselected(items=dropped)
        config.stash[_not_run] = len(dropped)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    dropped = config.stash.get(_not_run, 0)
    if dropped:
        terminalreporter.write_line(
            f"Knative CRD conformance suite not run ({dropped} tests): no CRD manifests at "
            f"{KNATIVE_CRDS}; set {KNATIVE_CRDS_VARIABLE} to a folder with knative/eventing's "
            "config/core/resources CRDs to run it"
        )


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    conformance.note_report(report)


def pytest_sessionfinish(session: pytest.Session) -> None:
    processes.stop_leftovers()


@pytest.fixture(scope="module")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    # Without the readiness controller: these tests check generic API behaviour, and status
    # writes by a controller would interleave with theirs.
    plane = ControlPlaneProcess(tmp_path_factory.mktemp("controlplane"), "--no-controllers").start()
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture
def namespace(controlplane: ControlPlaneProcess, request: pytest.FixtureRequest) -> str:
    """A fresh namespace for one test, created through kubectl."""
    base = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower())[:40].strip("-")
    name = f"{base}-{next(_names)}"
    controlplane.kubectl("create", "namespace", name, check=True)
    return name


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
