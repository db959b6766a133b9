# The waiting-room board: screenshots at each resolution, a real call shown and spoken, outages, and a soak run.
from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import psutil
import pygame
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devkit import samples
from devkit.broker import Broker
from devkit.configs import write_display_config
from display.audio.fake import FakePlayer
from display.board import BG, INK, PAGE_S, SOFT, Board, balanced, fitted, pages_of, wait_said
from display.config import load_display
from display.service import BoardService
from hmi.widgets import font
from hub.service import HubService
from tests.conftest import WARD, wait_until

SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots" / "board"
LONG = "Thay đổi, cải chính, bổ sung thông tin hộ tịch, xác định lại dân tộc"
STATE = {
    "day": "2026-11-23", "ward_vi": "Phường Mẫu - Trung tâm Phục vụ hành chính công",
    "ward_en": "Demo Ward - Public Administration Service Centre", "notice": "Công dân vui lòng giữ trật tự.",
    "counters": [
        {"counter": 1, "status": "open", "name_vi": "Quầy 1", "name_en": "Counter 1",
         "ticket": samples.ticket("A1023", counter=1)},
        {"counter": 2, "status": "open", "name_vi": "Quầy 2", "name_en": "Counter 2",
         "ticket": samples.ticket("B015", service="CT", service_vi=LONG, counter=2)},
        {"counter": 3, "status": "closed", "name_vi": "Quầy 3", "name_en": "Counter 3"},
        {"counter": 4, "status": "open", "name_vi": "Quầy 4", "name_en": "Counter 4"},
    ],
    "recent": [samples.recent("A1023", 1), samples.recent("B015", 2, "CT"), samples.recent("C004", 4, "KD")],
    "waiting": [{"service": "HT", "name_vi": "Hộ tịch", "name_en": "Civil status", "count": 7,
                 "wait": {"known": True, "low_min": 15, "high_min": 30}},
                {"service": "CT", "name_vi": LONG, "name_en": "Certification", "count": 2, "wait": {"known": False}},
                {"service": "KD", "name_vi": "Kinh doanh", "name_en": "Business", "count": 9,  # past closing
                 "wait": {"known": True, "low_min": 40, "high_min": 55, "closing": True}}],
}


def save(surface: pygame.Surface, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}-{surface.get_width()}x{surface.get_height()}.png"
    pygame.image.save(surface, str(path))
    return path


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768), (1280, 720)])
def test_board_screenshots_highlight_long_name_and_offline(size: tuple[int, int]) -> None:
    pygame.font.init()
    surface = pygame.Surface(size)
    board = Board(surface, english=True, wall=lambda: 1_763_870_000.0)
    board.set_state(STATE)
    board.set_online(True)
    assert board.frame(0.0) == [surface.get_rect()]
    assert board.frame(0.1)[0].height < size[1] // 10  # idle: only the scrolling notice band is redrawn
    board.call(STATE["counters"][1]["ticket"], 2, "called", now=1.0)
    board.frame(1.0)
    assert "2:B015" in board.shown
    save(surface, "highlight")
    board.set_online(False)
    board.frame(9.0)
    save(surface, "offline")
    assert not board.online and board.offline_since is not None


def colours(surface: pygame.Surface, area: pygame.Rect) -> set[bytes]:
    pixels = pygame.image.tobytes(surface.subsurface(area), "RGB")
    return {pixels[i:i + 3] for i in range(0, len(pixels), 3)}


