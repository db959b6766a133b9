# Exceptions raised by the console package.
from __future__ import annotations


class ConsoleError(Exception):
    """Base class for console errors."""


class AccountError(ConsoleError):
    """An account cannot be made or changed as asked; says why."""
