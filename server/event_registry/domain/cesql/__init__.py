"""CESQL v1, the CloudEvents SQL expression language of Knative's ``cesql`` Trigger filter.

Pure: no I/O. ``parse`` turns text into a syntax tree or raises ``CesqlSyntaxError`` (never
anything else); ``run`` evaluates a tree against one concrete event, as the cloudevents
sdk-go engine Knative uses would; ``decide`` says whether a filter accepts every, no, or
only some events of an EventType, from the attributes the EventType pins.

Modules: ``lexing`` and ``parsing`` (text → ``syntax`` tree, ``syntax.render`` back),
``values`` (outcomes and casts), ``functions`` (built-ins), ``evaluating`` (one evaluator
over sets of outcomes), ``deciding`` (the three-valued verdict).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .deciding import Verdict, decide
from .errors import CesqlSyntaxError
from .evaluating import Event, evaluate
from .parsing import parse
from .syntax import Expression, render
from .values import ErrorKind, Failed, Known

__all__ = [
    "CesqlSyntaxError",
    "ErrorKind",
    "Expression",
    "Result",
    "Verdict",
    "decide",
    "parse",
    "render",
    "run",
]


@dataclass(frozen=True, slots=True)
class Result:
    """A concrete evaluation: the value, and the error that came with it (if any)."""

    value: bool | int | str
    error: ErrorKind | None = None

    @property
    def passes_filter(self) -> bool:
        """What Knative's filter does with it: only true, without error, passes."""
        return self.error is None and self.value is True


def run(expression: Expression, attributes: Mapping[str, bool | int | str]) -> Result:
    """Evaluate ``expression`` on the event whose attributes (with extensions) are given."""
    (outcome,) = evaluate(expression, Event(attributes))
    if isinstance(outcome, Failed):
        return Result(outcome.value.value, outcome.error)
    assert isinstance(outcome, Known), "a concrete event gives concrete values"
    return Result(outcome.value)
