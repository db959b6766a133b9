# Zalo ZNS (Zalo Notification Service) over HTTPS: a registered template filled with the message's fields.
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bus.config import opt
from bus.errors import ContractError
from bus.messages import MAX_PAYLOAD, load_json
from bus.validation import field_name
from notify.errors import GatewayError
from notify.gateways import Outgoing

ZNS_URL = "https://business.openapi.zalo.me/message/template"
MSG_ID = re.compile(r"[A-Za-z0-9_.:-]{1,80}")  # Zalo's id of a sent message, kept as the text's reference


@dataclass(frozen=True)
class Options:
    token: str = opt(doc="the Official Account's access token (Zalo for Developers)")
    template_near: str = opt(pattern=r"[0-9]{1,20}", doc="id of the approved 'your turn is near' template")
    template_called: str = opt(pattern=r"[0-9]{1,20}", doc="id of the approved 'you are called' template")
    url: str = opt(ZNS_URL, pattern=r"https?://[!-~]+", doc="the ZNS endpoint (a test points it at a fake)")
    timeout_s: float = opt(10.0, lo=1.0, hi=60.0)


class ZnsGateway:
    """One HTTPS request per message; `tracking_id` is the message's own id, so the ward can match Zalo's delivery
    reports to it. The template's fields are `ticket`, `ahead`, `counter` and `service` (docs/phone.md)."""

    name = "zns"

    def __init__(self, options: Options) -> None:
        self.options = options

    def send(self, message: Outgoing) -> str:
        template = self.options.template_near if message.kind == "near" else self.options.template_called
        body = {"phone": "84" + message.phone[1:], "template_id": template,
                "template_data": {k: str(v) for k, v in message.fields.items()}, "tracking_id": str(message.id)}
        request = urllib.request.Request(self.options.url, data=json.dumps(body).encode("utf-8"), method="POST",
                                         headers={"content-type": "application/json",
                                                  "access_token": self.options.token})
        try:
            with urllib.request.urlopen(request, timeout=self.options.timeout_s) as answer:  # noqa: S310 - https
                data = load_json(answer.read(MAX_PAYLOAD + 1))  # bounded: a deep or huge answer is refused
        except urllib.error.HTTPError as exc:
            raise GatewayError(f"Zalo ZNS answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError, ContractError) as exc:
            raise GatewayError(f"Zalo ZNS unreachable or unreadable: {str(exc)[:200]}") from None
        if not isinstance(data, dict) or data.get("error") != 0:  # what Zalo says is named as text a state can carry
            error = field_name(str(data.get("error"))) if isinstance(data, dict) else "?"
            said = field_name(str(data.get("message", ""))) if isinstance(data, dict) else ""
            raise GatewayError(f"Zalo ZNS refused: error {error} {said}".strip())
        msg_id = data["data"].get("msg_id") if isinstance(data.get("data"), dict) else None
        return f"zns-{msg_id}" if isinstance(msg_id, str | int) and MSG_ID.fullmatch(str(msg_id)) else "zns"

    def close(self) -> None:
        pass


def make(options: Options, data_dir: Path) -> ZnsGateway:
    return ZnsGateway(options)
