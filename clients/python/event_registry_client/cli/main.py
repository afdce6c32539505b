"""``kreg``: the Knative Event Registry from a terminal, kubectl-style.

::

    kreg get eventtypes [NAME] [-n NS | -A] [--type-prefix P] [--broker B] [--consumable]
                        [-o table|wide|json|yaml|name]
    kreg get brokers|triggers|namespaces [NAME] [-n NS | -A] [-o ...]
    kreg describe eventtype|broker|trigger NAME [-n NS]
    kreg register TYPE [--source S] [--broker B] [--schema URI] [--description D] [--name N]
    kreg subscribe EVENTTYPE (--sink URI | --ref [API_VERSION/]KIND/NAME) [--trigger-name N]
    kreg create broker NAME [--class C]
    kreg delete eventtype|broker|trigger NAME [-n NS]
    kreg watch eventtypes [-n NS | -A] [--type-prefix P] [-o table|events]

Server and token: ``--url``/``--token`` > ``KREG_URL``/``KREG_TOKEN`` > the config file
(:mod:`.config`). Every failure is one ``error: ...`` line on stderr and an exit code of
:mod:`.exits`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from .. import errors, results
from ..client import AsyncRegistryClient, EventTypeFilter
from ..models import Reference
from ..reconnection import Reconnection
from . import exits, output
from .config import ConfigError, Settings, resolve
from .describing import describe_broker, describe_event_type, describe_trigger

T = TypeVar("T")

KINDS = {
    "eventtypes": "eventtype",
    "eventtype": "eventtype",
    "et": "eventtype",
    "brokers": "broker",
    "broker": "broker",
    "triggers": "trigger",
    "trigger": "trigger",
    "namespaces": "namespace",
    "namespace": "namespace",
    "ns": "namespace",
}


@dataclass(frozen=True)
class Context:
    url: str | None
    token: str | None
    timeout: float

    def settings(self, namespace: str | None = None) -> Settings:
        try:
            return resolve(url=self.url, token=self.token, namespace=namespace)
        except ConfigError as error:
            raise click.UsageError(str(error)) from error

    def client(self, settings: Settings) -> AsyncRegistryClient:
        return AsyncRegistryClient(settings.url, token=settings.token, timeout=self.timeout)


class Kreg(click.Group):
    """Maps every RegistryError to one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except errors.RegistryError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(exits.code_for(error))
        except KeyboardInterrupt:
            ctx.exit(130)


def run(work: Callable[[AsyncRegistryClient], Awaitable[T]], client: AsyncRegistryClient) -> T:
    """Run ``work`` with ``client`` on a fresh event loop, closing the client after."""

    async def main() -> T:
        async with client:
            return await work(client)

    return asyncio.run(main())


def namespace_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option(
        "-n", "--namespace", help="The namespace (default: from config, else 'default')."
    )(function)
    return click.option(
        "-A", "--all-namespaces", is_flag=True, help="Every namespace the token may read."
    )(function)


