"""Shared fixtures: one control plane process per test module, a namespace per test."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.controlplane import ControlPlaneProcess

_names = itertools.count()


@pytest.fixture(scope="module")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    # Without the readiness controller: these tests check generic API behaviour, and status
    # writes by a controller would interleave with theirs.
    plane = ControlPlaneProcess(tmp_path_factory.mktemp("controlplane"), "--no-controllers").start()
    yield plane
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
