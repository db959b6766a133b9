# Which motcua this process runs: the installed package's version (a fleet update's release shows its own).
from __future__ import annotations

import importlib.metadata


def running_version() -> str:
    """The version of the motcua package this process imported (a release under PYTHONPATH comes first)."""
    try:
        return importlib.metadata.version("motcua")
    except importlib.metadata.PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


VERSION = running_version()