@click.group(cls=Kreg, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", help="The registry's GraphQL URL [env KREG_URL].")
@click.option("--token", help="A bearer token [env KREG_TOKEN].")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds per request.")
@click.version_option(package_name="knative-event-registry-client")
@click.pass_context
def cli(ctx: click.Context, url: str | None, token: str | None, timeout: float) -> None:
    """kreg: the Knative Event Registry (EventTypes, Brokers, Triggers) from a terminal."""
    ctx.obj = Context(url, token, timeout)


# get -----------------------------------------------------------------------------------------


@cli.command()
@click.argument("kind", type=click.Choice(sorted(KINDS), case_sensitive=False))
@click.argument("name", required=False)
@namespace_options
@click.option("--type-prefix", help="EventTypes whose type starts with this.")
@click.option("--broker", help="EventTypes (or Triggers) of this Broker.")
@click.option("--consumable", is_flag=True, help="Only consumable EventTypes.")
@click.option("-o", "--output", "format", type=click.Choice(output.FORMATS), default="table")
@click.pass_obj
def get(
    context: Context,
    kind: str,
    name: str | None,
    namespace: str | None,
    all_namespaces: bool,
    type_prefix: str | None,
    broker: str | None,
    consumable: bool,
    format: str,
) -> None:
    """List EventTypes, Brokers, Triggers or namespaces (kubectl columns), or get one."""
    if all_namespaces and (namespace or name):
        raise click.UsageError("-A lists every namespace: give neither -n nor a NAME with it")
    settings = context.settings(namespace)
    scope = None if all_namespaces else settings.namespace
    kind = KINDS[kind.lower()]

    async def fetch(client: AsyncRegistryClient) -> Sequence[Any]:
        if kind == "eventtype":
            if name is not None:
                found = await client.event_type(settings.namespace, name)
                return [] if found is None else [found]
            criteria = EventTypeFilter(
                type_prefix=type_prefix, broker=broker, consumable=True if consumable else None
            )
            return await client.event_types(scope, filter=criteria)
        items: Sequence[Any]
        if kind == "broker":
            items = await client.brokers(scope)
        elif kind == "trigger":
            items = await client.triggers(scope, broker=broker)
        else:
            items = await client.namespaces()
        return [i for i in items if name is None or i.name == name]

    items = run(fetch, context.client(settings))
    if name is not None and not items:
        where = "" if kind == "namespace" else f" in namespace {settings.namespace}"
        raise errors.NotFoundError(f'{kind} "{name}" not found{where}')
    click.echo(render(items, kind, format, all_namespaces=all_namespaces, single=name is not None))


def render(
    items: Sequence[Any], kind: str, format: str, *, all_namespaces: bool, single: bool
) -> str:
    if format in ("json", "yaml"):
        return output.structured(items, format, single=single)
    if format == "name":
        return output.names(items, kind)
    if not items:
        return "No resources found."
    wide = format == "wide"
    columns: list[Any]
    if kind == "eventtype":
        columns = output.EVENT_TYPE_COLUMNS + (output.EVENT_TYPE_WIDE if wide else [])
    elif kind == "broker":
        columns = output.BROKER_COLUMNS + (output.BROKER_WIDE if wide else [])
    elif kind == "trigger":
        columns = output.TRIGGER_COLUMNS + (output.TRIGGER_WIDE if wide else [])
    else:
        return output.columns_table(items, output.NAMESPACE_COLUMNS)
    namespace_of = (lambda item: item.namespace) if all_namespaces else None
    return output.columns_table(items, columns, namespace_of=namespace_of)


# describe ------------------------------------------------------------------------------------


@cli.command()
@click.argument("kind", type=click.Choice(["eventtype", "broker", "trigger"]))
@click.argument("name")
@click.option("-n", "--namespace", help="The namespace (default: from config, else 'default').")
@click.pass_obj
def describe(context: Context, kind: str, name: str, namespace: str | None) -> None:
    """Everything about one EventType, Broker or Trigger."""
    settings = context.settings(namespace)

    async def fetch(client: AsyncRegistryClient) -> str | None:
        if kind == "eventtype":
            event_type = await client.event_type(settings.namespace, name)
            return None if event_type is None else describe_event_type(event_type)
        if kind == "broker":
            broker = await client.broker(settings.namespace, name)
            return None if broker is None else describe_broker(broker)
        trigger = await client.trigger(settings.namespace, name)
        return None if trigger is None else describe_trigger(trigger)

    text = run(fetch, context.client(settings))
    if text is None:
        raise errors.NotFoundError(f'{kind} "{name}" not found in namespace {settings.namespace}')
    click.echo(text)


# writes --------------------------------------------------------------------------------------


def labels_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--label", "labels", multiple=True, metavar="KEY=VALUE", help="A label (repeatable)."
    )(function)


def parse_labels(labels: Sequence[str]) -> dict[str, str] | None:
    if not labels:
        return None
    parsed = {}
    for label in labels:
        key, equals, value = label.partition("=")
        if not equals or not key:
            raise click.BadParameter(f"{label!r} is not KEY=VALUE", param_hint="--label")
        parsed[key] = value
    return parsed


