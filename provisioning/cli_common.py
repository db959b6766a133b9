# Helpers shared by the motcua commands: one-line errors instead of tracebacks, broker options, a request.
from __future__ import annotations

import functools
import json
import sys

import click

from bus.config import BrokerSection
from provisioning.entry import OUR_ERRORS


def connection_options(fn):  # noqa: ANN001, ANN202 - click decorator stack
    """Adds --host, --port, --username, --password and --ward; the command receives `broker` and `ward`."""

    command = fn

    @functools.wraps(command)
    def with_broker(*args, host: str, port: int, username: str, password: str, ca_file: str,  # noqa: ANN002, ANN202
                    **kw):  # noqa: ANN003
        return command(*args, broker=BrokerSection(host=host, port=port, username=username, password=password,
                                                   tls=bool(ca_file), ca_file=ca_file), **kw)

    fn = with_broker
    fn = click.option("--ca-file", envvar="MOTCUA_BROKER_CA", default="",
                      help="The ward CA's certificate (ward-ca.pem): connect with TLS, e.g. --port 8883 from a "
                           "laptop on the LAN (or $MOTCUA_BROKER_CA); empty: plain MQTT, on the hub itself.")(fn)
    fn = click.option("--password", envvar="MOTCUA_BROKER_PASSWORD", default="",
                      help="Broker password (or $MOTCUA_BROKER_PASSWORD).")(fn)
    fn = click.option("--username", envvar="MOTCUA_BROKER_USER", default="",
                      help="Broker user, e.g. it (or $MOTCUA_BROKER_USER); empty: anonymous.")(fn)
    fn = click.option("--ward", envvar="MOTCUA_WARD", required=True, help="Ward id (or $MOTCUA_WARD).")(fn)
    fn = click.option("--port", type=click.IntRange(1, 65535), default=1883, show_default=True)(fn)
    return click.option("--host", default="127.0.0.1", show_default=True, help="Ward broker host.")(fn)



def request(broker, ward, device, topic_of, type_, body, timeout) -> None:  # noqa: ANN001
    from provisioning.fleet import ask

    def call() -> dict:
        reply = ask(broker, ward, device, topic_of, type_, body, timeout, f"the hub of ward {ward!r}")
        return {"type": reply.type, **reply.body}

    result = guard(call)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    if result["type"] == "error":
        sys.exit(1)



def guard(fn):  # noqa: ANN001, ANN202
    """Turns our own errors, and the system's refusal of a file or folder named on the command line (no such
    folder, no permission, a name too long, a full disk), into a one-line message and exit code 1 instead of a
    traceback."""
    try:
        return fn()
    except OUR_ERRORS as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        where = f"{str(exc.filename)[:120]}: " if exc.filename is not None else ""
        raise click.ClickException(f"{where}{exc.strerror or exc}") from None


