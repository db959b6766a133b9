# The shape of the code: rooms import only what they may, and the docs name every message, field, option and role.
from __future__ import annotations

import ast
import dataclasses
import importlib
import re
from pathlib import Path

import pytest

from bus.messages import BODIES
from bus.validation import Record
from provisioning.roles import ROLES

ROOT = Path(__file__).resolve().parent.parent
ROLE_PACKAGES = ("hub", "kiosk", "display", "rating", "desk", "firmware_bridge", "district", "console", "notify")
OURS = ("bus", "hmi", *ROLE_PACKAGES, "provisioning", "devkit", "tests", "bench")
# what each room may import of ours (besides itself); docs/architecture.md says why
MAY_IMPORT = {
    "bus": set(),
    "hmi": {"bus"},
    **{role: {"bus", "hmi"} for role in ROLE_PACKAGES},
    "provisioning": {"bus", "hmi", *ROLE_PACKAGES},
    "devkit": {"bus", "hmi", *ROLE_PACKAGES, "provisioning"},
}
# the one place a room reaches past its rule, and why: `motcua demo` starts the dev kit's demo ward
EXCEPTIONS = {("provisioning/cli.py", "devkit")}


def imports_of(path: Path) -> set[str]:
    """The top-level packages of ours a file imports, anywhere in it (lazy imports inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(OURS)


@pytest.mark.parametrize("room", sorted(MAY_IMPORT))
def test_a_room_imports_only_what_it_may(room: str) -> None:
    wrong = []
    for path in sorted((ROOT / room).rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        for other in imports_of(path) - MAY_IMPORT[room] - {room}:
            if (rel, other) not in EXCEPTIONS:
                wrong.append(f"{rel} imports {other}")
    assert not wrong, "\n".join(wrong)


def test_the_import_rule_catches_a_role_importing_another(tmp_path: Path) -> None:
    """The rule above is not vacuous: a file that imports another role is found."""
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from kiosk.core import KioskCore\n    import hub.queue\n", encoding="utf-8")
    assert imports_of(bad) == {"kiosk", "hub"}


def test_every_module_has_a_purpose_line_and_stays_readable() -> None:
    long, bare = [], []
    for room in MAY_IMPORT:
        for path in (ROOT / room).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if text.strip() and not text.startswith("# "):
                bare.append(str(path.relative_to(ROOT)))
            if text.count("\n") > 420:
                long.append(f"{path.relative_to(ROOT)}: {text.count(chr(10))} lines")
    assert not bare, f"no one-line purpose comment at the top: {bare}"
    assert not long, f"modules over ~400 lines: {long}"


def _record_fields(record: Record, seen: set[int]) -> set[str]:
    if id(record) in seen:
        return set()
    seen.add(id(record))
    names = set(record.fields)
    for rule in record.fields.values():
        for kind in (rule.kind, rule.items.kind if rule.items else None):
            if isinstance(kind, Record):
                names |= _record_fields(kind, seen)
    return names


def test_contract_doc_names_every_message_type_and_field() -> None:
    doc = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    missing = [t for t in BODIES if f"`{t}`" not in doc]
    seen: set[int] = set()
    fields = set().union(*(_record_fields(r, seen) for r in BODIES.values()))
    missing += [f for f in sorted(fields) if f"`{f}`" not in doc]
    assert not missing, f"docs/contract.md does not name: {missing}"


def _cells(row: str) -> list[str]:
    """A Markdown table row's cells; a `|` inside backticks is text, not a border."""
    found, cell, code = [], "", False
    for ch in row.strip().strip("|"):
        code = not code if ch == "`" else code
        if ch == "|" and not code:
            found.append(cell)
            cell = ""
        else:
            cell += ch
    return [*found, cell]


def test_every_docs_table_row_is_whole_and_every_message_type_has_its_row() -> None:
    """A row with fewer or more cells than its table's header is text pasted into the wrong table (a message's row
    once landed among the topics); every message type has its own row in docs/contract.md."""
    broken = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        width = None
        for number, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not row.startswith("|"):
                width = None
            elif width is None:
                width = len(_cells(row))
            elif len(_cells(row)) != width:
                broken.append(f"{path.name}:{number}: {row[:60]}")
    contract = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8").splitlines()
    first = [_cells(row)[0] for row in contract if row.startswith("| `")]
    broken += [f"contract.md: no row for {t}" for t in BODIES if not any(f"`{t}`" in cell for cell in first)]
    assert not broken, broken


