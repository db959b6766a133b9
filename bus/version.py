# Which motcua this process runs: the installed package's version (a fleet update's release shows its own).
from __future__ import annotations

import sys
from pathlib import Path


def running_version() -> str:
    """The version of the motcua package this process imports: the first `motcua-<version>.dist-info` on the path,
    as importlib.metadata would find it (a release under PYTHONPATH comes first), without loading its ~1 MB of
    e-mail parsing into every device."""
    for entry in sys.path:
        try:
            found = sorted(Path(entry or ".").glob("motcua-*.dist-info"))
        except OSError:
            continue
        if found:
            return found[0].name.removeprefix("motcua-").removesuffix(".dist-info")
    return "0+unknown"  # a source tree that was never installed


VERSION = running_version()
