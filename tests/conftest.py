"""Test-wide setup: the same thread hand-off defaults the CLI uses (before numpy loads)."""

import analogff._threads  # noqa: F401
