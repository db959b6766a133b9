# The console's config section: where it listens, its accounts file, sessions and the optional TLS certificate.
from __future__ import annotations

from dataclasses import dataclass

from bus.config import DeviceConfig, load, opt
from bus.errors import ConfigError


@dataclass(frozen=True)
class ConsoleSection:
    listen: str = opt("0.0.0.0", doc="the address to listen on; 127.0.0.1 for this machine only")
    port: int = opt(8080, lo=1, hi=65535)
    hub_id: str = opt("hub", doc="the hub's device id: while its state says offline, counter actions are refused")
    accounts: str = opt("console.db", doc="the accounts, sessions' secret and audit log, under data_dir")
    session_hours: float = opt(12.0, lo=0.25, hi=168.0, doc="how long a sign-in lasts")
    request_timeout_s: float = opt(3.0, lo=0.5, hi=30.0, doc="how long to wait for the hub's answer to an action")
    tls_cert: str = opt("", doc="a PEM certificate: serve HTTPS (with tls_key); empty: plain HTTP on the ward LAN")
    tls_key: str = opt("", doc="the certificate's PEM private key")
    lang: str = opt("vi", choices=("vi", "en"), doc="the pages' first language; every page has an English toggle")


SECTIONS = {"console": ConsoleSection}


def load_console(path: str) -> tuple[DeviceConfig, ConsoleSection]:
    config = load(path, SECTIONS)
    section: ConsoleSection = config.sections["console"]
    if bool(section.tls_cert) != bool(section.tls_key):
        raise ConfigError(config.source, "console.tls_key" if section.tls_cert else "console.tls_cert",
                          "TLS needs both tls_cert and tls_key")
    return config, section
