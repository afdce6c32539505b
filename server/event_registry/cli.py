"""The ``event-registry`` console script: ``controlplane`` (and, later, ``serve``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path

from .controlplane.server import ControlPlaneSettings, run_forever


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
    plane.add_argument("--log-level", default="info")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "controlplane":
        settings = ControlPlaneSettings(
            data_dir=args.data_dir,
            host=args.host,
            port=args.port,
            history_limit=args.history_limit,
            bookmark_interval=args.bookmark_interval,
            namespace_grace=args.namespace_grace,
        )
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_forever(settings))
