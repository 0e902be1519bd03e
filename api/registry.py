"""Route declarations: one decorator gives a view its path, access rule and
request schema, and records them for the OpenAPI document.

A view declared with `body=Model` receives the validated model instance; the
decorator turns its return value (dict, list or Response) into JSON. A GET
route declared with `query=Model` receives its query parameters validated by
the model the same way (a 400 naming the parameter), after the token check;
the OpenAPI document lists them as `in: query` parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, request
from pydantic import BaseModel, ValidationError

from api import auth, manager_roles
from api.errors import APIError, bad_request
from api.jsonio import json_response, request_json

# Who may call a route.
PUBLIC: tuple[str, ...] = ()
USER = ("user",)
MANAGER = ("manager",)
USER_OR_MANAGER = ("user", "manager")
SERVICE = ("service",)


@dataclass
class Route:
    path: str
    method: str
    view_name: str
    access: tuple[str, ...]
    body: type[BaseModel] | None
    summary: str
    tag: str
    responses: dict[int, str] = field(default_factory=dict)
    body_schema: dict | None = None  # for bodies that are not an object (updateAtivos)
    role: str | None = None  # the manager role the route needs (api/manager_roles.py)
    query: type[BaseModel] | None = None  # a GET route's query parameters


ROUTES: list[Route] = []


def _field_of(error: Mapping[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    return ".".join(loc) if loc else "body"


def validate(model: type[BaseModel], data: Any) -> BaseModel:
    """The model for `data`, or a 400 naming the first field at fault."""
    if not isinstance(data, dict):
        raise bad_request("the body must be a JSON object", "body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise bad_request(f"{_field_of(first)}: {first.get('msg', 'invalid')}", _field_of(first)) from None


def endpoint(
    bp: Blueprint,
    path: str,
    *,
    access: tuple[str, ...],
    body: type[BaseModel] | None = None,
    method: str = "POST",
    summary: str = "",
    responses: dict[int, str] | None = None,
    body_schema: dict | None = None,
    role: str | None = None,
    query: type[BaseModel] | None = None,
) -> Callable:
    if query is not None and method != "GET":
        raise ValueError(f"{path}: query parameters are for GET routes; give the others a body model")

    def decorate(view: Callable) -> Callable:
        needed = manager_roles.route_role(view.__name__, access, role)

        @functools.wraps(view)
        def wrapper():
            data = request_json() if method != "GET" else {}
            if access:
                caller = auth.authenticate(access, data if isinstance(data, dict) else {})
                manager_roles.check(caller.kind, caller.doc, needed)
            if query is not None:
                result = view(validate(query, request.args.to_dict()))
            elif body is not None:
                result = view(validate(body, data))
            elif body_schema is not None:
                result = view(data)
            else:
                result = view()
            if isinstance(result, Response):
                return result
            if isinstance(result, tuple):
                payload, status = result
                return json_response(payload, status)
            return json_response(result)

        bp.add_url_rule(path, view.__name__, wrapper, methods=[method])
        ROUTES.append(
            Route(
                path=bp.url_prefix.rstrip("/") + path if bp.url_prefix else path,
                method=method,
                view_name=view.__name__,
                access=access,
                body=body,
                summary=summary or (view.__doc__ or "").strip().split("\n")[0],
                tag=bp.name,
                responses=responses or {},
                body_schema=body_schema,
                role=needed,
                query=query,
            )
        )
        return wrapper

    return decorate


__all__ = [
    "APIError",
    "endpoint",
    "validate",
    "ROUTES",
    "PUBLIC",
    "USER",
    "MANAGER",
    "USER_OR_MANAGER",
    "SERVICE",
]
