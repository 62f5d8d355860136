"""Turns the Kubernetes OpenAPI (swagger 2.0) document into one strict JSON schema per kind.

Usage: openapi_to_jsonschema.py <swagger.json> <out dir>

Files are named like kubeconform's default layout, `<kind>-<group>-<version>.json` (`<kind>-<version>.json`
for the core group), each carrying only the definitions it references. Objects with declared properties
reject unknown fields (kubeconform's strict mode), int-or-string and quantities accept both forms.
"""
import json
import sys
from pathlib import Path

INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
QUANTITY = {"oneOf": [{"type": "string"}, {"type": "number"}]}
REF_PREFIX = "#/definitions/"


def convert(node):
    """A definition rewritten for JSON schema draft 4 validation with strict objects."""
    if isinstance(node, list):
        return [convert(n) for n in node]
    if not isinstance(node, dict):
        return node
    if node.get("format") == "int-or-string":
        return dict(INT_OR_STRING)
    out = {k: convert(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if "properties" in node and "additionalProperties" not in node:
        out["additionalProperties"] = False
    return out


def refs_of(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            found.add(ref[len(REF_PREFIX):])
        for v in node.values():
            refs_of(v, found)
    elif isinstance(node, list):
        for v in node:
            refs_of(v, found)


def closure(name, definitions):
    seen, todo = set(), [name]
    while todo:
        cur = todo.pop()
        if cur in seen or cur not in definitions:
            continue
        seen.add(cur)
        found = set()
        refs_of(definitions[cur], found)
        todo.extend(found - seen)
    return seen


def main():
    swagger, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    definitions = json.loads(swagger.read_text())["definitions"]
    converted = {k: convert(v) for k, v in definitions.items()}
    converted["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = dict(INT_OR_STRING)
    converted["io.k8s.apimachinery.pkg.api.resource.Quantity"] = dict(QUANTITY)
    written = 0
    for name, definition in definitions.items():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            group, version, kind = gvk["group"], gvk["version"], gvk["kind"]
            suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
            schema = dict(converted[name])
            schema["$schema"] = "http://json-schema.org/draft-04/schema#"
            schema["definitions"] = {d: converted[d] for d in closure(name, definitions) if d != name}
            # The document's own refs to itself (recursive kinds) point at the root.
            text = json.dumps(schema).replace(f'"{REF_PREFIX}{name}"', '"#"')
            (out / f"{kind.lower()}{suffix}.json").write_text(text)
            written += 1
    print(f"{written} Kubernetes kinds written to {out}")


if __name__ == "__main__":
    main()