def test_an_open_counter_with_nobody_called_reads_open_and_calls_name_the_counter_as_its_card_does() -> None:
    """Counter 4 is open and has called nobody: its card says so (it was an empty card, as if broken). The list of
    latest calls names a counter as its card does ("Quầy Tư pháp"), not by number only."""
    pygame.font.init()
    drawn = []
    for name in ("Quầy 4", "Quầy Tư pháp"):
        counters = [{**c, "name_vi": name} if c["counter"] == 4 else c for c in STATE["counters"]]
        surface = pygame.Surface((1280, 720))
        board = Board(surface, english=True, wall=lambda: 1_763_870_000.0)
        board.set_state({**STATE, "counters": counters})
        board.set_online(True)
        board.frame(0.0)
        assert len(colours(surface, pygame.Rect(300, 445, 220, 60))) > 1, "counter 4's card is empty"
        drawn.append(pygame.image.tobytes(surface.subsurface(pygame.Rect(776, 120, 488, 160)), "RGB"))
    assert drawn[0] != drawn[1], "the latest calls do not name counter 4 as its card does"
    assert wait_said({"known": True, "low_min": 0, "high_min": 0}) == "0 phút"  # not "0–0 phút"


@pytest.mark.parametrize("count", [10, 16])
def test_a_centre_with_many_counters_gets_two_columns_and_each_card_keeps_its_words_inside(count: int) -> None:
    """Ten or sixteen counters, as a merged ward's centre has: two columns of cards, and nothing a card says (its
    name, its English name, the number, the service) spills into the gaps between them, as the English names did
    when ten cards shared one column."""
    pygame.font.init()
    counters = [{"counter": i, "status": "closed" if i % 3 == 0 else "open", "name_vi": f"Quầy {i}",
                 "name_en": f"Counter {i}", **({"ticket": samples.ticket(f"A{1000 + i}", counter=i)} if i % 3 == 1
                                               else {})} for i in range(1, count + 1)]
    surface = pygame.Surface((1280, 720))
    board = Board(surface, english=True, wall=lambda: 1_763_870_000.0)
    board.set_state({**STATE, "counters": counters})
    board.set_online(True)
    board.frame(0.0)
    save(surface, f"counters-{count}")
    cards = board.cards
    assert len(cards) == count and len({c.left for c in cards}) == 2
    around = cards[0].unionall(cards).inflate(12, 12)
    masked = surface.copy()
    for card in cards:
        masked.fill(BG, card)
    assert colours(masked, around) == {bytes(BG)}, "words outside the cards"


def test_a_waiting_list_longer_than_its_column_shows_its_pages_in_turn() -> None:
    """Sixteen services: the column holds eleven, and the other five were never shown. The list now takes pages
    in turn (PAGE_S each, "1/2" beside the heading), redrawn when the page turns; a list that fits stays still."""
    pygame.font.init()
    waiting = [{"service": f"S{i}", "name_vi": f"Dịch vụ số {i}", "name_en": f"Service {i}", "count": i,
                "wait": {"known": True, "low_min": i, "high_min": 2 * i + 1}} for i in range(16)]
    column = pygame.Rect(776, 250, 488, 380)
    surface = pygame.Surface((1280, 720))
    board = Board(surface, english=True, wall=lambda: 1_763_870_000.0)
    board.set_state({**STATE, "waiting": waiting})
    board.set_online(True)
    board.frame(0.0)
    first = pygame.image.tobytes(surface.subsurface(column), "RGB")
    assert board.frame(PAGE_S + 0.1) == [surface.get_rect()]  # the page turned: drawn again
    assert pygame.image.tobytes(surface.subsurface(column), "RGB") != first
    board.frame(2 * PAGE_S + 0.1)
    assert pygame.image.tobytes(surface.subsurface(column), "RGB") == first  # two pages, then the first again
    heights = [42] * 16
    assert [len(p) for p in pages_of(heights, 400)] == [10, 6] and pages_of([], 400) == [[]]
    board.set_state(STATE)  # three services: one page, nothing redrawn when a page would have turned
    board.frame(3 * PAGE_S + 0.1)
    assert board.frame(4 * PAGE_S + 0.1)[0].height < 720 // 10


