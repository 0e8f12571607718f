"""Cuts Vapi's CreateAssistantDTO, with every schema it refers to, out of Vapi's public OpenAPI spec (the file
fern/apis/api/openapi.json of github.com/VapiAI/docs), for tests/test_vapi_assistant_spec.py:

    python tests/vapi_spec/extract.py openapi.json > tests/vapi_spec/create_assistant_dto.json

Where a property may be one of many providers (models, transcribers, voices, tools), only the ones voxbook
generates are kept (KEEP): the file stays small, and a config that picked another provider fails the test,
which is right until that provider is added here. Regenerate when Vapi's spec changes.
"""

from __future__ import annotations

import json
import sys

ROOT = "CreateAssistantDTO"
# One-of branches kept where a oneOf lists more than a handful (providers): what api/assistant.py emits.
KEEP = {"OpenAIModel", "DeepgramTranscriber", "AzureVoice", "CreateFunctionToolDTO", "CreateTransferCallToolDTO",
        "Server"}
MANY = 5


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.rsplit("/", 1)[-1]
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _prune(node):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in ("oneOf", "anyOf") and isinstance(value, list) and len(value) > MANY:
                value = [b for b in value if not isinstance(b, dict) or "$ref" not in b
                         or b["$ref"].rsplit("/", 1)[-1] in KEEP]
            if key == "discriminator":   # its mapping names the branches cut above
                continue
            out[key] = _prune(value)
        return out
    if isinstance(node, list):
        return [_prune(v) for v in node]
    return node


def extract(spec: dict) -> dict:
    schemas = spec["components"]["schemas"]
    seen: dict[str, dict] = {}
    stack = [ROOT]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen[name] = _prune(schemas[name])
        stack.extend(_refs(seen[name]))
    return {"info": {"title": spec["info"]["title"], "version": spec["info"].get("version")}, "root": ROOT,
            "components": {"schemas": dict(sorted(seen.items()))}}


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        json.dump(extract(json.load(f)), sys.stdout, indent=None, separators=(",", ":"), sort_keys=True)
        sys.stdout.write("\n")
