"""Runs the schemathesis CLI (same arguments as `st`) with one workaround.

On CPython 3.11.7, `ast.parse` of a large module can raise SystemError ("AST constructor
recursion depth mismatch", a CPython bug). Hypothesis parses source files only to describe a
lambda in a strategy's repr, and schemathesis' coverage phase builds such reprs, so the phase
aborted before sending a request. The description is cosmetic: when parsing fails, a generic one
is used instead."""

from __future__ import annotations

import sys

from hypothesis.internal import lambda_sources

_describe = lambda_sources._lambda_description


def _describe_or_generic(f, *args, **kwargs):
    try:
        return _describe(f, *args, **kwargs)
    except SystemError:
        return "lambda: <unknown>"


lambda_sources._lambda_description = _describe_or_generic

if __name__ == "__main__":
    from schemathesis.cli import schemathesis

    sys.exit(schemathesis())