def test_the_board_s_words_read_at_least_four_and_a_half_to_one_on_what_is_behind_them() -> None:
    """The service under a called number was soft blue on the flash's red (3.6:1) while it blinked."""
    from display.board import FLASH, GOLD, PANEL
    from hmi.widgets import contrast

    for words, ground in ((SOFT, PANEL), (SOFT, BG), (GOLD, PANEL), (INK, FLASH), (INK, PANEL)):
        assert contrast(words, ground) >= 4.5, (words, ground)
    pygame.font.init()
    surface = pygame.Surface((1280, 720))
    board = Board(surface, english=True, wall=lambda: 1_763_870_000.0)
    board.set_state(STATE)
    board.call(STATE["counters"][0]["ticket"], 1, "called", now=0.0)
    board.frame(0.1)  # lit: the card is the flash's red
    service = colours(surface, pygame.Rect(600, 150, 150, 50))  # "Hộ tịch" at the right of counter 1's card
    assert bytes(INK) in service and bytes(SOFT) not in service


def test_a_call_drawn_before_the_next_board_state_is_drawn_as_that_state_will_be() -> None:
    """The board draws a call from its event, before the hub's next state: the card showed the new number beside
    the service of the ticket the counter had before (or none, after `done`), and the latest calls did not list it
    until that state came. Now the screen at the call is the screen of the state that follows, pixel for pixel,
    whatever the counter held before: a new call heads the list, and a recall moves its number up from below."""
    pygame.font.init()

    def drawn(state: dict, lit: tuple[int, str], call: str | None = None) -> bytes:
        surface = pygame.Surface((1280, 720))
        board = Board(surface, english=True, wall=lambda: 1_763_870_000.0)
        board.set_state(state)
        board.set_online(True)
        counter, label = lit
        if call is not None:  # the event, as display/service.py hands it over
            ticket = next(c["ticket"] for c in after_call["counters"] if c["counter"] == counter)
            board.call(ticket, counter, call, now=0.0)
        else:  # the state alone, its card lit as a call lights it
            board.flash[f"{counter}:{label}"] = board.highlight_s
        board.frame(0.1)
        return pygame.image.tobytes(surface, "RGB")

    called = samples.ticket("B016", service="CT", service_vi="Chứng thực", counter=1)
    after_call = {**STATE, "counters": [{**STATE["counters"][0], "ticket": called}, *STATE["counters"][1:]],
                  "recent": [samples.recent("B016", 1, "CT"), *STATE["recent"]]}
    for before in (STATE["counters"][0]["ticket"], None, called):  # Hộ tịch's A1023; nobody; what the state will say
        state = {**STATE, "counters": [{**STATE["counters"][0], "ticket": before}, *STATE["counters"][1:]]}
        assert drawn(state, (1, "B016"), "called") == drawn(after_call, (1, "B016")), before
    after_recall = {**STATE, "recent": [{**samples.recent("B015", 2, "CT"), "event": "recalled"},
                                        *(c for c in STATE["recent"] if c["label"] != "B015")]}
    assert after_recall["recent"] != STATE["recent"]  # B015 was second: the recall moves it up
    assert drawn(STATE, (2, "B015"), "recalled") == drawn(after_recall, (2, "B015"))


def test_a_centre_s_full_title_is_shown_whole_in_two_lines() -> None:
    """"Trung tâm Phục vụ hành chính công phường Hoàn Kiếm, thành phố Hà Nội" was cut to "…thành ph…" on one line;
    a title too long for one line takes two, as even as they go, in place of the English line."""
    pygame.font.init()
    title = "Trung tâm Phục vụ hành chính công phường Hoàn Kiếm, thành phố Hà Nội"
    surface = pygame.Surface((1280, 720))
    board = Board(surface, english=True, wall=lambda: 1_763_870_000.0)
    board.set_state({**STATE, "ward_vi": title, "ward_en": "Hoan Kiem Ward Public Administration Service Centre"})
    board.set_online(True)
    board.frame(0.0)
    save(surface, "long-title")
    second = colours(surface, pygame.Rect(20, 45, 600, 30))  # under the first line: the title's second, in white
    assert bytes(INK) in second and bytes(SOFT) not in second
    lines = balanced(title, font(30, True), 1000)
    assert " ".join(lines) == title and len(lines) == 2 and lines[1] != "Nội"


