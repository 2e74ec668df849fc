"""Validate response bodies against the vendored official JSON Schemas (tests/data/schemas).

`assert_valid(body, "openai/VideoResource.json")` — for `azure/` schemas, properties that are not
`required` are also allowed to be `null` (the live service sends nulls the spec does not declare;
see tests/data/schemas/SOURCES.md, "disagree" point 1).

`assert_error_body(body, family)` — SOURCES.md point 2: an error body is valid when it matches
`openai/ErrorResponse`, or (Azure routes) `azure/AzureErrorResponse`, or (Sora 1 routes) the flat
`azure/AzureOpenAIVideoGenerationErrorResponse`, and carries a non-empty message.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).parent / "data" / "schemas"


def _nullable_optionals(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_nullable_optionals(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _nullable_optionals(value) for key, value in schema.items()}
    properties = out.get("properties")
    if isinstance(properties, dict):
        required = set(out.get("required", []))
        out["properties"] = {
            name: prop if name in required else {"anyOf": [prop, {"type": "null"}]}
            for name, prop in properties.items()
        }
    return out


@cache
def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    if name.startswith("azure/"):
        schema = _nullable_optionals(copy.deepcopy(schema))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors(body: Any, name: str) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator(name).iter_errors(body)
    ]


def assert_valid(body: Any, name: str) -> None:
    problems = errors(body, name)
    assert not problems, f"{name} rejects {body!r}:\n" + "\n".join(problems)


def assert_error_body(body: Any, family: Literal["openai", "azure", "sora1"]) -> None:
    names = ["openai/ErrorResponse.json"]
    if family in ("azure", "sora1"):
        names.append("azure/AzureErrorResponse.json")
    if family == "sora1":
        names.append("azure/AzureOpenAIVideoGenerationErrorResponse.json")
    problems = {name: errors(body, name) for name in names}
    assert any(not p for p in problems.values()), f"no error schema accepts {body!r}: {problems}"
    message = body.get("error", body).get("message") if isinstance(body, dict) else None
    assert isinstance(message, str) and message, f"error body without a message: {body!r}"
