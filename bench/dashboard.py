"""Dashboard benchmark: a Broker flip until the table shows it, and filtering 5,000 rows.

Run from the repository root::

    .venv/bin/python -m bench.dashboard [--quick]

It starts its own ``event-registry serve`` (open mode, embedded control plane and readiness
controller) in a temporary directory, creates one namespace of 5,000 EventTypes (4,990 on
Broker ``default``, 10 on Broker ``flip``) over the control plane's HTTP API, and opens the
dashboard (``/ui``, the committed build) in Debian's headless Chromium through Playwright,
with every non-localhost request blocked. Three figures:

1. **Load**: from ``page.goto`` until the table says it shows all 5,000 rows (the one
   ``eventTypeChanges`` subscription's EXISTING set, then INITIAL_SET_COMPLETE).
2. **Flip → DOM**: the table filtered on Broker ``flip`` (its 10 rows in view); each round
   merge-patches that Broker's Ready condition (status subresource, plain HTTP, as a
   controller writes it) and waits until all 10 rows' ``data-consumable`` show the new value;
   the time from just before the PATCH (Python's ``time.time()``) to the moment a
   MutationObserver in the page saw the last row change (the page's ``Date.now()``, the
   same system clock; millisecond resolution). Beside it the PATCH's own round trip.
3. **Filter latency at 5,000 rows**: one filter change at a time (search text, type prefix,
   consumable, clearing) set on the input and dispatched as the browser would, timed in the
   page from the event until the count shows the new number of rows (the new rows are in the
   DOM then), and until the next animation frame after that (the frame that paints them);
   and a click on the Type column (re-sort), until the first row is the new one.

The browser, the server (with its control plane and controller) and this script share the
machine's cores. A full run writes ``bench/results/dashboard.json`` and the "Dashboard"
section of ``bench/README.md``; ``--quick`` (fewer rounds) writes neither unless ``--output``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright
from tests.support.browser import launch, offline_page
from tests.support.bulk import create_all, patch_status
from tests.support.dashboard import open_dashboard, scale_documents, wait_for_count
from tests.support.registry import RegistryProcess, eventtype, eventually

from bench import reporting

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "dashboard.json"
README = BENCH / "README.md"
SECTION = "## Dashboard"
NAMESPACE = "dashboard"
TOTAL = 5000
FLIPPED = 10
FLIP_BROKER = "flip"


@dataclass(frozen=True)
class Scale:
    flip_rounds: int
    filter_rounds: int


FULL = Scale(flip_rounds=40, filter_rounds=10)
QUICK = Scale(flip_rounds=6, filter_rounds=2)


@dataclass(frozen=True)
class Figure:
    name: str
    samples: int
    p50_ms: float
    p95_ms: float
    max_ms: float


def figure(name: str, values: Sequence[float]) -> Figure:
    ordered = sorted(values)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)

    return Figure(name, len(ordered), at(0.5), at(0.95), round(ordered[-1], 1))


def documents() -> list[dict[str, Any]]:
    docs = scale_documents(NAMESPACE, TOTAL - FLIPPED)
    docs.append(
        {
            "apiVersion": "eventing.knative.dev/v1",
            "kind": "Broker",
            "metadata": {"name": FLIP_BROKER, "namespace": NAMESPACE},
            "spec": {},
        }
    )
    docs += [
        eventtype(f"flip-{i:03d}", NAMESPACE, type=f"dev.bench.flip.{i}", broker=FLIP_BROKER)
        for i in range(FLIPPED)
    ]
    return docs


def consumable(registry: RegistryProcess) -> int:
    data = registry.query(
        "query($ns: String!) { eventTypes(namespace: $ns, filter: {consumable: true}) "
        "{ totalCount } }",
        {"ns": NAMESPACE},
    )["data"]
    count = data["eventTypes"]["totalCount"]
    assert isinstance(count, int)
    return count


def seed(registry: RegistryProcess) -> float:
    began = time.perf_counter()
    docs = documents()
    namespaces = [d for d in docs if d["kind"] == "Namespace"]
    brokers = [d for d in docs if d["kind"] == "Broker"]
    rest = [d for d in docs if d["kind"] == "EventType"]
    for batch in (namespaces, brokers, rest):
        create_all(registry.kubeconfig, batch)
    eventually(lambda: consumable(registry) == TOTAL, timeout=300, interval=0.5)
    return time.perf_counter() - began


ARM_FLIP = """expected => {
    window.flipSeen = null;
    const body = document.querySelector('.body');
    const done = () => {
        const rows = body.querySelectorAll('[data-key]');
        return rows.length === FLIPPED
            && [...rows].every(row => row.dataset.consumable === expected);
    };
    const observer = new MutationObserver(() => {
        if (done()) { window.flipSeen = Date.now(); observer.disconnect(); }
    });
    observer.observe(body, {subtree: true, childList: true, attributes: true});
}""".replace("FLIPPED", str(FLIPPED))


def broker_path() -> str:
    return f"/apis/eventing.knative.dev/v1/namespaces/{NAMESPACE}/brokers/{FLIP_BROKER}"


def bench_flips(page: Page, registry: RegistryProcess, rounds: int) -> list[Figure]:
    page.get_by_label("Broker").select_option(FLIP_BROKER)
    wait_for_count(page, FLIPPED, TOTAL)
    to_dom: list[float] = []
    patches: list[float] = []
    ready = True
    for _ in range(rounds):
        ready = not ready
        page.evaluate(ARM_FLIP, "true" if ready else "false")
        condition = {"type": "Ready", "status": "True" if ready else "False"}
        if not ready:
            condition["reason"] = "BenchFlip"
        began = time.time()
        patch_status(registry.kubeconfig, broker_path(), {"conditions": [condition]})
        patched = time.time()
        page.wait_for_function("window.flipSeen !== null", timeout=30_000)
        seen = page.evaluate("window.flipSeen")
        assert isinstance(seen, int | float)
        to_dom.append(seen - began * 1000)
        patches.append((patched - began) * 1000)
        time.sleep(0.2)
    page.get_by_label("Broker").select_option("")
    wait_for_count(page, TOTAL, TOTAL)
    return [
        figure("Broker flip → all 10 rows changed in the DOM", to_dom),
        figure("the PATCH's own round trip (floor)", patches),
    ]


MEASURE_FILTER = """async ({selector, value, shown}) => {
    const input = document.querySelector(selector);
    const count = document.querySelector('.count');
    const changed = new Promise(resolve => {
        const observer = new MutationObserver(() => {
            if (count.dataset.shown === String(shown)) { observer.disconnect(); resolve(); }
        });
        observer.observe(count, {attributes: true});
    });
    const began = performance.now();
    input.value = value;
    const type = input.tagName === 'SELECT' ? 'change' : 'input';
    input.dispatchEvent(new Event(type, {bubbles: true}));
    await changed;
    const inDom = performance.now() - began;
    await new Promise(resolve => requestAnimationFrame(() => resolve()));
    return [inDom, performance.now() - began];
}"""

MEASURE_SORT = """async () => {
    const body = document.querySelector('.body');
    const first = () => body.querySelector('[data-index="0"]')?.dataset.key;
    const before = first();
    const changed = new Promise(resolve => {
        const observer = new MutationObserver(() => {
            if (first() !== before) { observer.disconnect(); resolve(); }
        });
        observer.observe(body, {subtree: true, childList: true});
    });
    const began = performance.now();
    document.querySelector('button[data-sort="type"]').click();
    await changed;
    const inDom = performance.now() - began;
    await new Promise(resolve => requestAnimationFrame(() => resolve()));
    return [inDom, performance.now() - began];
}"""


def expected_shown(search: str = "", prefix: str = "", consumable_only: str = "any") -> int:
    types = [d["spec"]["type"] for d in documents() if d["kind"] == "EventType"]
    names = [d["metadata"]["name"] for d in documents() if d["kind"] == "EventType"]
    if consumable_only == "no":
        return 0
    needle = search.lower()
    return sum(
        1
        for type_, name in zip(types, names, strict=True)
        if type_.startswith(prefix) and (needle in type_.lower() or needle in name.lower())
    )


STEPS: list[tuple[str, str, str, dict[str, str]]] = [
    ("search", 'input[name="search"]', "item01", {"search": "item01"}),
    ("search", 'input[name="search"]', "item012", {"search": "item012"}),
    ("search", 'input[name="search"]', "item0123", {"search": "item0123"}),
    ("clear", 'input[name="search"]', "", {}),
    (
        "type prefix",
        'input[name="typePrefix"]',
        "dev.scale.orders.",
        {"prefix": "dev.scale.orders."},
    ),
    ("clear", 'input[name="typePrefix"]', "", {}),
    ("consumable", 'select[name="consumable"]', "no", {"consumable_only": "no"}),
    ("clear", 'select[name="consumable"]', "any", {}),
]


def bench_filters(page: Page, rounds: int) -> list[Figure]:
    in_dom: dict[str, list[float]] = {}
    painted: dict[str, list[float]] = {}
    expectations = [expected_shown(**arguments) for _, _, _, arguments in STEPS]
    for _ in range(rounds):
        for (kind, selector, value, _), shown in zip(STEPS, expectations, strict=True):
            result = page.evaluate(
                MEASURE_FILTER, {"selector": selector, "value": value, "shown": shown}
            )
            in_dom.setdefault(kind, []).append(result[0])
            painted.setdefault(kind, []).append(result[1])
        for _ in range(2):  # descending, then back to ascending
            result = page.evaluate(MEASURE_SORT)
            in_dom.setdefault("sort by type", []).append(result[0])
            painted.setdefault("sort by type", []).append(result[1])
    every_dom = [value for values in in_dom.values() for value in values]
    every_paint = [value for values in painted.values() for value in values]
    figures = [figure(f"{kind} → DOM", values) for kind, values in in_dom.items()]
    figures.append(figure("every change → DOM", every_dom))
    figures.append(figure("every change → next frame", every_paint))
    return figures


def measure(scale: Scale, directory: Path) -> tuple[dict[str, Any], list[Figure]]:
    registry = RegistryProcess(directory / "registry").start()
    try:
        registry.wait_ready(timeout=60)
        seeded = seed(registry)
        with sync_playwright() as playwright:
            browser = launch(playwright)
            try:
                with offline_page(browser, width=1280, height=800, timeout_ms=60_000) as state:
                    page = state.page
                    began = time.perf_counter()
                    open_dashboard(page, registry.origin, f"ui/#/?ns={NAMESPACE}")
                    wait_for_count(page, TOTAL, TOTAL)
                    loaded = (time.perf_counter() - began) * 1000
                    figures = [figure(f"load: page open → {TOTAL:,} rows listed", [loaded])]
                    figures += bench_flips(page, registry, scale.flip_rounds)
                    figures += bench_filters(page, scale.filter_rounds)
                    rendered = page.locator(".body [data-key]").count()
                    state.assert_clean()
            finally:
                browser.close()
    finally:
        registry.stop()
    return {"seed_seconds": round(seeded, 1), "rows_in_dom": rendered}, figures


def table(figures: Sequence[Figure]) -> str:
    lines = [
        "| figure | samples | p50 ms | p95 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {f.name} | {f.samples} | {f.p50_ms} | {f.p95_ms} | {f.max_ms} |" for f in figures]
    return "\n".join(lines)


def readme_section(info: dict[str, Any], facts: dict[str, Any], figures: Sequence[Figure]) -> str:
    return f"""{SECTION}

