"""Turns CustomResourceDefinition YAML into strict JSON schemas for kubeconform.

Usage: crd_to_jsonschema.py <out dir> <dir or file with CRD YAML>...

Writes `<group>/<kind>_<version>.json` for every served version (kubeconform location
`{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`). Objects with declared properties reject
unknown fields unless marked `x-kubernetes-preserve-unknown-fields`.
"""
import json
import sys
from pathlib import Path

import yaml

INT_OR_STRING = [{"type": "string"}, {"type": "integer"}]


class CrdLoader(yaml.SafeLoader):
    """YAML 1.1 reads a bare `=` (an enum value in some CRDs) as the obsolete value tag: keep it a string."""


CrdLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def convert(node):
    if isinstance(node, list):
        return [convert(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: convert(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = INT_OR_STRING
    if ("properties" in node and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


def crd_documents(path):
    files = sorted(path.rglob("*.yaml")) + sorted(path.rglob("*.yml")) if path.is_dir() else [path]
    for f in files:
        for doc in yaml.load_all(f.read_text(), Loader=CrdLoader):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                yield f, doc


def main():
    out = Path(sys.argv[1])
    written = 0
    for source in map(Path, sys.argv[2:]):
        count = 0
        for _, crd in crd_documents(source):
            spec = crd["spec"]
            group, kind = spec["group"], spec["names"]["kind"]
            for version in spec["versions"]:
                schema = version.get("schema", {}).get("openAPIV3Schema")
                if not schema:
                    continue
                target = out / group / f"{kind.lower()}_{version['name']}.json"
                target.parent.mkdir(parents=True, exist_ok=True)
                converted = convert(schema)
                converted["$schema"] = "http://json-schema.org/draft-04/schema#"
                target.write_text(json.dumps(converted))
                count += 1
        if count == 0:
            sys.exit(f"no CustomResourceDefinition found in {source}")
        print(f"{count} CRD versions from {source.name}")
        written += count
    print(f"{written} CRD schemas written to {out}")


if __name__ == "__main__":
    main()
