"""Cases, persons and entities in their three databases: create, read, update, delete,
search, refusals that list every problem, records received from peers, and each
database usable on its own."""

from __future__ import annotations

import shutil

import pytest
from record_samples import BAD_CASE_PROBLEMS, CONTAINER, a_bad_case, a_case, a_person, an_entity

from node.config import load
from node.records import RecordRefused, RecordService
from node.services import ServiceError
from storage.records import RecordQuery, RecordStore


async def test_a_record_added_is_read_back_as_stored_with_our_node_as_origin(records):
    stored = await records.add(a_case(), record_type="case")
    view = await records.get("case", stored.id)
    assert view["origin"] == "es-aduana"
    assert view["record"] == {**a_case(), "id": stored.id}
    assert view["source_system"] is None
    assert view["created_at"] == view["updated_at"]


async def test_a_record_is_read_rendered_in_the_readers_language(records):
    stored = await records.add(a_case(), record_type="case")
    view = await records.get("case", stored.id, lang="fr")
    assert view["rendered"]["lang"] == "fr"
    assert view["record"]["fields"]["commodity"][0]["category"] == "drugs.cocaine"


async def test_what_an_officer_types_is_stored_in_canonical_form(records):
    typed = a_case(conveyance=[{"mode": "1", "container_number": [" csqu 305438-3 "],
                                "imo_number": "IMO 9074729"}])
    typed["fields"]["place"]["name"]["lang"] = "ES"
    stored = await records.add(typed, record_type="case")
    conveyance = stored.record["fields"]["conveyance"][0]
    assert conveyance["container_number"] == [CONTAINER]
    assert conveyance["imo_number"] == "9074729"
    assert stored.record["fields"]["place"]["name"]["lang"] == "es"


async def test_a_record_with_unknown_codes_and_wrong_types_is_refused_with_every_problem(records):
    with pytest.raises(RecordRefused) as refused:
        await records.add(a_bad_case(), record_type="case")
    assert refused.value.status == 422
    assert {(p["path"], p["code"]) for p in refused.value.to_json()} == BAD_CASE_PROBLEMS
    for p in refused.value.to_json():
        assert p["given"] is not None and p["expected"]
    assert (await records.search("case", RecordQuery())).total == 0


async def test_a_record_of_another_type_than_asked_is_refused(records):
    with pytest.raises(RecordRefused) as refused:
        await records.add(a_person(), record_type="case")
    assert ("type", "wrong_target") in {(p["path"], p["code"]) for p in refused.value.to_json()}


async def test_adding_a_record_under_an_existing_id_is_refused_and_changes_nothing(records):
    await records.add(a_case("case-1"), record_type="case")
    with pytest.raises(ServiceError) as refused:
        await records.add(a_case("case-1", date="2025-01-01"), record_type="case")
    assert refused.value.status == 409
    assert (await records.get("case", "case-1"))["record"]["fields"]["date"] == "2026-11-20"


async def test_an_update_replaces_the_record_and_keeps_its_creation_time(records):
    first = await records.add(a_person("p-1"), record_type="person")
    records.clock.now_ms = lambda: first.created_at + 1000  # type: ignore[method-assign]
    updated = await records.update("person", "p-1", a_person(family="García", given="Marta"))
    assert updated.created_at == first.created_at
    assert updated.updated_at == first.created_at + 1000
    assert updated.record["fields"]["name"] == {"family_name": "García", "given_names": "Marta"}
    found = await records.search("person", RecordQuery(text="marta"))
    assert [r.id for r in found.items] == ["p-1"]


async def test_a_deleted_record_is_kept_but_no_longer_found(records):
    await records.add(an_entity("e-1"), record_type="entity")
    await records.delete("entity", "e-1")
    with pytest.raises(ServiceError) as missing:
        await records.get("entity", "e-1")
    assert missing.value.status == 404
    assert (await records.search("entity", RecordQuery(text="frutas"))).total == 0
    kept = await records.search("entity", RecordQuery(text="frutas", include_deleted=True))
    assert kept.items[0].deleted_at is not None
    with pytest.raises(ServiceError):
        await records.delete("entity", "e-1")


async def test_persons_are_found_by_name_in_any_case_and_without_accents(records):
    await records.add(a_person("p-1"), record_type="person")
    await records.add(a_person("p-2", family="Smith", given="John"), record_type="person")
    for text in ("garcia", "GARCÍA márquez", "maria jose", "jose garc"):
        found = await records.search("person", RecordQuery(text=text))
        assert [r.id for r in found.items] == ["p-1"], text
    assert (await records.search("person", RecordQuery(text="garcia smith"))).total == 0


async def test_an_identifier_is_found_however_it_is_written(records):
    await records.add(a_case("case-1"), record_type="case")
    await records.add(a_case("case-2", conveyance=[{"mode": "1", "container_number": [
        "MSCU1234566"]}]), record_type="case")
    await records.add(a_person("p-1"), record_type="person")
    await records.add(an_entity("e-1"), record_type="entity")
    for typed in ("CSQU3054383", "csqu 305438-3", "CSQU 305438 3"):
        found = await records.search("case", RecordQuery(identifier=typed))
        assert [r.id for r in found.items] == ["case-1"], typed
    assert [r.id for r in (await records.search(
        "case", RecordQuery(identifier="9074729"))).items] == ["case-1"]
    assert [r.id for r in (await records.search(
        "person", RecordQuery(identifier="ab-123456"))).items] == ["p-1"]
    assert [r.id for r in (await records.search(
        "entity", RecordQuery(identifier="0992345678001"))).items] == ["e-1"]
    assert (await records.search("case", RecordQuery(identifier="CSQU9999999"))).total == 0


