"""Imports from national systems: CSV and JSON lines, idempotent by the source system's
record id, every bad row reported with its number and all its problems, good rows stored
whatever the bad ones."""

from __future__ import annotations

import json
import random

import pytest
from record_samples import CASE_COLUMNS, a_case, a_person, case_row, write_csv

from node.cli_records import import_file
from node.importer import CSV_COLUMNS, ImportFileError, rows_from_csv
from node.services import ServiceError
from storage.records import RecordQuery


async def test_importing_the_same_file_twice_stores_each_row_once(records, tmp_path):
    rng = random.Random(7)
    path = write_csv(tmp_path / "cases.csv", [case_row(n, rng) for n in range(1000)])
    first = await import_file(records, path, record_type="case", source_system="dau")
    assert (first.rows, first.stored, first.updated, first.unchanged, first.refused) == (
        1000, 1000, 0, 0, 0)
    again = await import_file(records, path, record_type="case", source_system="dau")
    assert (again.rows, again.stored, again.updated, again.unchanged, again.refused) == (
        1000, 0, 0, 1000, 0)
    assert (await records.search("case", RecordQuery(limit=1))).total == 1000


async def test_a_changed_row_updates_the_record_it_made(records, tmp_path):
    rows = [case_row(n) for n in range(3)]
    path = write_csv(tmp_path / "cases.csv", rows)
    await import_file(records, path, record_type="case", source_system="dau")
    before = (await records.search("case", RecordQuery(text="partida 1"))).items[0]
    rows[1]["description"] = "partida 1 corregida"
    write_csv(path, rows)
    report = await import_file(records, path, record_type="case", source_system="dau")
    assert (report.stored, report.updated, report.unchanged) == (0, 1, 2)
    after = await records.get("case", before.id)
    assert after["source_id"] == "DAU-000001" and after["source_system"] == "dau"
    assert after["record"]["fields"]["commodity"][0]["description"]["text"] == (
        "partida 1 corregida")
    assert after["created_at"] == before.created_at


async def test_the_same_source_id_from_another_source_system_is_another_record(records, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [case_row(1)])
    await import_file(records, path, record_type="case", source_system="dau")
    report = await import_file(records, path, record_type="case", source_system="port-system")
    assert report.stored == 1
    assert (await records.search("case", RecordQuery())).total == 2


async def test_bad_csv_rows_are_reported_with_their_line_and_every_problem(records, tmp_path):
    path = tmp_path / "cases.csv"
    good = case_row(1, description="línea uno\ncon salto de línea")  # lines 2-3
    unknown = case_row(2, commodity_category="drugs.unobtainium",
                       container_number="CSQU3054384")  # line 4
    missing = case_row(3, date="", source_id="DAU-000003")  # line 5
    wrong = case_row(4, date="20/11/2026", quantity="12,5")  # line 6
    no_id = case_row(5, source_id="")  # line 7
    last = case_row(6)  # line 8
    write_csv(path, [good, unknown, missing, wrong, no_id, last])
    report = await import_file(records, path, record_type="case", source_system="dau")
    assert (report.rows, report.stored, report.refused) == (6, 2, 4)
    by_line = {r.row: {(p["column"], p["code"]) for p in r.problems} for r in report.refusals}
    assert by_line == {
        4: {("commodity_category", "unknown_code"), ("container_number", "bad_check_digit")},
        5: {("date", "missing_required")},
        6: {("date", "bad_format"), ("quantity", "bad_format")},
        7: {("source_id", "missing_required")},
    }
    assert [r.source_id for r in report.refusals] == ["DAU-000002", "DAU-000003", "DAU-000004",
                                                      None]
    for refusal in report.refusals:
        for p in refusal.problems:
            assert p["path"] and p["expected"]
    found = await records.search("case", RecordQuery(text="salto de linea"))
    assert found.total == 1


async def test_a_csv_with_an_unknown_column_is_refused_before_any_row(records, tmp_path):
    path = write_csv(tmp_path / "cases.csv", [{**case_row(1), "vesel_name": "X"}])
    with pytest.raises(ServiceError, match="unknown column.*vesel_name"):
        await import_file(records, path, record_type="case", source_system="dau")
    assert (await records.search("case", RecordQuery())).total == 0


