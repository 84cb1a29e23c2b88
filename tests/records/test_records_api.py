"""The records API (/api/v1/records/...) of the real app, over real SQLite files."""

from __future__ import annotations

from record_samples import BAD_CASE_PROBLEMS, CONTAINER, a_bad_case, a_case, a_person, an_entity


async def test_a_record_is_created_read_updated_and_deleted_through_the_api(api):
    status, created = await api.call("POST", "/api/v1/records/case", json=a_case())
    assert status == 201, created
    path = f"/api/v1/records/case/{created['id']}"
    assert created["origin"] == "es-aduana"
    status, read = await api.call("GET", path)
    assert status == 200 and read["record"] == created["record"]
    assert "rendered" not in read
    changed = a_case(date="2026-11-21")
    status, updated = await api.call("PUT", path, json=changed)
    assert status == 200, updated
    assert updated["record"]["fields"]["date"] == "2026-11-21"
    assert updated["record"]["id"] == created["id"]
    assert (await api.call("DELETE", path))[0] == 204
    status, gone = await api.call("GET", path)
    assert status == 404 and gone["error"]["reason"] == "refused"


async def test_an_invalid_record_is_refused_with_422_listing_every_problem(api):
    status, body = await api.call("POST", "/api/v1/records/case", json=a_bad_case())
    assert status == 422
    error = body["error"]
    assert error["reason"] == "record_invalid"
    assert {(p["path"], p["code"]) for p in error["problems"]} == BAD_CASE_PROBLEMS
    assert all(set(p) >= {"path", "code", "given", "expected"} for p in error["problems"])
    status, found = await api.call("GET", "/api/v1/records/case")
    assert status == 200 and found["total"] == 0


async def test_an_update_with_problems_is_refused_and_changes_nothing(api):
    _, created = await api.call("POST", "/api/v1/records/person", json=a_person())
    path = f"/api/v1/records/person/{created['id']}"
    bad = a_person(gender="unknown-gender")
    status, body = await api.call("PUT", path, json=bad)
    assert status == 422
    assert [(p["path"], p["code"]) for p in body["error"]["problems"]] == [
        ("fields.gender", "unknown_code")]
    assert (await api.call("GET", path))[1]["record"] == created["record"]


async def test_a_record_is_rendered_in_the_language_asked_for(api):
    _, created = await api.call("POST", "/api/v1/records/case", json=a_case())
    path = f"/api/v1/records/case/{created['id']}"
    _, french = await api.call("GET", path + "?lang=fr")
    assert french["rendered"]["lang"] == "fr"
    assert french["record"] == created["record"]
    _, arabic = await api.call("GET", path, headers={"Accept-Language": "ar, en;q=0.5"})
    assert arabic["rendered"]["lang"] == "ar" and arabic["rendered"]["dir"] == "rtl"
    status, body = await api.call("GET", path + "?lang=tlh")
    assert status == 400 and "unknown language" in body["error"]["detail"]


async def test_records_are_searched_by_name_identifier_and_country(api):
    for record, kind in ((a_case(), "case"), (a_person(), "person"), (an_entity(), "entity"),
                         (a_person(family="Smith", given="John", nationality=["GB"]), "person")):
        assert (await api.call("POST", f"/api/v1/records/{kind}", json=record))[0] == 201
    _, found = await api.call("GET", "/api/v1/records/person", params={"q": "garcia"})
    assert [i["record"]["fields"]["name"]["given_names"] for i in found["items"]] == [
        "María José"]
    _, found = await api.call("GET", "/api/v1/records/case",
                              params={"identifier": CONTAINER.lower(), "country": "ES"})
    assert found["total"] == 1
    _, found = await api.call("GET", "/api/v1/records/person", params={"country": "GB"})
    assert found["total"] == 1
    _, found = await api.call("GET", "/api/v1/records/entity", params={"q": "pacifico"})
    assert found["total"] == 1
    status, body = await api.call("GET", "/api/v1/records/person", params={"limit": "x"})
    assert status == 400 and "limit" in body["error"]["detail"]


async def test_bulk_import_reports_stored_and_refused_records(api):
    good = [a_case(f"SRC-{n}") for n in range(3)]
    records = [*good, a_bad_case() | {"id": "SRC-BAD"}, a_case()]
    body = {"source_system": "dau", "records": records}
    status, report = await api.call("POST", "/api/v1/records/case/import", json=body)
    assert status == 200, report
    assert (report["rows"], report["stored"], report["refused"]) == (5, 3, 2)
    assert [(r["row"], r["source_id"]) for r in report["refusals"]] == [(4, "SRC-BAD"), (5, None)]
    assert {(p["path"], p["code"]) for p in report["refusals"][0]["problems"]} == (
        BAD_CASE_PROBLEMS)
    status, again = await api.call("POST", "/api/v1/records/case/import", json=body)
    assert (again["stored"], again["unchanged"], again["refused"]) == (0, 3, 2)
    status, refused = await api.call("POST", "/api/v1/records/case/import",
                                     json={"records": records})
    assert status == 400 and "source_system" in refused["error"]["detail"]


async def test_the_records_api_needs_the_token_and_a_known_record_type(api):
    status, body = await api.call("GET", "/api/v1/records/case", token="wrong")
    assert status == 401 and body["error"]["reason"] == "unauthorized"
    status, body = await api.call("GET", "/api/v1/records/vessel")
    assert status == 404 and "record type" in body["error"]["detail"]
    status, body = await api.call("POST", "/api/v1/records/case", data=b"[1, 2",
                                  headers={"Content-Type": "application/json"})
    assert status == 400
