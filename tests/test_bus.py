# The hub on a real mosquitto: request/reply, retained state, malformed input, and a broker outage.
from __future__ import annotations

import json
import logging
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from bus.client import BusClient
from bus.config import BrokerSection
from bus.messages import WAITING_SHOWN, Message
from devkit import samples
from devkit.broker import Broker, free_port
from hub.service import BOARD_INTERVAL, HubService
from provisioning.fleet import FleetWatch, wait_online
from tests.conftest import WARD, wait_until


def raw_publisher(broker: Broker) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="raw-test")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    return client


def test_ticket_request_reply_event_and_retained_board(hub: HubService, make_client) -> None:
    watcher = make_client("board-1", role="display")
    events: list[Message] = []
    boards: list[Message] = []
    watcher.subscribe(watcher.topics.ticket_event, lambda m, _: events.append(m))
    watcher.subscribe(watcher.topics.board_state, lambda m, _: boards.append(m))
    kiosk = make_client("kiosk-1")
    assert kiosk.wait_connected(5)
    wait_until(lambda: boards, what="retained board state")
    reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "CT"}, timeout=5)
    assert reply is not None and reply.type == "ticket.issued"
    ticket = reply.body["ticket"]
    assert ticket["label"] == "B001" and ticket["service_vi"] == "Chứng thực"
    assert "2.000815" in ticket["procedures"]
    wait_until(lambda: any(e.body["event"] == "issued" for e in events), what="issued event")
    wait_until(lambda: any(w["count"] == 1 for w in boards[-1].body["waiting"] if w["service"] == "CT"),
               what="board shows the waiting ticket")
    late = make_client("board-2", role="display")  # a rebooted board gets the current state at once
    got: list[Message] = []
    late.subscribe(late.topics.board_state, lambda m, _: got.append(m))
    wait_until(lambda: got, what="retained board for a late subscriber")
    assert got[0].body["ward_vi"].startswith("Phường Mẫu")


def test_a_state_rebuilt_unchanged_is_not_sent_again_until_a_reconnect(hub: HubService, make_client, issue) -> None:  # noqa: ANN001
    """A counter shows its first WAITING_SHOWN waiting tickets: once its line is longer, more tickets behind change
    nothing it shows, and the hub neither rebuilds nor sends the same state again (a burst rebuilt it ten times a
    second). A change still goes out (a ticket called first joins the shown list), and after a reconnect every state
    is sent once more."""
    unit = make_client("counter-1", role="bridge", counters=(1,))
    states: list[Message] = []
    unit.subscribe(unit.topics.counter_state(1), lambda m, _: states.append(m))
    assert unit.wait_connected(5)
    issue(WAITING_SHOWN + 5)
    wait_until(lambda: states and len(states[-1].body["waiting"]) == WAITING_SHOWN, what="a full waiting list")
    full = len(states)
    for _ in range(10):  # behind the shown ones, over several of the hub's rebuilds of counter 1's state
        issue(1)
        time.sleep(BOARD_INTERVAL / 2)
    unit.request(unit.topics.counter_command(1), "counter.command", {"action": "open", "counter": 1}, timeout=5)
    wait_until(lambda: states[-1].body["status"] == "open", what="the opened counter's state")
    assert len(states) == full + 1, [m.body["status"] for m in states[full:]]  # the change, and nothing before it
    elder = issue(1, priority="elderly")[0]  # called before everyone waiting: the shown list changes
    wait_until(lambda: states[-1].body["waiting"][0]["label"] == elder, what="the priority ticket shown first")
    shown = len(states)
    hub.republish()  # as after a reconnect: the broker may have lost it
    wait_until(lambda: len(states) == shown + 1, what="the state sent again")
    assert states[-1].body == states[-2].body


