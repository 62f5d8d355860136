"""Finds Rust source files in crates/ and components/ longer than the project's limit (600
lines, with a little slack) that do not say why at their top: a `Length:` note in the module
documentation. Ends with `N passed, M failed` (files).
    python3 scripts/infra/long_files.py <repo root>
"""
import sys
from pathlib import Path

LIMIT = 620


def main() -> int:
    root = Path(sys.argv[1])
    passed = failed = 0
    for f in sorted(list(root.glob("crates/*/src/**/*.rs")) + list(root.glob("components/*/src/**/*.rs"))):
        lines = f.read_text().splitlines()
        head = "\n".join(lines[:40])
        if len(lines) > LIMIT and "Length:" not in head:
            failed += 1
            print(f"{f.relative_to(root)}: {len(lines)} lines and no `Length:` reason at its top")
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
