# Any form or body to any of the console's POST pages, from a signed-in admin: a page or a plain refusal, never a fault.
from __future__ import annotations

import json
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.test_console import sign_in, token

# each page's form as the console's own page sends it; the test keeps, drops or replaces each field
FORMS = {
    "/admin/services": {"code.0": "HT", "prefix.0": "A", "name_vi.0": "Hộ tịch", "name_en.0": "Civil status",
                        "target.0": "30", "procedures.0": "1.001193, 1.000894"},
    "/admin/counters": {"id.0": "1", "name_vi.0": "Quầy 1", "name_en.0": "Counter 1", "services.0": "HT"},
    "/admin/notice": {"notice": "Công dân vui lòng giữ trật tự."},
    "/admin/hours": {"hours": "mon-fri 07:30-11:30 13:30-17:00\nsat 07:30-11:30"},
    "/admin/procedure": {"code": "1.001193", "documents_vi": "Tờ khai\nGiấy tờ tùy thân", "fee_vi": "Miễn phí",
                         "time_vi": "Trong ngày"},
    "/accounts": {"op": "save", "name": "mai", "display": "Nguyễn Thị Mai", "role": "officer", "counters": "1, 2",
                  "password": ""},
    "/lang": {"lang": "en", "back": "/admin"},
}
HOSTILE = st.sampled_from(["", "0", "-1", "²", "1²", "٣", "1e9", "99999999999999999999", "1, x", ",,,", "add",
                           "disable", "enable", "boss", "admin", "quan", "<b>x</b>", "x" * 5000, "\x00", "\ud800",
                           "//evil.example", "mon-fri 25:00-26:00"]) | st.text(max_size=300)


_SIGNED: dict[int, TestClient] = {}


def admin(app: object) -> TestClient:
    """quan, signed in once for all of one test's rounds (a sign-in hashes a password: a tenth of a second)."""
    if id(app) not in _SIGNED:
        _SIGNED.clear()
        _SIGNED[id(app)] = sign_in(app, "quan")
    return _SIGNED[id(app)]


@st.composite
def form_posts(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    path = draw(st.sampled_from([*FORMS, "/admin/nothing"]))
    pairs = []
    for key, value in FORMS.get(path, {}).items():
        choice = draw(st.sampled_from(["keep", "keep", "hostile", "drop", "twice"]))
        if choice == "keep":
            pairs.append((key, value))
        elif choice == "hostile":
            pairs.append((key, draw(HOSTILE)))
        elif choice == "twice":
            pairs += [(key, value), (key, draw(HOSTILE))]
    pairs += draw(st.lists(st.tuples(st.text(max_size=12), HOSTILE), max_size=3))
    return path, pairs


PAGES = st.sampled_from(["/stats", "/stats.csv", "/stats.xlsx", "/audit", "/login", "/counter", "/counter/1",
                         "/counter/99", "/fleet", "/admin", "/accounts", "/help", "/session", "/",
                         "/t/x"])  # /events: its own test
QUERIES = st.lists(st.tuples(st.sampled_from(["from", "to", "by", "format", "account", "next", "kinds", "lang"])
                             | st.text(max_size=8), HOSTILE), max_size=4)


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gets=st.lists(st.tuples(PAGES, QUERIES), min_size=1, max_size=4))
def test_any_address_and_query_gets_a_page_or_a_plain_refusal(console: tuple, gets: list) -> None:
    _, _, app = console
    quan = admin(app)
    for path, query in gets:
        answer = quan.get(path, params=[(k, v.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
                                        for k, v in query], follow_redirects=False)
        assert answer.status_code in (200, 303, 307, 400, 403, 404), (path, query, answer.status_code)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(posts=st.lists(form_posts(), min_size=1, max_size=4),
       act=st.dictionaries(st.sampled_from(["action", "expect", "service", "reason", "x"]),
                           st.none() | st.booleans() | st.integers() | st.text(max_size=40) | st.lists(st.integers()),
                           max_size=5))
def test_any_form_to_any_console_page_gets_a_page_or_a_plain_refusal(console: tuple, posts: list, act: dict) -> None:
    _, _, app = console
    quan = admin(app)
    csrf = token(quan, "/admin")
    for path, pairs in posts:  # sent as a browser sends a form, a name given more than once as often as it comes
        body = urlencode([*pairs, ("csrftoken", csrf)], encoding="utf-8", errors="surrogatepass")
        answer = quan.post(path, content=body, follow_redirects=False,
                           headers={"content-type": "application/x-www-form-urlencoded"})
        assert answer.status_code in (200, 303, 400, 403, 404, 413), (path, pairs, answer.status_code)
    answer = quan.post("/counter/1/act", content=json.dumps(act), headers={"x-csrftoken": csrf})
    assert answer.status_code in (200, 400, 409, 503) and "message" in answer.json(), (act, answer.text)
    assert quan.get("/admin").status_code == 200  # the console still works and quan is still an admin
