"""`ncen-node record add|update|show|search|delete` and `ncen-node import`.

Like every command, they work whether or not the node runs: they open the record
databases directly (SQLite lets the running node and the command share them). A refused
record exits with status 2 and lists every problem; an import that refused rows exits
with status 1 after storing the good ones, and writes the refused rows with their
problems to a report (JSON lines).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from storage.records import RECORD_TYPES, RecordQuery, StoredRecord
from translation import render_text

from .importer import (
    ImportFileError,
    column_of,
    csv_convention,
    problem_line,
    rows_from_csv,
    rows_from_jsonl,
)
from .records import CHUNK_SIZE, ImportReport, RecordService
from .services import NodeServices, ServiceError

SHOWN_REFUSALS = 5
#: From this many lines on, an import prepares rows in worker processes (their start
#: costs about a second).
PARALLEL_FROM = 5_000
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


def _data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, type=Path, metavar="DIR",
                   help="the node's data folder")


def _type(p: argparse.ArgumentParser, default: str | None = None) -> None:
    p.add_argument("--type", choices=RECORD_TYPES, default=default, required=default is None,
                   dest="record_type", help="the kind of record" +
                   (f" (default: {default})" if default else ""))


def add_parsers(sub: Any) -> None:
    """Register `record ...` and `import` on the top-level subparsers."""
    record = sub.add_parser("record", help="cases, persons, entities: add, show, search, ...")
    rsub = record.add_subparsers(dest="record_command", required=True, metavar="ACTION")
    for action, text in [("add", "store a new record from a JSON file"),
                         ("update", "replace one of this node's records from a JSON file")]:
        p = rsub.add_parser(action, help=text)
        _data(p)
        _type(p)
        p.add_argument("--file", required=True, type=Path,
                       help="the record as JSON (see translation/README.md)")
        if action == "update":
            p.add_argument("id", help="the record's id")
        p.add_argument("--json", action="store_true", help="print the stored record as JSON")
    p = rsub.add_parser("show", help="one record, rendered in a language")
    _data(p)
    _type(p)
    p.add_argument("id", help="the record's id")
    p.add_argument("--lang", help="language to render in (default: the node's first)")
    p.add_argument("--json", action="store_true", help="print JSON: stored and rendered")
    p = rsub.add_parser("search", help="find records by name, identifier, country, date")
    _data(p)
    _type(p)
    p.add_argument("--text", help="words of a name or of free text (any case or accents)")
    p.add_argument("--identifier", help="container, IMO, flight, vehicle, document or "
                   "registration number, written in any usual way")
    p.add_argument("--country", help="ISO 3166-1 alpha-2 code")
    p.add_argument("--from", dest="date_from", help="earliest date (cases: date of the "
                   "case; persons: date of birth), YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", help="latest date, YYYY-MM-DD")
    p.add_argument("--link", help="records linked to this record id")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p = rsub.add_parser("delete", help="mark a record deleted (it stays in the database)")
    _data(p)
    _type(p)
    p.add_argument("id", help="the record's id")

    p = sub.add_parser(
        "import", help="import a national system's CSV or JSON lines file",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="CSV columns by record type (any order; only source_id is required; "
               "[list]: values separated by ;):\n" + csv_convention())
    _data(p)
    p.add_argument("file", type=Path, help="CSV (header line first) or JSON lines (.jsonl)")
    _type(p, "case")
    p.add_argument("--source", default="national", metavar="NAME",
                   help="the source system's name; the same rows from the same source "
                   "update the same records (default: national)")
    p.add_argument("--format", choices=["csv", "jsonl"],
                   help="default: from the file's extension")
    p.add_argument("--lang", help="language of the CSV's free text when it has no lang "
                   "column (default: the node's first language)")
    p.add_argument("--report", type=Path, metavar="REPORT.jsonl",
                   help="where to write the refused rows (default: DIR/imports/...)")
    p.add_argument("--chunk", type=int, default=CHUNK_SIZE,
                   help=f"rows per transaction (default: {CHUNK_SIZE})")
    p.add_argument("--workers", type=int, help="processes validating rows (default: one per "
                   f"CPU for files of more than {PARALLEL_FROM:,} lines, else none)")


async def _with_records(s: NodeServices, fn: Callable[[RecordService], Awaitable[int]]) -> int:
    records = await RecordService.open(s.config, catalog=lambda: s.catalog)
    try:
        return await fn(records)
    finally:
        await records.close()


def _read_record(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ServiceError(f"cannot read {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ServiceError(f"{path} is not valid JSON: {exc}") from None


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _summary(stored: StoredRecord) -> dict[str, str]:
    """A few words per record for a table."""
    f = stored.record.get("fields", {})
    if stored.type == "case":
        return {"date": f.get("date", ""), "country": f.get("place", {}).get("country", ""),
                "offence": " ".join(f.get("offence_type", []))}
    if stored.type == "person":
        name = f.get("name", {})
        return {"name": " ".join(filter(None, [name.get("family_name"), name.get("given_names")])),
                "born": f.get("date_of_birth", ""), "nationality": " ".join(f.get("nationality", []))}
    return {"name": f.get("name", ""), "registration": f.get("registration_number", ""),
            "country": f.get("registration_country", "")}


def _table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        print("(none)")
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    print("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns).rstrip())


async def cmd_record(args: argparse.Namespace, s: NodeServices) -> int:
    async def run(records: RecordService) -> int:
        command, record_type = args.record_command, args.record_type
        if command in ("add", "update"):
            record = _read_record(args.file)
            if command == "add":
                stored = await records.add(record, record_type=record_type)
            else:
                stored = await records.update(record_type, args.id, record)
            if args.json:
                _print_json(stored.to_json())
            else:
                print(stored.id)
            return 0
        if command == "show":
            lang = args.lang or s.config["node"]["languages"][0]
            view = await records.get(record_type, args.id, lang=lang if args.json else None)
            if args.json:
                _print_json(view)
                return 0
            source = f", source {view['source_system']} {view['source_id']}" if view[
                "source_id"] else ""
            print(f"{record_type} {view['id']} (origin {view['origin']}{source})")
            print(render_text(records.render(view["record"], lang)))
            return 0
        if command == "search":
            found = await records.search(record_type, RecordQuery(
                text=args.text, identifier=args.identifier, country=args.country,
                date_from=args.date_from, date_to=args.date_to, link=args.link,
                limit=args.limit, offset=args.offset))
            if args.json:
                _print_json({"total": found.total, "items": [r.to_json() for r in found.items]})
                return 0
            _table([{"id": r.id, "origin": r.origin, **_summary(r)} for r in found.items])
            print(f"{len(found.items)} of {found.total}")
            return 0
        await records.delete(record_type, args.id)
        print(f"{record_type} {args.id} deleted.")
        return 0

    return await _with_records(s, run)


async def import_file(
    records: RecordService, path: Path, *, record_type: str, source_system: str,
    lang: str | None = None, file_format: str | None = None,
    progress: Callable[[int], None] | None = None, chunk_size: int = CHUNK_SIZE, workers: int = 0,
) -> ImportReport:
    """Import a CSV or JSON lines file: what `ncen-node import` does, bar the printing."""
    file_format = file_format or ("jsonl" if path.suffix.lower() in JSONL_SUFFIXES else "csv")
    try:
        if file_format == "csv":
            rows = rows_from_csv(path, record_type, lang=lang or records.node_lang)
            columns = column_of(record_type)
        else:
            rows, columns = rows_from_jsonl(path), None
    except ImportFileError as exc:
        raise ServiceError(str(exc)) from None
    return await records.import_rows(rows, record_type=record_type, source_system=source_system,
                                     progress=progress, column_of=columns,
                                     chunk_size=chunk_size, workers=workers)


def _count_lines(path: Path) -> int | None:
    try:
        with open(path, "rb") as handle:
            return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return None


def write_report(report: ImportReport, path: Path) -> None:
    """The refused rows, one JSON object per line: row, source_id, problems."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for refusal in report.refusals:
            out.write(json.dumps(refusal.to_json(), ensure_ascii=False) + "\n")


