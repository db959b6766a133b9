# Bench: the machine's own limits, which no motcua code can beat - durable commits, the broker, a bare interpreter.
from __future__ import annotations

import argparse
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from bench.figures import emit
from bus.estimate import quantile
from devkit.broker import Broker

# a message the size of an upstream record (about 320 bytes), for the receiving bound
RECORD = (b'{"v":1,"type":"upstream.record","device":"hub","boot":"0a1b2c3d","seq":1,"ts":"2026-11-23T10:00:00+07:00",'
          b'"body":{"kind":"rating","record":{"ward":"demo-ward","day":"2026-11-23","ticket_id":1,"counter":1,'
          b'"service":"HT","level":1,"scale":3,"version":1,"procedure":"1.001193","officer":"x"}},"corr":"0a1b.1"}')


def durable_table(path: Path) -> sqlite3.Connection:
    """A WAL file with synchronous=FULL, as the hub, the outboxes and the collector commit, holding one table t."""
    db = sqlite3.connect(str(path), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    return db


def sqlite_commits(folder: Path, count: int) -> tuple[float, list[float]]:
    """One small row per transaction, as the hub and the outboxes commit: commits per second and each commit's
    time in ms."""
    db = durable_table(folder / "bound.db")
    times = []
    began = time.perf_counter()
    for i in range(count):
        start = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t(body) VALUES (?)", (f"ticket {i}",))
        db.execute("COMMIT")
        times.append((time.perf_counter() - start) * 1000)
    elapsed = time.perf_counter() - began
    db.close()
    return count / elapsed, sorted(times)


def paced_commits(folder: Path, rate: float, seconds: float) -> list[float]:
    """A hub that costs nothing, paced at `rate` requests a second for `seconds`: whenever requests are due, one
    transaction inserts a row for each and commits (the hub's group commit). Each request's time from when it was
    due to the commit that holds it, in ms, sorted: the disk's share of a paced run's latency, its slow fsyncs
    included, which no hub can beat."""
    db = durable_table(folder / "paced.db")
    count, served, times = int(rate * seconds), 0, []
    began = time.perf_counter()
    while served < count:
        now = time.perf_counter()
        due = min(count, int((now - began) * rate) + 1)
        if due <= served:
            time.sleep(max(0.0, began + served / rate - now))
            continue
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO t(body) VALUES (?)", [(f"ticket {i}",) for i in range(served, due)])
        db.execute("COMMIT")
        done = time.perf_counter()
        times += [(done - began - i / rate) * 1000 for i in range(served, due)]
        served = due
    db.close()
    return sorted(times)


class Echo:
    """The broker's round trip with nothing of motcua in it: a paho client (as every role uses) sends a request
    and `mosquitto_sub | mosquitto_pub` (C, line-buffered) sends it straight back."""

    def __init__(self, port: int) -> None:
        self.sub = subprocess.Popen(["stdbuf", "-oL", "mosquitto_sub", "-p", str(port), "-t", "bench/req"],
                                    stdout=subprocess.PIPE)
        self.pub = subprocess.Popen(["mosquitto_pub", "-p", str(port), "-t", "bench/resp", "-l"], stdin=self.sub.stdout)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-echo")
        self.arrived: dict[bytes, float] = {}
        self.cond = threading.Condition()
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe("bench/resp")
        self.client.connect("127.0.0.1", port)
        self.client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as bus/client.py sets it
        self.client.loop_start()
        time.sleep(1.0)  # subscriptions in place

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self.cond:
            self.arrived[msg.payload] = time.perf_counter()
            self.cond.notify_all()

    def run(self, count: int, window: int) -> tuple[float, list[float]]:
        """`count` round trips keeping at most `window` unanswered: round trips per second and each in ms."""
        sent: dict[bytes, float] = {}
        began = time.perf_counter()
        for i in range(count):
            key = f"{began:.6f}-{i}".encode()
            with self.cond:
                self.cond.wait_for(lambda: len(sent) - len(self.arrived) < window, timeout=10)
            sent[key] = time.perf_counter()
            self.client.publish("bench/req", key, qos=0)
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.arrived) >= count, timeout=60):
                raise SystemExit(f"the echo answered {len(self.arrived)} of {count}")
        elapsed = time.perf_counter() - began
        times = sorted((self.arrived[k] - t) * 1000 for k, t in sent.items())
        self.arrived.clear()
        return count / elapsed, times

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
        for proc in (self.sub, self.pub):
            proc.terminate()
            proc.wait()


