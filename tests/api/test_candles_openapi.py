"""getCandles in the route registry and the OpenAPI document: its query parameters are documented,
validated by their model, and requests generated from the document get 2xx or a 4xx naming one."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, cast

import pytest
import schemathesis
from flask import Blueprint
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel
from schemathesis import GenerationMode

from api.registry import ROUTES, USER, endpoint
from api.routes.chart import MAX_COUNT, CandlesQuery
from glimpse.rules.pairs import PAIR_NAMES
from tests.api.replay import replayable

PATH = "/glimpse/getCandles"
PARAMETERS = {"pair", "from", "to", "count"}


@pytest.fixture
def document(client) -> dict:
    return client.get("/glimpse/openapi.json").get_json()


def test_get_candles_is_a_registered_route_with_its_query_model():
    route = next(r for r in ROUTES if r.path == PATH)
    assert (route.method, route.access, route.query, route.body) == ("GET", USER, CandlesQuery, None)


def test_the_document_lists_its_query_parameters_and_responses(document):
    operation = document["paths"][PATH]["get"]
    assert operation["operationId"] == "get_candles"
    assert "requestBody" not in operation
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == PARAMETERS
    assert all(p["in"] == "query" for p in parameters.values())
    assert {name for name, p in parameters.items() if p["required"]} == {"pair", "from"}
    assert parameters["pair"]["schema"] == {"type": "string", "enum": list(PAIR_NAMES)}
    assert parameters["count"]["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_COUNT}
    assert parameters["to"]["schema"]["type"] == "number"  # never "null": a query value is a string
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
    assert operation["security"] == [{"bearerAuth": []}]


def test_query_models_are_for_get_routes_only():
    class Query(BaseModel):
        q: int

    with pytest.raises(ValueError, match="query parameters are for GET routes"):
        endpoint(Blueprint("x", __name__), "/x", access=USER, method="POST", query=Query)


def _problem(status: int, content: bytes) -> str | None:
    if status >= 500:
        return f"server error {status}"
    if status == 200:
        body = json.loads(content)
        return None if isinstance(body.get("candles"), list) else "200 without candles"
    if status == 400:
        body = json.loads(content)
        if body.get("field") not in PARAMETERS:
            return f"400 naming {body.get('field')!r}, not a parameter: {body}"
        return None
    return f"unexpected status {status}"


@pytest.mark.parametrize(("mode", "examples"), [(GenerationMode.POSITIVE, 80), (GenerationMode.NEGATIVE, 60)])
def test_generated_requests_get_candles_or_a_400_naming_the_parameter(
    app, client, document, user, mode, examples
):
    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config())
    schema.app = app
    operation = next(
        cast(Any, result).ok()
        for result in schema.get_all_operations()
        if hasattr(result, "ok") and cast(Any, result).ok().path == PATH
    )
    statuses: Counter = Counter()
    failures: list[str] = []

    @replayable(examples)
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def exercise(case, data):
        # identity: the candles are read below, and a long list would come gzipped
        case.headers = {**(case.headers or {}), **user.headers, "Accept-Encoding": "identity"}
        response = case.call()
        statuses[response.status_code] += 1
        problem = _problem(response.status_code, response.content)
        if problem:
            failures.append(f"{case.query!r}: {problem}")

    exercise()
    assert failures == [], "\n".join(failures[:20])
    assert sum(statuses.values()) >= examples // 2
    if mode == GenerationMode.POSITIVE:
        assert statuses[200] > 0, statuses  # valid parameters reach the handler
    else:
        assert statuses[400] > 0, statuses
