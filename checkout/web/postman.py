"""A Postman collection (v2.1) made from the OpenAPI document, so it never drifts from the API.

One folder per tag, one request per operation, with its path parameters as Postman variables
(`:order_id`), its query parameters listed (disabled, to switch on), an example JSON body built
from the schema's required fields, and bearer auth from the collection variable `token`
(`baseUrl` says where the edge is).
"""

from __future__ import annotations

import json
import re
from typing import Any

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def example(doc: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Any:
    """A small example value for a schema: required properties only, the first enum value."""
    schema = _resolve(doc, schema)
    if depth > 5:
        return None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("oneOf", "anyOf", "allOf"):
        if key in schema:
            return example(doc, schema[key][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object":
        props = schema.get("properties", {})
        return {k: example(doc, props[k], depth + 1) for k in schema.get("required", []) if k in props}
    if kind == "array":
        return [example(doc, schema.get("items", {}), depth + 1)]
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "string":
        return "https://example.com/webhooks" if schema.get("format") == "uri" else "string"
    return None


def _request(doc: dict[str, Any], path: str, method: str, op: dict[str, Any]) -> dict[str, Any]:
    params = op.get("parameters", [])
    postman_path = re.sub(r"\{(\w+)\}", r":\1", path).strip("/").split("/")
    url: dict[str, Any] = {"raw": "{{baseUrl}}" + re.sub(r"\{(\w+)\}", r":\1", path), "host": ["{{baseUrl}}"],
                           "path": postman_path}
    query = [{"key": p["name"], "value": "", "disabled": True, "description": p.get("description", "")}
             for p in params if p["in"] == "query"]
    variables = [{"key": p["name"], "value": "", "description": p.get("description", "")}
                 for p in params if p["in"] == "path"]
    if query:
        url["query"] = query
    if variables:
        url["variable"] = variables
    headers = [{"key": p["name"], "value": "", "disabled": True} for p in params if p["in"] == "header"]
    request: dict[str, Any] = {"method": method.upper(), "url": url, "header": headers,
                               "description": (op.get("description") or op.get("summary", ""))}
    if "security" not in op:
        request["auth"] = {"type": "noauth"}
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body is not None:
        request["header"].append({"key": "Content-Type", "value": "application/json"})
        request["body"] = {"mode": "raw", "raw": json.dumps(example(doc, body), indent=2),
                           "options": {"raw": {"language": "json"}}}
    return {"name": op.get("summary", f"{method.upper()} {path}"), "request": request}


def collection(doc: dict[str, Any]) -> dict[str, Any]:
    folders: dict[str, list[dict[str, Any]]] = {}
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            tag = (op.get("tags") or ["First-party"])[0]
            folders.setdefault(tag, []).append(_request(doc, path, method, op))
    return {
        "info": {"name": doc["info"]["title"], "description": doc["info"].get("description", ""), "schema": SCHEMA},
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}]},
        "variable": [{"key": "baseUrl", "value": doc["servers"][0]["url"]},
                     {"key": "token", "value": "", "description": "A personal access token (ddp_...)"}],
        "item": [{"name": tag, "item": items} for tag, items in folders.items()],
    }