async def test_cases_are_found_by_country_and_date_range(records):
    await records.add(a_case("case-es"), record_type="case")
    await records.add(a_case("case-nl", date="2026-03-01", place={"country": "NL"}),
                      record_type="case")
    await records.add(a_case("case-old", date="2019-05-05"), record_type="case")

    async def ids(**query):
        return [r.id for r in (await records.search("case", RecordQuery(**query))).items]

    assert await ids(country="ES") == ["case-es", "case-old"]
    assert await ids(country="nl") == ["case-nl"]
    assert await ids(date_from="2026-01-01") == ["case-es", "case-nl"]
    assert await ids(date_from="2026-01-01", date_to="2026-06-30") == ["case-nl"]
    assert await ids(country="ES", date_to="2020-12-31") == ["case-old"]
    assert await ids(offence_type="drug_trafficking", commodity="drugs") == [
        "case-es", "case-nl", "case-old"]


async def test_persons_are_found_by_nationality_and_entities_by_country(records):
    await records.add(a_person("p-co"), record_type="person")
    await records.add(a_person("p-fr", nationality=["FR"]), record_type="person")
    await records.add(an_entity("e-ec"), record_type="entity")
    assert [r.id for r in (await records.search("person", RecordQuery(country="CO"))).items] == [
        "p-co"]
    assert [r.id for r in (await records.search("entity", RecordQuery(country="EC"))).items] == [
        "e-ec"]
    with pytest.raises(ServiceError, match="no date"):
        await records.search("entity", RecordQuery(date_from="2020-01-01"))


async def test_records_of_different_databases_are_linked_by_their_ids(records):
    case = await records.add(a_case(involved=[{"party": {"type": "person", "id": "p-1"},
                                               "role": "suspect"}]), record_type="case")
    await records.add(a_person("p-1", cases=[{"case": {"type": "case", "id": case.id},
                                               "role": "suspect"}]), record_type="person")
    assert [r.id for r in (await records.search("case", RecordQuery(link="p-1"))).items] == [
        case.id]
    assert [r.id for r in (await records.search("person", RecordQuery(link=case.id))).items] == [
        "p-1"]


async def test_records_received_from_a_peer_are_stored_as_received_with_its_origin(records):
    sent = a_case("fr-case-1", place={"country": "FR", "locode": "frleh"})  # not canonical
    newer = {**a_person("fr-person-1"), "catalog_version": 2}
    newer["fields"]["gender"] = "nonbinary"  # a code of a newer catalog: kept, not refused
    answers = await records.receive([sent, newer], origin="fr-douane")
    assert [a["outcome"] for a in answers] == ["refused", "stored"]
    assert {p["code"] for p in answers[0]["problems"]} == {"not_canonical"}
    sent["fields"]["place"]["locode"] = "FRLEH"
    assert (await records.receive([sent], origin="fr-douane"))[0]["outcome"] == "stored"
    view = await records.get("case", "fr-case-1")
    assert view["origin"] == "fr-douane"
    assert view["record"] == sent
    assert (await records.get("person", "fr-person-1"))["record"] == newer
    assert (await records.receive([sent], origin="fr-douane"))[0]["outcome"] == "unchanged"


async def test_a_peer_cannot_overwrite_our_records_nor_we_theirs(records):
    ours = await records.add(a_case("case-1"), record_type="case")
    answer = await records.receive([a_case("case-1", date="2020-01-01")], origin="fr-douane")
    assert answer[0]["outcome"] == "conflict"
    assert (await records.get("case", "case-1"))["record"] == ours.record
    await records.receive([a_person("fr-person-1")], origin="fr-douane")
    with pytest.raises(ServiceError) as refused:
        await records.update("person", "fr-person-1", a_person(family="Other"))
    assert refused.value.status == 409


async def test_each_database_is_usable_on_its_own(records, data, tmp_path):
    await records.add(a_person("p-1"), record_type="person")
    await records.add(a_case("case-1"), record_type="case")
    await records.close()
    alone = tmp_path / "persons-only"
    alone.mkdir()
    shutil.copy(data / "persons.db", alone / "persons.db")
    store = await RecordStore.open({"person": f"sqlite+aiosqlite:///{alone / 'persons.db'}"})
    try:
        person = await store.get("person", "p-1")
        assert person is not None and person.record["fields"]["name"]["family_name"] == (
            "García Márquez")
        with pytest.raises(LookupError):
            await store.get("case", "case-1")
    finally:
        await store.close()
    assert sorted(p.name for p in alone.iterdir() if p.suffix == ".db") == ["persons.db"]
    service = await RecordService.open(load(data), types=["person"])
    try:
        assert (await service.get("person", "p-1"))["id"] == "p-1"
        with pytest.raises(ServiceError) as closed:
            await service.get("case", "case-1")
        assert closed.value.status == 503
    finally:
        await service.close()


async def test_text_that_is_not_valid_unicode_is_refused_not_stored(records):
    bad = a_case()
    bad["fields"]["place"]["name"]["text"] = "Algeciras \ud800"  # a lone surrogate, from JSON
    with pytest.raises(RecordRefused) as refused:
        await records.add(bad, record_type="case")
    assert refused.value.to_json()[0]["code"] == "bad_format"
    answer = await records.receive([{**bad, "id": "fr-1"}], origin="fr-douane")
    assert answer[0]["outcome"] == "refused"
    assert (await records.search("case", RecordQuery(include_deleted=True))).total == 0
