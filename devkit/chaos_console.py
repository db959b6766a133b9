# The chaos run's officers at the web console: counters worked through its pages over HTTP, as people at PCs do.
from __future__ import annotations

import http.cookiejar
import json
import random
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from typing import Any

CSRF = re.compile(r'name="csrf" content="([^"]+)"')


class ConsoleOfficer(threading.Thread):
    """Signs in, opens its counter, then calls, serves and calls again at the pace of the simulated day, always
    saying which ticket its screen shows (`expect`), as the counter page does. Every answer's HTTP status is
    counted: a plain refusal (409) or "the hub is out of reach" (503) is the console doing its job through a fault,
    any other 5xx is a fault of the console."""

    def __init__(self, url: str, account: str, password: str, counter: int, speed: float, seed: int,
                 stop: threading.Event) -> None:
        super().__init__(name=f"console-officer-{counter}", daemon=True)
        self.url, self.account, self.password, self.counter = url, account, password, counter
        self.speed, self.rng, self.halt = speed, random.Random(seed), stop
        self.answers: Counter[int] = Counter()  # HTTP status -> how many actions got it
        self.calls = 0
        self._web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self._token = ""

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                if not self._token:
                    self._sign_in()
                    self._act("open", 0)
                self._turn()
            except (urllib.error.URLError, OSError, ValueError, KeyError):  # the console restarting: try again
                self._token = ""
                self.halt.wait(0.5)

    def _turn(self) -> None:
        state = self._get_json(f"/counter/{self.counter}?format=json")["state"]
        ticket = state.get("ticket") or {}
        if self._act("call_next", ticket.get("id", 0)) == 200:
            self.calls += 1
            self.halt.wait(self.rng.uniform(3, 12) * 60 / self.speed)  # serving the citizen, in ward minutes
        else:
            self.halt.wait(30 / self.speed + 0.2)  # nobody waiting, or a fault: look again shortly

    def _sign_in(self) -> None:
        token = self._csrf("/login")
        form = urllib.parse.urlencode({"account": self.account, "password": self.password, "csrftoken": token,
                                       "next": "/"}).encode()
        self._web.open(urllib.request.Request(f"{self.url}/login", data=form, method="POST"), timeout=10).close()
        self._token = self._csrf(f"/counter/{self.counter}")

    def _csrf(self, path: str) -> str:
        with self._web.open(urllib.request.Request(f"{self.url}{path}", headers={"accept": "text/html"}),
                            timeout=10) as page:
            found = CSRF.search(page.read().decode("utf-8"))
        if found is None:
            raise ValueError(f"no CSRF token on {path}")
        return found.group(1)

    def _get_json(self, path: str) -> dict[str, Any]:
        with self._web.open(f"{self.url}{path}", timeout=10) as answer:
            return json.loads(answer.read())

    def _act(self, action: str, expect: int) -> int:
        request = urllib.request.Request(
            f"{self.url}/counter/{self.counter}/act", method="POST",
            data=json.dumps({"action": action, "expect": expect}).encode(),
            headers={"content-type": "application/json", "x-csrftoken": self._token})
        try:
            with self._web.open(request, timeout=10) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        self.answers[status] += 1
        if status in (401, 403):  # signed out (a console that lost its sessions): sign in again
            self._token = ""
        return status

    @property
    def faults(self) -> int:
        """Answers that were neither an outcome nor a plain refusal: a console fault."""
        return sum(n for status, n in self.answers.items() if status >= 500 and status != 503)
