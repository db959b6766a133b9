# The ward broker's mosquitto config: plain MQTT on loopback only (the hub), TLS with the ward's certificate on the LAN.
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PLAIN_PORT = 1883
TLS_PORT = 8883
CERT_DIR = Path("/etc/mosquitto/certs")


@dataclass(frozen=True)
class WardBroker:
    """Where the ward broker's files are; the defaults are a Debian hub's."""

    password_file: Path = Path("/etc/mosquitto/motcua.passwd")
    acl_file: Path = Path("/etc/mosquitto/motcua.acl")
    cert: Path = CERT_DIR / "motcua-broker.pem"
    key: Path = CERT_DIR / "motcua-broker.key"
    plain_port: int = PLAIN_PORT
    tls_port: int = TLS_PORT
    plain_host: str = "127.0.0.1"
    persistence: bool = True


def conf_text(b: WardBroker) -> str:
    """The config (installed as /etc/mosquitto/conf.d/motcua.conf). Queues are sized on purpose: the hub keeps a
    persistent session, and a restarting hub may have a few thousand requests waiting; motcua never relies on the
    broker alone for what must not be lost (docs/contract.md)."""
    return f"""# motcua ward broker, written by `motcua install` (provisioning/broker_conf.py); see docs/deploy.md.
# Plain MQTT only on loopback, for the hub (and a console) on this machine. Every other device dials the TLS
# listener and checks the broker's certificate against the ward CA its config carries: passwords never cross the
# LAN in the clear, and nobody can stand in for the broker.
per_listener_settings false
allow_anonymous false
password_file {b.password_file}
acl_file {b.acl_file}
persistence {'true' if b.persistence else 'false'}
autosave_interval 60
max_queued_messages 100000
max_inflight_messages 200
# Small messages (a call, a ticket) go out at once instead of waiting for delayed ACKs.
set_tcp_nodelay true
message_size_limit 65536

listener {b.plain_port} {b.plain_host}

listener {b.tls_port}
certfile {b.cert}
keyfile {b.key}
tls_version tlsv1.2
"""
