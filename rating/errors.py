# Exceptions raised by the rating package.
from __future__ import annotations


class RatingError(Exception):
    """Base class for errors of the rating devices."""
