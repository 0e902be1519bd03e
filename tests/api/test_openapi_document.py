"""The OpenAPI document served at /glimpse/openapi.json: valid, and true to the route registry."""

from __future__ import annotations

import jsonschema_rs
import pytest
import schemathesis

from api.registry import ROUTES
from tests.api.samples import SAMPLES

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def document(client) -> dict:
    response = client.get("/glimpse/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def operations(document: dict) -> dict[tuple[str, str], dict]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def resolve(document: dict, node: dict) -> dict:
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target = document
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def refs_in(node) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in refs_in(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs_in(value)]
    return []


def test_the_document_is_valid_openapi_3(document):
    # pydantic writes JSON Schema 2020-12 ({"type": "null"} in anyOf, const): only 3.1 allows it.
    assert str(document["openapi"]).startswith("3.1")
    # Validates against the official meta-schema of the version the document declares
    # (schemathesis carries the OpenAPI 3.0, 3.1 and 3.2 meta-schemas).
    schemathesis.openapi.from_dict(document, config=schemathesis.Config()).validate()


def test_the_document_loads_without_errors_in_any_operation(document):
    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config())
    # get_all_operations yields Ok (with .ok()) or Err (with .err()) results.
    errors = [str(result.err()) for result in schema.get_all_operations() if not hasattr(result, "ok")]
    assert errors == []


def test_every_reference_resolves(document):
    refs = refs_in(document)
    assert refs, "the bodies are expected to refer to components"
    for ref in refs:
        assert isinstance(resolve(document, {"$ref": ref}), dict), ref


def test_every_route_is_documented_with_its_method_and_nothing_else(document):
    documented = set(operations(document))
    registered = {(r.method, r.path) for r in ROUTES}
    assert documented == registered
    assert len(registered) == len(ROUTES), "a route is registered twice"


def test_operations_carry_their_access_rule_and_security(document):
    ops = operations(document)
    for route in ROUTES:
        op = ops[(route.method, route.path)]
        assert op["operationId"] == route.view_name
        assert op["x-glimpse-access"] == (list(route.access) or ["public"])
        if route.access:
            assert op["security"] == [{"bearerAuth": []}], route.path
            assert {"401", "403"} <= set(op["responses"]), route.path
        else:
            assert not op.get("security"), route.path
        assert "200" in op["responses"]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    ids = [op["operationId"] for op in ops.values()]
    assert len(ids) == len(set(ids)), "operationIds must be unique"


def test_bodies_are_documented_where_routes_take_them(document):
    ops = operations(document)
    for route in ROUTES:
        op = ops[(route.method, route.path)]
        if route.method == "GET":
            assert "requestBody" not in op, route.path
            continue
        if route.body is None and route.body_schema is None:
            assert "requestBody" not in op, route.path
            continue
        body = op["requestBody"]
        assert body["required"] is True
        assert set(body["content"]) == {"application/json"}, route.path
        assert "400" in op["responses"], route.path
        if route.body_schema is not None:
            assert body["content"]["application/json"]["schema"] == route.body_schema


def test_every_body_model_lists_its_fields_and_required_fields(document):
    ops = operations(document)
    checked = set()
    for route in ROUTES:
        if route.body is None:
            continue
        schema = resolve(
            document, ops[(route.method, route.path)]["requestBody"]["content"]["application/json"]["schema"]
        )
        fields = {info.alias or name: info for name, info in route.body.model_fields.items()}
        required = {name for name, info in fields.items() if info.is_required()}
        assert schema.get("type") == "object", route.path
        assert set(schema.get("required", [])) == required, (route.path, route.body.__name__)
        assert set(fields) <= set(schema["properties"]), (route.path, route.body.__name__)
        checked.add(route.body)
    # Sanity: the registry really has models with required fields, so the loop above tested something.
    assert any(any(f.is_required() for f in m.model_fields.values()) for m in checked)
    assert {"LoginBody", "StrategyBody", "InsertSignalsBody"} <= {m.__name__ for m in checked}


def test_the_document_is_stable_between_requests(client, document):
    assert client.get("/glimpse/openapi.json").get_json() == document


def body_schemas(document: dict) -> dict[str, dict]:
    """operationId -> the request body schema of every operation that takes one."""
    return {
        op["operationId"]: op["requestBody"]["content"]["application/json"]["schema"]
        for op in operations(document).values()
        if "requestBody" in op
    }


def test_every_schema_is_valid_json_schema(document):
    schemas = {**document["components"]["schemas"], **body_schemas(document)}
    assert schemas
    for name, schema in schemas.items():
        try:
            jsonschema_rs.meta.validate(schema)
        except jsonschema_rs.ValidationError as exc:
            pytest.fail(f"{name}: {exc}")


def test_the_documented_schemas_accept_the_sample_bodies(document):
    # The schemas drive the generated requests: they must not refuse a request the API accepts.
    schemas = body_schemas(document)
    assert set(schemas) <= set(SAMPLES)
    for view, schema in schemas.items():
        validator = jsonschema_rs.validator_for({**schema, "components": document["components"]})
        errors = [error.message for error in validator.iter_errors(SAMPLES[view])]
        assert errors == [], view
