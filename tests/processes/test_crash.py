"""Nothing lost, nothing twice: nodes killed with SIGKILL in the middle of a stream."""

from __future__ import annotations

import sqlite3
import time

from node.localnet import connect, wait_for
from node.messages import simple_alert

TOTAL = 2000


def inbox_ids(node) -> list[str]:
    return [m["id"] for m in node.get("/api/v1/inbox?limit=10000")]


def stored_alerts(node) -> int:
    """Alerts in a node's database, read from the file (the node may be dead)."""
    with sqlite3.connect(node.data / "node.db") as db:
        return db.execute("SELECT count(*) FROM received WHERE type = 'alert'").fetchone()[0]


def send_stream(sender, to: str, total: int) -> list[str]:
    ids: list[str] = []
    for start in range(0, total, 200):
        batch = [{"to": [to], "payload": simple_alert(f"Alerta {i}", "es", alert_id=f"alert-{i}")}
                 for i in range(start, min(total, start + 200))]
        ids += sender.post("/api/v1/messages/bulk", {"messages": batch})["ids"]
    return ids


#: Small batches, one at a time: the stream lasts long enough to be cut in the middle.
PACED = {"poll_interval_seconds": 0.2, "batch_size": 10, "window": 1,
         "initial_backoff_seconds": 0.2, "max_backoff_seconds": 1}


def test_a_receiver_killed_mid_stream_gets_all_2000_messages_exactly_once(make_node):
    es, fr = make_node("es-aduana", delivery=PACED), make_node("fr-douane")
    connect(es, fr)
    sent = send_stream(es, "fr-douane", TOTAL)
    assert len(set(sent)) == TOTAL
    wait_for(lambda: stored_alerts(fr) >= 200, interval=0.01, what="stream under way")
    fr.kill()
    at_kill = stored_alerts(fr)
    assert 0 < at_kill < TOTAL, at_kill
    time.sleep(1.0)  # the sender keeps trying (and failing) while the receiver is down
    fr.start()
    wait_for(lambda: len(inbox_ids(fr)) >= TOTAL, timeout=120, what="all messages")
    got = inbox_ids(fr)
    assert len(got) == TOTAL and set(got) == set(sent)
    payloads = sorted(int(m["payload"]["record"]["id"].split("-")[1])
                      for m in fr.get("/api/v1/inbox?limit=10000"))
    assert payloads == list(range(TOTAL))
    wait_for(lambda: not es.get("/api/v1/outbox?state=pending&limit=10000"), timeout=60,
             what="sender's outbox drained")
    states = {r["state"] for r in es.get("/api/v1/outbox?limit=10000")}
    assert states == {"delivered"}


def test_a_sender_killed_mid_stream_resumes_from_its_outbox_after_restart(make_node):
    es, fr = make_node("es-aduana", delivery=PACED), make_node("fr-douane")
    connect(es, fr)
    sent = send_stream(es, "fr-douane", TOTAL)
    wait_for(lambda: stored_alerts(fr) >= 200, interval=0.01, what="stream under way")
    es.kill()
    assert stored_alerts(fr) < TOTAL
    es.start()
    wait_for(lambda: len(inbox_ids(fr)) >= TOTAL, timeout=120, what="all messages")
    got = inbox_ids(fr)
    assert len(got) == TOTAL and set(got) == set(sent)
