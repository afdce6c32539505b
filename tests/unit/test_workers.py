"""``serve --workers``: the pure steps of supervision, the shared cursor key and the shared
port (sockets on loopback, no process started)."""

from __future__ import annotations

import contextlib
import signal
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from event_registry.app import listening, workers
from event_registry.app.settings import ServeSettings
from event_registry.cli import _parser
from event_registry.hub import cursors

# restarts ------------------------------------------------------------------------------------


def test_a_worker_that_keeps_dying_waits_longer_each_time_up_to_the_cap() -> None:
    delays = []
    delay = 0.0
    for _ in range(10):
        delay = workers.restart_delay(lived=1.0, previous=delay)
        delays.append(delay)
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert delays[-1] == workers.MAX_RESTART_DELAY
    assert delays == sorted(delays)


def test_a_worker_that_ran_steadily_is_restarted_after_the_first_delay_again() -> None:
    assert workers.restart_delay(lived=workers.STEADY, previous=16.0) == workers.RESTART_DELAY
    assert workers.restart_delay(lived=workers.STEADY - 1, previous=16.0) == 30.0


def test_exits_are_described_by_status_or_signal() -> None:
    assert workers.describe_exit(0) == "exited with status 0"
    assert workers.describe_exit(3) == "exited with status 3"
    assert workers.describe_exit(-signal.SIGKILL) == "was killed by SIGKILL"


def test_the_header_names_the_worker_and_its_process() -> None:
    assert workers.worker_header(1, 4242) == ("X-Registry-Worker", "1; pid=4242")


# the cursor key ------------------------------------------------------------------------------


def test_without_a_key_file_one_is_made_in_the_data_dir_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    settings = ServeSettings(data_dir=tmp_path / "data")
    path = workers.cursor_key_file(settings)
    assert path == tmp_path / "data" / "cursor-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = cursors.key_from_secret(path.read_bytes())
    assert len(key) == 64
    assert workers.cursor_key_file(settings) == path
    assert path.read_bytes().strip() == key, "an existing usable key is kept"
    assert [p.name for p in path.parent.iterdir()] == ["cursor-key"]


def test_an_unusable_key_file_in_the_data_dir_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "cursor-key").write_text("short\n")
    path = workers.cursor_key_file(ServeSettings(data_dir=tmp_path))
    assert len(cursors.key_from_secret(path.read_bytes())) == 64


def test_a_given_key_file_is_used_as_it_is(tmp_path: Path) -> None:
    given = tmp_path / "mine"
    given.write_text("x" * 32)
    settings = ServeSettings(data_dir=tmp_path / "data", cursor_key_file=given)
    assert workers.cursor_key_file(settings) == given
    assert not (tmp_path / "data").exists()


# the flag ------------------------------------------------------------------------------------


def test_workers_default_to_one_and_must_be_at_least_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _parser().parse_args(["serve"]).workers == 1
    assert _parser().parse_args(["serve", "--workers", "4"]).workers == 4
    for bad in ("0", "-1", "two"):
        with pytest.raises(SystemExit) as exit_:
            _parser().parse_args(["serve", "--workers", bad])
        assert exit_.value.code == 2
        assert "--workers" in capsys.readouterr().err


# the shared port -----------------------------------------------------------------------------


@pytest.fixture
def reserved() -> Iterator[socket.socket]:
    sock = listening.reserve("127.0.0.1", 0, flag="--port")
    with contextlib.closing(sock):
        yield sock


def accepted(sock: socket.socket) -> int:
    sock.setblocking(False)
    count = 0
    while True:
        try:
            connection, _ = sock.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


def test_a_reserved_port_takes_no_connection(reserved: socket.socket) -> None:
    port = reserved.getsockname()[1]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_a_reserved_port_is_refused_to_a_server_that_does_not_share_it(
    reserved: socket.socket,
) -> None:
    port = reserved.getsockname()[1]
    with pytest.raises(listening.PortInUse) as error:
        listening.listen("127.0.0.1", port, flag="--port")
    assert error.value.port == port


def test_a_port_taken_by_another_server_cannot_be_reserved() -> None:
    with contextlib.closing(listening.listen("127.0.0.1", 0, flag="--x")) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(listening.PortInUse) as error:
            listening.reserve("127.0.0.1", port, flag="--port")
    assert str(error.value) == f"port {port} on 127.0.0.1 is in use; choose another with --port"


def test_connections_spread_over_the_sockets_sharing_a_reserved_port(
    reserved: socket.socket,
) -> None:
    port = reserved.getsockname()[1]
    shares = [listening.listen("127.0.0.1", port, flag="--port", reuse_port=True) for _ in "ab"]
    clients = []
    try:
        for _ in range(64):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        counts = [accepted(share) for share in shares]
    finally:
        for sock in [*clients, *shares]:
            sock.close()
    assert sum(counts) == 64
    assert min(counts) > 0, counts  # each gets half on average; none at all: p = 2**-63
