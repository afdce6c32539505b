"""Sizes as the flags take them."""

from __future__ import annotations

import pytest

from event_registry.app.limits import MiB, parse_size


@pytest.mark.parametrize(
    ("text", "size"),
    [("1048576", MiB), ("1MiB", MiB), ("2 mib", 2 * MiB), ("64KiB", 65536), ("8k", 8192)],
)
def test_sizes_in_bytes_or_with_a_unit(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MiB", "1.5MiB", "-1", "1GiB", "ten"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a size"):
        parse_size(text)
