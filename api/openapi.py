"""The OpenAPI 3 document, generated from the route registry and its pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

import glimpse
from api.registry import ROUTES

_STATUS_TEXT = {
    200: "success",
    400: "invalid body: {error, field}",
    401: "missing, invalid or expired token",
    403: "the token may not do this",
    404: "no such route",
    413: "request body too large",
}
_BAD_QUERY = "invalid query parameter: {error, field}"


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """A query model's fields as OpenAPI `in: query` parameters (a value is never null on the wire)."""
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        options = [option for option in prop.pop("anyOf", []) if option.get("type") != "null"]
        if len(options) == 1:
            prop.update(options[0])
        elif options:
            prop["anyOf"] = options
        if prop.get("default", ...) is None:
            del prop["default"]
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def build_openapi() -> dict:
    models = sorted({r.body for r in ROUTES if r.body is not None}, key=lambda m: m.__name__)
    refs, top = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    paths: dict = {}
    for route in sorted(ROUTES, key=lambda r: r.path):
        responses = {"200": {"description": _STATUS_TEXT[200]}}
        if route.method != "GET":
            responses["400"] = {"description": _STATUS_TEXT[400]}
        elif route.query is not None:
            responses["400"] = {"description": _BAD_QUERY}
        if route.access:
            responses["401"] = {"description": _STATUS_TEXT[401]}
            responses["403"] = {"description": _STATUS_TEXT[403]}
        for status, text in route.responses.items():
            responses[str(status)] = {"description": text}
        operation = {
            "operationId": route.view_name,
            "summary": route.summary,
            "tags": [route.tag],
            "x-glimpse-access": list(route.access) or ["public"],
            "security": [{"bearerAuth": []}] if route.access else [],
            **({"x-glimpse-role": route.role} if route.role else {}),
            "responses": responses,
        }
        if route.query is not None:
            operation["parameters"] = query_parameters(route.query)
        if route.body is not None:
            schema = refs[(route.body, "validation")]
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
        elif route.body_schema is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": route.body_schema}},
            }
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Glimpse API",
            "version": glimpse.__version__,
            "description": "The API of the Glimpse bundle. Send the token from login or managerLogin as "
            "`Authorization: Bearer <token>` (or in the `userKey` body field).",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