`bench/dashboard.py` opens the web dashboard (`/ui`, the committed build) in Debian's headless
Chromium against its own `event-registry serve`, with one namespace of {TOTAL:,} EventTypes
({FLIPPED} of them on Broker `{FLIP_BROKER}`), every non-localhost request blocked. *Flip → DOM*:
the table filtered on Broker `{FLIP_BROKER}`; the Broker's Ready condition is merge-patched
(status subresource) and the time runs from just before the PATCH until a MutationObserver in
the page saw all {FLIPPED} rows' consumable value change (Python's and the page's clocks are
the same system clock, millisecond resolution). *Filter*: one change of the search text, type
prefix or consumable filter, dispatched on the input in the page, until the count shows the new
number of rows (the rows are in the DOM then), and until the next animation frame; *sort*: a
click on the Type column until the first row is the new one. The table is virtualized:
{facts["rows_in_dom"]} rows were in the DOM with all {TOTAL:,} listed.

Run {info["date"]}, {info["nproc"]} cores shared by the browser, the server and the script,
load average {info["loadavg_at_start"][0]:.2f} at the start; seeding took {facts["seed_seconds"]} s.

{table(figures)}
"""


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--output", type=Path, help=f"JSON results (default: {RESULTS})")
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    output: Path | None = args.output or (None if args.quick else RESULTS)
    info = reporting.machine(kubectl=False)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as directory:
        facts, figures = measure(scale, Path(directory))
    info["loadavg_at_end"] = list(os.getloadavg())
    info["duration_seconds"] = round(time.perf_counter() - began, 1)
    print(f"dashboard benchmark, {info['date']}, {info['nproc']} cores, {facts}")
    print(table(figures))
    if output is not None:
        output.write_text(
            json.dumps(
                {
                    "machine": info,
                    "scale": asdict(scale),
                    **facts,
                    "figures": [asdict(f) for f in figures],
                },
                indent=2,
            )
            + "\n"
        )
        if not args.quick:
            reporting.replace_section(README, SECTION, readme_section(info, facts, figures))
        print(f"results: {output}")


if __name__ == "__main__":
    main()
