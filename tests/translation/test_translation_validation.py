"""Validation: a record is refused with every problem listed, entered or received."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from translation_samples import CONTAINER, alert, entity, person, spanish_case

from translation import (
    Catalog,
    CheckOutcome,
    ProblemCode,
    RecordInvalid,
    check_identifier,
    ensure_valid,
    load_catalog,
    normalise_identifier,
    validate,
)
from translation.catalog import packaged_data_dir


def problems_of(record: object, catalog: Catalog) -> set[tuple[str, str]]:
    return {(p.path, p.code.value) for p in validate(record, catalog)}


@pytest.mark.parametrize("make", [spanish_case, person, entity, alert])
def test_the_sample_records_are_valid(catalog: Catalog, make: Any) -> None:
    assert validate(make(catalog), catalog) == []


@pytest.mark.parametrize("kind", ["update", "cancel"])
def test_an_update_or_cancel_alert_names_the_alerts_it_replaces(catalog: Catalog, kind: str) -> None:
    record = alert(catalog, kind)
    assert validate(record, catalog) == []
    del record["fields"]["references"]
    assert problems_of(record, catalog) == {("fields.references", "missing_required")}


def test_a_record_with_many_problems_gets_all_of_them_with_their_paths(
    catalog: Catalog,
) -> None:
    record = spanish_case(catalog)
    fields = record["fields"]
    record["colour"] = "red"
    record["catalog_version"] = 1.0
    fields["date"] = "2026-02-30"
    fields["place"]["country"] = "XX"
    fields["place"]["locode"] = "es alg"
    fields["offence_type"] = "smuggling"
    fields["commodity"][0]["category"] = "drugs.fentanyl_analogue_x"
    fields["commodity"][0]["quantity"] = {"value": 1250.5, "unit": "KGX"}
    fields["commodity"][0]["description"] = {"text": "cocaína", "lang": "es_ES"}
    fields["commodity"].append({"quantity": {"value": "12", "unit": "KGM", "extra": 1}})
    fields["conveyance"][0]["imo_number"] = "9074728"
    fields["conveyance"][0]["container_number"] = [CONTAINER, "CSQU3054384", 7]
    fields["conveyance"][0]["flight_number"] = "12345"
    fields["involved"][0]["party"] = {"type": "alert", "id": "a b"}
    fields["photos"] = [{"sha256": "XYZ", "media_type": "text/html"}]
    fields["vessel_ais"] = {"mmsi": "123"}
    del fields["place"]["country"]
    assert problems_of(record, catalog) == {
        ("colour", "unknown_field"),
        ("catalog_version", "wrong_type"),
        ("fields.vessel_ais", "unknown_field"),
        ("fields.date", "bad_format"),
        ("fields.place.country", "missing_required"),
        ("fields.place.locode", "not_canonical"),
        ("fields.offence_type", "wrong_type"),
        ("fields.commodity[0].category", "unknown_code"),
        ("fields.commodity[0].quantity.value", "wrong_type"),
        ("fields.commodity[0].quantity.unit", "unknown_code"),
        ("fields.commodity[0].description.lang", "not_canonical"),
        ("fields.commodity[1].category", "missing_required"),
        ("fields.commodity[1].quantity.extra", "unknown_field"),
        ("fields.conveyance[0].imo_number", "bad_check_digit"),
        ("fields.conveyance[0].container_number[1]", "bad_check_digit"),
        ("fields.conveyance[0].container_number[2]", "wrong_type"),
        ("fields.conveyance[0].flight_number", "bad_format"),
        ("fields.involved[0].party.type", "wrong_target"),
        ("fields.involved[0].party.id", "bad_format"),
        ("fields.photos[0].sha256", "bad_format"),
        ("fields.photos[0].media_type", "bad_format"),
    }


def test_a_problem_says_what_was_given_and_what_was_expected(
    fixture_catalog: Catalog,
) -> None:
    record = spanish_case(fixture_catalog)
    record["fields"]["commodity"][0]["category"] = "drugs.fentanyl"
    record["fields"]["place"]["locode"] = "es alg"
    del record["fields"]["date"]
    by_path = {p.path: p for p in validate(record, fixture_catalog)}
    category = by_path["fields.commodity[0].category"]
    assert category.code is ProblemCode.UNKNOWN_CODE
    assert category.given == '"drugs.fentanyl"'
    assert category.expected == "a code of list commodity_category"
    assert by_path["fields.place.locode"].expected == '"ESALG"'
    assert by_path["fields.date"].given is None
    assert category.to_json() == {
        "path": "fields.commodity[0].category",
        "code": "unknown_code",
        "given": '"drugs.fentanyl"',
        "expected": "a code of list commodity_category",
    }
    assert str(category).startswith("fields.commodity[0].category: unknown_code: given")


def test_ensure_valid_raises_with_every_problem(catalog: Catalog) -> None:
    record = spanish_case(catalog)
    record["fields"]["offence_type"] = ["no_such_offence", "nor_this"]
    with pytest.raises(RecordInvalid) as caught:
        ensure_valid(record, catalog)
    assert [p.path for p in caught.value.problems] == ["fields.offence_type[0]", "fields.offence_type[1]"]
    assert caught.value.reason == "record_invalid"
    ensure_valid(spanish_case(catalog), catalog)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (None, {("", "wrong_type")}),
        ([], {("", "wrong_type")}),
        (
            {},
            {
                ("type", "missing_required"),
                ("id", "missing_required"),
                ("catalog_version", "missing_required"),
                ("fields", "missing_required"),
            },
        ),
        (
            {"type": "vehicle", "id": "v1", "catalog_version": 1, "fields": {}},
            {("type", "unknown_record_type")},
        ),
        (
            {"type": 3, "id": 4, "catalog_version": True, "fields": []},
            {
                ("type", "wrong_type"),
                ("id", "wrong_type"),
                ("catalog_version", "wrong_type"),
                ("fields", "wrong_type"),
            },
        ),
        (
            {"type": "case", "id": "c", "catalog_version": 0, "fields": {}},
            {
                ("catalog_version", "bad_format"),
                ("fields.date", "missing_required"),
                ("fields.place", "missing_required"),
                ("fields.offence_type", "missing_required"),
                ("fields.commodity", "missing_required"),
            },
        ),
    ],
)
def test_the_record_envelope_is_checked(
    fixture_catalog: Catalog, record: object, expected: set[tuple[str, str]]
) -> None:
    assert problems_of(record, fixture_catalog) == expected


def test_required_repeated_fields_need_one_item_and_nulls_are_refused(
    fixture_catalog: Catalog,
) -> None:
    record = spanish_case(fixture_catalog)
    record["fields"]["offence_type"] = []
    record["fields"]["summary"] = None
    assert problems_of(record, fixture_catalog) == {
        ("fields.offence_type", "missing_required"),
        ("fields.summary", "wrong_type"),
    }


def test_dates_of_birth_may_be_partial_but_case_dates_may_not(
    fixture_catalog: Catalog,
) -> None:
    record = person(fixture_catalog)
    for partial in ("1980", "1980-04", "1980-04-30"):
        record["fields"]["date_of_birth"] = partial
        assert validate(record, fixture_catalog) == []
    record["fields"]["date_of_birth"] = "1980-13"
    assert problems_of(record, fixture_catalog) == {("fields.date_of_birth", "bad_format")}
    case = spanish_case(fixture_catalog)
    case["fields"]["date"] = "2026-11"
    assert problems_of(case, fixture_catalog) == {("fields.date", "bad_format")}


def test_text_is_checked_for_language_length_and_form(fixture_catalog: Catalog) -> None:
    record = alert(fixture_catalog)
    record["fields"]["headline"] = {"text": "x" * 161, "lang": "es"}
    record["fields"]["description"] = {"text": "Cafe\u0301", "lang": "xx-unknown"}
    record["fields"]["instruction"] = {"text": "  ", "lang": "qqq"}
    assert problems_of(record, fixture_catalog) == {
        ("fields.headline.text", "too_long"),
        ("fields.description.text", "not_canonical"),
        ("fields.description.lang", "bad_format"),
        ("fields.instruction.text", "bad_format"),
        ("fields.instruction.lang", "bad_format"),
    }


def test_identifiers_must_be_in_canonical_form(fixture_catalog: Catalog) -> None:
    record = spanish_case(fixture_catalog)
    conveyance = record["fields"]["conveyance"][0]
    conveyance["container_number"] = ["csqu 305438-3"]
    conveyance["imo_number"] = "IMO 9074729"
    conveyance["flight_number"] = "ib 6830"
    problems = {p.path: p for p in validate(record, fixture_catalog)}
    assert {p.code for p in problems.values()} == {ProblemCode.NOT_CANONICAL}
    assert problems["fields.conveyance[0].container_number[0]"].expected == f'"{CONTAINER}"'
    assert problems["fields.conveyance[0].imo_number"].expected == '"9074729"'
    assert problems["fields.conveyance[0].flight_number"].expected == '"IB6830"'


@pytest.mark.parametrize(
    ("check", "typed", "canonical"),
    [
        ("iso6346", "csqu 305438-3", CONTAINER),
        ("iso6346", "CSQU.305438.3", CONTAINER),
        ("imo", "IMO 9074729", "9074729"),
        ("unlocode", "es alg", "ESALG"),
        ("flight_number", "ib 6830", "IB6830"),
    ],
)
def test_what_an_officer_types_is_brought_into_canonical_form(check: str, typed: str, canonical: str) -> None:
    assert check_identifier(check, typed) is CheckOutcome.NOT_CANONICAL
    assert normalise_identifier(check, typed) == canonical
    assert check_identifier(check, canonical) is CheckOutcome.VALID


@pytest.mark.parametrize(
    ("check", "value", "outcome"),
    [
        ("iso6346", "CSQU3054384", CheckOutcome.BAD_CHECK_DIGIT),
        ("iso6346", "CSQU305438", CheckOutcome.BAD_FORMAT),
        ("imo", "9074728", CheckOutcome.BAD_CHECK_DIGIT),
        ("imo", "IMO", CheckOutcome.BAD_FORMAT),
        ("unlocode", "ES1LG", CheckOutcome.BAD_FORMAT),
        ("flight_number", "12345", CheckOutcome.BAD_FORMAT),
    ],
)
def test_wrong_identifiers_are_told_apart(check: str, value: str, outcome: CheckOutcome) -> None:
    assert check_identifier(check, value) is outcome
    with pytest.raises(ValueError):
        normalise_identifier(check, value)


def test_floats_are_refused_everywhere(fixture_catalog: Catalog) -> None:
    record = spanish_case(fixture_catalog)
    record["fields"]["commodity"][0]["estimated_value"]["value"] = 4.5e7
    record["catalog_version"] = fixture_catalog.version + 1  # unknown fields tolerated...
    record["fields"]["new_field"] = {"score": 0.5, "list": [1, 2.5]}  # ...floats are not
    assert problems_of(record, fixture_catalog) == {
        ("fields.commodity[0].estimated_value.value", "wrong_type"),
        ("fields.new_field.score", "wrong_type"),
        ("fields.new_field.list[1]", "wrong_type"),
    }


def test_a_record_from_a_newer_catalog_may_carry_codes_and_fields_we_lack(
    catalog: Catalog,
) -> None:
    record = spanish_case(catalog)
    record["catalog_version"] = catalog.version + 1
    record["fields"]["concealment_method"].append("drone_drop")
    record["fields"]["commodity"][0]["category"] = "drugs.nitazenes"
    record["fields"]["vessel_ais"] = {"mmsi": "224123450"}
    assert validate(record, catalog) == []
    record["fields"]["date"] = 20261120  # known fields keep their type in every version
    record["fields"]["place"]["country"] = ""  # and an unknown code still looks like one
    assert problems_of(record, catalog) == {
        ("fields.date", "wrong_type"),
        ("fields.place.country", "unknown_code"),
    }


def test_a_record_from_our_catalog_or_an_older_one_may_not(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(packaged_data_dir(), data)  # type: ignore[arg-type]
    for name in ("catalog.json", "field_labels.json"):
        content = json.loads((data / name).read_text("utf-8"))
        content["catalog_version"] = 2
        (data / name).write_text(json.dumps(content, ensure_ascii=False), "utf-8")
    version_2 = load_catalog(data)
    assert version_2.version == 2
    for version in (1, 2):
        record = spanish_case(version_2)
        record["catalog_version"] = version
        record["fields"]["concealment_method"] = ["drone_drop"]
        record["fields"]["vessel_ais"] = {"mmsi": "224123450"}
        assert problems_of(record, version_2) == {
            ("fields.concealment_method[0]", "unknown_code"),
            ("fields.vessel_ais", "unknown_field"),
        }


def test_too_many_items_are_refused_and_problems_are_bounded(
    fixture_catalog: Catalog,
) -> None:
    record = spanish_case(fixture_catalog)
    record["fields"]["offence_type"] = ["bad"] * 2000
    problems = validate(record, fixture_catalog)
    assert problems[0].code is ProblemCode.TOO_MANY
    assert len(problems) == 501  # too_many, then the first 500 items
    record["catalog_version"] = 2
    record["fields"]["x"] = [[0.5] * 500] * 4
    problems = validate(record, fixture_catalog)
    assert len(problems) == 1001
    assert problems[-1].code is ProblemCode.TOO_MANY_PROBLEMS


def test_validation_does_not_change_the_record(catalog: Catalog) -> None:
    record = spanish_case(catalog)
    record["fields"]["place"]["country"] = "XX"
    before = copy.deepcopy(record)
    validate(record, catalog)
    assert record == before


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.binary(max_size=4),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12) | st.integers(), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(value=json_like)
def test_validate_never_raises_on_anything(fixture_catalog: Catalog, value: object) -> None:
    problems = validate(value, fixture_catalog)
    assert problems and all(p.path is not None for p in problems)


field_names = st.sampled_from(
    [
        "date",
        "place",
        "commodity",
        "conveyance",
        "route",
        "involved",
        "summary",
        "photos",
        "offence_type",
        "name",
        "kind",
        "headline",
        "references",
        "nope",
    ]
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(
    record_type=st.sampled_from(["case", "person", "entity", "alert"]),
    version=st.integers(min_value=1, max_value=3),
    fields=st.dictionaries(field_names, json_like, max_size=6),
)
def test_validate_never_raises_on_record_shaped_input(
    fixture_catalog: Catalog, record_type: str, version: int, fields: dict[str, Any]
) -> None:
    record = {"type": record_type, "id": "r1", "catalog_version": version, "fields": fields}
    for problem in validate(record, fixture_catalog):
        assert problem.path.startswith("fields")
        json.dumps(problem.to_json())
