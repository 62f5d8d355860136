"""Finds dependency cycles between the top-level modules of each Rust crate in crates/ and
components/: a module depends on another when its files name `crate::<other>` (in `use` or a
path) or, for a submodule file, `super::<other>` from the crate root. Prints each cycle (exit 1),
the module count of each crate without one, and `N passed, M failed` (crates).
    python3 scripts/infra/module_cycles.py <repo root>
"""
import re
import sys
from pathlib import Path

CRATE_REF = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")
COMMENT = re.compile(r"//.*")


def top_module(src: Path, f: Path) -> str:
    rel = f.relative_to(src).parts
    name = rel[0]
    return name[:-3] if name.endswith(".rs") else name


def graph(src: Path) -> dict:
    modules = {top_module(src, f) for f in src.rglob("*.rs")} - {"lib", "main"}
    deps = {m: set() for m in modules}
    for f in src.rglob("*.rs"):
        mod = top_module(src, f)
        if mod not in deps:
            continue
        text = COMMENT.sub("", f.read_text())
        # Tests may reach anywhere; only the module's own code counts.
        text = text.split("#[cfg(test)]")[0]
        for other in CRATE_REF.findall(text):
            if other in modules and other != mod:
                deps[mod].add(other)
    return deps


def cycles(deps: dict) -> list:
    found, index, low, stack, on = [], {}, {}, [], set()
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(deps[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(deps):
        if v not in index:
            visit(v)
    return found


def main() -> int:
    root = Path(sys.argv[1])
    passed = failed = 0
    for src in sorted(list(root.glob("crates/*/src")) + list(root.glob("components/*/src"))):
        deps = graph(src)
        crate = src.parent.name
        found = cycles(deps)
        for comp in found:
            edges = [f"{a} -> {b}" for a in comp for b in sorted(deps[a]) if b in comp]
            print(f"{crate}: modules {', '.join(comp)} depend on each other ({'; '.join(edges)})")
        if found:
            failed += 1
        else:
            passed += 1
            print(f"{crate}: {len(deps)} modules, no cycle")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
