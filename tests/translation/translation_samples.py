"""Sample records for the translation tests, built from whatever codes a catalog has.

Codes are chosen by preference (a code both the packaged lists and the test fixtures
have), else the first code of the list, so that the same tests run on either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from translation import Catalog

FIXTURES = Path(__file__).parent / "fixtures"
CONTAINER = "CSQU3054383"
IMO = "9074729"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def pick(catalog: Catalog, list_id: str, *preferred: str) -> str:
    """The first preferred code the list has, else its first code."""
    code_list = catalog.lists[list_id]
    for code in preferred:
        if code in code_list:
            return code
    return next(iter(code_list.codes()))


def spanish_case(catalog: Catalog, record_id: str = "case-0001") -> dict[str, Any]:
    """A seizure entered in Spain, in Spanish: cocaine in a container of bananas."""
    return {
        "type": "case",
        "id": record_id,
        "catalog_version": catalog.version,
        "fields": {
            "date": "2026-11-20",
            "place": {
                "country": "ES",
                "locode": "ESALG",
                "place_type": pick(catalog, "place_type", "seaport"),
                "name": {"text": "Puerto de Algeciras, muelle Juan Carlos I", "lang": "es"},
            },
            "customs_office": {"code": "ES001101", "name": {"text": "Aduana de Algeciras", "lang": "es"}},
            "offence_type": [pick(catalog, "offence_type", "smuggling")],
            "commodity": [
                {
                    "category": pick(catalog, "commodity_category", "drugs.cocaine"),
                    "hs_chapter": pick(catalog, "hs_chapter", "29"),
                    "hs_heading": pick(catalog, "hs_heading", "2939"),
                    "description": {"text": "cocaína en cajas de plátano", "lang": "es"},
                    "quantity": {"value": "1250.5", "unit": pick(catalog, "unit", "KGM")},
                    "estimated_value": {"value": "45000000", "currency": "EUR"},
                }
            ],
            "detection_method": [pick(catalog, "detection_method", "cargo_scanner", "xray")],
            "concealment_method": [pick(catalog, "concealment_method", "false_bottom")],
            "conveyance": [
                {
                    "mode": pick(catalog, "transport_mode", "1"),
                    "type": pick(catalog, "conveyance_type", "container_vessel", "container_ship"),
                    "vessel_name": "MSC EXAMPLE",
                    "imo_number": IMO,
                    "registration_country": "PA",
                    "container_number": [CONTAINER],
                }
            ],
            "route": {
                "departure": {"country": "EC", "locode": "ECGYE"},
                "transit": [{"country": "PA"}],
                "destination": {"country": "ES", "locode": "ESALG"},
            },
            "involved": [
                {"party": {"type": "person", "id": "person-0001"}, "role": pick(catalog, "role", "consignee")}
            ],
            "summary": {"text": "Contenedor de plátanos procedente de Guayaquil.", "lang": "es"},
            "photos": [{"sha256": SHA, "media_type": "image/jpeg"}],
        },
    }


def person(catalog: Catalog) -> dict[str, Any]:
    return {
        "type": "person",
        "id": "person-0001",
        "catalog_version": catalog.version,
        "fields": {
            "name": {"family_name": "García Pérez", "given_names": "Juan Carlos"},
            "aliases": [{"family_name": "Pérez"}],
            "date_of_birth": "1980-04",
            "gender": pick(catalog, "gender", "male"),
            "nationality": ["ES", "EC"],
            "identity_documents": [
                {
                    "type": pick(catalog, "document_type", "passport"),
                    "number": "PAA123456",
                    "issuing_country": "ES",
                    "expiry_date": "2030-01-31",
                }
            ],
            "cases": [
                {"case": {"type": "case", "id": "case-0001"}, "role": pick(catalog, "role", "consignee")}
            ],
        },
    }


def entity(catalog: Catalog) -> dict[str, Any]:
    return {
        "type": "entity",
        "id": "entity-0001",
        "catalog_version": catalog.version,
        "fields": {
            "name": "Frutas del Pacífico S.A.",
            "registration_number": "0992345678001",
            "registration_country": "EC",
            "addresses": [{"street": "Av. 9 de Octubre 100", "city": "Guayaquil", "country": "EC"}],
            "cases": [
                {"case": {"type": "case", "id": "case-0001"}, "role": pick(catalog, "role", "consignor")}
            ],
        },
    }


def alert(catalog: Catalog, kind: str = "alert") -> dict[str, Any]:
    fields: dict[str, Any] = {
        "kind": kind,
        "urgency": "Immediate",
        "severity": pick(catalog, "cap_severity", "Severe"),
        "certainty": pick(catalog, "cap_certainty", "Likely"),
        "headline": {"text": "Cocaína en contenedor de plátanos desde Guayaquil", "lang": "es"},
        "carries": [{"type": "case", "id": "case-0001"}],
        "cites": [{"type": "person", "id": "person-0001"}],
        "source_reliability": "A",
        "information_reliability": "1",
    }
    if kind != "alert":
        fields["references"] = [{"type": "alert", "id": "alert-0000"}]
    return {"type": "alert", "id": "alert-0001", "catalog_version": catalog.version, "fields": fields}
