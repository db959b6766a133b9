# Writes the small TOML files motcua generates (device configs): tables, arrays of tables, scalars and lists.
from __future__ import annotations

from typing import Any


def to_toml(sections: dict[str, Any]) -> str:
    """Writes nested dicts as TOML tables; a list of dicts becomes an array of tables."""
    out = []
    for name, table in sections.items():
        arrays = {k: v for k, v in table.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
        plain = {k: v for k, v in table.items() if k not in arrays}
        if plain:
            out.append(f"[{name}]\n" + "".join(f"{k} = {value(v)}\n" for k, v in plain.items()))
        for key, items in arrays.items():
            out.extend(f"[[{name}.{key}]]\n" + "".join(f"{k} = {value(v)}\n" for k, v in item.items())
                       for item in items)
    return "\n".join(out)


def value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(value(x) for x in v) + "]"
    text = str(v)
    if "\n" in text and "'''" not in text and _literal_ok(text):
        return "'''\n" + text + "'''"  # a PEM certificate: a multi-line literal string, as it reads
    return '"' + "".join(_escaped(c) for c in text) + '"'


def _literal_ok(text: str) -> bool:
    """A literal string holds any character but control characters other than tab and newline."""
    return all(c in "\t\n" or (c >= " " and c != "\x7f") for c in text)


def _escaped(c: str) -> str:
    if c in '"\\':
        return "\\" + c
    return f"\\u{ord(c):04x}" if c < " " or c == "\x7f" else c
