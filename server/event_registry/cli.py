"""The ``event-registry`` console script: ``serve`` and ``controlplane``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import sys
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any

from .app import logs, loops
from .app import settings as app_settings
from .app.auth.kubernetes import KubernetesAuthSettings
from .app.budgets import BudgetSettings
from .app.limits import RequestLimits, parse_size
from .app.listening import PortInUse, listen, port_of
from .app.live.connection import LiveSettings
from .app.origins import OriginPolicy
from .controlplane.auth import token_file
from .controlplane.server import ControlPlaneSettings
from .graphql.limits import QueryLimits
from .hub import cursors
from .ingress.limits import IngressSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="event-registry", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    plane = commands.add_parser(
        "controlplane", help="run the embedded Kubernetes-compatible control plane alone"
    )
    plane.add_argument("--host", default="127.0.0.1", help="listen address (default loopback)")
    plane.add_argument("--port", type=int, default=8001, help="listen port (0: any free port)")
    plane.add_argument("--data-dir", type=Path, default=Path("data"), help="SQLite data directory")
    plane.add_argument(
        "--history-limit",
        type=int,
        default=100_000,
        help="changes kept for watches; older resourceVersions get 410 Expired",
    )
    plane.add_argument(
        "--bookmark-interval", type=float, default=60.0, help="seconds between watch bookmarks"
    )
    plane.add_argument(
        "--namespace-grace",
        type=float,
        default=1.0,
        help="seconds a deleted namespace stays Terminating before its contents are deleted",
    )
    plane.add_argument(
        "--event-ttl",
        type=_go_duration,
        default=3600.0,
        help="how long an Event is kept after its last write, kube-apiserver's --event-ttl: "
        "seconds or a Go duration such as 1h, 5m30s (default 1h)",
    )
    plane.add_argument(
        "--auth",
        action="store_true",
        help="authenticate every request (bearer tokens) and authorize it with RBAC; the "
        "kubeconfig then carries the admin token (default off: every caller is admin)",
    )
    plane.add_argument(
        "--token-auth-file",
        type=_token_auth_file,
        help='static users, kube-apiserver\'s CSV format: token,user,uid,"group1,group2"',
    )
    plane.add_argument("--log-level", default="info")
    _add_log_format_flag(plane)
    plane.add_argument(
        "--no-controllers",
        action="store_true",
        help="do not run the embedded Knative readiness controller",
    )
    _add_ingress_flags(plane)

    serve = commands.add_parser("serve", help="run the GraphQL registry")
    serve.add_argument("--host", default="127.0.0.1", help="listen address (default loopback)")
    serve.add_argument("--port", type=int, default=8080, help="listen port (0: any free port)")
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="processes serving the port (SO_REUSEPORT), each a full registry, supervised by "
        "this one, which runs the embedded control plane and Broker ingress (README: Every "
        "core; default 1: this process serves)",
    )
    serve.add_argument("--data-dir", type=Path, default=Path("data"), help="embedded data dir")
    serve.add_argument("--kubeconfig", type=Path, help="use this kubeconfig's cluster")
    serve.add_argument("--context", help="kubeconfig context to use")
    serve.add_argument(
        "--cluster",
        choices=["auto", "kubeconfig", "in-cluster", "embedded"],
        default="auto",
        help="auto: --kubeconfig/--context, else in-cluster, else embedded; "
        "kubeconfig: $KUBECONFIG or ~/.kube/config",
    )
    serve.add_argument(
        "--controlplane-port", type=int, default=8001, help="embedded control plane port"
    )
    serve.add_argument(
        "--controlplane-history-limit",
        type=int,
        default=100_000,
        help="embedded control plane: changes kept for watches (older get 410 Expired)",
    )
    serve.add_argument("--tokens-file", type=Path, help="bearer tokens → namespaces (YAML)")
    _add_auth_flags(serve)
    live = LiveSettings()
    serve.add_argument("--hub-history", type=int, default=10_000, help="changes kept for since")
    serve.add_argument(
        "--cursor-key-file",
        type=_cursor_key_file,
        help="secret (at least 16 bytes) sealing subscription cursors, shared by processes "
        "that must accept each other's cursors; default: a random key per process",
    )
    serve.add_argument(
        "--resume-wait",
        type=_seconds,
        default=2.0,
        help="seconds a subscription resuming with since waits for this process to apply the "
        "changes its cursor names (another replica's) before RESYNC_REQUIRED",
    )
    serve.add_argument(
        "--drain-timeout",
        type=_seconds,
        default=10.0,
        help="on SIGTERM: seconds in-flight requests may take after /readyz turns 503 and "
        "every WebSocket is closed with 1001 (going away); keep it below the pod's "
        "terminationGracePeriodSeconds",
    )
    serve.add_argument(
        "--completed-objects",
        type=int,
        default=200_000,
        help="completed objects (per selection) kept between queries as JSON; 0 keeps none",
    )
    serve.add_argument(
        "--ws-init-timeout",
        type=float,
        default=live.init_timeout,
        help="seconds to connection_init",
    )
    serve.add_argument(
        "--ws-keepalive-interval",
        type=float,
        default=live.keepalive_interval,
        help="seconds between server pings",
    )
    serve.add_argument(
        "--ws-outbox-limit",
        type=int,
        default=live.outbox_limit,
        help="pending frames before a slow client is disconnected (4503)",
    )
    serve.add_argument(
        "--ws-max-subscriptions",
        type=int,
        default=live.max_subscriptions,
        help="subscriptions per connection",
    )
    _add_limit_flags(serve)
    _add_ingress_flags(serve)
    serve.add_argument("--log-level", default="info")
    _add_log_format_flag(serve)
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="log every HTTP request at info level (logger event_registry.access, with its "
        "request id, operation type, status and duration); default off",
    )
    return parser


def _add_auth_flags(serve: argparse.ArgumentParser) -> None:
    """``--auth`` and the decision caches of ``kubernetes`` mode (README: Access control)."""
    kubernetes = KubernetesAuthSettings()
    serve.add_argument(
        "--auth",
        choices=["open", "tokens", "kubernetes"],
        help="open: everyone sees everything (default without --tokens-file); tokens: the "
        "--tokens-file (default with it); kubernetes: the cluster's TokenReview, "
        "SubjectAccessReview and RBAC decide, and writes are made as the caller "
        "(impersonation); on the embedded cluster this turns its access control on",
    )
    serve.add_argument(
        "--authz-allowed-ttl",
        type=float,
        default=kubernetes.allowed_ttl,
        help="kubernetes mode: seconds an allowed decision or a valid token is reused, and "
        f"between checks of a live subscription's caller (default {kubernetes.allowed_ttl:g})",
    )
    serve.add_argument(
        "--authz-denied-ttl",
        type=float,
        default=kubernetes.denied_ttl,
        help="kubernetes mode: seconds a denied decision or an unknown token is reused "
        f"(default {kubernetes.denied_ttl:g})",
    )
    serve.add_argument(
        "--authz-cache-size",
        type=_count,
        default=kubernetes.max_entries,
        help="kubernetes mode: tokens, decisions and callers kept, each "
        f"(default {kubernetes.max_entries:,})",
    )


def _auth_settings(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> app_settings.AuthSettings:
    mode = args.auth or ("tokens" if args.tokens_file is not None else "open")
    if mode == "tokens" and args.tokens_file is None:
        parser.error("--auth=tokens needs --tokens-file")
    if mode != "tokens" and args.tokens_file is not None:
        parser.error(f"--tokens-file is for --auth=tokens, not --auth={mode}")
    kubernetes = None
    if mode == "kubernetes":
        if args.authz_allowed_ttl <= 0 or args.authz_denied_ttl <= 0:
            parser.error("--authz-allowed-ttl and --authz-denied-ttl must be positive")
        kubernetes = KubernetesAuthSettings(
            allowed_ttl=args.authz_allowed_ttl,
            denied_ttl=args.authz_denied_ttl,
            max_entries=max(args.authz_cache_size, 1),
        )
    return app_settings.AuthSettings(tokens_file=args.tokens_file, kubernetes=kubernetes)


def _add_log_format_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        choices=logs.LOG_FORMATS,
        default="text",
        help="text lines, or JSON lines (timestamp, level, logger, message, request_id and "
        "the fields a record carries) for log collectors (default text)",
    )


def _add_limit_flags(serve: argparse.ArgumentParser) -> None:
    """Request sizes, budgets per caller and WebSocket origins (README: Security and limits)."""
    limits, budgets = RequestLimits(), BudgetSettings()
    size = _size_argument
    serve.add_argument(
        "--max-body-size",
        type=size,
        default=limits.max_body_size,
        help="request body (and URL) size, bytes or e.g. 2MiB; larger gets 413 (414 for URLs)",
    )
    serve.add_argument(
        "--max-header-size",
        type=size,
        default=limits.max_header_size,
        help="request headers in total, bytes or e.g. 64KiB; larger gets 431",
    )
    serve.add_argument(
        "--ws-max-message-size",
        type=size,
        default=limits.ws_max_message_size,
        help="WebSocket message size, bytes or e.g. 1MiB; larger closes with 1009",
    )
    for flag, default, what in (
        ("--max-connections", budgets.max_connections, "WebSocket connections in total"),
        (
            "--max-connections-per-caller",
            budgets.max_connections_per_caller,
            "WebSocket connections per token (tokens mode) or remote address",
        ),
        ("--max-subscriptions", budgets.max_subscriptions, "subscriptions in total"),
        (
            "--max-subscriptions-per-caller",
            budgets.max_subscriptions_per_caller,
            "subscriptions per token (tokens mode) or remote address",
        ),
    ):
        serve.add_argument(flag, type=_count, default=default, help=f"{what} (default {default})")
    serve.add_argument(
        "--connection-rate-per-caller",
        type=float,
        default=budgets.connection_rate_per_caller,
        help="new WebSocket connections a second per caller, after a burst of five seconds' "
        "worth (at least --max-connections-per-caller); more get 429; 0: not paced "
        f"(default {budgets.connection_rate_per_caller:g})",
    )
    query_limits = QueryLimits()
    serve.add_argument(
        "--max-query-cost",
        type=_count,
        default=query_limits.max_query_cost,
        help="objects one operation may return, estimated before it runs (README: Security "
        f"and limits); larger is refused; 0: no limit (default {query_limits.max_query_cost:,})",
    )
    serve.add_argument(
        "--max-response-size",
        type=size,
        default=query_limits.max_response_bytes,
        help="JSON answer or subscription event size, bytes or e.g. 64MiB; larger is replaced "
        "by an error; 0: no limit (default 64MiB)",
    )
    serve.add_argument(
        "--allowed-origins",
        help="comma-separated origins (scheme://host[:port], or *) whose pages may open "
        "WebSockets, besides the server's own; default: loopback pages (localhost, 127.0.0.1, "
        "[::1]) on any port",
    )


def _add_ingress_flags(parser: argparse.ArgumentParser) -> None:
    """The embedded Broker ingress (README: Sending events to a Broker)."""
    ingress = IngressSettings()
    parser.add_argument(
        "--ingress-port",
        type=int,
        default=ingress.port,
        help="embedded Broker ingress port on 127.0.0.1 (0: any free port); Brokers' "
        f"addresses point to it (default {ingress.port})",
    )
    parser.add_argument(
        "--ingress-max-event-size",
        type=_size_argument,
        default=ingress.max_event_size,
        help="request body (an event or a batch) the ingress accepts, bytes or e.g. 1MiB; "
        "larger gets 413 (default 1MiB)",
    )
    parser.add_argument(
        "--autocreate-per-minute",
        type=_count,
        default=ingress.per_broker_per_minute,
        help="eventtype-auto-create: new EventTypes per Broker in any minute "
        f"(default {ingress.per_broker_per_minute})",
    )
    parser.add_argument(
        "--autocreate-per-namespace",
        type=_count,
        default=ingress.per_namespace,
        help="eventtype-auto-create: auto-created EventTypes a namespace may hold "
        f"(default {ingress.per_namespace})",
    )


def _ingress_settings(args: argparse.Namespace) -> IngressSettings:
    return IngressSettings(
        port=args.ingress_port,
        max_event_size=args.ingress_max_event_size,
        per_broker_per_minute=args.autocreate_per_minute,
        per_namespace=args.autocreate_per_namespace,
    )


def _count(text: str) -> int:
    """A non-negative integer flag value."""
    try:
        value = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from error
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {value}")
    return value


def _workers(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError("at least one worker")
    return value


def _size_argument(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from error
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds >= 0: {value}")
    return value


def _cursor_key_file(text: str) -> Path:
    """The path, once its secret is known to be usable: a bad one stops ``serve`` at once."""
    path = Path(text)
    try:
        cursors.key_from_secret(path.read_bytes())
    except (OSError, ValueError) as error:
        raise argparse.ArgumentTypeError(f"{text}: {error}") from error
    return path


_DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def _go_duration(text: str) -> float:
    """Seconds from ``90``, ``1.5`` or a Go duration (``1h``, ``5m30s``, ``250ms``), > 0."""
    try:
        seconds = float(text)
    except ValueError:
        parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
        if not parts or "".join(number + unit for number, unit in parts) != text:
            raise argparse.ArgumentTypeError(f"invalid duration {text!r}") from None
        seconds = sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"the duration must be positive, not {text!r}")
    return seconds


def _token_auth_file(text: str) -> Path:
    """The path, once the file parses: a bad one stops ``controlplane`` at once."""
    path = Path(text)
    try:
        token_file.load(path)
    except (OSError, ValueError) as error:
        raise argparse.ArgumentTypeError(f"{text}: {error}") from error
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    logs.configure(args.log_level, args.log_format, access_log=getattr(args, "access_log", False))
    if args.command == "controlplane":
        settings = ControlPlaneSettings(
            data_dir=args.data_dir,
            host=args.host,
            port=args.port,
            history_limit=args.history_limit,
            bookmark_interval=args.bookmark_interval,
            namespace_grace=args.namespace_grace,
            auth=args.auth,
            token_auth_file=args.token_auth_file,
            event_ttl=args.event_ttl,
        )
        with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError), _port_errors():
            _run(
                _run_controlplane(
                    settings, controllers=not args.no_controllers, ingress=_ingress_settings(args)
                )
            )
    elif args.command == "serve":
        from .app.serving import serve

        serve_settings = app_settings.ServeSettings(
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            cluster=app_settings.ClusterSettings(
                kubeconfig=args.kubeconfig, context=args.context, cluster=args.cluster
            ),
            embedded=app_settings.EmbeddedSettings(
                controlplane_port=args.controlplane_port,
                history_limit=args.controlplane_history_limit,
                ingress=_ingress_settings(args),
            ),
            auth=_auth_settings(parser, args),
            live=LiveSettings(
                init_timeout=args.ws_init_timeout,
                keepalive_interval=args.ws_keepalive_interval,
                outbox_limit=args.ws_outbox_limit,
                max_subscriptions=args.ws_max_subscriptions,
            ),
            hub_history=args.hub_history,
            cursor_key_file=args.cursor_key_file,
            resume_wait=args.resume_wait,
            drain_timeout=args.drain_timeout,
            completed_objects=args.completed_objects,
            query_limits=QueryLimits(
                max_query_cost=args.max_query_cost,
                max_response_bytes=args.max_response_size,
            ),
            limits=RequestLimits(
                max_body_size=args.max_body_size,
                max_header_size=args.max_header_size,
                ws_max_message_size=args.ws_max_message_size,
            ),
            budgets=BudgetSettings(
                max_connections=args.max_connections,
                max_connections_per_caller=args.max_connections_per_caller,
                max_subscriptions=args.max_subscriptions,
                max_subscriptions_per_caller=args.max_subscriptions_per_caller,
                connection_rate_per_caller=args.connection_rate_per_caller,
            ),
            origins=OriginPolicy.from_list(
                None if args.allowed_origins is None else args.allowed_origins.split(",")
            ),
            workers=args.workers,
        )
        with contextlib.suppress(KeyboardInterrupt), _port_errors():
            if serve_settings.workers > 1:
                from .app.workers import LogOptions, supervise

                log_options = LogOptions(args.log_level, args.log_format, args.access_log)
                _run(supervise(serve_settings, log_options))
            else:
                _run(serve(serve_settings))


@contextlib.contextmanager
def _port_errors() -> Iterator[None]:
    """A port in use: one line naming it and its flag, exit status 2 (no traceback)."""
    try:
        yield
    except PortInUse as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def _run(main: Coroutine[Any, Any, None]) -> None:
    loops.run(main)


async def _run_controlplane(
    settings: ControlPlaneSettings, *, controllers: bool, ingress: IngressSettings
) -> None:
    from .embedded import EmbeddedCluster

    main = asyncio.current_task()
    assert main is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    ingress_socket = (
        listen(ingress.host, ingress.port, flag="--ingress-port") if controllers else None
    )
    cluster = EmbeddedCluster(
        settings, controllers=controllers, ingress_socket=ingress_socket, ingress=ingress
    )
    with port_of(settings.host, settings.port, "--port"):
        await cluster.start()
    try:
        plane = cluster.plane
        print(f"control plane: {plane.url}  kubeconfig: {plane.kubeconfig_path}", flush=True)
        if cluster.ingress is not None:
            print(f"broker ingress: {cluster.ingress.url}/<namespace>/<broker>", flush=True)
        await asyncio.Event().wait()
    finally:
        await cluster.stop()
