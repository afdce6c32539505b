"""The client's and kreg's pure parts, without a server: backoff, resumption state, the
watch view, configuration precedence, table and age formatting, exit codes, --ref parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
import pytest

from event_registry_client import errors, results
from event_registry_client.backoff import Backoff
from event_registry_client.changes import (
    ChangeKind,
    EventTypeChange,
    Reconnecting,
    ResyncRequired,
)
from event_registry_client.cli import describing, exits, output
from event_registry_client.cli.config import ConfigError, resolve
from event_registry_client.cli.main import parse_ref
from event_registry_client.cli.watching import View, event_line
from event_registry_client.models import EventType
from event_registry_client.subscriptions import Resumption


def event_type(name: str, *, ready: bool | None = True, consumable: bool = True) -> EventType:
    return EventType.from_json(
        {
            "namespace": "ns",
            "name": name,
            "type": f"dev.example.{name}",
            "ready": ready,
            "consumable": consumable,
        }
    )


def change(
    kind: ChangeKind, name: str | None, cursor: str = "c", **fields: object
) -> EventTypeChange:
    return EventTypeChange(kind, None if name is None else event_type(name), cursor, **fields)  # type: ignore[arg-type]


# backoff -------------------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_maximum_and_jitters_in_the_upper_half() -> None:
    backoff = Backoff(initial=1.0, maximum=8.0)
    assert [backoff.delay(attempt, lambda: 0.0) for attempt in (1, 2, 3, 4, 5, 9)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        4.0,
        4.0,
    ]
    assert [backoff.delay(attempt, lambda: 1.0) for attempt in (1, 2, 3, 4, 5)] == [
        1.0,
        2.0,
        4.0,
        8.0,
        8.0,
    ]
    assert 1.0 <= backoff.delay(2) <= 2.0


# resumption ----------------------------------------------------------------------------------


def test_resumption_resumes_after_the_last_event_but_not_inside_the_initial_set() -> None:
    state = Resumption(include_existing=True, cursor=None, initial_pending=True)
    base = {"namespace": "ns", "filter": None}
    assert state.variables(base) == {**base, "includeExisting": True, "since": None}
    state.passed(change(ChangeKind.EXISTING, "a", "c1"))
    assert state.cursor is None  # an EXISTING cursor is no resume point
    state.passed(change(ChangeKind.INITIAL_SET_COMPLETE, None, "c2"))
    state.passed(change(ChangeKind.ADDED, "b", "c3"))
    assert state.variables(base) == {**base, "includeExisting": False, "since": "c3"}
    state.resync()
    assert state.variables(base) == {**base, "includeExisting": True, "since": None}
    assert state.initial_pending


def test_resumption_from_a_given_cursor_never_asks_for_existing() -> None:
    state = Resumption(include_existing=False, cursor="given", initial_pending=False)
    assert state.variables({})["since"] == "given"
    assert state.variables({})["includeExisting"] is False


# the watch view ------------------------------------------------------------------------------


def test_the_view_keeps_old_rows_until_a_resync_completes() -> None:
    view = View(incoming={})
    view.apply(change(ChangeKind.EXISTING, "a"))
    view.apply(change(ChangeKind.EXISTING, "b"))
    assert view.ordered() == []  # the initial set is not shown half-done
    view.apply(change(ChangeKind.INITIAL_SET_COMPLETE, None))
    assert [e.name for e in view.ordered()] == ["a", "b"]
    view.apply(Reconnecting(1, 0.5, "closed 1012"))
    assert view.status.startswith("reconnecting")
    view.apply(ResyncRequired("query again"))
    view.apply(change(ChangeKind.EXISTING, "b"))
    view.apply(change(ChangeKind.EXISTING, "c"))
    assert [e.name for e in view.ordered()] == ["a", "b"]
    view.apply(change(ChangeKind.INITIAL_SET_COMPLETE, None))
    assert [e.name for e in view.ordered()] == ["b", "c"]
    view.apply(change(ChangeKind.UPDATED, "c", filter_transition="LEFT"))
    view.apply(change(ChangeKind.DELETED, "b"))
    view.apply(change(ChangeKind.ADDED, "d"))
    assert [e.name for e in view.ordered()] == ["d"]
    assert view.status == "live"


def test_event_lines() -> None:
    assert (
        event_line(change(ChangeKind.UPDATED, "a"))
        == "UPDATED ns/a ready=True consumable=True reason="
    )
    assert event_line(change(ChangeKind.INITIAL_SET_COMPLETE, None)) == "INITIAL_SET_COMPLETE"
    assert event_line(ResyncRequired("query again")) == "RESYNC_REQUIRED query again"
    assert event_line(Reconnecting(2, 1.25, "gone")) == "RECONNECTING attempt=2 delay=1.2s gone"


# configuration -------------------------------------------------------------------------------


def test_flags_beat_the_environment_which_beats_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("url: http://file/graphql\ntoken: file-token\nnamespace: from-file\n")
    env = {"KREG_CONFIG": str(config)}
    assert resolve(environ=env) == resolve(environ=env)
    from_file = resolve(environ=env)
    assert (from_file.url, from_file.token, from_file.namespace) == (
        "http://file/graphql",
        "file-token",
        "from-file",
    )
    env_too = {**env, "KREG_URL": "http://env/graphql", "KREG_TOKEN": "env-token"}
    from_env = resolve(environ=env_too)
    assert (from_env.url, from_env.token, from_env.namespace) == (
        "http://env/graphql",
        "env-token",
        "from-file",
    )
    flagged = resolve(url="http://flag/graphql", namespace="flag-ns", environ=env_too)
    assert (flagged.url, flagged.token, flagged.namespace) == (
        "http://flag/graphql",
        "env-token",
        "flag-ns",
    )


def test_defaults_and_the_xdg_location(tmp_path: Path) -> None:
    settings = resolve(environ={"XDG_CONFIG_HOME": str(tmp_path)})
    assert (settings.url, settings.token, settings.namespace) == (
        "http://127.0.0.1:8080/graphql",
        None,
        "default",
    )
    (tmp_path / "kreg").mkdir()
    (tmp_path / "kreg" / "config.yaml").write_text("namespace: xdg\n")
    assert resolve(environ={"XDG_CONFIG_HOME": str(tmp_path)}).namespace == "xdg"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("url: [unclosed", "is not valid YAML"),
        ("- a list", "must be a mapping"),
        ("server: http://x\n", "unknown key(s) server"),
    ],
)
def test_a_bad_config_file_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve(environ={"KREG_CONFIG": str(config)})


# output --------------------------------------------------------------------------------------


def test_age_reads_like_kubectl() -> None:
    now = datetime(2026, 1, 10, 12, 0, 0, tzinfo=UTC)
    ages = [
        output.age(stamp, now)
        for stamp in (
            "2026-01-10T11:59:15Z",
            "2026-01-10T11:48:00Z",
            "2026-01-10T07:00:00Z",
            "2026-01-07T12:00:00Z",
            "",
            "not a time",
        )
    ]
    assert ages == ["45s", "12m", "5h", "3d", "", ""]


def test_tables_align_columns_three_spaces_apart() -> None:
    text = output.table([["a", "longer"], ["bbb", ""]], ["NAME", "X"])
    assert text.splitlines() == ["NAME   X", "a      longer", "bbb"]


# exit codes and --ref ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.NotFoundError("x"), 3),
        (errors.UnauthorizedError("x"), 4),
        (errors.ForbiddenError("x"), 4),
        (errors.UnreachableError("x"), 5),
        (errors.UnavailableError("x"), 5),
        (errors.InvalidInputError("x"), 6),
        (errors.ConflictError("x"), 7),
        (errors.GraphQLError(["x"]), 1),
        (errors.ServerError("x"), 1),
    ],
)
def test_exit_codes(error: errors.RegistryError, code: int) -> None:
    assert exits.code_for(error) == code


def test_an_unavailable_result_is_a_retryable_error_naming_the_wait() -> None:
    message = "the cluster did not answer the write (Unreachable (0): refused); retry"
    raw = {"__typename": "Unavailable", "message": message, "retryAfterSeconds": 2}
    failure = results.failure_from_json(raw)
    assert failure == results.Unavailable(message, 2)
    assert results.delete_result(raw) == failure
    with pytest.raises(errors.UnavailableError) as raised:
        results.unwrap(failure)
    assert str(raised.value) == f"{message} (retry after 2s)"
    assert raised.value.retry_after_seconds == 2
    assert exits.code_for(raised.value) == exits.UNREACHABLE


def test_refs_name_kind_and_name_with_an_optional_api_version() -> None:
    assert parse_ref("Service/orders", "ns").as_input() == {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "name": "orders",
        "namespace": "ns",
    }
    assert parse_ref("v1/Service/orders", "ns").api_version == "v1"
    assert parse_ref("apps/v1/Deployment/web", "ns").api_version == "apps/v1"
    for bad in ("orders", "a/b/c/d/e", "Service/"):
        with pytest.raises(click.BadParameter):
            parse_ref(bad, "ns")


def test_describe_lists_every_producer_then_the_owner_and_reference() -> None:
    source = {"apiVersion": "sources.knative.dev/v1", "kind": "PingSource", "name": "tick"}
    described = describing.describe_event_type(
        EventType.from_json(
            {
                "namespace": "ns",
                "name": "tick",
                "type": "dev.knative.sources.ping",
                "consumable": False,
                "producers": [source, {**source, "kind": "ApiServerSource", "name": "api"}],
                "owner": source,
            }
        )
    ).splitlines()
    at = described.index("Producers:")
    assert described[at + 1 : at + 3] == [
        "  PingSource/tick sources.knative.dev/v1",
        "  ApiServerSource/api sources.knative.dev/v1",
    ]
    assert "Owner:          PingSource/tick sources.knative.dev/v1" in described
    assert "Reference:      <none>" in described
    orphan = describing.describe_event_type(event_type("orphan")).splitlines()
    assert "Producers:      <none>" in orphan
