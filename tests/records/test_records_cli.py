"""`ncen-node record add|show|search|delete` and `ncen-node import`, on the node's own
databases (the node need not run)."""

from __future__ import annotations

import json

from record_samples import BAD_CASE_PROBLEMS, CONTAINER, a_bad_case, a_case, case_row, write_csv

from node.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_record_add_show_and_search_from_the_command_line(data, tmp_path, capsys):
    (tmp_path / "case.json").write_text(json.dumps(a_case()), encoding="utf-8")
    code, out, _ = run(capsys, "record", "add", "--data", str(data), "--type", "case",
                       "--file", str(tmp_path / "case.json"))
    assert code == 0
    record_id = out.strip()
    code, out, _ = run(capsys, "record", "show", "--data", str(data), "--type", "case",
                       record_id, "--lang", "fr")
    assert code == 0
    assert f"case {record_id} (origin es-aduana)" in out
    assert "cocaïne" in out.lower() or "cocaine" in out.lower()
    code, out, _ = run(capsys, "record", "show", "--data", str(data), "--type", "case",
                       record_id, "--json")
    assert json.loads(out)["record"]["id"] == record_id
    code, out, _ = run(capsys, "record", "search", "--data", str(data), "--type", "case",
                       "--identifier", "csqu 305438-3", "--country", "ES")
    assert code == 0 and record_id in out and "1 of 1" in out
    code, out, _ = run(capsys, "record", "search", "--data", str(data), "--type", "case",
                       "--text", "platano", "--json")
    assert [i["id"] for i in json.loads(out)["items"]] == [record_id]
    code, out, _ = run(capsys, "record", "delete", "--data", str(data), "--type", "case",
                       record_id)
    assert code == 0
    code, _, err = run(capsys, "record", "show", "--data", str(data), "--type", "case", record_id)
    assert code == 2 and "no case with id" in err


def test_record_add_refuses_a_bad_record_with_exit_2_and_every_problem(data, tmp_path, capsys):
    (tmp_path / "bad.json").write_text(json.dumps(a_bad_case()), encoding="utf-8")
    code, out, err = run(capsys, "record", "add", "--data", str(data), "--type", "case",
                         "--file", str(tmp_path / "bad.json"))
    assert code == 2 and out == ""
    assert f"record refused, {len(BAD_CASE_PROBLEMS)} problem(s)" in err
    for path, problem_code in BAD_CASE_PROBLEMS:
        assert f"{path}: {problem_code}:" in err
    code, out, _ = run(capsys, "record", "search", "--data", str(data), "--type", "case")
    assert "0 of 0" in out


def test_import_prints_counts_and_writes_the_refused_rows_to_a_report(data, tmp_path, capsys):
    rows = [case_row(n) for n in range(20)]
    rows[3]["commodity_category"] = "drugs.unobtainium"
    rows[7]["date"] = "2026-02-30"
    rows[7]["container_number"] = CONTAINER[:-1] + "4"
    path = write_csv(tmp_path / "cases.csv", rows)
    report = tmp_path / "refused.jsonl"
    code, out, _ = run(capsys, "import", "--data", str(data), str(path), "--source", "dau",
                       "--report", str(report))
    assert code == 1  # some rows refused; the good ones are stored
    assert "20 rows" in out and "stored 18, updated 0, unchanged 0, refused 2" in out
    assert "row 5 (source id DAU-000003):" in out
    assert "fields.commodity[0].category (column commodity_category): unknown_code" in out
    lines = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert [(r["row"], r["source_id"]) for r in lines] == [(5, "DAU-000003"), (9, "DAU-000007")]
    assert {p["code"] for p in lines[1]["problems"]} == {"bad_format", "bad_check_digit"}
    code, out, _ = run(capsys, "import", "--data", str(data), str(path), "--source", "dau",
                       "--report", str(report))
    assert "stored 0, updated 0, unchanged 18, refused 2" in out


def test_import_without_refusals_exits_0_and_a_bad_file_exits_2(data, tmp_path, capsys):
    path = write_csv(tmp_path / "cases.csv", [case_row(1)])
    code, out, _ = run(capsys, "import", "--data", str(data), str(path))
    assert code == 0 and "stored 1" in out and "Refused rows" not in out
    (tmp_path / "bad.csv").write_text("source_id,vesel\nX,Y\n", encoding="utf-8")
    code, _, err = run(capsys, "import", "--data", str(data), str(tmp_path / "bad.csv"))
    assert code == 2 and "unknown column(s) 'vesel'" in err
    code, _, err = run(capsys, "import", "--data", str(data), str(tmp_path / "none.csv"))
    assert code == 2 and "no such file" in err


def test_import_writes_a_default_report_in_the_data_folder(data, tmp_path, capsys):
    path = write_csv(tmp_path / "cases.csv", [case_row(1, date="")])
    code, out, _ = run(capsys, "import", "--data", str(data), str(path))
    assert code == 1
    [report] = list((data / "imports").iterdir())
    assert report.name.startswith("cases-") and report.suffix == ".jsonl"
    assert str(report) in out