def test_the_board_starts_a_new_day_clean_without_waiting_for_a_request(hub_config, make_client) -> None:  # noqa: ANN001
    from bus.boot_clock import since_boot
    from hub.config import load_hub

    offset = [0.0]
    config, section = load_hub(str(hub_config))  # the night passes by running time, as it does in a ward
    hub = HubService(config, section, clock=lambda: time.time() + offset[0], uptime=lambda: since_boot() + offset[0])
    hub.start()
    try:
        watcher = make_client("board-1", role="display")
        boards: list[Message] = []
        watcher.subscribe(watcher.topics.board_state, lambda m, _: boards.append(m))
        kiosk, counter = make_client("kiosk-1"), make_client("counter-1", role="bridge", counters=(1,))
        assert kiosk.wait_connected(5) and counter.wait_connected(5)
        for action in ("open", "call_next"):
            kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
            counter.request(counter.topics.counter_command(1), "counter.command", {"action": action, "counter": 1},
                            timeout=5)
        wait_until(lambda: boards and boards[-1].body["recent"], what="a call on the board")
        today = boards[-1].body["day"]
        offset[0] = 86400.0  # the night passes; nobody asks the hub anything
        wait_until(lambda: boards[-1].body["day"] != today, what="the next day's board")
        fresh = boards[-1].body
        assert fresh["recent"] == [] and all(w["count"] == 0 for w in fresh["waiting"])
        assert [c for c in fresh["counters"] if "ticket" in c] == []  # yesterday's last number is gone too
    finally:
        hub.stop()


def test_a_clock_jump_into_the_next_day_keeps_the_line_and_ward_it_is_told(hub_config, broker: Broker,  # noqa: ANN001
                                                                           make_client) -> None:
    """The hub's wall clock jumps a day ahead (NTP reaching a Pi that booted on last evening's saved time) while a
    citizen waits: the next ticket continues that day's numbers, and the fleet says why at once."""
    from hub.config import load_hub
    from provisioning.fleet import fleet_rows

    offset = [0.0]
    config, section = load_hub(str(hub_config))
    hub = HubService(config, section, clock=lambda: time.time() + offset[0])  # its time since boot does not jump
    hub.start()
    try:
        kiosk = make_client("kiosk-1")
        assert kiosk.wait_connected(5)
        wait_online(BrokerSection(port=broker.port), WARD, "hub", timeout=10)

        def issue() -> dict:
            reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
            assert reply is not None and reply.type == "ticket.issued", reply
            return reply.body["ticket"]

        first = issue()
        offset[0] = 86400.0
        second = issue()
        assert (second["label"], second["day"]) == ("A002", first["day"])  # not a second A001 beside the first
        wait_until(lambda: any("numbering stays on" in p for r in fleet_rows(BrokerSection(port=broker.port), WARD,
                                                                             settle_s=0.3)
                               if r["device"] == "hub" for p in r["problems"]), what="the fleet told of the held day")
    finally:
        hub.stop()


def test_device_state_is_retained_with_last_will(hub: HubService, make_client, broker: Broker) -> None:
    with FleetWatch(BrokerSection(port=broker.port), "demo-ward") as fleet:
        fleet.wait_online("hub", timeout=10)
        dying = make_client("kiosk-7")
        fleet.wait_online("kiosk-7", timeout=10)
        dying._mqtt._sock.close()  # the cable is pulled: no goodbye is sent, the broker publishes the will
        wait_until(lambda: fleet.status("kiosk-7") == "offline", timeout=60, what="last will")
        assert fleet.states["kiosk-7"].body["detail"]["reason"] == "connection lost"
        assert fleet.status("hub") == "online"


