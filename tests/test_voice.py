# Vietnamese number words, the call phrase, clip sets (espeak-ng when present) and the announcer's ordering.
from __future__ import annotations

import shutil
import threading
import wave
from pathlib import Path

import pytest

from display.announcer import Announcer
from display.audio.fake import FakePlayer
from display.clips import ClipSet, duration, generate
from display.errors import ClipError
from display.numberwords import digits, words
from display.phrases import call_text, call_tokens, clip_texts
from tests.conftest import wait_until


@pytest.mark.parametrize(("n", "north", "south"), [
    (0, "không", "không"),
    (5, "năm", "năm"),
    (10, "mười", "mười"),
    (11, "mười một", "mười một"),
    (14, "mười bốn", "mười bốn"),
    (15, "mười lăm", "mười lăm"),
    (20, "hai mươi", "hai mươi"),
    (21, "hai mươi mốt", "hai mươi mốt"),
    (24, "hai mươi tư", "hai mươi tư"),
    (25, "hai mươi lăm", "hai mươi lăm"),
    (31, "ba mươi mốt", "ba mươi mốt"),
    (100, "một trăm", "một trăm"),
    (101, "một trăm linh một", "một trăm lẻ một"),
    (105, "một trăm linh năm", "một trăm lẻ năm"),
    (110, "một trăm mười", "một trăm mười"),
    (115, "một trăm mười lăm", "một trăm mười lăm"),
    (1000, "một nghìn", "một ngàn"),
    (1005, "một nghìn không trăm linh năm", "một ngàn không trăm lẻ năm"),
    (1023, "một nghìn không trăm hai mươi ba", "một ngàn không trăm hai mươi ba"),
    (21000, "hai mươi mốt nghìn", "hai mươi mốt ngàn"),
    (1_000_000, "một triệu", "một triệu"),
    (2_000_015, "hai triệu không trăm mười lăm", "hai triệu không trăm mười lăm"),
])
def test_number_words(n: int, north: str, south: str) -> None:
    assert words(n) == north
    assert words(n, "south") == south


@pytest.mark.parametrize("bad", [-1, 10**12, 1.5, True])
def test_number_words_reject_what_they_cannot_say(bad: object) -> None:
    with pytest.raises(ValueError):
        words(bad)  # type: ignore[arg-type]


def test_digits_are_read_plainly() -> None:
    assert digits("A1025") == ["A", "một", "không", "hai", "năm"]


def test_call_phrase_and_tokens() -> None:
    assert call_text("A1023", 3) == "Mời công dân số A 1 0 2 3 đến quầy số ba"
    assert call_text("B015", 15) == "Mời công dân số B 0 1 5 đến quầy số mười lăm"
    tokens = call_tokens("A1025", 21)
    assert tokens == ["chime", "phrase_invite", "letter_a", "word_mot", "word_khong", "word_hai", "word_nam",
                      "phrase_to_counter", "word_hai", "word_muoi_tens", "word_mot_final"]
    assert set(tokens) - {"chime"} <= set(clip_texts())


@pytest.fixture
def tone_clips(tone_clip_folder: Path) -> ClipSet:
    return ClipSet(tone_clip_folder)


def test_burst_of_ten_calls_in_order_none_cut_recall_repeated(tone_clips: ClipSet) -> None:
    player = FakePlayer(speed=20.0)
    announcer = Announcer(tone_clips, player, pause_s=0.0)
    announcer.start()
    calls = [(f"A{n:03d}", 1 + n % 4) for n in range(1, 11)]
    for label, counter in calls:
        announcer.announce(label, counter)
    announcer.announce("A003", 4, recall=True)
    wait_until(announcer.idle, timeout=30, what="all calls spoken")
    announcer.stop()
    assert [(c.label, c.counter) for c in announcer.spoken] == [*calls, ("A003", 4)]
    assert announcer.spoken[-1].recall
    for (_, end), (start, _) in zip([(p[0], p[1]) for p in player.played], [(p[0], p[1]) for p in player.played[1:]],
                                    strict=False):
        assert start >= end, "a call started before the previous one finished"
    for start, end, seconds in player.played:
        assert end - start >= seconds / player.speed * 0.95, "a call was cut short"


def test_audio_failure_is_logged_and_the_next_call_plays(tone_clips: ClipSet) -> None:
    player = FakePlayer(speed=50.0)
    player.fail_next = 1
    announcer = Announcer(tone_clips, player, pause_s=0.0)
    announcer.start()
    announcer.announce("A001", 1)
    announcer.announce("A002", 2)
    wait_until(announcer.idle, what="calls")
    announcer.stop()
    assert announcer.failures == 1 and [c.label for c in announcer.spoken] == ["A002"]


def test_a_fault_beside_a_call_never_silences_the_calls_after_it(tone_clips: ClipSet) -> None:
    """What the announcer tells of its failing (the board's state, sent through the bus) may itself fail: the
    worker logs it and speaks the next call, where it used to end and leave every later call unspoken."""
    told: list[tuple[str, float] | None] = []
    player = FakePlayer(speed=50.0)
    player.fail_next = 1

    def tell() -> None:
        told.append(announcer.failing)
        raise RuntimeError("the state could not be sent")

    announcer = Announcer(tone_clips, player, pause_s=0.0, on_change=tell)
    announcer.start()
    for label in ("A001", "A002", "A003"):
        announcer.announce(label, 1)
    wait_until(announcer.idle, what="calls")
    announcer.stop()
    assert [c.label for c in announcer.spoken] == ["A002", "A003"]
    assert told[0] is not None and "fake: no sound card" in told[0][0] and told[1] is None


def test_mismatched_clip_is_named(tone_clips: ClipSet) -> None:
    odd = tone_clips.folder / "word_ba.wav"
    with wave.open(str(odd), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(b"\x00\x00" * 100)
    with pytest.raises(ClipError, match="word_ba.wav.*44100 Hz differs"):
        tone_clips.compose(["chime", "word_ba"])


def test_missing_clips_are_listed_and_skipped(tone_clips: ClipSet) -> None:
    (tone_clips.folder / "word_tu.wav").unlink()
    assert tone_clips.check() == ["word_tu"]
    assert duration(tone_clips.compose(call_tokens("A001", 24))) > 0


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_espeak_builds_a_complete_clip_set_and_a_real_call(tmp_path: Path) -> None:
    made = generate(tmp_path / "vi")
    clips = ClipSet(tmp_path / "vi")
    assert clips.check() == [] and len(made) == len(clip_texts()) + 1
    wav = clips.compose(call_tokens("A1023", 3))
    assert duration(wav) > 2.0
    (tmp_path / "call.wav").write_bytes(wav)
    assert (tmp_path / "call.wav").stat().st_size > 40_000


def test_a_board_stopped_with_its_backlog_full_stops_at_once(tone_clips: ClipSet) -> None:
    """Stopped during a burst (systemd, an update) with every place in the backlog taken: the call playing ends and
    the board stops. Before, its stop waited for room in the backlog that the stopped worker never made, and the
    board hung until it was killed."""
    announcer = Announcer(tone_clips, FakePlayer(speed=2.0), pause_s=0.0, max_queue=3)  # each call plays ~1.5 s
    announcer.start()
    while announcer.announce("A001", 1):
        pass  # three fill the backlog
    wait_until(lambda: announcer.announce("A002", 2), timeout=5, what="the worker to take a call and play it")
    assert not announcer.announce("A003", 3)  # full again, and the worker busy playing
    stopping = threading.Thread(target=announcer.stop, daemon=True)
    stopping.start()
    wait_until(lambda: not stopping.is_alive(), timeout=8, what="the announcer to stop")
