"""Records and CSV files for the record tests."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

from stdnum import iso6346

CONTAINER = "CSQU3054383"
IMO = "9074729"


def a_case(record_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """A cocaine seizure at Algeciras, entered in Spanish; fields override its fields."""
    record: dict[str, Any] = {
        "type": "case", "catalog_version": 1,
        "fields": {
            "date": "2026-11-20",
            "place": {"country": "ES", "locode": "ESALG", "place_type": "seaport",
                      "name": {"text": "Puerto de Algeciras", "lang": "es"}},
            "offence_type": ["drug_trafficking"],
            "commodity": [{"category": "drugs.cocaine", "hs_heading": "2939",
                           "description": {"text": "cocaína en cajas de plátano", "lang": "es"},
                           "quantity": {"value": "1250.5", "unit": "KGM"}}],
            "conveyance": [{"mode": "1", "vessel_name": "MSC EXAMPLE", "imo_number": IMO,
                            "container_number": [CONTAINER]}],
            "route": {"departure": {"country": "EC", "locode": "ECGYE"},
                      "destination": {"country": "ES"}},
            **fields,
        },
    }
    if record_id:
        record["id"] = record_id
    return record


def a_person(record_id: str | None = None, *, family: str = "García Márquez",
             given: str = "María José", **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": "person", "catalog_version": 1,
        "fields": {
            "name": {"family_name": family, "given_names": given},
            "date_of_birth": "1980-04",
            "nationality": ["CO", "ES"],
            "identity_documents": [{"type": "passport", "number": "AB123456",
                                    "issuing_country": "CO"}],
            **fields,
        },
    }
    if record_id:
        record["id"] = record_id
    return record


def an_entity(record_id: str | None = None, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": "entity", "catalog_version": 1,
        "fields": {
            "name": "Frutas Tropicales del Pacífico S.A.",
            "registration_number": "0992345678001",
            "registration_country": "EC",
            "addresses": [{"city": "Guayaquil", "country": "EC"}],
            **fields,
        },
    }
    if record_id:
        record["id"] = record_id
    return record


def a_bad_case() -> dict[str, Any]:
    """Unknown codes and wrong types in one record: every one must be reported."""
    return {
        "type": "case", "catalog_version": 1,
        "fields": {
            "date": 20261120,  # wrong type
            "place": {"country": "XX", "place_type": "harbour"},  # unknown codes
            "offence_type": ["smuggling", "piracy"],  # one unknown code
            "commodity": [{"category": "drugs.unobtainium",  # unknown code
                           "quantity": {"value": 1250.5, "unit": "KGM"}}],  # a float
            "conveyance": [{"mode": "1", "container_number": ["CSQU3054384"]}],  # check digit
        },
    }


#: (path, code) of every problem of a_bad_case().
BAD_CASE_PROBLEMS = {
    ("fields.date", "wrong_type"),
    ("fields.place.country", "unknown_code"),
    ("fields.place.place_type", "unknown_code"),
    ("fields.offence_type[1]", "unknown_code"),
    ("fields.commodity[0].category", "unknown_code"),
    ("fields.commodity[0].quantity.value", "wrong_type"),
    ("fields.conveyance[0].container_number[0]", "bad_check_digit"),
}

CASE_COLUMNS = ["source_id", "date", "country", "locode", "place_type", "place_name",
                "offence_type", "commodity_category", "hs_heading", "description", "quantity",
                "unit", "transport_mode", "vessel_name", "imo_number", "container_number",
                "departure_country", "transit_countries", "destination_country", "involved",
                "lang"]


def case_row(n: int, rng: random.Random | None = None, **cells: str) -> dict[str, str]:
    """A good CSV row of a case; cells override its cells."""
    rng = rng or random.Random(n)
    owner = "MSCU"
    serial = f"{rng.randrange(10**6):06d}"
    return {
        "source_id": f"DAU-{n:06d}", "date": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "country": "ES", "locode": "ESVLC", "place_type": "seaport",
        "place_name": "Puerto de Valencia", "offence_type": "smuggling;drug_trafficking",
        "commodity_category": "drugs.cocaine", "hs_heading": "2939",
        "description": f"partida {n}", "quantity": f"{rng.randint(1, 999)}.5", "unit": "KGM",
        "transport_mode": "1", "vessel_name": "MSC EXAMPLE", "imo_number": IMO,
        "container_number": owner + serial + iso6346.calc_check_digit(owner + serial),
        "departure_country": "EC", "transit_countries": "PA", "destination_country": "ES",
        "involved": "", "lang": "es", **cells,
    }


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    columns = columns or list(rows[0])
    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.DictWriter(handle, columns)
        out.writeheader()
        out.writerows(rows)
    return path