def test_malformed_input_is_rejected_with_a_reason_and_hub_keeps_serving(
        hub: HubService, make_client, broker: Broker, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    raw = raw_publisher(broker)
    topic = hub.bus.topics.ticket_request
    good = {"v": 1, "type": "ticket.request", "device": "kiosk-x", "boot": "abcd", "seq": 1,
            "ts": "2026-11-22T09:00:00+07:00", "body": {"service": "HT"}, "corr": "abcd.1"}
    bad = [b"not json", json.dumps({**good, "seq": "one"}).encode(), json.dumps({**good, "type": "hack"}).encode(),
           b"{" + b" " * (1024 * 1024) + b"}"]
    for payload in bad:
        raw.publish(topic, payload, qos=1).wait_for_publish(5)
    reasons = ["invalid JSON", "seq: expected an integer", "type: expected a known message type",
               "payload: expected at most 65536 bytes"]
    wait_until(lambda: all(r in caplog.text for r in reasons), what="four logged rejections")
    assert hub.bus.rejected.total() == 4

    kiosk = make_client("kiosk-1")
    kiosk.wait_connected(5)
    refused = kiosk.request(topic, "ticket.request", {"service": "ZZ"}, timeout=5)
    assert refused is not None and refused.type == "error" and refused.body["code"] == "unknown_service"
    keypad = make_client("bridge-2", role="bridge", counters=(2,))
    keypad.wait_connected(5)
    wrong_topic = keypad.request(kiosk.topics.counter_command(2), "counter.command",
                                {"action": "call_next", "counter": 3}, timeout=5)
    assert wrong_topic is not None and wrong_topic.body["code"] == "bad_request"
    stray = kiosk.message("ticket.issued", {"ticket": samples.ticket("A001", status="issued")}, corr="ffff.99")
    raw.publish(kiosk.topics.reply("hub"), stray.encode(), qos=1).wait_for_publish(5)  # a stranger's reply
    wait_until(lambda: "unknown correlation id ffff.99" in caplog.text, what="unknown corr logged")
    ok = kiosk.request(topic, "ticket.request", {"service": "HT"}, timeout=5)
    assert ok is not None and ok.body["ticket"]["label"] == "A001"
    raw.loop_stop()
    raw.disconnect()


def test_a_plain_request_made_during_an_outage_is_never_applied_later(hub: HubService, make_client,
                                                                      broker: Broker) -> None:
    kiosk = make_client("kiosk-1")
    counter = make_client("counter-2", role="bridge", counters=(2,))
    assert kiosk.wait_connected(5) and counter.wait_connected(5)
    ask = counter.request(counter.topics.counter_command(2), "counter.command", {"action": "open", "counter": 2},
                          timeout=5)
    assert ask is not None and ask.type == "counter.result"
    first = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
    assert first is not None and first.body["ticket"]["label"] == "A001"
    broker.stop()
    wait_until(lambda: not kiosk.connected.is_set() and not counter.connected.is_set(), what="clients see outage")
    began = time.monotonic()
    assert kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT", "hold": True},
                         timeout=5) is None  # the kiosk prints an offline number instead
    assert counter.request(counter.topics.counter_command(2), "counter.command",
                           {"action": "call_next", "counter": 2}, timeout=5) is None  # the keypad shows "error"
    assert time.monotonic() - began < 1.0  # no point waiting out the timeout with no broker
    broker.start()
    wait_until(lambda: kiosk.connected.is_set() and counter.connected.is_set(), timeout=30, what="reconnect")
    # "online" goes out after the hub's subscriptions: once it is seen, requests reach the hub (conftest.py)
    wait_online(BrokerSection(port=broker.port), WARD, "hub", timeout=30)
    again = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
    assert again is not None and again.body["ticket"]["label"] == "A002"  # nothing was issued behind its back
    rows = hub.db.execute("SELECT label, status FROM tickets ORDER BY id").fetchall()
    assert rows == [("A001", "issued"), ("A002", "issued")]  # and A001 was not called by the stale key press