def print_report(report: ImportReport, path: Path, shown: int = SHOWN_REFUSALS) -> None:
    print(f"{path}: {report.rows} rows in {report.seconds:.1f} s "
          f"({report.rows_per_second:,.0f} rows/s): stored {report.stored}, updated "
          f"{report.updated}, unchanged {report.unchanged}, refused {report.refused}")
    for refusal in report.refusals[:shown]:
        print(f"  row {refusal.row} (source id {refusal.source_id}):")
        for p in refusal.problems:
            print(f"    {problem_line(p)}")
    if report.refused > shown:
        print(f"  ... and {report.refused - shown} more refused rows")


async def cmd_import(args: argparse.Namespace, s: NodeServices) -> int:
    from tqdm import tqdm

    if not args.file.is_file():
        raise ServiceError(f"{args.file}: no such file")

    async def run(records: RecordService) -> int:
        lines = _count_lines(args.file) or 0
        header = 0 if args.format == "jsonl" or args.file.suffix.lower() in JSONL_SUFFIXES else 1
        workers = args.workers
        if workers is None:
            workers = (os.cpu_count() or 1) if lines > PARALLEL_FROM else 0
        with tqdm(total=max(lines - header, 0) or None, unit="rows", file=sys.stderr,
                  disable=None, desc=args.file.name) as bar:
            report = await import_file(
                records, args.file, record_type=args.record_type, source_system=args.source,
                lang=args.lang, file_format=args.format, progress=bar.update,
                chunk_size=args.chunk, workers=workers)
        print_report(report, args.file)
        report_path = args.report
        if report_path is None and report.refused:
            stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
            report_path = s.config.data_dir / "imports" / f"{args.file.stem}-{stamp}.refused.jsonl"
        if report_path is not None:
            write_report(report, report_path)
            print(f"Refused rows and their problems: {report_path}")
        return 1 if report.refused else 0

    return await _with_records(s, run)


COMMANDS = {"record": cmd_record, "import": cmd_import}
