"""``/api/v1`` fuzzed by schemathesis against its own OpenAPI schema, over real HTTP on a
seeded store: valid and invalid parameters alike, no answer is a server error, and every
answer to a valid request has the shape the schema promises."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.servers.seed import HOSTILE_TITLE, record_alerts
from tests.web_helpers import config_at, open_store, serve, write_config

EXAMPLES = 25  # per operation and mode


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    store = open_store(tmp / "var")
    record_alerts(store, 12, channels=["local", "hook"])
    record_alerts(store, 1, channels=["local"], title=HOSTILE_TITLE, start=50)
    config = config_at(write_config(tmp / "config"), tmp / "var")
    with serve(config, store) as server:
        yield server.url
    store.close()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_makes_a_server_error(api: str, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(api + "/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/alerts", "/articles/{article_id}", "/search"}
    checks = [not_a_server_error]
    if mode is GenerationMode.POSITIVE:
        checks.append(response_schema_conformance)
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not list(operation.iter_parameters()):
            continue  # /sources, /watches: no parameter, so no invalid request to make
        strategy = operation.as_strategy(generation_mode=mode)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=api + "/api/v1", checks=checks)

        run()
