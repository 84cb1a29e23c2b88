"""Records rendered per second into another language, beside a plain dict-lookup baseline.

The baseline does the least work a translation can do: for each field and each code, look
up the label in a dict prebuilt for the target language, and build (label, value) tuples.
``translation.render`` does more (fallback chain, unknown-code flags, language names of
free text, an immutable result tree); the target is at least half the baseline's rate.

    PYTHONPATH=. python bench/render_bench.py [--lang fr] [--lists DIR] [--seconds 2]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from translation import Catalog, FieldType, load_catalog, render, validate  # noqa: E402
from translation.catalog import FieldDef  # noqa: E402

UNIT_LIST = {FieldType.QUANTITY: ("unit", "unit"), FieldType.MONEY: ("currency", "currency")}


def sample_cases(catalog: Catalog, count: int, seed: int = 20261120) -> list[dict[str, Any]]:
    """``count`` valid Spanish-entered cases with codes drawn from the catalog's lists."""
    rng = random.Random(seed)

    def pick(list_id: str, k: int = 1) -> list[str]:
        codes = list(catalog.lists[list_id].codes())
        return rng.sample(codes, min(k, len(codes)))

    countries = ["ES", "EC", "PA", "NL", "BE", "MA", "CO", "BR", "PT", "FR", "DE", "AE"]
    records = []
    for number in range(count):
        place = {
            "country": rng.choice(countries),
            "place_type": pick("place_type")[0],
            "name": {"text": "Puerto de Algeciras, muelle Juan Carlos I", "lang": "es"},
        }
        commodity = {
            "category": pick("commodity_category")[0],
            "hs_chapter": pick("hs_chapter")[0],
            "hs_heading": pick("hs_heading")[0],
            "description": {"text": "cocaína oculta en cajas de plátano", "lang": "es"},
            "quantity": {"value": f"{rng.randint(1, 5000)}.5", "unit": pick("unit")[0]},
            "estimated_value": {"value": str(rng.randint(1000, 10**8)), "currency": "EUR"},
        }
        record = {
            "type": "case",
            "id": f"case-{number:06d}",
            "catalog_version": catalog.version,
            "fields": {
                "date": "2026-11-20",
                "place": place,
                "offence_type": pick("offence_type", 2),
                "commodity": [commodity],
                "detection_method": pick("detection_method"),
                "concealment_method": pick("concealment_method"),
                "conveyance": [
                    {
                        "mode": pick("transport_mode")[0],
                        "type": pick("conveyance_type")[0],
                        "vessel_name": "MSC EXAMPLE",
                        "imo_number": "9074729",
                        "registration_country": rng.choice(countries),
                        "container_number": ["CSQU3054383"],
                    }
                ],
                "route": {
                    "departure": {"country": rng.choice(countries)},
                    "transit": [{"country": rng.choice(countries)}],
                    "destination": {"country": "ES"},
                },
                "involved": [
                    {"party": {"type": "person", "id": f"person-{number}"}, "role": pick("role")[0]}
                ],
                "summary": {"text": "Contenedor de plátanos procedente de Guayaquil.", "lang": "es"},
            },
        }
        problems = validate(record, catalog)
        assert not problems, problems
        records.append(record)
    return records


Spec = Mapping[str, tuple[str, FieldType, str | None, Any, bool, str | None]]


def baseline(catalog: Catalog, lang: str) -> Callable[[dict[str, Any]], list[Any]]:
    """A renderer that only looks labels up in dicts prebuilt for ``lang``."""

    def text_of(label: Any) -> str | None:
        return None if label is None else label.text

    codes: dict[str, dict[str, str]] = {}
    for list_id, code_list in catalog.lists.items():
        codes[list_id] = {}
        for code in code_list.codes():
            label = code_list.label(code, lang) or code_list.label(code, "en")
            codes[list_id][code] = label.text if label else code

    def spec(fields: tuple[FieldDef, ...]) -> Spec:
        built = {}
        for f in fields:
            label = text_of(catalog.field_label(f.key, lang) or catalog.field_label(f.key, "en"))
            list_id, unit_key = UNIT_LIST.get(f.type, (f.list, None))
            if f.type is FieldType.TEXT:
                list_id = "language"
            sub = spec(f.fields) if f.fields else None
            built[f.name] = (label or f.name, f.type, list_id, sub, f.repeated, unit_key)
        return built

    specs = {name: spec(rt.fields) for name, rt in catalog.record_types.items()}

    def walk(fields: dict[str, Any], spec: Spec) -> list[Any]:
        out: list[Any] = []
        for name, raw in fields.items():
            label, kind, list_id, sub, repeated, unit_key = spec[name]
            for item in raw if repeated else (raw,):
                if kind is FieldType.CODE:
                    out.append((label, codes[list_id][item]))
                elif sub is not None:
                    out.append((label, walk(item, sub)))
                elif unit_key is not None:
                    out.append((label, item["value"], codes[list_id][item[unit_key]]))
                elif kind is FieldType.TEXT:
                    out.append((label, item["text"], codes["language"][item["lang"]]))
                else:
                    out.append((label, item))
        return out

    return lambda record: walk(record["fields"], specs[record["type"]])


def best_rates(
    functions: Mapping[str, Callable[[dict[str, Any]], object]],
    records: list[dict[str, Any]],
    seconds: float,
    rounds: int = 10,
) -> dict[str, float]:
    """Records per second of each function: the best of ``rounds`` interleaved rounds.

    Interleaving and keeping the best round make the ratio robust to other load on the
    machine, which slows both sides alike only when they run at the same time.
    """
    for function in functions.values():  # warm the caches, as on a running node
        for record in records:
            function(record)
    best = dict.fromkeys(functions, 0.0)
    for _ in range(rounds):
        for name, function in functions.items():
            done, start = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - start) < seconds / rounds:
                for record in records:
                    function(record)
                done += len(records)
            best[name] = max(best[name], done / elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="fr", help="language to render into (default fr)")
    parser.add_argument("--node-lang", default="es", help="node's language (default es)")
    parser.add_argument("--lists", help="code list folder (default: the packaged lists)")
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=4.0, help="per side, in total")
    args = parser.parse_args()

    catalog = load_catalog(lists_dir=args.lists) if args.lists else load_catalog()
    records = sample_cases(catalog, args.records)
    lookup = baseline(catalog, args.lang)

    def ours(record: dict[str, Any]) -> object:
        return render(record, args.lang, catalog=catalog, node_lang=args.node_lang)

    rates = best_rates({"baseline": lookup, "render": ours}, records, args.seconds)
    baseline_rate, render_rate = rates["baseline"], rates["render"]
    print(
        f"catalog version {catalog.version}, {len(records)} distinct Spanish-entered cases, "
        f"rendered into {args.lang!r} (node language {args.node_lang!r})"
    )
    print(f"baseline (dict lookups):  {baseline_rate:12,.0f} records/s")
    print(f"translation.render:       {render_rate:12,.0f} records/s")
    print(f"ratio render / baseline:  {render_rate / baseline_rate:12.2f}  (target >= 0.50)")


if __name__ == "__main__":
    main()
