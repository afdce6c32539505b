"""bench/workers.py's plan: which worker counts can hold a size under the open-file limit, and
how the subscribers are split over load generators."""

from __future__ import annotations

from bench import workers


def test_sizes_one_process_can_hold_are_run_on_one_and_on_the_compared_workers() -> None:
    assert workers.configurations(10_000, (1, 2), fd_limit=20_000) == ([1, 2], "")


def test_a_size_too_large_for_one_process_is_run_on_the_workers_alone_and_says_why() -> None:
    counts, note = workers.configurations(20_000, (1, 2), fd_limit=20_000)
    assert counts == [2]
    assert note == (
        "1 worker(s) not run: 20,000 connections exceed 19,000 per process (open-file limit 20,000)"
    )


def test_a_size_no_compared_count_can_hold_runs_on_the_fewest_workers_that_can() -> None:
    counts, note = workers.configurations(50_000, (1, 2), fd_limit=20_000)
    assert counts == [3]
    assert note.startswith("1, 2 worker(s) not run: 50,000 connections")


def test_subscribers_are_split_evenly_over_generators_each_under_its_limit() -> None:
    assert workers.shares(10, 3) == [4, 3, 3]
    assert sum(workers.shares(50_000, 5)) == 50_000
    assert workers.generators_for(1_000, 2, fd_limit=20_000) == 2
    assert workers.generators_for(50_000, 2, fd_limit=20_000) == 5
    assert workers.generators_for(50_000, 2, fd_limit=8_000) == 8