def test_the_csv_separator_is_taken_from_the_header(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("source_id;date;country;offence_type\nX-1;2026-01-02;ES;smuggling\n",
                    encoding="utf-8")
    [row] = list(rows_from_csv(path, "case", lang="es"))
    assert row.source_id == "X-1"
    assert row.record.cells["country"] == "ES"


def test_every_csv_column_of_the_convention_makes_a_valid_record(tmp_path):
    from translation import default_catalog, validate

    row = {**case_row(1), "customs_office_code": "ES001101", "customs_office_name": "Aduana",
           "hs_chapter": "29", "value": "45000", "currency": "EUR",
           "detection_method": "cargo_scanner", "concealment_method": "false_bottom",
           "conveyance_type": "container_vessel", "flight_number": "IB6830",
           "vehicle_registration": "1234 BCD", "registration_country": "PA",
           "departure_locode": "ECGYE", "destination_locode": "ESVLC",
           "involved": "person:P-1:suspect;entity:E-1:consignee", "summary": "Resumen"}
    assert set(row) == {c.name for c in CSV_COLUMNS["case"]}
    [made] = list(rows_from_csv(write_csv(tmp_path / "c.csv", [row]), "case", lang="es"))
    record = {**made.record.build(1), "id": "x"}
    assert validate(record, default_catalog()) == []
    assert record["fields"]["route"]["transit"] == [{"country": "PA"}]
    assert record["fields"]["involved"][1] == {"party": {"type": "entity", "id": "E-1"},
                                              "role": "consignee"}


async def test_imported_persons_and_cases_are_linked_by_their_source_ids(records, tmp_path):
    persons = write_csv(tmp_path / "persons.csv", [
        {"source_id": "P-1", "family_name": "Pérez", "given_names": "Juan",
         "nationality": "CO", "document_type": "passport", "document_number": "PA998877",
         "document_country": "CO", "cases": "C-1:suspect"}])
    cases = write_csv(tmp_path / "cases.csv", [case_row(1, source_id="C-1",
                                                        involved="person:P-1:suspect")])
    assert (await import_file(records, persons, record_type="person",
                              source_system="dau")).stored == 1
    assert (await import_file(records, cases, record_type="case", source_system="dau")).stored == 1
    [person] = (await records.search("person", RecordQuery(text="perez"))).items
    [case] = (await records.search("case", RecordQuery(link=person.id))).items
    assert case.source_id == "C-1"
    assert person.record["fields"]["cases"][0]["case"]["id"] == case.id
    assert (await records.search("person", RecordQuery(identifier="PA 998877"))).total == 1


async def test_json_lines_are_imported_with_every_problem_of_every_bad_line(records, tmp_path):
    bad_type = a_case("SRC-3")
    bad_type["fields"]["date"] = 20261120
    lines = [json.dumps(a_case("SRC-1")), "", "{not json", json.dumps(bad_type),
             json.dumps(a_person("SRC-4")), json.dumps(a_case()),
             json.dumps({"type": {"case": 1}, "id": "SRC-7", "fields": []}), "[1, 2]"]
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = await import_file(records, path, record_type="case", source_system="dau")
    assert (report.rows, report.stored, report.refused) == (7, 1, 6)
    by_line = {r.row: {(p["path"], p["code"]) for p in r.problems} for r in report.refusals}
    assert by_line[3] == {("", "bad_format")}
    assert by_line[4] == {("fields.date", "wrong_type")}
    assert ("type", "wrong_target") in by_line[5]
    assert by_line[6] == {("source_id", "missing_required")}
    assert by_line[7] == {("type", "wrong_type"), ("fields", "wrong_type"),
                          ("catalog_version", "missing_required")}
    assert by_line[8] == {("source_id", "missing_required"), ("", "wrong_type")}
    [stored] = (await records.search("case", RecordQuery())).items
    assert stored.source_id == "SRC-1" and stored.id != "SRC-1"
    again = await import_file(records, path, record_type="case", source_system="dau")
    assert (again.stored, again.unchanged, again.refused) == (0, 1, 6)


async def test_rows_prepared_in_worker_processes_give_the_same_result(records, tmp_path):
    rows = [case_row(n) for n in range(300)]
    rows[10]["commodity_category"] = "drugs.unobtainium"
    path = write_csv(tmp_path / "cases.csv", rows, CASE_COLUMNS)
    report = await import_file(records, path, record_type="case", source_system="dau",
                               workers=2, chunk_size=100)
    assert (report.rows, report.stored, report.refused) == (300, 299, 1)
    assert report.refusals[0].row == 12
    assert report.refusals[0].problems[0]["column"] == "commodity_category"
    local = await import_file(records, path, record_type="case", source_system="dau")
    assert (local.unchanged, local.refused) == (299, 1)


def test_a_file_that_cannot_be_read_is_one_error(tmp_path):
    with pytest.raises(ImportFileError, match="cannot read"):
        rows_from_csv(tmp_path / "missing.csv", "case", lang="es")
    (tmp_path / "latin1.csv").write_bytes("source_id,pláce_name\n".encode("latin-1"))
    with pytest.raises(ImportFileError, match="not UTF-8"):
        rows_from_csv(tmp_path / "latin1.csv", "case", lang="es")


def test_a_row_that_is_not_utf8_is_refused_alone(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes("source_id,place_name\nA,Cádiz\n".encode()
                     + "B,Cádiz\n".encode("latin-1") + "C,Cádiz\n".encode())
    rows = list(rows_from_csv(path, "case", lang="es"))
    assert [(r.number, r.source_id, bool(r.problems)) for r in rows] == [
        (2, "A", False), (3, None, True), (4, "C", False)]
    assert rows[1].problems[0]["code"] == "bad_format"
    assert rows[2].record.cells["place_name"] == "Cádiz"


async def test_a_line_with_text_that_is_not_valid_unicode_is_refused_alone(records, tmp_path):
    path = tmp_path / "cases.jsonl"
    lines = [json.dumps(a_case("S-1")), json.dumps(a_case("S-2")).replace("Algeciras", "\\ud800"),
             json.dumps(a_case("S-3"))]
    path.write_bytes("\n".join(lines).encode() + b"\n" + b'{"id": "S-4", "x": "\xff"}\n')
    report = await import_file(records, path, record_type="case", source_system="dau")
    assert (report.stored, report.refused) == (2, 2)
    assert [(r.row, r.problems[0]["code"]) for r in report.refusals] == [
        (2, "bad_format"), (4, "bad_format")]
