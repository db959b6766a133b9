# A ticket's phone page token: its id sealed with the hub's own key, so no token is stored, indexed or searched.
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import sqlite3

ID_BYTES, MAC_BYTES = 5, 7  # 12 bytes: 16 characters in the address; 56 bits to guess for each ticket


def key(db: sqlite3.Connection) -> bytes:
    """The hub's token key, made on first use and kept in its database (a new key voids the day's tokens)."""
    row = db.execute("SELECT value FROM secrets WHERE name='ticket_token'").fetchone()
    if row is not None:
        return bytes(row[0])
    made = secrets.token_bytes(32)
    db.execute("INSERT OR IGNORE INTO secrets(name, value) VALUES ('ticket_token', ?)", (made,))
    return bytes(db.execute("SELECT value FROM secrets WHERE name='ticket_token'").fetchone()[0])


def token(key: bytes, ticket_id: int, day: str) -> str:
    """The token of ticket `ticket_id` of `day`: neither its number nor a neighbour's token tells it."""
    raw = ticket_id.to_bytes(ID_BYTES, "big")
    return base64.urlsafe_b64encode(raw + _mac(key, raw, day)).decode("ascii")


def ticket_id(token: str) -> int | None:
    """The ticket id a token names, not yet checked (`valid` checks it against the ticket's day)."""
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    return int.from_bytes(raw[:ID_BYTES], "big") if len(raw) == ID_BYTES + MAC_BYTES else None


def valid(key: bytes, token_: str, day: str) -> bool:
    tid = ticket_id(token_)
    return tid is not None and hmac.compare_digest(token_, token(key, tid, day))


def _mac(key: bytes, raw: bytes, day: str) -> bytes:
    return hmac.new(key, raw + day.encode("ascii"), hashlib.sha256).digest()[:MAC_BYTES]