def test_a_state_that_said_messages_were_waiting_is_said_again_once_they_are_answered(hub_config, make_client) -> None:  # noqa: ANN001
    """A device states itself on events and once a minute: one stated while a message was in flight said "1 message
    waiting for an answer" on the fleet page for up to that minute, long after the answer came."""
    from hub.config import load_hub

    kiosk = make_client("kiosk-1", outbox=True, retry_first=0.5)
    watch = make_client("watch", role="cli")
    states: list[Message] = []
    watch.subscribe(watch.topics.device_state("kiosk-1"), lambda m, _: states.append(m))
    assert kiosk.wait_connected(5) and watch.wait_connected(5)
    kiosk.send_durable(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"})  # no hub yet: it waits
    kiosk.publish_state()
    wait_until(lambda: states and states[-1].body["detail"].get("outbox") == 1, what="a state saying it waits")
    hub = HubService(*load_hub(str(hub_config)))
    hub.start()
    try:
        wait_until(lambda: kiosk.outbox is not None and kiosk.outbox.size() == 0, what="the hub's answer")
        wait_until(lambda: states[-1].body["detail"].get("outbox") == 0, what="a state saying nothing waits")
        assert states[-1].body["status"] == "online"
    finally:
        hub.stop()


def test_broker_outage_clients_reconnect_outbox_drains_nothing_lost(hub: HubService, make_client, broker: Broker,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    kiosk = make_client("kiosk-1", outbox=True, retry_first=0.5)
    counter = make_client("counter-2", role="bridge", counters=(2,), outbox=True, retry_first=0.5)
    replies: dict[str, Message] = {}
    lock = threading.Lock()

    def keep(msg: Message, _: str) -> None:
        with lock:
            replies[msg.corr or ""] = msg

    kiosk.on_reply(keep)
    assert kiosk.wait_connected(5) and counter.wait_connected(5)
    before = [kiosk.send_durable(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}) for _ in range(5)]
    wait_until(lambda: len(replies) == 5, what="first five tickets")

    broker.stop()
    wait_until(lambda: not kiosk.connected.is_set() and not hub.bus.connected.is_set(), what="clients see outage")
    during = [kiosk.send_durable(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"})
              for _ in range(20)]
    counter.send_durable(counter.topics.counter_command(2), "counter.command", {"action": "call_next", "counter": 2})
    assert kiosk.outbox is not None and kiosk.outbox.size() == 20
    time.sleep(2.5)  # long enough for paho's own thread (the kiosk's) to fail its first reconnect attempts
    broker.start()

    wait_until(lambda: kiosk.connected.is_set() and hub.bus.connected.is_set(), timeout=30, what="reconnect")
    wait_until(lambda: kiosk.outbox.size() == 0 and counter.outbox.size() == 0, timeout=30, what="outboxes drain")
    wait_until(lambda: len(replies) == 25, what="all replies")
    labels = [replies[m.corr].body["ticket"]["label"] for m in before + during]
    assert labels[:5] == [f"A{n:03d}" for n in range(1, 6)]
    # Delivered at least once, applied once: every request got its own number. Order across the reconnect is not
    # part of the guarantee (a resend may overtake a message the hub missed while resubscribing).
    assert sorted(labels) == [f"A{n:03d}" for n in range(1, 26)]
    rows = hub.db.execute("SELECT COUNT(*), COUNT(DISTINCT number) FROM tickets").fetchone()
    assert rows == (25, 25)
    called = hub.db.execute("SELECT label FROM tickets WHERE status='called'").fetchall()
    assert called == [("A001",)]  # the call made during the outage was applied exactly once
    # each client said once that it lost the broker, and nothing for each retry (paho's own error included)
    said = [r.getMessage().split(":")[0] for r in caplog.records if "lost the broker" in r.getMessage()]
    assert sorted(said) == ["counter-2", "hub", "kiosk-1"]
    assert not [r for r in caplog.records if "Client is not connected" in r.getMessage()
                or "cannot reach the broker" in r.getMessage()]


def test_a_connection_paho_just_lost_is_an_info_line_not_an_error(caplog) -> None:  # noqa: ANN001
    """A broker killed under a client (the chaos run's restart) made paho log "failed to receive on socket:
    [Errno 104] Connection reset by peer" as an ERROR beside the client's own warning that it lost the broker."""
    from bus.connection_log import paho_logger

    caplog.set_level(logging.INFO)
    paho_logger().error("failed to receive on socket: %s", ConnectionResetError(104, "Connection reset by peer"))
    paho_logger().error("Caught exception in on_message: %s", ValueError("x"))  # ours to fix: stays an error
    levels = {r.getMessage().split(":")[0]: r.levelno for r in caplog.records}
    assert levels == {"failed to receive on socket": logging.INFO, "Caught exception in on_message": logging.ERROR}


def test_a_broker_never_reached_is_said_once_then_its_connection(tmp_path, caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.INFO)
    port = free_port("127.0.0.1")
    kiosk = BusClient(BrokerSection(port=port), WARD, "kiosk-9", "kiosk")
    kiosk.start()
    try:
        time.sleep(3.5)  # the first attempt and the retries after 1 and 2 s, all refused: nothing listens there
        assert [r.getMessage() for r in caplog.records if r.name.startswith(("bus", "paho"))] == [
            f"kiosk-9: cannot reach the broker at 127.0.0.1:{port} (is it running, and the address right?); trying "
            "again in the background"]
        with Broker(tmp_path, port=port, kind="mosquitto"):
            assert kiosk.wait_connected(20)
            assert f"kiosk-9: connected to 127.0.0.1:{port}" in [r.getMessage() for r in caplog.records]
    finally:
        kiosk.stop()


def test_a_client_running_its_own_loop_writes_on_that_thread_only_and_is_woken_by_others(broker: Broker,
                                                                                         make_client) -> None:  # noqa: ANN001
    """The hub's worker runs its client's network loop (bus/own_loop.py). A publish from another thread (device
    commands, the keeper) only queues its packet: two threads writing one socket could interleave a packet half
    written. It goes out when the loop thread next pumps, and wakes a pump waiting for the socket at once."""
    own = BusClient(BrokerSection(port=broker.port), WARD, "hub", "hub", own_loop=True)
    loop = own.loop
    assert loop is not None
    events: list[str] = []
    listener = make_client("board-1", role="display")
    listener.subscribe(listener.topics.ticket_event, lambda m, _: events.append(m.body["ticket"]["label"]))
    own.start()
    wait_until(lambda: (loop.pump(0.05), own.connected.is_set())[1], what="connected by pumping")
    assert listener.wait_connected(5)
    publisher = threading.Thread(target=own.send, args=(own.topics.ticket_event, "ticket.event",
                                                        samples.call("A001", 1)))
    publisher.start()
    publisher.join()
    assert own._mqtt.want_write()  # queued, not written on the publishing thread
    time.sleep(0.2)
    assert events == []
    done = threading.Event()

    def pump_until_done() -> None:
        while not done.is_set():
            loop.pump(60)  # a minute's wait for the socket, unless something wakes it

    pumping = threading.Thread(target=pump_until_done)
    pumping.start()
    try:
        wait_until(lambda: events == ["A001"], what="the queued event written by the pumping thread")
        time.sleep(0.2)  # the pump now waits for the socket
        own.send(own.topics.ticket_event, "ticket.event", samples.call("A002", 1))
        wait_until(lambda: events == ["A001", "A002"], timeout=10, what="the waiting pump woken to write it")
    finally:
        done.set()
        own.send(own.topics.ticket_event, "ticket.event", samples.call("A003", 1))  # wakes it to see `done`
        pumping.join(10)
        own.stop()
    assert not pumping.is_alive()


def test_a_filter_subscribed_after_a_topic_was_heard_reaches_its_next_message(make_client) -> None:  # noqa: ANN001
    """A client remembers which handlers a topic reaches (bus/subscriptions.py); a subscription made later, whose
    filter also matches that topic, is heard from the next message on, after the handlers subscribed before it."""
    listener = make_client("board-1", role="display")
    heard: list[tuple[str, str]] = []
    listener.subscribe(listener.topics.ticket_event, lambda m, _: heard.append(("exact", m.body["ticket"]["label"])))
    sender = make_client("hub", role="hub")
    assert listener.wait_connected(5) and sender.wait_connected(5)

    labels = iter(f"A{n:03d}" for n in range(1, 100))

    def send_until_heard_by(who: str) -> str:
        """Sends a new event every 0.2 s until handler `who` hears one (the broker takes a subscription in its own
        time, after its SUBACK is sent) and returns the first label `who` heard."""
        deadline = time.monotonic() + 10
        while not any(by == who for by, _ in heard):
            assert time.monotonic() < deadline, f"handler {who!r} heard no event in 10 s: {heard}"
            sender.send(sender.topics.ticket_event, "ticket.event", samples.call(next(labels), 1))
            time.sleep(0.2)
        time.sleep(0.2)
        return next(label for by, label in heard if by == who)

    send_until_heard_by("exact")
    wildcard = listener.topics.ticket_event.rsplit("/", 1)[0] + "/#"
    listener.subscribe(wildcard, lambda m, _: heard.append(("wildcard", m.body["ticket"]["label"])))
    first = send_until_heard_by("wildcard")  # never, with the memory never reset
    assert heard[heard.index(("exact", first)):] == [("exact", first), ("wildcard", first)]