def test_the_board_shows_today_s_working_hours_below_the_waits() -> None:
    pygame.font.init()
    hours = {"hours_vi": "Giờ làm việc hôm nay: 07:30–11:30, 13:30–17:00",
             "hours_en": "Open today: 07:30–11:30, 13:30–17:00"}
    foot = pygame.Rect(700, 520, 560, 120)  # the foot of the right-hand column at 1280×720, above the notice band
    drawn = []
    for state in (STATE, {**STATE, **hours}):
        surface = pygame.Surface((1280, 720))
        board = Board(surface, english=True, wall=lambda: 1_763_870_000.0)
        board.set_state(state)
        board.set_online(True)
        board.frame(0.0)
        drawn.append(pygame.image.tobytes(surface.subsurface(foot), "RGB"))
    assert drawn[0] != drawn[1], "no hours drawn at the foot of the waiting column"
    save(surface, "hours")


@pytest.mark.parametrize("tz", ["Asia/Ho_Chi_Minh", "Asia/Kathmandu"])  # +07:00 and +05:45
def test_the_clock_is_redrawn_when_its_minute_turns_and_not_before(tz: str) -> None:
    pygame.font.init()
    now = [1_763_870_000.0]
    board = Board(pygame.Surface((1280, 720)), english=True, tz=tz, wall=lambda: now[0])
    board.set_state(STATE)
    board.frame(0.0)
    turn = (now[0] // 60 + 1) * 60  # the next whole minute, there and in every zone
    shown = board._local(turn - 0.5).strftime("%H:%M")
    now[0] = turn - 0.5
    assert board.frame(0.1) != [board.surface.get_rect()]  # the same minute: the notice band only
    now[0] = turn
    assert board._local(turn).strftime("%H:%M") != shown
    assert board.frame(0.2) == [board.surface.get_rect()]


def test_names_of_every_length_are_drawn_without_holding_a_file_per_size() -> None:
    """Long names are shrunk to fit, a size at a time: a font per size opened by file name would hold a descriptor
    each, and a board meeting new names all day would creep up in open files."""
    pygame.font.init()
    board = Board(pygame.Surface((1280, 720)), english=True, wall=lambda: 1_763_870_000.0)
    board.set_state(STATE)
    board.frame(0.0)
    before = psutil.Process().num_fds()
    for n in range(8, len(LONG) + 1, 2):
        counters = [{**c, "name_vi": LONG[:n]} for c in STATE["counters"]]
        board.set_state({**STATE, "counters": counters, "notice": LONG[:n] * 3})
        board.frame(n)
    assert psutil.Process().num_fds() == before


def test_a_long_service_name_stays_whole_and_readable_over_two_lines() -> None:
    """At 1280×720 the waiting column gives a name 270 px: the long one was drawn on one line at 70 % of the size
    and still cut; it now takes two lines at no less than 85 % and is read whole."""
    pygame.font.init()
    size, lines = fitted(LONG, 18, 270)
    assert len(lines) == 2 and " ".join(lines) == LONG and size >= 15
    assert fitted("Hộ tịch", 18, 270) == (18, ["Hộ tịch"])
    size, lines = fitted(LONG * 3, 18, 270)  # more than two lines hold: the second is cut, never wider
    assert size == 15 and len(lines) == 2 and lines[1].endswith("…") and lines[0] == fitted(LONG, 15, 270)[1][0]


@given(words=st.text(st.characters(blacklist_categories=("Cs",)), max_size=300), width=st.integers(40, 900),
       size=st.integers(12, 60))
@settings(max_examples=60, deadline=None, derandomize=True)
def test_any_name_fits_its_place_on_the_board(words: str, width: int, size: int) -> None:
    pygame.font.init()
    got, lines = fitted(words, size, width)
    assert max(12, int(size * 0.85)) <= got <= size or got == size and size <= 12
    assert 1 <= len(lines) <= 2
    assert all(font(got).size(line)[0] <= width or len(line) <= 2 for line in lines)


@pytest.fixture
def board_service(tmp_path: Path, broker: Broker, hub: HubService, tone_clip_folder: Path) -> Iterator[BoardService]:
    config, display, voice, audio = load_display(str(write_display_config(tmp_path, broker.port, audio="fake")))
    service = BoardService(config, display, dataclasses.replace(voice, clips=str(tone_clip_folder), pause_s=0),
                           audio, size=(1280, 720), player=FakePlayer(speed=20))
    service.start()
    wait_until(lambda: (service.step(), service.board.online and service.board.state)[1], what="board online")
    yield service
    service.stop()


def test_a_counter_call_is_shown_and_spoken(board_service: BoardService, make_client) -> None:
    kiosk, counter = make_client("kiosk-1"), make_client("counter-1", role="bridge", counters=(1,))
    kiosk.wait_connected(5)
    counter.wait_connected(5)
    reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
    assert reply is not None
    counter.request(counter.topics.counter_command(1), "counter.command", {"action": "call_next", "counter": 1},
                    timeout=5)
    wait_until(lambda: (board_service.step(), "1:A001" in board_service.board.shown)[1], what="call shown")
    wait_until(lambda: [c.label for c in board_service.announcer.spoken] == ["A001"], what="call spoken")
    counter.request(counter.topics.counter_command(1), "counter.command", {"action": "recall", "counter": 1},
                    timeout=5)
    wait_until(lambda: (board_service.step(), len(board_service.announcer.spoken) == 2)[1], what="recall spoken")
    assert board_service.announcer.spoken[1].recall
    save(board_service.screen, "called")


def test_calls_not_spoken_are_on_the_fleet_page_until_one_is(board_service: BoardService, broker: Broker,
                                                               make_client) -> None:  # noqa: ANN001
    """An unplugged speaker or a wrong [audio] device: the board shows every call and says so in its state at
    once (not at its next minute's refresh); the first call spoken again clears it."""
    from bus.config import BrokerSection
    from provisioning.fleet import fleet_rows

    def problems() -> list[str]:
        return next(r for r in fleet_rows(BrokerSection(port=broker.port), WARD, settle_s=0.3)
                    if r["device"] == "board-1")["problems"]

    kiosk, counter = make_client("kiosk-1"), make_client("counter-1", role="bridge", counters=(1,))
    kiosk.wait_connected(5)
    counter.wait_connected(5)
    for _ in range(2):
        assert kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
    board_service.announcer.player.fail_next = 1  # type: ignore[union-attr]
    counter.request(counter.topics.counter_command(1), "counter.command", {"action": "call_next", "counter": 1},
                    timeout=5)
    wait_until(lambda: (board_service.step(), board_service.announcer.failures == 1)[1], what="the call not spoken")
    said = problems()
    assert any(p.startswith("calls shown but not spoken since ") and "fake: no sound card" in p for p in said), said
    counter.request(counter.topics.counter_command(1), "counter.command", {"action": "call_next", "counter": 1},
                    timeout=5)
    wait_until(lambda: (board_service.step(), [c.label for c in board_service.announcer.spoken] == ["A002"])[1],
               what="the next call spoken")
    wait_until(lambda: not any("not spoken" in p for p in problems()), what="the fleet page clear again")


def test_a_board_with_no_clip_set_says_its_calls_go_unspoken(tmp_path: Path, broker: Broker) -> None:
    config, display, voice, audio = load_display(str(write_display_config(tmp_path, broker.port, audio="fake")))
    service = BoardService(config, display, dataclasses.replace(voice, clips=str(tmp_path / "no-clips")), audio,
                           size=(640, 360), player=FakePlayer())
    try:
        assert service.announcer is None
        voice_said = service.bus.state_body("online")["detail"]["voice"]
        assert str(tmp_path / "no-clips") in voice_said["failing"] and voice_said["since"]
    finally:
        service.stop()


def test_the_watchdog_hears_of_a_voice_whose_thread_is_not_running(board_service: BoardService, tmp_path: Path,
                                                                    broker: Broker, tone_clip_folder: Path) -> None:
    assert board_service.health() is None
    (tmp_path / "b2").mkdir()
    config, display, voice, audio = load_display(str(write_display_config(tmp_path / "b2", broker.port, audio="fake")))
    idle = BoardService(config, display, dataclasses.replace(voice, clips=str(tone_clip_folder)), audio,
                        size=(640, 360), player=FakePlayer())  # its announcer's thread never started
    try:
        assert idle.health() == "the announcer's thread has stopped"
    finally:
        idle.stop()


def test_outage_keeps_last_state_and_recovers(board_service: BoardService, broker: Broker) -> None:
    before = board_service.board.state
    broker.stop()
    wait_until(lambda: (board_service.step(), not board_service.board.online)[1], what="offline banner")
    assert board_service.board.state == before
    save(board_service.screen, "outage")
    broker.start()
    wait_until(lambda: (board_service.step(), board_service.board.online)[1], timeout=30, what="recovered")


@pytest.mark.slow
def test_soak_several_ward_hours_no_growth_in_memory_or_files(board_service: BoardService, make_client) -> None:
    """Three ward hours of a busy centre (≈ 300 calls an hour), pushed through the broker as fast as possible."""
    feeder = make_client("feeder", role="hub")
    feeder.wait_connected(5)
    proc = psutil.Process()

    def burst(n: int, start: int) -> None:
        for i in range(start, start + n):
            label = f"A{i % 1000:03d}"
            feeder.send(feeder.topics.ticket_event, "ticket.event",
                        samples.call(label, 1 + i % 4))
            if i % 3 == 0:
                state = {**STATE, "recent": [samples.recent(label, 1 + i % 4)] * 6}
                feeder.send(feeder.topics.board_state, "board.state", state)
            board_service.step(now=float(i))

    burst(200, 0)
    wait_until(board_service.announcer.idle, timeout=120, what="warm-up calls spoken")
    rss0 = proc.memory_info().rss
    fds = []
    for start in (200, 650):  # two equal halves: a leak grows with every call, a handle open for a moment does not
        burst(450, start)
        wait_until(lambda: (board_service.step(), board_service.announcer.idle())[1], timeout=300, what="soak spoken")
        fds.append(proc.num_fds())
    grew = (proc.memory_info().rss - rss0) / 2**20
    assert grew < 8, f"resident memory grew {grew:.1f} MB over three ward hours"
    # The test process also holds the hub and the bus clients, whose sockets and database files may be caught
    # mid-open (+3 seen in 2 of 10 runs); a leak of one handle per hundred calls would add 4 or more here.
    assert fds[1] <= fds[0] + 3, f"file handles grew from {fds[0]} to {fds[1]} over the second half"
    assert os.environ.get("SDL_VIDEODRIVER") == "dummy"


def test_a_state_the_board_cannot_draw_leaves_the_last_one_on_screen(board_service: BoardService,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    """The contract keeps such states out; if one ever got in (a bug of ours), the screen must keep going."""
    board_service.step()
    drawn = board_service.board.state
    board_service.board.set_state({**drawn, "counters": [{"status": "open"}]})  # no counter number: undrawable
    board_service.step()
    board_service.step()
    assert board_service.board.state == drawn
    assert caplog.text.count("cannot draw the state received") == 1
