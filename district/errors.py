# Exceptions raised by the district package.
from __future__ import annotations


class DistrictError(Exception):
    """Base class for district collector errors."""


class StoreError(DistrictError):
    """The collector's database cannot be opened or used; says which one and why."""