@cli.command()
@click.argument("type")
@click.option("-n", "--namespace", help="The namespace (default: from config, else 'default').")
@click.option("--source", help="The CloudEvents source (URI reference).")
@click.option("--broker", help="The Broker carrying it (it need not exist yet).")
@click.option("--schema", help="The schema URI (CloudEvents dataschema).")
@click.option("--description")
@click.option("--name", help="The EventType's name (default: derived from TYPE).")
@labels_option
@click.option("-o", "--output", "format", type=click.Choice(output.FORMATS), default="name")
@click.pass_obj
def register(
    context: Context,
    type: str,
    namespace: str | None,
    source: str | None,
    broker: str | None,
    schema: str | None,
    description: str | None,
    name: str | None,
    labels: tuple[str, ...],
    format: str,
) -> None:
    """Register an EventType of CloudEvents TYPE."""
    settings = context.settings(namespace)

    async def write(client: AsyncRegistryClient) -> results.EventTypeRegistered:
        result = await client.register_event_type(
            settings.namespace,
            type=type,
            name=name,
            source=source,
            broker=broker,
            schema=schema,
            description=description,
            labels=parse_labels(labels),
        )
        return results.unwrap(result)

    registered = run(write, context.client(settings))
    for warning in registered.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not registered.broker_exists:
        click.echo(
            f"warning: broker {registered.event_type.broker_name!r} does not exist yet; "
            "the EventType is not consumable",
            err=True,
        )
    if format == "name":
        click.echo(f"eventtype/{registered.event_type.name} registered")
    else:
        click.echo(
            render([registered.event_type], "eventtype", format, all_namespaces=False, single=True)
        )


def parse_ref(text: str, namespace: str) -> Reference:
    """``[API_VERSION/]KIND/NAME`` (API version default ``serving.knative.dev/v1``)."""
    parts = text.split("/")
    if len(parts) == 2:
        api_version, kind, name = "serving.knative.dev/v1", parts[0], parts[1]
    elif len(parts) == 3:
        api_version, kind, name = parts
    elif len(parts) == 4:
        api_version, kind, name = f"{parts[0]}/{parts[1]}", parts[2], parts[3]
    else:
        raise click.BadParameter(f"{text!r} is not [API_VERSION/]KIND/NAME", param_hint="--ref")
    if not kind or not name:
        raise click.BadParameter(f"{text!r} is not [API_VERSION/]KIND/NAME", param_hint="--ref")
    return Reference(api_version=api_version, kind=kind, name=name, namespace=namespace)


async def event_type_name(client: AsyncRegistryClient, namespace: str, name_or_type: str) -> str:
    """The name of the EventType named ``name_or_type``, else of the one EventType of that
    CloudEvents type (registered names often carry a generated suffix)."""
    if await client.event_type(namespace, name_or_type) is not None:
        return name_or_type
    page = await client.event_type_page(
        namespace, first=2, filter=EventTypeFilter(type=name_or_type)
    )
    if page.total_count == 1:
        return page.items[0].name
    if page.total_count > 1:
        names = ", ".join(item.name for item in page.items)
        raise errors.ConflictError(
            f"{page.total_count} EventTypes have type {name_or_type!r} ({names}...): name one"
        )
    return name_or_type


@cli.command()
@click.argument("eventtype")
@click.option("-n", "--namespace", help="The namespace (default: from config, else 'default').")
@click.option("--sink", help="The subscriber's URI.")
@click.option("--ref", help="The subscriber: [API_VERSION/]KIND/NAME (e.g. Service/orders).")
@click.option("--trigger-name", help="The Trigger's name (default: derived).")
@click.option("-o", "--output", "format", type=click.Choice(output.FORMATS), default="name")
@click.pass_obj
def subscribe(
    context: Context,
    eventtype: str,
    namespace: str | None,
    sink: str | None,
    ref: str | None,
    trigger_name: str | None,
    format: str,
) -> None:
    """Subscribe a sink to EVENTTYPE (a name, or a CloudEvents type registered once): a
    Trigger on its Broker, filtered on its type and source."""
    if not sink and not ref:
        raise click.UsageError("give the subscriber: --sink URI or --ref KIND/NAME (or both)")
    settings = context.settings(namespace)
    reference = None if ref is None else parse_ref(ref, settings.namespace)

    async def write(client: AsyncRegistryClient) -> results.TriggerCreated:
        name = await event_type_name(client, settings.namespace, eventtype)
        result = await client.subscribe_to_event_type(
            settings.namespace, name, uri=sink, ref=reference, trigger_name=trigger_name
        )
        return results.unwrap(result)

    created = run(write, context.client(settings))
    if format == "name":
        verb = "created" if created.created else "unchanged"
        click.echo(f"trigger/{created.trigger.name} {verb}")
    else:
        click.echo(render([created.trigger], "trigger", format, all_namespaces=False, single=True))


