"""Helpers for tests against the real local stack (started by scripts/test.sh)."""