def _dataclasses(record: Record, found: dict[str, type]) -> None:
    if record.make is None or record.make.__name__ in found:
        return
    found[record.make.__name__] = record.make
    for rule in record.fields.values():
        for kind in (rule.kind, rule.items.kind if rule.items else None):
            if isinstance(kind, Record):
                _dataclasses(kind, found)


def _config_sections() -> dict[str, type]:
    """Every config dataclass a device can have: the common sections, each role's SECTIONS (nested ones too), and
    each printer backend's and message gateway's own options."""
    from bus.config import BrokerSection, DeviceSection, plan
    from kiosk import printing
    from notify import gateways

    found: dict[str, type] = {}
    roots: list[type] = [DeviceSection, BrokerSection, printing.PrinterSection]
    for loader, _ in ROLES.values():
        roots += [s for s in importlib.import_module(loader.split(":")[0]).SECTIONS.values() if isinstance(s, type)]
    roots += [printing.backend(name).Options for name in printing.BACKENDS]
    roots += [gateways.backend(name).Options for name in gateways.BACKENDS]
    for cls in roots:
        _dataclasses(plan(cls), found)
    return found


def test_config_doc_names_every_option() -> None:
    doc = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    sections = _config_sections()
    assert {"HubSection", "PolicyConfig", "UnitSection", "RatingSection", "Options"} <= set(sections)
    missing = [f"{name}.{f.name}" for name, cls in sections.items() for f in dataclasses.fields(cls)
               if not f.metadata.get("internal") and f"`{f.name}`" not in doc]
    assert not missing, f"docs/config.md does not name: {missing}"


def test_config_doc_names_every_choice_beside_its_option() -> None:
    """An option with a fixed set of values (a device's role, a printer's backend, a serial baud rate) has every
    value named in the table row or paragraph that names the option: a value added in the code reaches the docs."""
    doc = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    places: list[str] = []
    for block in re.split(r"\n\s*\n", doc):
        lines = block.splitlines()
        places += [line for line in lines if line.startswith("|")]
        places.append("\n".join(line for line in lines if not line.startswith("|")))

    def names(place: str, value: object) -> bool:
        return f"`{value}`" in place if isinstance(value, str) else re.search(rf"\b{value}\b", place) is not None

    checked, missing = 0, []
    for name, cls in _config_sections().items():
        for f in dataclasses.fields(cls):
            if not (choices := f.metadata.get("choices")) or f.metadata.get("internal"):
                continue
            checked += 1
            if not any(f"`{f.name}`" in place and all(names(place, c) for c in choices) for place in places):
                missing.append(f"{name}.{f.name}: {', '.join(map(str, choices))}")
    assert checked >= 10
    assert not missing, f"docs/config.md does not name every value beside the option: {missing}"


def test_catalogue_and_upstream_records_are_documented() -> None:
    from bus.catalogue import Catalogue
    from bus.config import plan
    from bus.upstream import KINDS

    found: dict[str, type] = {}
    _dataclasses(plan(Catalogue), found)
    doc = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    missing = [f"{n}.{f.name}" for n, c in found.items() for f in dataclasses.fields(c) if f"`{f.name}`" not in doc]
    contract = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    missing += [f"{k}.{f.name}" for k, c in KINDS.items() for f in dataclasses.fields(c)
                if f"`{f.name}`" not in contract]
    assert not missing, f"not documented: {missing}"


def test_readme_layout_names_every_role_and_room() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `"))
    packages = {spec.split(".")[0] for loader, _ in ROLES.values() for spec in (loader,)}
    assert packages == set(ROLE_PACKAGES)
    missing = [p for p in (*packages, "bus", "hmi", "provisioning", "devkit") if f"`{p}/`" not in table]
    assert not missing, f"README's table does not list: {missing}"
    assert re.search(r"docs/architecture\.md", readme)


def test_the_access_table_in_the_docs_is_the_one_in_the_code() -> None:
    from bus.access import table_rows

    doc = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    missing = [row for row in table_rows() if row not in doc]
    assert not missing, f"docs/contract.md's access table differs from bus/access.py: {missing}"
