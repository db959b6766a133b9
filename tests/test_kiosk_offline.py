# A kiosk's offline numbering day: kept across its clock's midnight while it numbers offline, and the hub's filing.
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bus.numbering import QUIET_S, LocalDay
from kiosk.offline import OfflineNumbers

DAYS = LocalDay("Asia/Ho_Chi_Minh", "2025-01-01")


def at(when: str) -> float:
    return datetime.fromisoformat(when + "+07:00").timestamp()


class Boot:
    """A kiosk's time since boot and boot id, moved by hand."""

    def __init__(self) -> None:
        self.up, self.id = 600.0, "boot-a"

    def numbers(self, tmp_path: Path) -> OfflineNumbers:
        return OfflineNumbers(tmp_path / "kiosk.db", 1, DAYS, uptime=lambda: self.up, boot=self.id)


def test_a_kiosk_numbering_offline_across_its_clocks_midnight_keeps_its_day(tmp_path: Path) -> None:
    """Booted after a night's power cut on the evening's saved time, the hub down: the kiosk's clock reaches its
    midnight mid-morning. Starting again at 8000 would put a second A8000 in the room."""
    boot = Boot()
    numbers = boot.numbers(tmp_path)
    assert numbers.next("HT", at("2026-11-23T23:40:00")) == ("2026-11-23", 8000)  # really 09:40 on the 24th
    boot.up += 30 * 60
    assert numbers.next("HT", at("2026-11-24T00:10:00")) == ("2026-11-23", 8001)
    numbers.close()
    numbers = boot.numbers(tmp_path)  # the kiosk restarted in the same boot: it remembers numbering offline
    boot.up += 60
    assert numbers.next("HT", at("2026-11-24T00:11:00")) == ("2026-11-23", 8002)
    boot.up += QUIET_S
    assert numbers.next("HT", at("2026-11-24T04:12:00")) == ("2026-11-24", 8000)  # quiet four hours: a new day
    numbers.close()


def test_a_real_midnight_or_a_reboot_starts_the_clocks_day(tmp_path: Path) -> None:
    boot = Boot()
    numbers = boot.numbers(tmp_path)
    assert numbers.next("HT", at("2026-11-23T16:50:00")) == ("2026-11-23", 8000)
    boot.up += 14 * 3600  # the night
    assert numbers.next("HT", at("2026-11-24T06:50:00")) == ("2026-11-24", 8000)
    assert numbers.next("HT", at("2026-11-24T23:59:00")) == ("2026-11-24", 8001)
    numbers.close()
    boot.id, boot.up = "boot-b", 30.0  # rebooted: the time since boot says nothing of the last boot
    assert boot.numbers(tmp_path).next("HT", at("2026-11-25T00:01:00")) == ("2026-11-25", 8000)


def test_numbers_the_hub_filed_on_a_later_day_are_not_given_again_on_it(tmp_path: Path) -> None:
    """The kiosk's clock a day behind: the hub files its offline ticket on today by its age, and says so in its
    answer. Numbering offline on today, later, goes on above it."""
    boot = Boot()
    numbers = boot.numbers(tmp_path)
    day, number = numbers.next("HT", at("2026-11-23T18:00:00"))
    numbers.taken("2026-11-24", "HT", number)
    numbers.taken("2026-11-24", "HT", 12)  # a number of the hub's own (an online ticket's confirmation): not ours
    boot.up += QUIET_S + 1
    assert numbers.next("HT", at("2026-11-24T14:00:00")) == ("2026-11-24", 8001)
    assert numbers.next("CT", at("2026-11-24T14:00:00")) == ("2026-11-24", 8000)
