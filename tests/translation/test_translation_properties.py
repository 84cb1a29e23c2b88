"""Properties over records generated from the catalog itself.

Every valid record validates without a problem and renders with every code it holds,
in every supported language; a single unknown code is exactly one problem, at its
path, unless the record comes from a newer catalog, when it is rendered flagged.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from translation import (
    SUPPORTED_LANGUAGES,
    AmountValue,
    Catalog,
    CodeValue,
    FieldDef,
    FieldType,
    GroupValue,
    ProblemCode,
    default_catalog,
    render,
    validate,
)

CATALOG = default_catalog()  # the packaged catalog: strategies are built at import
IDENTIFIERS = {
    "iso6346": ["CSQU3054383", "MSKU9070323", "TGHU7562394"],
    "imo": ["9074729", "9319466", "8814275"],
    "unlocode": ["ESALG", "NLRTM", "ECGYE", "BEANR"],
    "flight_number": ["IB6830", "AF1234", "KLM1701", "U21234A"],
}
TEXT_LANGUAGES = ["es", "fr", "ar", "zh", "pt-BR", "ru", "en-GB", "und", "es-419"]
record_ids = st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)
decimals = st.from_regex(r"(0|[1-9][0-9]{0,8})(\.[0-9]{1,4})?", fullmatch=True)


def nfc_text(max_size: int) -> st.SearchStrategy[str]:
    return (
        st.text(min_size=1, max_size=min(max_size, 40))
        .map(lambda s: unicodedata.normalize("NFC", s).strip())
        .filter(lambda s: bool(s) and unicodedata.is_normalized("NFC", s) and len(s) <= max_size)
    )


def codes(list_id: str) -> st.SearchStrategy[str]:
    if list_id == "language":
        return st.sampled_from(["es", "fr", "ar", "zh", "yue", "und"])
    return st.sampled_from(list(CATALOG.lists[list_id].codes()))


def value_of(field: FieldDef) -> st.SearchStrategy[Any]:
    """Valid values of one field (one item, if repeated)."""
    kind = field.type
    if kind is FieldType.CODE:
        return codes(field.list or "")
    if kind is FieldType.QUANTITY:
        return st.fixed_dictionaries({"value": decimals, "unit": codes("unit")})
    if kind is FieldType.MONEY:
        return st.fixed_dictionaries({"value": decimals, "currency": codes("currency")})
    if kind is FieldType.DATE:
        dates = st.dates().map(lambda d: d.isoformat())
        if field.partial:
            dates |= dates.map(lambda d: d[:7]) | dates.map(lambda d: d[:4])
        return dates
    if kind is FieldType.DATETIME:
        return st.datetimes().map(lambda d: d.replace(microsecond=0).isoformat() + "Z")
    if kind is FieldType.TEXT:
        return st.fixed_dictionaries(
            {"text": nfc_text(field.max_length or 10_000), "lang": st.sampled_from(TEXT_LANGUAGES)}
        )
    if kind is FieldType.STRING:
        if field.check:
            return st.sampled_from(IDENTIFIERS[field.check])
        return nfc_text(field.max_length or 200)
    if kind is FieldType.REF:
        return st.fixed_dictionaries({"type": st.sampled_from(field.targets), "id": record_ids})
    if kind is FieldType.PHOTO:
        return st.fixed_dictionaries(
            {
                "sha256": st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
                "media_type": st.sampled_from(["image/jpeg", "image/png"]),
            }
        )
    return group_of(field.fields)


def field_value(field: FieldDef) -> st.SearchStrategy[Any]:
    if not field.repeated:
        return value_of(field)
    return st.lists(value_of(field), min_size=1, max_size=3)


def group_of(fields: tuple[FieldDef, ...]) -> st.SearchStrategy[dict[str, Any]]:
    # Conditionally required fields (alert references) are always given: valid either way.
    required = {f.name: field_value(f) for f in fields if f.required or f.required_if}
    optional = {f.name: field_value(f) for f in fields if not (f.required or f.required_if)}
    return st.fixed_dictionaries(required, optional=optional)


def records(catalog: Catalog) -> st.SearchStrategy[dict[str, Any]]:
    return st.sampled_from(list(catalog.record_types)).flatmap(
        lambda name: st.fixed_dictionaries(
            {
                "type": st.just(name),
                "id": record_ids,
                "catalog_version": st.just(catalog.version),
                "fields": group_of(catalog.record_types[name].fields),
            }
        )
    )


def codes_in(
    record_fields: dict[str, Any], fields: tuple[FieldDef, ...], path: str = "fields"
) -> list[tuple[str, str]]:
    """(path, code) of every code of our own or ISO lists in a record, depth first."""
    found: list[tuple[str, str]] = []
    for field in fields:
        if field.name not in record_fields:
            continue
        raw = record_fields[field.name]
        items = list(enumerate(raw)) if field.repeated else [(None, raw)]
        for index, item in items:
            where = f"{path}.{field.name}" + ("" if index is None else f"[{index}]")
            if field.type is FieldType.CODE:
                found.append((where, item))
            elif field.type is FieldType.QUANTITY:
                found.append((f"{where}.unit", item["unit"]))
            elif field.type is FieldType.MONEY:
                found.append((f"{where}.currency", item["currency"]))
            elif field.type is FieldType.GROUP:
                found.extend(codes_in(item, field.fields, where))
    return found


def rendered_codes(fields: Any) -> list[CodeValue]:
    found: list[CodeValue] = []
    for field in fields:
        for value in field.values:
            if isinstance(value, CodeValue):
                found.append(value)
            elif isinstance(value, AmountValue):
                found.append(value.unit)
            elif isinstance(value, GroupValue):
                found.extend(rendered_codes(value.fields))
    return found


fast = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(record=records(CATALOG), lang=st.sampled_from(SUPPORTED_LANGUAGES))
def test_a_valid_record_validates_and_renders_every_code(record: dict[str, Any], lang: str) -> None:
    assert validate(record, CATALOG) == []
    rendered = render(record, lang, catalog=CATALOG)
    fields = CATALOG.record_types[record["type"]].fields
    assert [v.code for v in rendered_codes(rendered.fields)] == [
        code for _, code in codes_in(record["fields"], fields)
    ]
    assert not rendered.has_unknown
    assert len(rendered.fields) == len(record["fields"])


@fast
@given(record=records(CATALOG), data=st.data())
def test_one_unknown_code_is_one_problem_at_its_path_or_flagged_if_newer(
    record: dict[str, Any], data: st.DataObject
) -> None:
    fields = CATALOG.record_types[record["type"]].fields
    found = codes_in(record["fields"], fields)
    if not found:
        return
    path, _ = data.draw(st.sampled_from(found))
    _replace(record, path, "zz_from_the_future")
    problems = validate(record, CATALOG)
    assert [(p.path, p.code) for p in problems] == [(path, ProblemCode.UNKNOWN_CODE)]
    record["catalog_version"] = CATALOG.version + 1
    assert validate(record, CATALOG) == []
    unknown = render(record, "fr", catalog=CATALOG).unknown_codes
    assert [c.code for c in unknown] == ["zz_from_the_future"]
    assert unknown[0].label.text == "zz_from_the_future" and unknown[0].label.lang is None


def _replace(record: dict[str, Any], path: str, value: str) -> None:
    """Set the value at a problem path such as ``fields.commodity[0].quantity.unit``."""
    steps: list[str | int] = []
    for part in path.split("."):
        name, _, rest = part.partition("[")
        steps.append(name)
        if rest:
            steps.append(int(rest.rstrip("]")))
    target: Any = record
    for step in steps[:-1]:
        target = target[step]
    target[steps[-1]] = value
