"""Real node processes on loopback: handshake, approval, delivery, read-back, receipts."""

from __future__ import annotations

import json

import pytest

from node.localnet import NodeApiError, connect, wait_for
from node.messages import simple_alert

ALERT = simple_alert("Cocaína en contenedor refrigerado", "es", alert_id="alert-0001")


def outbox_entry(node, envelope_id, peer):
    for row in node.get("/api/v1/outbox"):
        if row["id"] == envelope_id and row["to"] == peer:
            return row
    return None


def test_a_trust_request_waits_for_the_administrator_before_anything_is_accepted(make_node):
    es, fr = make_node("es-aduana"), make_node("fr-douane")
    es.post("/api/v1/peers", {"url": fr.url})
    wait_for(lambda: fr.peer_status("es-aduana") == "pending")
    assert es.peer_status("fr-douane") == "requested"
    with pytest.raises(NodeApiError) as refused:
        es.post("/api/v1/messages", {"to": ["fr-douane"], "payload": ALERT})
    assert refused.value.status == 409 and "not approved" in refused.value.body["error"]["detail"]
    fr.post("/api/v1/peers/es-aduana/approve")
    wait_for(lambda: es.peer_status("fr-douane") == "approved", what="approval")
    assert fr.peer_status("es-aduana") == "approved"


def test_two_nodes_deliver_an_alert_read_it_back_and_return_signed_receipts(make_node):
    es, fr = make_node("es-aduana"), make_node("fr-douane")
    connect(es, fr)
    sent = es.post("/api/v1/messages", {"to": ["fr-douane"], "payload": ALERT, "tlp": "AMBER",
                                        "handling": [{"code": "H2"}], "evaluation": "B2"})
    inbox = wait_for(lambda: fr.get("/api/v1/inbox"), what="delivery")
    assert [m["id"] for m in inbox] == [sent["id"]]
    assert inbox[0]["payload"] == ALERT and inbox[0]["from"] == "es-aduana"
    assert inbox[0]["tlp"] == "AMBER"
    wait_for(lambda: (e := outbox_entry(es, sent["id"], "fr-douane")) and e["receipts"],
             what="delivered receipt")
    fr.post(f"/api/v1/inbox/{sent['id']}/read")
    row = wait_for(
        lambda: (e := outbox_entry(es, sent["id"], "fr-douane"))
        and {r["kind"] for r in e["receipts"]} == {"delivered", "read"} and e,
        what="read receipt")
    assert row["state"] == "delivered"


def test_three_nodes_each_receive_one_copy_of_a_message_sent_to_two_peers(make_node):
    es, fr, ma = make_node("es-aduana"), make_node("fr-douane"), make_node("ma-adii")
    connect(es, fr)
    connect(es, ma)
    connect(fr, ma)
    sent = es.post("/api/v1/messages", {"to": ["fr-douane", "ma-adii"], "payload": ALERT})
    for node in (fr, ma):
        inbox = wait_for(lambda n=node: n.get("/api/v1/inbox"), what=f"{node.node_id} inbox")
        assert [m["id"] for m in inbox] == [sent["id"]]
    reply = ma.send_alert(["fr-douane"], "رد", "ar")
    got = wait_for(lambda: [m for m in fr.get("/api/v1/inbox") if m["id"] == reply["id"]])
    assert got[0]["from"] == "ma-adii"
    # es is not a recipient of ma's reply
    assert [m["id"] for m in es.get("/api/v1/inbox")] == []


def test_the_cli_works_on_a_running_node(make_node, tmp_path):
    es, fr = make_node("es-aduana"), make_node("fr-douane")
    out = es.cli("peer", "request", "--data", str(es.data), fr.url).stdout
    assert "fr-douane" in out and "Their fingerprint" in out
    listed = json.loads(fr.cli("peer", "list", "--data", str(fr.data), "--json").stdout)
    assert [(p["id"], p["status"]) for p in listed] == [("es-aduana", "pending")]
    fr.cli("peer", "approve", "--data", str(fr.data), "es-aduana")
    wait_for(lambda: es.peer_status("fr-douane") == "approved")
    message = tmp_path / "m.json"
    message.write_text(json.dumps({"type": "alert", "payload": ALERT}), encoding="utf-8")
    eid = es.cli("send", "--data", str(es.data), "--to", "fr-douane", "--file", str(message),
                 "--tlp", "GREEN").stdout.strip()
    wait_for(lambda: json.loads(fr.cli("inbox", "--data", str(fr.data), "--json").stdout),
             what="CLI-sent message delivered")
    inbox = json.loads(fr.cli("inbox", "--data", str(fr.data), "--json").stdout)
    assert inbox[0]["id"] == eid and inbox[0]["tlp"] == "GREEN"
    out = json.loads(es.cli("outbox", "--data", str(es.data), "--json").stdout)
    assert any(r["id"] == eid and r["state"] == "delivered" for r in out)


def test_suspended_and_revoked_peers_are_refused_with_their_reason(make_node):
    es, fr = make_node("es-aduana"), make_node("fr-douane")
    connect(es, fr)
    fr.post("/api/v1/peers/es-aduana/suspend", {"reason": "audit"})
    held = es.post("/api/v1/messages", {"to": ["fr-douane"], "payload": ALERT})
    row = wait_for(lambda: (e := outbox_entry(es, held["id"], "fr-douane")) and e["attempts"] and e)
    assert row["state"] == "pending" and "peer_suspended" in row["last_error"]
    fr.post("/api/v1/peers/es-aduana/resume")
    wait_for(lambda: fr.get("/api/v1/inbox"), what="held message delivered after resume")
    fr.post("/api/v1/peers/es-aduana/revoke", {"reason": "agreement ended"})
    gone = es.post("/api/v1/messages", {"to": ["fr-douane"], "payload": ALERT})
    row = wait_for(lambda: (e := outbox_entry(es, gone["id"], "fr-douane")) and e["attempts"] and e)
    assert "peer_revoked" in row["last_error"]
    assert [m["id"] for m in fr.get("/api/v1/inbox")] == [held["id"]]
