# Off-the-shelf RS-485 number boards (Modbus RTU) through the bridge: a simulated board on a pty, a real hub.
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.broker import Broker
from devkit.configs import write_bridge_config
from firmware_bridge import modbus
from firmware_bridge.config import load_bridge
from firmware_bridge.errors import ProtocolError
from firmware_bridge.fake_modbus import FakeModbusBoard
from firmware_bridge.service import BridgeService
from hub.service import HubService
from tests.conftest import wait_until


def test_frames_match_the_modbus_specification() -> None:
    assert modbus.write_register(1, 1, 3) == bytes.fromhex("010600010003980b")  # the spec's own example
    request = modbus.write_register(7, 0, 1023)
    modbus.check_reply(request, request)
    with pytest.raises(ProtocolError, match="illegal data address"):
        modbus.check_reply(request, modbus.frame(bytes((7, 0x86, 2))))
    with pytest.raises(ProtocolError, match="CRC is wrong"):
        modbus.check_reply(request, request[:-1] + b"\x00")
    with pytest.raises(ProtocolError, match="no complete answer"):
        modbus.check_reply(request, request[:3])
    with pytest.raises(ProtocolError, match="outside 1..247"):
        modbus.write_register(0, 0, 1)


@pytest.fixture
def board_rig(tmp_path: Path, broker: Broker, hub: HubService) -> Iterator[tuple[BridgeService, FakeModbusBoard]]:
    board = FakeModbusBoard(tmp_path, "board-c3", unit=5).plug()
    config = write_bridge_config(tmp_path, broker.port, [{"port": str(board.path), "kind": "modbus_display",
                                                          "counter": 3, "baud": 9600, "modbus_unit": 5}])
    service = BridgeService(*load_bridge(str(config)))
    service.start()
    yield service, board
    service.stop()
    board.close()


def act(counter, action: str) -> dict:  # noqa: ANN001 - the officer's bus client
    reply = counter.request(counter.topics.counter_command(3), "counter.command", {"action": action, "counter": 3},
                            timeout=5)
    assert reply is not None and reply.type == "counter.result", reply
    return reply.body


def call(hub: HubService, counter, n: int) -> int:  # noqa: ANN001
    hub.queue.handle(("kiosk-x", "b1", n), "issue", service="CT")
    return act(counter, "call_next")["ticket"]["number"]


@pytest.fixture
def counter(make_client):  # noqa: ANN001, ANN201
    client = make_client("counter-3", role="bridge", counters=(3,))
    client.wait_connected(5)
    return client


def test_the_board_shows_the_called_number(board_rig: tuple, hub: HubService, counter) -> None:  # noqa: ANN001
    service, board = board_rig
    wait_until(lambda: board.shown[-1:] == [0], what="a closed counter shown as 0")
    act(counter, "open")
    number = call(hub, counter, 1)
    wait_until(lambda: board.shown[-1:] == [number], what="the called number on the board")
    # the board stores the value before it echoes the write; the unit counts it shown once it has read the echo
    unit = service.units[0]
    wait_until(lambda: unit.status()["showing"] == number, what="the unit to read the board's echo")
    status = unit.status()
    assert status["state"] == "ready" and status["failures"] == 0


def test_a_board_that_lost_power_or_answers_badly_is_put_right(board_rig: tuple, hub: HubService,
                                                               counter) -> None:  # noqa: ANN001
    service, board = board_rig
    unit = service.units[0]
    wait_until(lambda: unit.state == "ready", what="ready")
    board.silent = True
    act(counter, "open")
    number = call(hub, counter, 1)
    wait_until(lambda: unit.state == "no_answer", what="the silent board noticed")
    assert "no complete answer" in unit.status()["last_error"]
    board.silent = False
    wait_until(lambda: unit.state == "ready" and board.shown[-1:] == [number], timeout=15,
               what="the number written once the board answers again")
    board.refuse = 2
    number = call(hub, counter, 2)
    wait_until(lambda: unit.state == "refused", what="a refusal")
    assert "illegal data address" in unit.status()["last_error"]
    board.refuse = 0
    board.unplug()  # the board's cable is pulled and plugged back: it comes back blank
    board.plug()
    wait_until(lambda: board.registers.get(0) == number, timeout=15, what="the number restored after replug")
    assert unit.status()["opened"] >= 2
