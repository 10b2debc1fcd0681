"""A property-based run of schemathesis over the live server's OpenAPI document.

Every operation gets up to 20 generated requests that fit the schema (each response must
conform to the document: status, content type, body schema) and up to 20 that break it
(each must be refused, never a server error). A valid request may still be refused with a
422 when two values clash (``start`` after ``end``), so schemathesis' "valid data is
accepted" check is the one left out.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.api.conftest import TOKEN

EXAMPLES = 20


@pytest.fixture(scope="module")
def schema(api):
    return schemathesis.openapi.from_dict(api.get("/openapi.json").json())


def run_operation(operation, server, mode: GenerationMode) -> list[int]:
    statuses: list[int] = []
    auth = {"Authorization": f"Bearer {TOKEN}"}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode))
    def check(case):
        if mode is GenerationMode.POSITIVE:
            # a 422 for a pair of valid values that clash (start after end) is right, so the
            # check that every schema-valid request is accepted is left out
            response = case.call_and_validate(
                base_url=server.url, headers=auth, excluded_checks=[positive_data_acceptance]
            )
        else:
            response = case.call(base_url=server.url, headers=auth)
        statuses.append(response.status_code)
        assert response.status_code < 500, (case.path, case.query, response.text[:300])
        assert "Traceback" not in response.text

    check()
    return statuses


@pytest.mark.slow
def test_no_server_error_on_generated_requests(schema, server):
    seen = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        has_parameters = bool(list(operation.iter_parameters()))
        modes = [GenerationMode.POSITIVE] + [GenerationMode.NEGATIVE] * has_parameters
        for mode in modes:  # a route without parameters has no request that breaks them
            seen[(operation.label, mode.value)] = run_operation(operation, server, mode)
    assert len({label for label, _ in seen}) == 16  # 15 routes and /health
    assert all(seen.values())  # each operation was called
    assert not any(s >= 500 for statuses in seen.values() for s in statuses)
