"""Fuzz: generated queries and mutations against a fresh registry; internal errors and 5xx counted.

Run from the repository root::

    .venv/bin/python -m bench.fuzz --examples 10000 [--tokens]

It starts its own ``event-registry serve`` (embedded control plane and readiness controller)
in a temporary directory, seeds it (tests/support/fuzzing.py: namespaces ``fuzz`` and
``hidden``, each with a Broker, two EventTypes and a Trigger, created through mutations), then
sends ``--examples`` operations generated from ``schema.graphql`` by the same generator as
tests/e2e/test_fuzz.py, one at a time over HTTP: in open mode, or with ``--tokens`` in tokens
mode with a token that may not see ``hidden``. The operations are derandomized: the same ones
every run for the same count.

It prints the counts: operations, answers with the masked "Unexpected error", 5xx answers, the
other errors by the prefix of their first message, and the first few failing operations; and
exits 1 if any answer was an internal error or a 5xx, or the server is not healthy afterwards.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.support import fuzzing
from tests.support.registry import RegistryProcess

DEFAULT_EXAMPLES = 1_000
REPORT_EVERY = 1_000


def _progress(started: float) -> Callable[[fuzzing.Tally], None]:
    def report(tally: fuzzing.Tally) -> None:
        if tally.operations % REPORT_EVERY == 0:
            elapsed = time.monotonic() - started
            print(
                f"  {tally.operations:,} operations in {elapsed:.0f} s "
                f"({tally.internal_errors} internal errors, {tally.server_errors} 5xx)",
                flush=True,
            )

    return report


def run(examples: int, *, tokens: bool, data_dir: Path) -> tuple[fuzzing.Tally, bool]:
    """The tally of ``examples`` operations, and whether ``/healthz`` answered 200 after."""
    tokens_file = fuzzing.write_tokens_file(data_dir / "tokens.yaml") if tokens else None
    registry = RegistryProcess(data_dir / "registry", tokens_file=tokens_file)
    registry.start()
    try:
        registry.wait_ready()
        fuzzing.seed(registry, token=fuzzing.SEEDER if tokens else None)
        started = time.monotonic()
        tally = fuzzing.fuzz(
            registry.url,
            examples=examples,
            stop_at_failure=False,
            token=fuzzing.FUZZER if tokens else None,
            progress=_progress(started),
        )
        print(f"{tally.operations:,} operations in {time.monotonic() - started:.0f} s")
        return tally, registry.get("/healthz").status == 200
    finally:
        registry.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES)
    parser.add_argument("--tokens", action="store_true", help="tokens mode, scoped token")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        tally, healthy = run(args.examples, tokens=args.tokens, data_dir=Path(tmp))
    print(tally.summary())
    print(f"healthz after: {'200' if healthy else 'FAILED'}")
    for operation, status, body in tally.samples:
        print(f"\n--- HTTP {status}\n{operation}\n→ {body}")
    return 0 if healthy and not tally.internal_errors and not tally.server_errors else 1


if __name__ == "__main__":
    sys.exit(main())