def broker_qos1(port: int, count: int) -> float:
    """QoS 1 messages per second from `mosquitto_pub` to `mosquitto_sub`, both C: what the broker itself moves."""
    payload = b'{"kind":"rating","record":{"ward":"demo-ward","day":"2026-11-23","ticket_id":1,"level":1}}\n'
    sub = subprocess.Popen(["mosquitto_sub", "-p", str(port), "-t", "bench/qos1", "-q", "1", "-C", str(count)],
                           stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    began = time.perf_counter()
    subprocess.run(["mosquitto_pub", "-p", str(port), "-t", "bench/qos1", "-q", "1", "-l"], input=payload * count,
                   check=True)
    sub.wait(timeout=120)
    return count / (time.perf_counter() - began)


def paho_receive(port: int, count: int, folder: Path) -> tuple[float, float]:
    """A paho client (as every role uses, TCP_NODELAY set) that does nothing with what it receives: QoS 1 messages
    the size of an upstream record from `mosquitto_pub` (C), read as bus/own_loop.py reads them (all that came
    together, then one round of the loop for the acknowledgements). Messages per second and the receiving thread's
    CPU per message in µs: the most any collector on paho can take at a record a message."""
    lines = folder / "records.txt"
    lines.write_bytes((RECORD + b"\n") * count)  # read by mosquitto_pub from a file: no work of this process
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-paho-receive")
    got = [0]
    client.on_message = lambda *_: got.__setitem__(0, got[0] + 1)
    client.max_inflight_messages_set(0)
    client.connect("127.0.0.1", port)
    client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client.subscribe("bench/receive", 1)
    for _ in range(20):
        client.loop(0.05)  # connected and subscribed
    with lines.open("rb") as feed:
        sender = subprocess.Popen(["mosquitto_pub", "-p", str(port), "-t", "bench/receive", "-q", "1", "-l"],
                                  stdin=feed)
    began, cpu = time.perf_counter(), time.thread_time()
    while got[0] < count and time.perf_counter() - began < 120:
        client.loop(1)
        before = -1
        while got[0] != before:
            before = got[0]
            client.loop_read()
    rate, cpu_us = got[0] / (time.perf_counter() - began), (time.thread_time() - cpu) / max(got[0], 1) * 1e6
    sender.wait(timeout=60)
    client.disconnect()
    if got[0] < count:
        raise SystemExit(f"paho received {got[0]} of {count} in 120 s")
    return rate, cpu_us


def bare_rss() -> float:
    """Resident MB of an interpreter that has loaded paho and sqlite3 and nothing of motcua: the floor under every
    role's memory."""
    code = ("import paho.mqtt.client, sqlite3, json; "  # VmRSS, not ru_maxrss: that survives the exec from here
            "print(next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmRSS')) / 1024)")
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description="The machine's own limits under the motcua benches.")
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--trips", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=500, help="requests/s of the paced commits (as the issue bench)")
    parser.add_argument("--paced-seconds", type=float, default=10, help="how long the paced commits run")
    args = parser.parse_args()
    missing = [tool for tool in ("mosquitto_sub", "mosquitto_pub", "stdbuf") if not shutil.which(tool)]
    if missing:
        raise SystemExit(f"needs {', '.join(missing)}: apt install mosquitto-clients coreutils")
    with tempfile.TemporaryDirectory() as tmp, Broker(Path(tmp), kind="mosquitto") as broker:
        commits, commit_ms = sqlite_commits(Path(tmp), args.commits)
        paced_ms = paced_commits(Path(tmp), args.rate, args.paced_seconds)
        echo = Echo(broker.port)
        try:
            echo.run(200, 1)  # warm-up
            _, one_ms = echo.run(min(args.trips, 2000), 1)
            window_rate, _ = echo.run(args.trips, 32)
        finally:
            echo.close()
        qos1 = broker_qos1(broker.port, 20000)
        received, received_cpu = paho_receive(broker.port, 40000, Path(tmp))
    rss = bare_rss()
    print("the machine's own limits (no motcua code)")
    print(f"  SQLite WAL synchronous=FULL, one row per commit: {commits:.0f} commits/s, "
          f"p50 {quantile(commit_ms, .5):.2f} ms, p99 {quantile(commit_ms, .99):.2f} ms")
    print(f"  the same paced at {args.rate:.0f}/s for {args.paced_seconds:.0f} s, due requests in one commit "
          f"(a hub of no cost): p50 {quantile(paced_ms, .5):.2f} ms, p99 {quantile(paced_ms, .99):.2f} ms, "
          f"slowest {paced_ms[-1]:.1f} ms")
    print(f"  broker round trip, paho client and a C echo: one at a time p50 {quantile(one_ms, .5):.2f} ms, "
          f"p99 {quantile(one_ms, .99):.2f} ms; window 32: {window_rate:.0f} round trips/s")
    print(f"  broker alone, C to C at QoS 1: {qos1:.0f} messages/s")
    print(f"  a paho client receiving at QoS 1 and doing nothing with it: {received:.0f} messages/s, "
          f"{received_cpu:.1f} µs of its thread's CPU a message")
    print(f"  interpreter with paho and sqlite3 loaded: {rss:.1f} MB resident")
    emit({"sqlite_commits_per_s": commits, "sqlite_commit_p99_ms": quantile(commit_ms, .99),
          "paced_commit_p99_ms": quantile(paced_ms, .99), "paced_commit_max_ms": paced_ms[-1],
          "echo_p50_ms": quantile(one_ms, .5), "echo_p99_ms": quantile(one_ms, .99), "echo_window_per_s": window_rate,
          "broker_qos1_per_s": qos1, "paho_receive_per_s": received, "paho_receive_cpu_us": received_cpu,
          "bare_rss_mb": rss})


if __name__ == "__main__":
    main()
