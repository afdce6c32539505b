"""Schema-driven fuzzing of a real ``event-registry serve`` over HTTP (tests/support/fuzzing.py).

One registry process in tokens mode, seeded through mutations with two namespaces holding a
Broker, two EventTypes and a Trigger each: ``fuzz``, which the fuzzing token may read and
write, and ``hidden``, which it may not see. Generated queries and mutations (every root field,
``_entities`` with generated representations) must never be answered with the masked
"Unexpected error" or a 5xx, and the server must still be healthy afterwards. Generated queries
that name the hidden namespace must be answered exactly as the same queries naming a namespace
that does not exist.

The operations are derandomized (the same ones every run); mutations may create and delete the
seeded objects, and nothing asserted depends on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings

from tests.support import fuzzing
from tests.support.registry import RegistryProcess, auth_headers, http

EXAMPLES = 300
COMPARED_QUERIES = 100


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    process = RegistryProcess(
        data_dir, tokens_file=fuzzing.write_tokens_file(data_dir / "tokens.yaml")
    )
    process.start()
    try:
        process.wait_ready()
        fuzzing.seed(process, token=fuzzing.SEEDER)
        yield process
    finally:
        process.stop()


def _as_absent(text: str) -> str:
    return text.replace(fuzzing.HIDDEN, fuzzing.ABSENT)


@settings(
    max_examples=COMPARED_QUERIES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(query=fuzzing.operations(mutations=False))
def test_a_hidden_namespace_is_answered_like_a_missing_one(
    registry: RegistryProcess, query: str
) -> None:
    hidden = fuzzing.send(registry.url, query, token=fuzzing.FUZZER)
    absent = fuzzing.send(registry.url, _as_absent(query), token=fuzzing.FUZZER)
    assert hidden.status == absent.status < 500
    assert fuzzing.INTERNAL_ERROR not in hidden.text
    assert _as_absent(hidden.text) == absent.text


# After the comparison: the mutations among these change the seeded namespace.
def test_no_generated_operation_gets_an_internal_error_or_a_5xx(registry: RegistryProcess) -> None:
    tally = fuzzing.fuzz(
        registry.url, examples=EXAMPLES, token=fuzzing.FUZZER, stop_at_failure=True
    )
    assert tally.operations >= EXAMPLES // 2, tally.summary()
    assert (tally.internal_errors, tally.server_errors) == (0, 0), tally.summary()
    assert registry.get("/healthz").status == 200
    # Not only rejections: a good share of the operations ran resolvers and answered data.
    assert sum(tally.errors.values()) < tally.operations * 0.8, tally.summary()


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_json_nested_deeper_than_the_parser_goes_is_a_400(
    registry: RegistryProcess, method: str
) -> None:
    depth = 1_500
    variables = '{"r": ' + "[" * depth + "]" * depth + "}"
    headers = auth_headers(fuzzing.FUZZER)
    if method == "POST":
        body = ('{"query": "{ __typename }", "variables": ' + variables + "}").encode()
        headers["content-type"] = "application/json"
        reply = http("POST", registry.url, body=body, headers=headers)
    else:
        query = urlencode({"query": "{ __typename }", "variables": variables})
        reply = http("GET", f"{registry.url}?{query}", headers=headers)
    assert reply.status == 400, reply.text
    assert "Unable to parse" in reply.text
