# Any edit of any role's config file: it loads, or is refused by a ConfigError naming the file and the key or line.
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus.errors import ConfigError
from devkit import configs
from provisioning.roles import check_config
from provisioning.tomlw import value

ASSIGNMENT = re.compile(r"^(\s*[A-Za-z0-9_.\"-]+\s*=\s*)(.*)$")


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each role's config as the tests and the demo write it, as text."""
    d = tmp_path_factory.mktemp("configs")
    paths = [configs.write_hub_config(d, 1883), configs.write_kiosk_config(d, 1883),
             configs.write_display_config(d, 1883), configs.write_district_config(d, 1883, ["ward-a"]),
             configs.write_console_config(d, 1883, 8080), configs.write_notify_config(d, 1883),
             configs.write_bridge_config(d, 1883, [{"port": "/dev/ttyUSB0", "kind": "rating_keypad", "counter": 1}]),
             configs.write_rating_config(d, 1883, "rating-1", 1, [5, 6, 13]),
             configs._device_config(d, "desk-1", "desk", "demo-ward", d / "desk-1", 1883,
                                    {"desk": {"counter": 1, "next_pin": 17, "led": 27}})]
    texts = {p.stem: p.read_text(encoding="utf-8") for p in paths}
    for name, text in texts.items():  # each loads as it is: the edits below start from a good file
        path = d / f"check-{name}.toml"
        path.write_text(text, encoding="utf-8")
        check_config(path)
    return texts


SCALARS = (st.text(max_size=60) | st.integers() | st.integers(-2**70, 2**70) | st.booleans()
           | st.floats(allow_nan=True, allow_infinity=True)
           | st.sampled_from(["", "0", "-1", "²", "../../etc", "x" * 400]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4), max_leaves=8).map(value) \
    | st.sampled_from(["{a = 1}", "{}", "1979-05-27T07:32:00Z", "07:32:00", "2026-13-45", "[[1], {x = 2}]", "'''",
                       '"\\ud800"', "nan", "-inf", "0x_1", "1__0", "[", "= 1"])
EDITS = st.lists(st.tuples(st.sampled_from(["value", "drop", "add", "line", "table"]), st.integers(0, 10_000),
                           VALUES, st.text(st.characters(codec="utf-8"), max_size=20)), min_size=1, max_size=4)


def edited(text: str, edits: list[tuple[str, int, str, str]]) -> str:
    lines = text.splitlines()
    for kind, at, new, word in edits:
        i = at % len(lines)
        assigned = ASSIGNMENT.match(lines[i])
        if kind == "value" and assigned:
            lines[i] = assigned.group(1) + new
        elif kind == "drop":
            del lines[i]
        elif kind == "add":
            lines.insert(i, f"{word.strip() or 'x'} = {new}")
        elif kind == "line":
            lines.insert(i, word + new)
        elif kind == "table":
            lines.insert(i, f"[{word.strip() or 'x'}]")
        lines = lines or [""]
    return "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(role=st.sampled_from(["hub", "kiosk-1", "board-1", "collector-1", "console", "notify-1", "bridge-1",
                             "rating-1", "desk-1"]), edits=EDITS)
def test_any_edit_of_a_config_loads_or_is_refused_naming_where(good: dict[str, str], tmp_path: Path, role: str,
                                                                edits: list) -> None:
    path = tmp_path / "edited.toml"
    path.write_text(edited(good[role], edits), encoding="utf-8", errors="surrogatepass")
    began = time.monotonic()
    try:
        check_config(path)
    except ConfigError as exc:
        assert str(path) in str(exc) and exc.key and exc.problem, exc
    assert time.monotonic() - began < 5  # bounded: no edit makes a loader spin


@pytest.mark.parametrize(("text", "key"), [  # what this fuzz found, each once a TypeError or a nameless error
    ('[device]\nrole = {a = 1}\n', "device.role"),
    ('[""]\n[device]\nid = "hub"\nrole = "hub"\nward = "w"\n', '""'),
])
def test_what_the_fuzz_found_is_named(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "edited.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        check_config(path)
    assert refused.value.key == key
