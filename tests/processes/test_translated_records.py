"""A record entered on a Spanish-language node reads in French, and in Arabic on request."""

from __future__ import annotations

import pytest

from node.localnet import NodeApiError, connect, wait_for
from node.messages import simple_alert
from tests.translation.translation_samples import spanish_case
from translation import default_catalog


def field(rendered: dict, name: str) -> dict:
    return next(f for f in rendered["fields"] if f["name"] == name)


def test_a_case_entered_in_spanish_reads_in_french_and_in_arabic(make_node):
    es, fr = make_node("es-aduana"), make_node("fr-douane")
    connect(es, fr)
    case = spanish_case(default_catalog())
    payload = simple_alert("Cocaína en contenedor de plátanos", "es", alert_id="alert-es-1",
                           carried=[case], urgency="Immediate", severity="Severe")
    sent = es.post("/api/v1/messages", {"to": ["fr-douane"], "payload": payload})
    wait_for(lambda: fr.get("/api/v1/inbox"), what="delivery")

    # French: the node's own language, asked with Accept-Language as a browser would.
    [message] = fr.request("GET", "/api/v1/inbox",
                           headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert message["id"] == sent["id"]
    alert = message["rendered"]["alert"]
    assert alert["lang"] == "fr" and alert["dir"] == "ltr"
    assert field(alert, "urgency")["label"]["text"] == "Urgence"
    [carried] = message["rendered"]["carried"]
    assert carried["type_label"]["lang"] == "fr" and carried["lang"] == "fr"
    place = field(carried, "place")
    country = next(f for f in place["values"][0]["fields"] if f["name"] == "country")
    assert country["values"][0]["label"] == {"text": "Espagne", "lang": "fr", "fallback": False}
    offence = field(carried, "offence_type")["values"][0]
    assert offence["label"]["lang"] == "fr" and not offence["unknown"]
    headline = field(alert, "headline")["values"][0]
    assert headline["text"] == "Cocaína en contenedor de plátanos"  # free text, as written
    assert headline["untranslated"] is True and headline["lang"] == "es"
    assert headline["lang_name"]["text"] == "espagnol"

    # Arabic, when an Arabic reader asks: labels in Arabic, right to left.
    [message_ar] = fr.get("/api/v1/inbox?lang=ar")
    alert_ar = message_ar["rendered"]["alert"]
    assert alert_ar["dir"] == "rtl" and alert_ar["lang"] == "ar"
    place_ar = field(message_ar["rendered"]["carried"][0], "place")
    country_ar = next(f for f in place_ar["values"][0]["fields"] if f["name"] == "country")
    assert country_ar["values"][0]["label"]["text"] == "إسبانيا"
    assert field(message_ar["rendered"]["carried"][0], "offence_type")["label"]["lang"] == "ar"

    # The carried case is kept in fr's cases database as received, with its origin.
    stored = fr.get("/api/v1/records/case/case-0001?lang=fr")
    assert stored["origin"] == "es-aduana" and stored["record"] == case

    # The CLI renders the same message for a terminal.
    out = fr.cli("inbox", "--data", str(fr.data), "--lang", "ar").stdout
    assert "إسبانيا" in out and "Cocaína en contenedor de plátanos" in out
    out_fr = fr.cli("inbox", "--data", str(fr.data), "--lang", "fr").stdout
    assert "Espagne" in out_fr


def test_an_officer_cannot_send_a_record_that_breaks_the_catalog(make_node):
    es, fr = make_node("es-aduana"), make_node("fr-douane")
    connect(es, fr)
    case = spanish_case(default_catalog())
    case["fields"]["offence_type"] = ["contrabando"]  # a label, not a code
    case["fields"]["date"] = 20261120  # wrong type
    payload = simple_alert("Caso", "es", alert_id="alert-es-2", carried=[case])
    with pytest.raises(NodeApiError) as refused:
        es.post("/api/v1/messages", {"to": ["fr-douane"], "payload": payload})
    assert refused.value.status == 422
    error = refused.value.body["error"]
    assert error["reason"] == "record_invalid"
    paths = {p["path"]: p["code"] for p in error["problems"]}
    assert paths["carried[0].fields.offence_type[0]"] == "unknown_code"
    assert paths["carried[0].fields.date"] == "wrong_type"
    assert [o for o in es.get("/api/v1/outbox") if o["type"] == "alert"] == []
