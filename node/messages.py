"""What alerts and bulletins carry, and how a recipient reads them.

The payload of an alert or a bulletin is ``{"record": ALERT, "carried": [RECORD, ...]}``:
an alert record (OASIS CAP-style fields, see translation/README.md) and the case, person
and entity records it carries. Every record is coded against the catalog and checked the
same way when an officer sends it and when it arrives from a peer. Records only cited
travel as references (the alert's ``cites``), not as records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol import ProtocolError, Reason
from translation import Catalog, Problem, ProblemCode, render, render_text, validate

MAX_CARRIED = 500
CARRIED_TYPES = ("case", "person", "entity")


def problems(payload: Mapping[str, Any], catalog: Catalog) -> list[Problem]:
    """Every problem of an alert payload, with paths from the payload's root."""
    found: list[Problem] = []
    extra = set(payload) - {"record", "carried"}
    if extra or not isinstance(payload.get("record"), dict):
        return [Problem(path="payload", code=ProblemCode.WRONG_TYPE, given=", ".join(sorted(payload)),
                        expected='{"record": an alert record, "carried": [records]}')]
    record = payload["record"]
    if record.get("type") != "alert":
        found.append(Problem(path="record.type", code=ProblemCode.WRONG_TYPE,
                             given=repr(record.get("type")), expected='"alert"'))
    found += [_prefixed(p, "record") for p in validate(record, catalog)]
    carried = payload.get("carried", [])
    if not isinstance(carried, list) or len(carried) > MAX_CARRIED:
        found.append(Problem(path="carried", code=ProblemCode.WRONG_TYPE, given=type(carried).__name__,
                             expected=f"a list of at most {MAX_CARRIED} records"))
        return found
    announced = {(r.get("type"), r.get("id")) for r in _refs(record, "carries")}
    for i, item in enumerate(carried):
        where = f"carried[{i}]"
        if not isinstance(item, dict) or item.get("type") not in CARRIED_TYPES:
            found.append(Problem(path=f"{where}.type", code=ProblemCode.WRONG_TYPE,
                                 given=repr(item.get("type") if isinstance(item, dict) else item),
                                 expected="a case, person or entity record"))
            continue
        found += [_prefixed(p, where) for p in validate(item, catalog)]
        if (item.get("type"), item.get("id")) not in announced:
            found.append(Problem(path=f"{where}.id", code=ProblemCode.WRONG_TARGET,
                                 given=repr(item.get("id")),
                                 expected="a record named in the alert's carries"))
    return found


def check(payload: Mapping[str, Any], catalog: Catalog) -> None:
    """Refuse (invalid_record) an alert payload with any problem; the detail lists them all."""
    found = problems(payload, catalog)
    if found:
        raise ProtocolError(Reason.RECORD_INVALID, describe(found))


def describe(found: list[Problem], limit: int = 4000) -> str:
    text = "; ".join(f"{p.path}: {p.code} (given {p.given}, expected {p.expected})"
                     for p in found)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def rendered(payload: Mapping[str, Any], lang: str, *, catalog: Catalog,
             node_lang: str) -> dict[str, Any]:
    """The alert and its carried records in the reader's language, for the API and CLI."""
    return {
        "alert": render(payload["record"], lang, catalog=catalog, node_lang=node_lang).to_json(),
        "carried": [render(r, lang, catalog=catalog, node_lang=node_lang).to_json()
                    for r in payload.get("carried", [])],
    }


def rendered_text(payload: Mapping[str, Any], lang: str, *, catalog: Catalog,
                  node_lang: str) -> str:
    """The alert and its carried records as text for a terminal, in the reader's language."""
    parts = [render_text(render(payload["record"], lang, catalog=catalog, node_lang=node_lang))]
    parts += [render_text(render(r, lang, catalog=catalog, node_lang=node_lang))
              for r in payload.get("carried", [])]
    return "\n".join(parts)


def simple_alert(headline: str, lang: str, *, alert_id: str, catalog_version: int = 1,
                 carried: list[dict[str, Any]] | None = None,
                 urgency: str = "Expected", severity: str = "Moderate",
                 certainty: str = "Likely") -> dict[str, Any]:
    """An alert payload with a headline and, optionally, records it carries."""
    carried = carried or []
    fields: dict[str, Any] = {
        "kind": "alert", "urgency": urgency, "severity": severity, "certainty": certainty,
        "headline": {"text": headline, "lang": lang},
    }
    if carried:
        fields["carries"] = [{"type": r["type"], "id": r["id"]} for r in carried]
    return {"record": {"type": "alert", "id": alert_id, "catalog_version": catalog_version,
                       "fields": fields},
            "carried": carried}


def _refs(record: Mapping[str, Any], field: str) -> list[Mapping[str, Any]]:
    fields = record.get("fields")
    refs = fields.get(field, []) if isinstance(fields, dict) else []
    return [r for r in refs if isinstance(r, dict)] if isinstance(refs, list) else []


def _prefixed(p: Problem, prefix: str) -> Problem:
    return Problem(path=f"{prefix}.{p.path}", code=p.code, given=p.given, expected=p.expected)