@cli.group()
def create() -> None:
    """Create a Broker."""


@create.command("broker")
@click.argument("name")
@click.option("-n", "--namespace", help="The namespace (default: from config, else 'default').")
@click.option("--class", "broker_class", help="The broker.class annotation.")
@labels_option
@click.pass_obj
def create_broker(
    context: Context,
    name: str,
    namespace: str | None,
    broker_class: str | None,
    labels: tuple[str, ...],
) -> None:
    """Create a Broker NAME."""
    settings = context.settings(namespace)

    async def write(client: AsyncRegistryClient) -> results.BrokerCreated:
        result = await client.create_broker(
            settings.namespace, name, broker_class=broker_class, labels=parse_labels(labels)
        )
        return results.unwrap(result)

    created = run(write, context.client(settings))
    click.echo(f"broker/{created.broker.name} created")


@cli.command()
@click.argument("kind", type=click.Choice(["eventtype", "broker", "trigger"]))
@click.argument("names", nargs=-1, required=True)
@click.option("-n", "--namespace", help="The namespace (default: from config, else 'default').")
@click.pass_obj
def delete(context: Context, kind: str, names: tuple[str, ...], namespace: str | None) -> None:
    """Delete EventTypes, Brokers or Triggers by name."""
    settings = context.settings(namespace)

    async def write(client: AsyncRegistryClient) -> list[results.Deleted]:
        method = {
            "eventtype": client.delete_event_type,
            "broker": client.delete_broker,
            "trigger": client.delete_trigger,
        }[kind]
        return [results.unwrap(await method(settings.namespace, name)) for name in names]

    for deleted in run(write, context.client(settings)):
        click.echo(f"{kind}/{deleted.name} deleted")


# watch ---------------------------------------------------------------------------------------


@cli.command()
@click.argument("kind", type=click.Choice(["eventtypes", "eventtype", "et"]))
@namespace_options
@click.option("--type-prefix", help="EventTypes whose type starts with this.")
@click.option("--broker", help="EventTypes of this Broker.")
@click.option(
    "-o",
    "--output",
    "format",
    type=click.Choice(["table", "events"]),
    help="table: updated in place (default on a terminal); events: a line per event.",
)
@click.pass_obj
def watch(
    context: Context,
    kind: str,
    namespace: str | None,
    all_namespaces: bool,
    type_prefix: str | None,
    broker: str | None,
    format: str | None,
) -> None:
    """Follow EventTypes live; survives dropped connections and server restarts."""
    from .watching import live_table, print_events

    if all_namespaces and namespace:
        raise click.UsageError("-A watches every namespace: do not give -n with it")
    settings = context.settings(namespace)
    scope = None if all_namespaces else settings.namespace
    mode = format or ("table" if sys.stdout.isatty() else "events")

    async def follow(client: AsyncRegistryClient) -> None:
        events = client.event_type_changes(
            scope,
            include_existing=True,
            filter=EventTypeFilter(type_prefix=type_prefix, broker=broker),
            reconnection=Reconnection(),
        )
        if mode == "events":
            await print_events(events)
        else:
            await live_table(events, all_namespaces=all_namespaces)

    run(follow, context.client(settings))


def main() -> None:
    """The ``kreg`` console script: click's errors as one line too (usage: exit 2)."""
    try:
        code = cli.main(prog_name="kreg", standalone_mode=False)
    except click.UsageError as error:
        hint = f"; see '{error.ctx.command_path} --help'" if error.ctx is not None else ""
        click.echo(f"error: {error.format_message()}{hint}", err=True)
        sys.exit(exits.USAGE)
    except click.ClickException as error:
        click.echo(f"error: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    except click.Abort:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else exits.OK)
