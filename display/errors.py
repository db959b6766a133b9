# Exceptions raised by the display package.
from __future__ import annotations


class DisplayError(Exception):
    """Base class for display errors."""


class ClipError(DisplayError):
    """A clip set is incomplete or its files do not match each other."""


class AudioError(DisplayError):
    """A sound could not be played."""
