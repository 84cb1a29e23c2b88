"""Import rows per second: a generated CSV of cases into SQLite, through the same code path
as `ncen-node import` (importer.rows_from_csv -> RecordService.import_rows).

About 2% of the rows are bad in one of several ways (an unknown code, a container number
with a wrong check digit, a required field left empty, an impossible or misformatted
date, a quantity with a decimal comma); the report counts them by problem. The same file
is then imported a second time, which must store nothing new. Target: at least 5,000
rows/s.

    PYTHONPATH=. python bench/import_bench.py [--rows 100000] [--keep DIR] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import os
import pstats
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stdnum import iso6346  # noqa: E402

from node.cli_records import import_file  # noqa: E402
from node.records import CHUNK_SIZE, ImportReport, RecordService  # noqa: E402
from storage.records import RecordStore  # noqa: E402
from translation import Catalog, default_catalog  # noqa: E402

TARGET = 5_000
COLUMNS = ["source_id", "date", "country", "locode", "place_type", "place_name", "offence_type",
           "commodity_category", "hs_heading", "description", "quantity", "unit", "value",
           "currency", "detection_method", "concealment_method", "transport_mode",
           "vessel_name", "imo_number", "container_number", "departure_country",
           "transit_countries", "destination_country", "lang"]
PORTS = [("ES", "ESALG", "Puerto de Algeciras"), ("ES", "ESVLC", "Puerto de Valencia"),
         ("NL", "NLRTM", "Haven van Rotterdam"), ("BE", "BEANR", "Haven van Antwerpen"),
         ("FR", "FRLEH", "Port du Havre"), ("PT", "PTSIE", "Porto de Sines")]
DEPARTURES = ["EC", "CO", "BR", "PA", "PE", "CR", "DO", "MA", "AE", "CN"]
IMOS = ["9074729", "9176187", "9321483", "9395044", "9454448", "9619907", "9703291"]
BAD_KINDS = ["unknown_code", "bad_check_digit", "missing_required", "bad_date",
             "bad_quantity"]


def container(rng: random.Random) -> str:
    owner = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3)) + "U"
    serial = f"{rng.randrange(10**6):06d}"
    return owner + serial + iso6346.calc_check_digit(owner + serial)


def write_cases_csv(path: Path, rows: int, catalog: Catalog, *, bad_share: float = 0.02,
                    seed: int = 20261120) -> Counter[str]:
    """A CSV of rows cases, bad_share of them bad; returns how many of each bad kind."""
    rng = random.Random(seed)

    def codes(list_id: str) -> list[str]:
        return list(catalog.lists[list_id].codes())

    offences, categories = codes("offence_type"), codes("commodity_category")
    headings, detections = codes("hs_heading"), codes("detection_method")
    concealments, place_types = codes("concealment_method"), codes("place_type")
    bad: Counter[str] = Counter()
    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(COLUMNS)
        for n in range(rows):
            country, locode, port = rng.choice(PORTS)
            row = {
                "source_id": f"DAU-2026-{n:07d}",
                "date": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "country": country, "locode": locode, "place_type": rng.choice(place_types),
                "place_name": port,
                "offence_type": ";".join(rng.sample(offences, rng.randint(1, 2))),
                "commodity_category": rng.choice(categories),
                "hs_heading": rng.choice(headings),
                "description": f"mercancía oculta, partida {n}",
                "quantity": f"{rng.randint(1, 50000)}.{rng.randint(0, 9)}", "unit": "KGM",
                "value": str(rng.randint(100, 10**8)), "currency": "EUR",
                "detection_method": rng.choice(detections),
                "concealment_method": rng.choice(concealments),
                "transport_mode": "1", "vessel_name": f"MSC VESSEL {n % 300}",
                "imo_number": rng.choice(IMOS),
                "container_number": ";".join(container(rng) for _ in range(rng.randint(1, 2))),
                "departure_country": rng.choice(DEPARTURES),
                "transit_countries": rng.choice(["", "PA", "PA;MA"]),
                "destination_country": country, "lang": "es",
            }
            if rng.random() < bad_share:
                kind = rng.choice(BAD_KINDS)
                bad[kind] += 1
                if kind == "unknown_code":
                    row["commodity_category"] = "drugs.unobtainium"
                elif kind == "bad_check_digit":
                    good = row["container_number"].split(";")[0]
                    row["container_number"] = good[:-1] + str((int(good[-1]) + 1) % 10)
                elif kind == "missing_required":
                    row["date"] = ""
                elif kind == "bad_date":
                    row["date"] = rng.choice(["2026-02-30", "20/11/2026"])
                else:
                    row["quantity"] = row["quantity"].replace(".", ",")
            out.writerow([row[c] for c in COLUMNS])
    return bad


async def run_import(records: RecordService, path: Path, args: argparse.Namespace) -> ImportReport:
    return await import_file(records, path, record_type="case", source_system="dau",
                             workers=args.workers, chunk_size=args.chunk)


def print_run(title: str, report: ImportReport) -> None:
    print(f"{title}: {report.rows:,} rows in {report.seconds:.2f} s = "
          f"{report.rows_per_second:,.0f} rows/s")
    print(f"  stored {report.stored:,}, updated {report.updated:,}, unchanged "
          f"{report.unchanged:,}, refused {report.refused:,}")


def print_reasons(report: ImportReport) -> None:
    by_problem: Counter[tuple[str, str]] = Counter()
    for refusal in report.refusals:
        for p in refusal.problems:
            by_problem[(p["code"], p.get("column") or p["path"])] += 1
    print("  refused rows' problems (code, column: count):")
    for (code, column), count in by_problem.most_common():
        print(f"    {code:<18} {column:<20} {count:>6,}")
    example = report.refusals[0] if report.refusals else None
    if example:
        print(f"  e.g. row {example.row} ({example.source_id}): {example.problems[0]}")


async def main_async(args: argparse.Namespace, folder: Path) -> int:
    catalog = default_catalog()
    path = folder / "cases.csv"
    started = time.perf_counter()
    bad = write_cases_csv(path, args.rows, catalog)
    print(f"wrote {args.rows:,} rows ({sum(bad.values()):,} bad: {dict(bad)}) to {path} in "
          f"{time.perf_counter() - started:.1f} s")
    store = await RecordStore.open({t: f"sqlite+aiosqlite:///{folder / f'{t}s.db'}"
                                    for t in ("case", "person", "entity")})
    records = RecordService(store, node_id="es-aduana", node_lang="es")
    try:
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
        first = await run_import(records, path, args)
        if args.profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        print_run("first import", first)
        print_reasons(first)
        second = await run_import(records, path, args)
        print_run("same file again", second)
    finally:
        await records.close()
    ok = (first.rows_per_second >= TARGET and second.stored == 0
          and first.refused == sum(bad.values()))
    print(f"target {TARGET:,} rows/s: {'met' if first.rows_per_second >= TARGET else 'NOT met'}; "
          f"second run stored {second.stored} new; refused {first.refused:,} of "
          f"{sum(bad.values()):,} bad rows")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="folder to keep the CSV and databases in")
    parser.add_argument("--profile", action="store_true", help="profile the first import")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes preparing rows (default: one per CPU; 0: none)")
    parser.add_argument("--chunk", type=int, default=CHUNK_SIZE, help="rows per transaction")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return asyncio.run(main_async(args, args.keep))
    with tempfile.TemporaryDirectory() as folder:
        return asyncio.run(main_async(args, Path(folder)))


if __name__ == "__main__":
    sys.exit(main())
