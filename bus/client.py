# Resilient MQTT client: reconnects by itself, resubscribes, never blocks callers, drains the durable outbox.
from __future__ import annotations

import itertools
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bus import access, bundle, device_state, messages, tls
from bus.config import BrokerSection
from bus.connection_log import ConnectionLog, paho_logger
from bus.errors import AccessRefused, ContractError
from bus.health import STATE_EVERY
from bus.liveness import Liveness
from bus.messages import Message
from bus.outbox import Entry, Outbox
from bus.own_loop import OwnLoop
from bus.rejections import Rejections
from bus.replies import Replies
from bus.sqlite_repair import Repair
from bus.subscriptions import Handler, Subscriptions
from bus.topics import Topics, carries, words_for
from bus.version import VERSION

log = logging.getLogger(__name__)


class BusClient:
    """One device's connection to the ward broker.

    Publishing never blocks: while the link is down paho queues QoS 1 messages in memory, and messages sent with
    `send_durable` wait in the SQLite outbox until a reply carrying their correlation id arrives. Nothing a peer
    sends can stop the network thread: a payload that breaks the contract is counted and logged, never raised.
    """

    def __init__(self, broker: BrokerSection, ward: str, device: str, role: str, *,
                 outbox_path: str | Path | None = None, clean_session: bool = True,
                 version: str = VERSION, retry_first: float = 5.0, client_id: str = "",
                 data_dir: str | Path | None = None, counters: tuple[int, ...] = (), replies: bool = True,
                 own_loop: bool = False) -> None:
        self.broker, self.topics, self.device, self.role, self.version = broker, Topics(ward), device, role, version
        self.boot = secrets.token_hex(6)
        self.connected = threading.Event()
        self.rejected = Rejections(log, device)  # messages refused, by the field at fault
        # what the ward broker's access list lets this account do; None for an account the ward table does not know
        self.grants = access.client_grants(broker.username, role, device, ward, counters)
        self.connection_log = ConnectionLog(device, broker.host, broker.port)
        self.replies = replies  # False for a client that only listens (a fleet watch): no reply topic to read
        self.outbox = Outbox(outbox_path, first_retry=retry_first) if outbox_path else None
        # damaged files this process repaired when it opened them; shown in its state for ward IT
        self.repairs: list[Repair] = [self.outbox.repair] if self.outbox and self.outbox.repair else []
        # where the device keeps its files: damaged copies left there by a repair are reported until removed
        self.data_dir = Path(data_dir) if data_dir else Path(outbox_path).parent if outbox_path else None
        self.state_detail: Callable[[], dict[str, Any]] = dict
        # told of each message in another contract version (topic, its version): the fleet status names such devices
        self.on_other_contract: Callable[[str, Any], None] | None = None
        self.facts: dict[str, Any] = {"up_since": messages.now_ts()}  # fixed facts for the state's detail
        self._seq = itertools.count(1)
        self._seq_lock = threading.Lock()
        self._subs = Subscriptions()
        self._asked = Replies()
        self._reply_listeners: list[Handler] = []
        self._connect_hooks: list[Callable[[], None]] = []
        self._disconnect_hooks: list[Callable[[], None]] = []
        self._stop = threading.Event()
        self._started = False
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._wakers: list[Callable[[], None]] = [self._wake.set]  # what ends its threads' waits when it stops
        self.state = device_state.StateReporter(self)
        self._probe_topic = self.topics.device_alive(device)
        self.liveness = Liveness(lambda: self._mqtt.publish(self._probe_topic, self.boot.encode(), qos=0),
                                 lambda: self.loop is not None or getattr(self._mqtt, "_thread", None) is not None)
        self._mqtt = self._make_client(clean_session, client_id or f"{self.topics.ward}.{device}")
        # with own_loop a thread of the device's (the hub's worker) runs `loop`, and its health is the device's to watch
        self.loop = OwnLoop(self._mqtt, self.connected, self._stop) if own_loop else None

    # -- lifecycle -------------------------------------------------------------------------------------------
    def _make_client(self, clean_session: bool, client_id: str) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                             clean_session=clean_session, protocol=mqtt.MQTTv311)
        client.enable_logger(paho_logger())
        client.reconnect_delay_set(1, 16)
        client.max_inflight_messages_set(0)  # no limit: with one, paho scans every unacknowledged message per ack
        client.max_queued_messages_set(20000)
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password or None)
        if self.broker.tls:
            client.tls_set_context(tls.context(self.broker))
        client.on_connect_fail = self._on_connect_fail
        if self.role != "cli":  # a command-line client is not a device: it leaves no retained state behind
            client.will_set(self.topics.device_state(self.device), device_state.last_will(self), qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def start(self) -> None:
        """Starts connecting in the background; returns at once even if the broker is down."""
        if self.replies:
            self.subscribe(self.topics.reply(self.device), self._on_reply)
        self._started = True
        self._mqtt.connect_async(self.broker.host, self.broker.port, keepalive=self.broker.keepalive)
        if self.loop is None:
            self._mqtt.loop_start()
        if self.outbox is not None:
            self._thread(self._pump_loop, "outbox")
        if self.role != "cli":
            self._thread(self._keep, "keeper")

    def _thread(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=f"{name}-{self.device}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _keep(self) -> None:
        """Sends the liveness probe, and refreshes the retained state every STATE_EVERY s so ward IT can tell a live
        device from a stale 'online' left behind when the broker itself went down (its last will never fired)."""
        state_at = time.monotonic()
        while not self._stop.wait(min(1.0, self.liveness.probe_every)):
            self._guard(lambda: self.liveness.tick(self.connected.is_set()), "liveness probe")
            if time.monotonic() - state_at >= STATE_EVERY and self.connected.is_set():
                state_at = time.monotonic()
                self._guard(self.publish_state, "state refresh")

    def adopt(self, thread: threading.Thread, wake: Callable[[], None] | None = None) -> None:
        """A thread the device needs (its commands): watched by health, joined by stop; it ends once `stopping` is.
        `wake` ends its wait at once when the client stops (else stop waits out the thread's own wait)."""
        self._threads.append(thread)
        if wake is not None:
            self._wakers.append(wake)

    @property
    def stopping(self) -> threading.Event:
        return self._stop

    def health(self) -> str | None:
        """None while every thread this client depends on is alive and its network path makes progress, else what
        is wrong: a service kicks its watchdog only while all its clients are healthy."""
        if not self._started or self._stop.is_set():
            return None
        dead = [t.name for t in self._threads if not t.is_alive()]
        problem = f"thread {dead[0]} has stopped" if dead else self.liveness.problem()
        return f"{self.device}: {problem}" if problem else None

    def stop_loop(self) -> None:
        """Has the thread pumping the device's own loop (the hub's worker) stop pumping now, not at its wait's end:
        paho ends its wait for any packet queued, and a liveness probe is one nobody minds. `stop` follows."""
        self._stop.set()
        if self.loop is not None and self.connected.is_set():
            self.liveness.send_probe()

    def stop(self, timeout: float = 2.0) -> None:
        """Says goodbye (retained offline state), then disconnects and stops the threads."""
        self._stop.set()
        for wake in self._wakers:
            wake()
        self._mqtt.disable_logger()
        self.state.goodbye(timeout)
        self._mqtt.disconnect()
        if self.loop is not None:
            self.loop.flush(timeout)
        self._mqtt.loop_stop()
        for thread in self._threads:
            thread.join(timeout)
        if self.outbox is not None:
            self.outbox.close()

    @property
    def refused_by_broker(self) -> str:
        """Why the broker refused this client's last connection, if it did ("" otherwise)."""
        return self.connection_log.refused

    def wait_connected(self, timeout: float) -> bool:
        """Waits up to `timeout` for the broker; False at once when the broker refused this client's account."""
        deadline = time.monotonic() + timeout
        while not self.connected.wait(min(0.05, max(0.0, deadline - time.monotonic()))):
            if self.refused_by_broker or time.monotonic() >= deadline:
                return False
        return True

    # -- sending ---------------------------------------------------------------------------------------------
    def message(self, type_: str, body: dict[str, Any], corr: str | None = None) -> Message:
        with self._seq_lock:
            seq = next(self._seq)
        return messages.make(type_, self.device, self.boot, seq, body, corr=corr)

    def may(self, access_kind: str, topic: str) -> None:
        """Raises AccessRefused, in words a person understands, if the ward's access list will not let this account
        publish ("write") or read ("read") `topic`: the broker would drop it without a word."""
        if self.grants is not None and not self.grants.may(access_kind, topic):
            raise AccessRefused(self.grants.refusal(access_kind, topic))

    def publish(self, topic: str, msg: Message, *, qos: int = 1, retain: bool = False,
                only_when_connected: bool = False) -> mqtt.MQTTMessageInfo | None:
        """Hands a message to paho without blocking. State that is republished on connect passes
        only_when_connected=True so a long outage does not pile up stale copies."""
        self.may("write", topic)
        if only_when_connected and not self.connected.is_set():
            return None
        return self._mqtt.publish(topic, msg.encode(), qos=qos, retain=retain)

    def send(self, topic: str, type_: str, body: dict[str, Any], **kw: Any) -> Message:
        msg = self.message(type_, body)
        self.publish(topic, msg, **kw)
        return msg

    def send_durable(self, topic: str, type_: str, body: dict[str, Any]) -> Message:
        """Stores the message in the outbox (committed) and sends it; it is resent until its reply arrives."""
        self.may("write", topic)
        msg = self._request_message(type_, body)
        self._send_durable(topic, msg)
        return msg

    def send_request(self, topic: str, type_: str, body: dict[str, Any]) -> Message:
        """Sends a request without waiting, at most once (`_send_once`); its reply reaches the `on_reply` listeners."""
        self.may("write", topic)
        msg = self._request_message(type_, body)
        self._send_once(topic, msg)
        return msg

    def request(self, topic: str, type_: str, body: dict[str, Any], timeout: float,
                durable: bool = False) -> Message | None:
        """Sends a request and waits up to `timeout` for its reply; None if none came. A durable request stays
        in the outbox after a timeout and is answered later; a plain one is sent at most once and abandoned after
        the timeout - at once when the broker is unreachable - so it is never applied after the caller gave up.
        AccessRefused, at once, when the ward's access list does not let this account send it."""
        self.may("write", topic)
        msg = self._request_message(type_, body)
        with self._asked.awaiting(msg.corr or "") as waiter:
            if durable:
                self._send_durable(topic, msg)
            elif not self._send_once(topic, msg):
                return None
            waiter.event.wait(timeout)
            return waiter.reply

    def _request_message(self, type_: str, body: dict[str, Any]) -> Message:
        with self._seq_lock:
            seq = next(self._seq)
        corr = f"{self.boot}.{seq}"
        self._asked.sent(corr)
        return messages.make(type_, self.device, self.boot, seq, body, corr=corr)

    def _send_once(self, topic: str, msg: Message) -> bool:
        """A plain request goes out with QoS 0 and only while connected: paho would hold a QoS 1 message through an
        outage and deliver it after the reconnect, long after the person at the kiosk or counter was told it
        failed. False when nothing was sent."""
        if not self.connected.is_set():
            return False
        self._mqtt.publish(topic, msg.encode(), qos=0)
        return True

    def _send_durable(self, topic: str, msg: Message) -> None:
        if self.outbox is None:
            raise RuntimeError(f"{self.device}: durable sends need an outbox_path")
        payload = msg.encode()
        aged = msg.type in messages.AGED
        self.outbox.add(msg.corr, topic, payload, aged=aged)
        if self.connected.is_set():
            self._mqtt.publish(topic, messages.aged(payload, 0.0) if aged else payload, qos=1)
            self.outbox.sent(msg.corr)

    def reply(self, to: Message, type_: str, body: dict[str, Any]) -> Message:
        msg = self.message(type_, body, corr=to.corr)
        self.publish(self.topics.reply(to.device), msg)
        return msg

    def publish_state(self) -> None:  # the device has news for ward IT (device_state.StateReporter)
        self.state.publish()

    # -- receiving -------------------------------------------------------------------------------------------
    def subscribe(self, topic_filter: str, handler: Handler, qos: int = 1) -> None:
        """Calls `handler(message, topic)` for every valid message on a matching topic, on the network thread; a filter
        the ward's access list will not let this account read is logged plainly (the broker would deliver nothing)."""
        if self.grants is not None and not self.grants.may("read", topic_filter):
            log.error("%s: %s; nothing will arrive there", self.device, self.grants.refusal("read", topic_filter))
        with self._subs.lock:
            self._subs.add(topic_filter, handler, qos)
            if self.connected.is_set():
                self._mqtt.subscribe(topic_filter, qos)

    def on_reply(self, handler: Handler) -> None:
        """Calls `handler` for every reply to this device, after the outbox and waiters have seen it."""
        self._reply_listeners.append(handler)

    def on_connect(self, hook: Callable[[], None]) -> None:
        self._connect_hooks.append(hook)

    def on_disconnect(self, hook: Callable[[], None]) -> None:
        self._disconnect_hooks.append(hook)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            account = f"account {self.broker.username!r}" if self.broker.username else "an anonymous client"
            self.connection_log.refusal(f"the broker at {self.broker.host}:{self.broker.port} refused {account}: "
                                        f"{reason}")
            return
        self.connection_log.connected()
        sock = client.socket()
        if isinstance(sock, socket.socket):  # small MQTT packets must not wait for delayed ACKs (Nagle)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._subs.lock:  # subscriptions go out before anyone told "connected" can publish a request
            for topic_filter, qos in self._subs.filters():
                client.subscribe(topic_filter, qos)
            if self.role != "cli":
                client.subscribe(self._probe_topic, 0)
            self.connected.set()
        self.publish_state()  # after the subscriptions: whoever sees "online" knows this device is listening
        if self.outbox is not None:
            self.outbox.make_all_due()
            self._wake.set()
        for hook in self._connect_hooks:
            self._guard(hook, "connect hook")

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        """A connection attempt that failed: named plainly when the broker's certificate is the reason."""
        self.connection_log.attempt_failed(tls.handshake_problem(self.broker) if self.broker.tls else None)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        was_connected = self.connected.is_set()
        self.connected.clear()
        if was_connected and not self._stop.is_set():
            self.connection_log.lost(reason)
            for hook in self._disconnect_hooks:
                self._guard(hook, "disconnect hook")

    def _on_message(self, client: mqtt.Client, userdata: Any, raw: mqtt.MQTTMessage) -> None:
        self.deliver(raw.topic, raw.payload)

    def deliver(self, topic: str, payload: bytes) -> None:
        """The receive path of every message from the broker (the fuzzers feed it too): the liveness probe, else the
        contract check, then every matching handler behind a guard; nothing once stop() began. Never raises."""
        if self._stop.is_set():  # no handler runs again, nor on the thread that pumps while it says goodbye
            return
        if topic == self._probe_topic:  # only this account may write there (bus/access.py)
            self.liveness.came_back()
            return
        self._guard(lambda: self._dispatch(topic, payload), f"message on {topic}")

    def _dispatch(self, topic: str, payload: bytes) -> None:
        try:
            msg = messages.decode(payload)
        except ContractError as exc:
            if exc.field == "v" and self.on_other_contract is not None:
                self.on_other_contract(topic, exc.got)
            self.rejected.count(exc.counted_as, f"rejected a message on {topic} ({words_for(topic)}): {exc}")
            return
        if not carries(topic, msg.type):
            self.rejected.count("type", f"rejected a {msg.type} from {msg.device} on {topic}: that topic carries "
                                        f"{words_for(topic)} only")
            return
        handlers = self._subs.handlers(topic)  # once for a whole bundle
        for one in bundle.unpack(msg, topic, self.rejected) if msg.type == "bundle" else (msg,):
            for handler in handlers:
                self._guard(lambda h=handler, m=one: h(m, topic), f"handler for {topic}")

    def _on_reply(self, msg: Message, topic: str) -> None:
        if msg.corr is None:
            self.rejected.count("reply", f"rejected {msg.type} on the reply topic: a reply needs a correlation id")
            return
        acked = self.outbox is not None and self.outbox.acknowledged_by(msg)
        if not self._asked.answer(msg) and not acked:  # not an answer to anything this device asked
            self.rejected.count("corr", f"reply for unknown correlation id {msg.corr} ignored")
            return
        if acked:
            self._guard(self.state.answered, "state refresh")
        for listener in self._reply_listeners:
            self._guard(lambda h=listener: h(msg, topic), "reply listener")

    def _guard(self, fn: Callable[[], object], what: str) -> None:
        try:
            fn()
        except Exception:  # a faulty handler must not stop the network thread; it is logged with its trace
            log.exception("%s: %s failed", self.device, what)

    # -- outbox ----------------------------------------------------------------------------------------------
    def wake_outbox(self) -> None:  # the outbox pump looks at once (after entries were made due)
        self._wake.set()

    def _pump_loop(self) -> None:
        assert self.outbox is not None
        self.outbox.pump(self._publish_due, self.connected, self._stop, self._wake, self.device)

    def _publish_due(self, due: list[Entry]) -> None:  # a backlog for a topic that takes bundles goes in bundles
        assert self.outbox is not None
        uptime = self.outbox.uptime()  # each entry made in this boot says its age (`messages.aged`)
        for topic, payload in bundle.pack(due, lambda held: self.message("bundle", {"messages": held}), uptime):
            self._mqtt.publish(topic, payload, qos=1)

    def state_body(self, status: str) -> dict[str, Any]:
        return device_state.body(self, status)
