# Exceptions raised by the desk package.
from __future__ import annotations


class DeskError(Exception):
    """Base class for desk button errors."""
