"""Every ``kreg`` command as a user runs it: the installed console script as a subprocess,
against a real ``event-registry serve`` (open mode; one test starts a tokens-mode one),
outputs and exit codes checked.

Namespace ``shop`` holds Broker ``default``, two EventTypes on it and one on a Broker that
does not exist; ``billing`` one EventType. Commands that write use names of their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.clients.kreg_support import free_port, run_kreg
from tests.support.registry import RegistryProcess, broker, eventtype, write_tokens

SHOP, BILLING = "shop", "billing"
EVENT_TYPE_HEADER = ["NAME", "TYPE", "SOURCE", "BROKER", "READY", "REASON", "CONSUMABLE"]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    base: Path = tmp_path_factory.mktemp("kreg-commands")
    process = RegistryProcess(base / "data")
    process.start()
    try:
        process.wait_ready()
        for namespace in (SHOP, BILLING):
            process.kubectl("create", "namespace", namespace, check=True)
        process.apply(
            broker("default", SHOP),
            eventtype(
                "order-created",
                SHOP,
                type="com.shop.order.created",
                source="https://shop.example.com",
                schema="https://shop.example.com/order.json",
                description="An order was placed",
                broker="default",
            ),
            eventtype(
                "order-paid",
                SHOP,
                type="com.shop.order.paid",
                source="https://pay",
                broker="default",
            ),
            eventtype("orphan", SHOP, type="com.shop.orphan", broker="missing"),
            eventtype("invoice-sent", BILLING, type="com.billing.invoice.sent", broker="default"),
        )
        # the readiness controller has reconciled every EventType
        for _ in range(200):
            listed = run_kreg("get", "eventtypes", "-A", "-o", "json", url=process.url)
            if all(item["ready"] is not None for item in json.loads(listed.stdout)["items"]):
                break
        yield process
    finally:
        process.stop()


def rows(text: str) -> list[list[str]]:
    """A kreg table: the header's titles, then each row cut at the titles' columns (the way
    kubectl's tables are read: cells may be empty or hold spaces)."""
    lines = text.splitlines()
    header = lines[0].split()
    starts = []
    position = 0
    for title in header:
        position = lines[0].index(title, position)
        starts.append(position)
        position += len(title)
    ends = [*starts[1:], None]
    return [header] + [
        [line[start:end].strip() for start, end in zip(starts, ends, strict=True)]
        for line in lines[1:]
    ]


def ok(*args: str, url: str) -> str:
    result = run_kreg(*args, url=url)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def fails(code: int, *args: str, url: str | None, **options: object) -> str:
    """The one stderr line of a failing command with exit ``code``."""
    result = run_kreg(*args, url=url, **options)  # type: ignore[arg-type]
    assert result.returncode == code, (args, result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# get -----------------------------------------------------------------------------------------


def test_get_eventtypes_has_kubectl_like_columns(registry: RegistryProcess) -> None:
    table = rows(ok("get", "eventtypes", "-n", SHOP, url=registry.url))
    assert table[0] == EVENT_TYPE_HEADER
    by_name = {row[0]: row for row in table[1:]}
    assert by_name["order-created"] == [
        "order-created",
        "com.shop.order.created",
        "https://shop.example.com",
        "default",
        "True",
        "",
        "True",
    ]
    orphan = by_name["orphan"]
    assert orphan[:4] == ["orphan", "com.shop.orphan", "", "missing"]
    assert orphan[-1] == "False"
    assert [row[0] for row in table[1:]] == ["order-created", "order-paid", "orphan"]


def test_get_eventtypes_in_every_namespace_and_filtered(registry: RegistryProcess) -> None:
    table = rows(ok("get", "et", "-A", url=registry.url))
    assert table[0] == ["NAMESPACE", *EVENT_TYPE_HEADER]
    assert [(row[0], row[1]) for row in table[1:]] == [
        (BILLING, "invoice-sent"),
        (SHOP, "order-created"),
        (SHOP, "order-paid"),
        (SHOP, "orphan"),
    ]
    prefixed = ok(
        "get",
        "eventtypes",
        "-n",
        SHOP,
        "--type-prefix",
        "com.shop.order.",
        "-o",
        "name",
        url=registry.url,
    )
    assert prefixed.splitlines() == ["eventtype/order-created", "eventtype/order-paid"]
    consumable = ok("get", "eventtypes", "-A", "--consumable", "-o", "name", url=registry.url)
    assert "eventtype/orphan" not in consumable.splitlines()
    assert "eventtype/order-paid" in consumable.splitlines()
    by_broker = ok(
        "get", "eventtypes", "-n", SHOP, "--broker", "missing", "-o", "name", url=registry.url
    )
    assert by_broker.splitlines() == ["eventtype/orphan"]


def test_get_eventtypes_wide_json_yaml_and_one_by_name(registry: RegistryProcess) -> None:
    wide = rows(ok("get", "eventtypes", "-n", SHOP, "-o", "wide", url=registry.url))
    assert wide[0] == [*EVENT_TYPE_HEADER, "SCHEMA", "DESCRIPTION", "CONSUMERS", "AGE"]
    assert "https://shop.example.com/order.json" in wide[1]
    assert "An order was placed" in wide[1]
    listed = json.loads(ok("get", "eventtypes", "-n", SHOP, "-o", "json", url=registry.url))
    assert [item["name"] for item in listed["items"]] == ["order-created", "order-paid", "orphan"]
    assert listed["items"][0]["broker"] == {"name": "default", "ready": True}
    one = yaml.safe_load(
        ok("get", "eventtype", "order-paid", "-n", SHOP, "-o", "yaml", url=registry.url)
    )
    assert (one["name"], one["type"], one["consumable"]) == (
        "order-paid",
        "com.shop.order.paid",
        True,
    )
    assert rows(ok("get", "eventtype", "orphan", "-n", SHOP, url=registry.url))[1][0] == "orphan"
    assert ok("get", "eventtypes", "-n", "nothing-here", url=registry.url).strip() == (
        "No resources found."
    )


def test_get_brokers_triggers_and_namespaces(registry: RegistryProcess) -> None:
    brokers = rows(ok("get", "brokers", "-A", url=registry.url))
    assert brokers[0] == ["NAMESPACE", "NAME", "URL", "AGE", "READY", "REASON"]
    assert [row[:2] for row in brokers[1:]] == [[SHOP, "default"]]
    assert "True" in brokers[1]
    assert rows(ok("get", "brokers", "-n", SHOP, "-o", "wide", url=registry.url))[0][-1] == "CLASS"
    ok(
        "subscribe",
        "order-created",
        "-n",
        SHOP,
        "--sink",
        "http://listed.example.com/",
        "--trigger-name",
        "listed",
        url=registry.url,
    )
    triggers = rows(ok("get", "triggers", "-n", SHOP, "-o", "wide", url=registry.url))
    assert triggers[0][:3] == ["NAME", "BROKER", "SUBSCRIBER_URI"]
    assert triggers[0][-1] == "FILTER"
    listed = next(row for row in triggers[1:] if row[0] == "listed")
    assert listed[1:3] == ["default", "http://listed.example.com/"]
    assert "type=com.shop.order.created" in listed[-1]
    namespaces = rows(ok("get", "namespaces", url=registry.url))
    assert namespaces[0] == [
        "NAME",
        "PHASE",
        "BROKERS",
        "EVENTTYPES",
        "READY",
        "CONSUMABLE",
        "TRIGGERS",
    ]
    shop = next(row for row in namespaces if row[0] == SHOP)
    assert shop[1:4] == ["Active", "1", "3"]
    assert shop[5] == "2"  # orphan's Broker does not exist


def test_get_something_missing_is_exit_3(registry: RegistryProcess) -> None:
    line = fails(3, "get", "eventtype", "nope", "-n", SHOP, url=registry.url)
    assert line == 'error: eventtype "nope" not found in namespace shop'
    assert fails(3, "get", "broker", "nope", "-n", SHOP, url=registry.url).startswith("error:")
    assert fails(3, "describe", "trigger", "nope", "-n", SHOP, url=registry.url).startswith(
        "error:"
    )


# describe ------------------------------------------------------------------------------------


def test_describe_an_eventtype(registry: RegistryProcess) -> None:
    ok(
        "subscribe",
        "order-created",
        "-n",
        SHOP,
        "--sink",
        "http://described.example.com/",
        "--trigger-name",
        "described",
        url=registry.url,
    )
    text = ok("describe", "eventtype", "order-created", "-n", SHOP, url=registry.url)
    fields = dict(
        line.split(":", 1) for line in text.splitlines() if line and not line.startswith(" ")
    )
    assert fields["Name"].strip() == "order-created"
    assert fields["Type"].strip() == "com.shop.order.created"
    assert fields["Broker"].strip() == "default (Ready: True)"
    assert fields["Consumable"].strip() == "True"
    assert "described" in fields["Consumers"]
    assert "  type = com.shop.order.created (required)" in text.splitlines()
    assert any(line.split()[:2] == ["Ready", "True"] for line in text.splitlines())
    assert "Producers:" in text
    orphan = ok("describe", "eventtype", "orphan", "-n", SHOP, url=registry.url)
    assert "Broker:         missing (does not exist)" in orphan.splitlines()
    broker_text = ok("describe", "broker", "default", "-n", SHOP, url=registry.url)
    assert "Ready:          True" in broker_text.splitlines()
    trigger_text = ok("describe", "trigger", "described", "-n", SHOP, url=registry.url)
    assert "Subscriber:     http://described.example.com/" in trigger_text.splitlines()


# writes --------------------------------------------------------------------------------------


def test_register_subscribe_and_delete(registry: RegistryProcess) -> None:
    out = ok(
        "register",
        "com.shop.cart.abandoned",
        "-n",
        SHOP,
        "--name",
        "cart-abandoned",
        "--broker",
        "default",
        "--source",
        "https://cart",
        url=registry.url,
    )
    assert out.strip() == "eventtype/cart-abandoned registered"
    missing_broker = run_kreg(
        "register",
        "com.shop.lonely",
        "-n",
        SHOP,
        "--name",
        "lonely",
        "--broker",
        "nowhere",
        url=registry.url,
    )
    assert missing_broker.returncode == 0
    assert "does not exist yet" in missing_broker.stderr
    by_type = ok(
        "subscribe",
        "com.shop.cart.abandoned",
        "-n",
        SHOP,
        "--sink",
        "http://cart-consumer/",
        url=registry.url,
    )
    assert by_type.strip().startswith("trigger/")
    assert by_type.strip().endswith(" created")
    again = ok(
        "subscribe",
        "cart-abandoned",
        "-n",
        SHOP,
        "--sink",
        "http://cart-consumer/",
        url=registry.url,
    )
    assert again.strip() == by_type.strip().replace(" created", " unchanged")
    by_ref = json.loads(
        ok(
            "subscribe",
            "cart-abandoned",
            "-n",
            SHOP,
            "--ref",
            "Service/cart-svc",
            "--trigger-name",
            "cart-ref",
            "-o",
            "json",
            url=registry.url,
        )
    )
    assert by_ref["subscriber"]["ref"]["kind"] == "Service"
    created = ok(
        "create", "broker", "extra", "-n", SHOP, "--class", "MTChannelBasedBroker", url=registry.url
    )
    assert created.strip() == "broker/extra created"
    deleted = ok("delete", "trigger", "cart-ref", "-n", SHOP, url=registry.url)
    assert deleted.strip() == "trigger/cart-ref deleted"
    assert ok(
        "delete", "eventtype", "cart-abandoned", "lonely", "-n", SHOP, url=registry.url
    ).splitlines() == [
        "eventtype/cart-abandoned deleted",
        "eventtype/lonely deleted",
    ]
    assert (
        ok("delete", "broker", "extra", "-n", SHOP, url=registry.url).strip()
        == "broker/extra deleted"
    )
    assert fails(
        3, "delete", "eventtype", "cart-abandoned", "-n", SHOP, url=registry.url
    ).startswith("error:")


def test_write_errors_name_their_causes(registry: RegistryProcess) -> None:
    invalid = fails(6, "register", "", "-n", SHOP, url=registry.url)
    assert invalid == "error: input.type: the CloudEvents type is required"
    bad_name = fails(6, "register", "com.x", "--name", "Not_A_Name", "-n", SHOP, url=registry.url)
    assert bad_name.startswith("error: ")
    assert "input.name" in bad_name
    ok("register", "com.shop.dup", "--name", "dup", "-n", SHOP, url=registry.url)
    exists = fails(7, "register", "com.shop.dup", "--name", "dup", "-n", SHOP, url=registry.url)
    assert "already exists" in exists
    assert fails(3, "register", "com.x", "-n", "no-such-ns", url=registry.url).startswith("error: ")
    assert fails(
        3, "subscribe", "nope", "-n", SHOP, "--sink", "http://x/", url=registry.url
    ).startswith("error: ")


def test_usage_errors_are_exit_2(registry: RegistryProcess) -> None:
    assert "-A" in fails(2, "get", "eventtypes", "-A", "-n", SHOP, url=registry.url)
    assert fails(2, "get", "widgets", url=registry.url).startswith("error: Invalid value")
    assert run_kreg("subscribe", "order-paid", url=registry.url).returncode == 2
    assert run_kreg("get", "eventtypes", "-o", "xml", url=registry.url).returncode == 2


# configuration and connection ----------------------------------------------------------------


def test_an_unreachable_server_is_exit_5() -> None:
    url = f"http://127.0.0.1:{free_port()}/graphql"
    assert fails(5, "get", "eventtypes", url=url).startswith(f"error: cannot reach {url}")
    assert fails(5, "watch", "eventtypes", url=url).startswith("error: cannot connect")


def test_the_url_comes_from_flag_then_env_then_config_file(
    registry: RegistryProcess, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"url": registry.url, "namespace": BILLING}))
    from_file = run_kreg("get", "eventtypes", "-o", "name", url=None, config=config)
    assert from_file.stdout.splitlines() == ["eventtype/invoice-sent"]
    dead = f"http://127.0.0.1:{free_port()}/graphql"
    env_wins = run_kreg("get", "eventtypes", url=dead, config=config)
    assert env_wins.returncode == 5
    flag_wins = run_kreg("--url", registry.url, "get", "et", "-o", "name", url=dead, config=config)
    assert flag_wins.stdout.splitlines() == ["eventtype/invoice-sent"]
    config.write_text("server: x\n")
    assert "unknown key(s) server" in fails(2, "get", "et", url=None, config=config)


def test_tokens_forbidden_and_unauthorized_are_exit_4(tmp_path: Path) -> None:
    tokens = write_tokens(
        tmp_path / "tokens.yaml",
        [{"token": "read-only", "name": "reader", "namespaces": {"default": ["read"]}}],
    )
    guarded = RegistryProcess(tmp_path / "data", tokens_file=tokens)
    guarded.start()
    try:
        guarded.wait_ready()
        assert fails(4, "get", "et", url=guarded.url).startswith("error: unauthorized")
        assert fails(4, "get", "et", url=guarded.url, env={"KREG_TOKEN": "wrong"}).startswith(
            "error: unauthorized"
        )
        reader = {"KREG_TOKEN": "read-only"}
        listed = run_kreg("get", "et", url=guarded.url, env=reader)
        assert (listed.returncode, listed.stdout.strip()) == (0, "No resources found.")
        forbidden = fails(4, "register", "com.x", url=guarded.url, env=reader)
        assert forbidden.startswith("error: ")
        assert "default" in forbidden
        assert fails(4, "watch", "eventtypes", url=guarded.url).startswith("error: unauthorized")
    finally:
        guarded.stop()
