#!/usr/bin/env python3
"""Federation benchmark: two real node processes on loopback.

Prints, from one run:
  * the ceiling of this machine: Ed25519 verifications per second on one core (PyNaCl);
  * end-to-end throughput: messages/s from the first send until every message is
    signed, encrypted, delivered, committed by the receiver and acknowledged;
  * the latency of a single alert on an idle pair (p50, p99), from composition on the
    sender to the receiver's commit (both clocks are this machine's).

Usage: python bench/federation_bench.py [--messages 30000] [--latency-samples 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nacl.signing

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from node.localnet import LocalNode, connect, wait_for  # noqa: E402
from node.messages import simple_alert  # noqa: E402

TUNING: dict = {}


def verify_ceiling(seconds: float = 2.0) -> float:
    key = nacl.signing.SigningKey.generate()
    message = bytes(1024)
    signed = key.sign(message)
    vk = key.verify_key
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            vk.verify(signed.message, signed.signature)
        n += 200
    return n / (time.perf_counter() - start)


def cpu_seconds(node: LocalNode) -> float:
    """User + system CPU time of a node process so far (all its threads)."""
    fields = Path(f"/proc/{node.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def delivered(node: LocalNode, peer: str) -> int:
    return node.get("/api/v1/delivery")["by_peer"].get(peer, {}).get("delivered", 0)


def throughput(es: LocalNode, fr: LocalNode, total: int) -> dict:
    payload = simple_alert("Cocaína oculta en doble fondo de contenedor refrigerado", "es",
                           alert_id="alert-bench", urgency="Immediate", severity="Severe")
    payload["record"]["fields"]["description"] = {
        "text": ("Incautación en contenedor refrigerado procedente de Guayaquil. " * 6).strip(),
        "lang": "es"}
    base = delivered(es, "fr-douane")
    # The load: bulk requests of 500 messages from two clients at once, each body encoded
    # once beforehand, so the node is offered work faster than it can take it.
    sizes = [min(500, total - first) for first in range(0, total, 500)]
    bodies = {n: json.dumps({"messages": [{"to": ["fr-douane"], "payload": payload}] * n}).encode()
              for n in set(sizes)}
    cpu0 = {n.node_id: cpu_seconds(n) for n in (es, fr)}
    start = time.perf_counter()
    with ThreadPoolExecutor(2) as clients:
        list(clients.map(lambda n: es.post("/api/v1/messages/bulk", bodies[n]), sizes))
    queued = time.perf_counter() - start
    wait_for(lambda: delivered(es, "fr-douane") - base >= total, timeout=600, interval=0.05,
             what="all delivered")
    elapsed = time.perf_counter() - start
    busy = {n.node_id: round((cpu_seconds(n) - cpu0[n.node_id]) / elapsed, 2) for n in (es, fr)}
    return {"messages": total, "seconds": round(elapsed, 2),
            "queued_in_seconds": round(queued, 2),
            "messages_per_second": round(total / elapsed),
            "cpu_cores_used": busy}


def backlog(es: LocalNode, fr: LocalNode, total: int) -> dict:
    """Delivery alone: messages queued while the receiver is down, then drained."""
    payload = simple_alert("Cocaína oculta en doble fondo", "es", alert_id="alert-backlog")
    base = delivered(es, "fr-douane")
    fr.stop()
    for offset in range(0, total, 500):
        es.post("/api/v1/messages/bulk",
                {"messages": [{"to": ["fr-douane"], "payload": payload}] * min(500, total - offset)})
    fr.start()
    restarted = time.perf_counter()
    # The sender backed off while the receiver was down: the drain starts at its next try.
    already = wait_for(lambda: (delivered(es, "fr-douane") - base) or None, timeout=600,
                       interval=0.01, what="first delivery after the restart")
    cpu0 = {n.node_id: cpu_seconds(n) for n in (es, fr)}
    start = time.perf_counter()
    wait_for(lambda: delivered(es, "fr-douane") - base >= total, timeout=600, interval=0.05,
             what="backlog delivered")
    elapsed = time.perf_counter() - start
    busy = {n.node_id: round((cpu_seconds(n) - cpu0[n.node_id]) / elapsed, 2) for n in (es, fr)}
    return {"messages": total, "first_delivery_after_restart_s": round(start - restarted, 2),
            "seconds": round(elapsed, 2),
            "messages_per_second": round((total - already) / elapsed), "cpu_cores_used": busy}


def latency(es: LocalNode, fr: LocalNode, samples: int) -> dict:
    times = []
    for i in range(samples):
        sent = es.send_alert(["fr-douane"], f"Alerta {i}", "es")
        row = wait_for(
            lambda eid=sent["id"]: next(
                (m for m in fr.get("/api/v1/inbox?limit=5") if m["id"] == eid), None),
            interval=0.002, what="single alert")
        times.append(row["received_at"] - row["created_at"])
        time.sleep(0.02)  # idle between alerts
    times.sort()
    return {"samples": samples, "p50_ms": statistics.median(times),
            "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))],
            "max_ms": times[-1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--batch-size", type=int, help="delivery.batch_size of both nodes")
    parser.add_argument("--window", type=int, help="delivery.window of both nodes")
    args = parser.parse_args()
    delivery = {k: v for k, v in (("batch_size", args.batch_size), ("window", args.window)) if v}
    if delivery:
        TUNING["delivery"] = delivery
    with tempfile.TemporaryDirectory(prefix="ncen-bench-") as tmp:
        es = LocalNode(Path(tmp) / "es", "es-aduana", "Aduanas", "ES", "es",
                       config_overrides={"log": {"level": "WARNING"}, **TUNING})
        fr = LocalNode(Path(tmp) / "fr", "fr-douane", "Douane", "FR", "fr",
                       config_overrides={"log": {"level": "WARNING"}, **TUNING})
        for node in (es, fr):
            node.init()
            node.start()
        try:
            connect(es, fr)
            print("measuring the Ed25519 ceiling ...", file=sys.stderr)
            ceiling = verify_ceiling()
            print("measuring latency on an idle pair ...", file=sys.stderr)
            lat = latency(es, fr, args.latency_samples)
            print(f"measuring throughput with {args.messages} messages ...", file=sys.stderr)
            thr = throughput(es, fr, args.messages)
            print(f"measuring the delivery of a backlog of {args.messages} ...", file=sys.stderr)
            drained = backlog(es, fr, args.messages)
        finally:
            es.stop()
            fr.stop()
    ratio = thr["messages_per_second"] / ceiling
    result = {"ed25519_verify_per_s_one_core": round(ceiling), "throughput": thr,
              "backlog_delivery": drained,
              "latency": lat, "throughput_over_verify_ceiling": round(ratio, 3)}
    print(json.dumps(result, indent=2))
    print(f"\nend to end: {thr['messages_per_second']} msg/s = {ratio:.2f} x the one-core "
          f"Ed25519 verify rate ({round(ceiling)}/s); target >= 0.30")
    print(f"a backlog (receiver restarted): {drained['messages_per_second']} msg/s delivered "
          f"(first delivery {drained['first_delivery_after_restart_s']} s after the restart)")
    print(f"single alert on an idle pair: p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms; "
          f"target p99 < 50 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
