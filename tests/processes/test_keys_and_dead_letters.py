"""Key rotation without refusing anything in flight; dead letters listed and retried; the
recovery after an outage."""

from __future__ import annotations

import json

from node.localnet import connect, wait_for
from node.messages import simple_alert


def inbox_ids(node) -> set[str]:
    return {m["id"] for m in node.get("/api/v1/inbox?limit=1000")}


def test_a_key_rotation_reaches_peers_and_messages_in_flight_are_still_accepted(make_node):
    es, fr = make_node("es-aduana"), make_node("fr-douane")
    connect(es, fr)
    old_kid = es.get("/api/v1/node")["kid"]
    fr.stop()
    before = es.send_alert(["fr-douane"], "before", "es")
    rotated = es.post("/api/v1/keys/rotate")
    assert rotated["kid"] != old_kid and rotated["announced_to"] == 1
    after = es.send_alert(["fr-douane"], "after", "es")
    fr.start()
    wait_for(lambda: {before["id"], after["id"]} <= inbox_ids(fr), what="both messages")
    es_seen_by_fr = next(p for p in fr.get("/api/v1/peers") if p["id"] == "es-aduana")
    keys = {k["kid"]: k["valid_until"] for k in es_seen_by_fr["keys"]}
    assert keys[rotated["kid"]] is None and keys[old_kid] is not None
    # fr now seals to es's new key, and es opens it
    reply = fr.send_alert(["es-aduana"], "réponse", "fr")
    wait_for(lambda: reply["id"] in inbox_ids(es), what="reply sealed to the new key")
    out = json.loads(es.cli("keys", "show", "--data", str(es.data), "--json").stdout)
    assert [k["kid"] for k in out["keys"] if k["current"]] == [rotated["kid"]]


def test_the_rotated_key_survives_a_restart_of_the_rotating_node(make_node):
    es, fr = make_node("es-aduana"), make_node("fr-douane")
    connect(es, fr)
    es.cli("keys", "rotate", "--data", str(es.data))  # by the CLI while the node runs
    es.stop()
    es.start()
    sent = es.send_alert(["fr-douane"], "x", "es")
    wait_for(lambda: sent["id"] in inbox_ids(fr), what="delivery after restart")
    assert es.get("/api/v1/node")["kid"] == json.loads(
        es.cli("keys", "show", "--data", str(es.data), "--json").stdout)["keys"][-1]["kid"]


def test_a_message_that_cannot_be_delivered_is_dead_lettered_then_retried(make_node):
    es = make_node("es-aduana", delivery={"poll_interval_seconds": 0.2,
                                          "initial_backoff_seconds": 0.2,
                                          "max_backoff_seconds": 1,
                                          "give_up_days": 2 / 86400})
    fr = make_node("fr-douane")
    connect(es, fr)
    fr.stop()
    sent = es.send_alert(["fr-douane"], "x", "es")
    dead = wait_for(lambda: es.get("/api/v1/outbox?state=dead"), timeout=30, what="dead letter")
    assert dead[0]["id"] == sent["id"] and "gave up" in dead[0]["last_error"]
    listed = json.loads(es.cli("outbox", "--data", str(es.data), "--state", "dead",
                               "--json").stdout)
    assert [r["id"] for r in listed] == [sent["id"]]
    fr.start()
    out = es.cli("retry", "--data", str(es.data), "--peer", "fr-douane").stdout
    assert out.startswith("1 message")
    wait_for(lambda: sent["id"] in inbox_ids(fr), what="retried message delivered")


def test_when_a_peer_answers_again_what_waited_on_a_back_off_goes_at_once(make_node):
    # Back-offs far longer than the test may wait: only the recovery can deliver in time.
    es = make_node("es-aduana", delivery={"poll_interval_seconds": 0.2,
                                          "initial_backoff_seconds": 30,
                                          "max_backoff_seconds": 60})
    fr = make_node("fr-douane")
    connect(es, fr)
    fr.stop()
    queued = es.post("/api/v1/messages/bulk", {"messages": [
        {"to": ["fr-douane"], "payload": simple_alert(f"Alerta {i}", "es", alert_id=f"a-{i}")}
        for i in range(30)]})["ids"]
    wait_for(lambda: len([r for r in es.get("/api/v1/outbox?state=pending&limit=100")
                          if r["last_error"]]) == 30, what="the outage seen by the sender")
    fr.start()
    # A new message goes at once; its answer shows the peer is back.
    fresh = es.send_alert(["fr-douane"], "otra", "es")["id"]
    wait_for(lambda: set(queued) | {fresh} <= inbox_ids(fr), timeout=15,
             what="every message delivered well before its back-off")
