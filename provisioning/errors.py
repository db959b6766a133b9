# Exceptions raised by the provisioning package.
from __future__ import annotations


class ProvisioningError(Exception):
    """Base class for provisioning errors."""


class BrokerError(ProvisioningError):
    """A broker could not be started or did not come up in time."""
