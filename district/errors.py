# Exceptions raised by the district package.
from __future__ import annotations


class DistrictError(Exception):
    """Base class for district collector errors."""
