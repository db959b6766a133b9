# A body too large for one message, sent deflated (`body_z`): a ward catalogue of a few hundred procedures.
from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any

from bus.errors import ContractError, TooLarge

MAX_BODY = 1024 * 1024  # bytes of a body's JSON once inflated: what a receiver parses and checks at most
FIELD = "body_z"  # the envelope field that carries it, in place of `body`


def pack(body_json: bytes) -> str:
    """A body's JSON, deflated and written as base64 text for the envelope."""
    if len(body_json) > MAX_BODY:
        raise TooLarge("body", f"at most {MAX_BODY} bytes of JSON", f"{len(body_json)} bytes")
    return base64.b64encode(zlib.compress(body_json, 9)).decode("ascii")


def unpack(text: Any) -> bytes:
    """The body's JSON from `body_z`, in time bounded by the payload: never more than MAX_BODY bytes are inflated
    (a small payload that would inflate to gigabytes is refused once MAX_BODY is reached)."""
    if type(text) is not str:
        raise ContractError(FIELD, "base64 text of a deflated JSON body", text)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ContractError(FIELD, "base64 text", "text that is not base64") from None
    inflater = zlib.decompressobj()
    try:
        body = inflater.decompress(raw, MAX_BODY + 1)
    except zlib.error as exc:
        raise ContractError(FIELD, "deflated data (zlib)", str(exc)) from None
    if len(body) > MAX_BODY:
        raise ContractError(FIELD, f"at most {MAX_BODY} bytes once inflated", "more")
    if not inflater.eof or inflater.unused_data:
        raise ContractError(FIELD, "one whole deflated stream", "a cut stream" if not inflater.eof else "more after it")
    return body
