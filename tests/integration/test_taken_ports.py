"""A port already in use: the console script says which port and which flag, in one line, and
exits with status 2 (no traceback), for serve's own port, its embedded control plane's port,
the standalone control plane's port and the embedded Broker ingress' port."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.controlplane import REPO

SCRIPT = Path(sys.executable).parent / "event-registry"


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port held by a listening socket for the test's duration."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def run(*args: str, log_level: str = "warning") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args, "--log-level", log_level],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def serve_args(
    data_dir: Path, port: int, controlplane_port: int, ingress_port: int = 0
) -> list[str]:
    return [
        "serve",
        "--cluster",
        "embedded",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
        "--controlplane-port",
        str(controlplane_port),
        "--ingress-port",
        str(ingress_port),
    ]


def test_serve_on_a_taken_port_names_it_and_the_flag(taken_port: int, tmp_path: Path) -> None:
    done = run(*serve_args(tmp_path, taken_port, 0))
    assert done.returncode == 2, done
    assert done.stderr == (
        f"error: port {taken_port} on 127.0.0.1 is in use; choose another with --port\n"
    )
    assert done.stdout == ""


def test_serve_with_a_taken_control_plane_port_names_its_flag(
    taken_port: int, tmp_path: Path
) -> None:
    done = run(*serve_args(tmp_path, 0, taken_port))
    assert done.returncode == 2, done
    assert done.stderr == (
        f"error: port {taken_port} on 127.0.0.1 is in use; "
        "choose another with --controlplane-port\n"
    )
    assert "registry:" not in done.stdout


def test_the_control_plane_on_a_taken_port_names_it(taken_port: int, tmp_path: Path) -> None:
    done = run(
        "controlplane",
        "--data-dir",
        str(tmp_path),
        "--port",
        str(taken_port),
        "--ingress-port",
        "0",
    )
    assert done.returncode == 2, done
    assert done.stderr == (
        f"error: port {taken_port} on 127.0.0.1 is in use; choose another with --port\n"
    )


def test_with_info_logging_the_error_is_still_one_line_and_no_traceback(
    taken_port: int, tmp_path: Path
) -> None:
    done = run(*serve_args(tmp_path, taken_port, 0), log_level="info")
    assert done.returncode == 2, done
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: port {taken_port} on 127.0.0.1 is in use; choose another with --port"
    ]
    assert "Traceback" not in done.stderr


def test_serve_with_a_taken_ingress_port_names_its_flag(taken_port: int, tmp_path: Path) -> None:
    done = run(*serve_args(tmp_path, 0, 0, taken_port))
    assert done.returncode == 2, done
    assert done.stderr == (
        f"error: port {taken_port} on 127.0.0.1 is in use; choose another with --ingress-port\n"
    )
    assert "registry:" not in done.stdout


def test_the_control_plane_with_a_taken_ingress_port_names_its_flag(
    taken_port: int, tmp_path: Path
) -> None:
    args = ["--data-dir", str(tmp_path), "--port", "0", "--ingress-port", str(taken_port)]
    done = run("controlplane", *args)
    assert done.returncode == 2, done
    assert done.stderr == (
        f"error: port {taken_port} on 127.0.0.1 is in use; choose another with --ingress-port\n"
    )
