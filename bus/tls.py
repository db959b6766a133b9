# TLS to the ward broker: the client's context (the ward CA written in the config, or a CA file); why a handshake fails.
from __future__ import annotations

import socket
import ssl

from bus.config import BrokerSection


def context(broker: BrokerSection) -> ssl.SSLContext:
    """Verifies the broker's certificate and host name against the ward CA in the config (`ca_pem`), a CA file, or
    the system's store when neither is given (an upstream broker with a public certificate)."""
    ctx = ssl.create_default_context(cafile=broker.ca_file or None, cadata=broker.ca_pem or None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def handshake_problem(broker: BrokerSection, timeout: float = 3.0) -> str | None:
    """Why a TLS handshake with the broker fails, in words (None when it succeeds, or when nothing listens there:
    that is a broker that is down, not one that cannot be trusted)."""
    try:
        with socket.create_connection((broker.host, broker.port), timeout=timeout) as raw, \
                context(broker).wrap_socket(raw, server_hostname=broker.host):
            return None
    except ssl.SSLCertVerificationError as exc:
        return (f"the broker at {broker.host}:{broker.port} could not be trusted ({exc.verify_message}): its "
                f"certificate is not signed by the ward CA in [broker] ca_pem, or not made for {broker.host!r}")
    except ssl.SSLError as exc:
        return f"TLS with the broker at {broker.host}:{broker.port} failed: {exc.reason or exc}"
    except OSError:
        return None
