# Exceptions raised by the provisioning package.
from __future__ import annotations


class ProvisioningError(Exception):
    """Base class for provisioning errors."""
