"""Rendering: labels translated along an explicit chain, unknown codes flagged, never lost."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from translation_samples import alert, spanish_case

from translation import (
    Catalog,
    CodeValue,
    GroupValue,
    RenderedField,
    RenderedRecord,
    TextValue,
    fallback_chain,
    render,
    render_code,
    render_text,
)


def field(rendered: RenderedRecord | GroupValue, *path: str) -> RenderedField:
    """The rendered field at ``path`` (group fields by name, first value of each group)."""
    fields = rendered.fields
    found = None
    for name in path:
        found = next(f for f in fields if f.name == name)
        value = found.values[0]
        fields = value.fields if isinstance(value, GroupValue) else ()
    assert found is not None
    return found


def code_label(catalog: Catalog, list_id: str, code: str, lang: str) -> str:
    label = catalog.lists[list_id].label(code, lang)
    assert label is not None, f"{list_id}/{code} has no {lang} label"
    return label.text


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_a_spanish_case_renders_in_another_language(catalog: Catalog, lang: str) -> None:
    record = spanish_case(catalog)
    rendered = render(record, lang, catalog=catalog, node_lang="en")
    assert rendered.lang == lang and rendered.chain == (lang, "en")
    assert rendered.dir == ("rtl" if lang == "ar" else "ltr")
    assert rendered.type_label.text == catalog.labels.record_types["case"][lang]
    commodity = record["fields"]["commodity"][0]
    category = field(rendered, "commodity", "category")
    assert category.label.text == catalog.labels.fields["case.commodity.category"][lang]
    assert category.label.lang == lang and not category.label.fallback
    value = category.values[0]
    assert isinstance(value, CodeValue) and not value.unknown
    assert value.label.text == code_label(catalog, "commodity_category", commodity["category"], lang)
    country = field(rendered, "place", "country").values[0]
    assert isinstance(country, CodeValue)
    assert country.label.text == {"fr": "Espagne", "ar": "إسبانيا"}[lang]
    concealment = field(rendered, "concealment_method")
    assert [v.label.text for v in concealment.values] == [  # type: ignore[union-attr]
        code_label(catalog, "concealment_method", c, lang) for c in record["fields"]["concealment_method"]
    ]


def test_the_labels_read_as_an_officer_expects(fixture_catalog: Catalog) -> None:
    french = render(spanish_case(fixture_catalog), "fr", catalog=fixture_catalog)
    arabic = render(spanish_case(fixture_catalog), "ar", catalog=fixture_catalog)
    assert field(french, "commodity").label.text == "Marchandise"
    assert field(french, "commodity", "category").values[0].label.text == "Cocaïne"  # type: ignore[union-attr]
    assert field(french, "concealment_method").values[0].label.text == "Double fond"  # type: ignore[union-attr]
    assert field(arabic, "commodity").label.text == "السلعة"
    assert field(arabic, "commodity", "category").values[0].label.text == "الكوكايين"  # type: ignore[union-attr]
    assert arabic.type_label.text == "قضية"


@pytest.mark.parametrize(("lang", "name"), [("fr", "espagnol"), ("ar", "الإسبانية"), ("zh", "西班牙语")])
def test_free_text_is_shown_as_written_with_its_language_named(
    catalog: Catalog, lang: str, name: str
) -> None:
    rendered = render(spanish_case(catalog), lang, catalog=catalog)
    text = field(rendered, "commodity", "description").values[0]
    assert isinstance(text, TextValue)
    assert text.text == "cocaína en cajas de plátano"
    assert text.lang == "es" and text.untranslated and text.dir == "ltr"
    assert text.lang_name.text == name and text.lang_name.lang == lang


def test_arabic_free_text_keeps_its_own_direction(fixture_catalog: Catalog) -> None:
    record = alert(fixture_catalog)
    record["fields"]["headline"] = {"text": "كوكايين في حاوية موز", "lang": "ar"}
    text = field(render(record, "fr", catalog=fixture_catalog), "headline").values[0]
    assert isinstance(text, TextValue)
    assert text.dir == "rtl" and text.lang_name.text == "arabe"


def test_the_fallback_chain_is_reader_then_node_then_english(
    fixture_catalog: Catalog,
) -> None:
    assert fallback_chain("de-AT", "es") == ("de", "es", "en")
    assert fallback_chain("fr", "fr") == ("fr", "en")
    assert fallback_chain("not a tag!", "es") == ("es", "en")
    rendered = render(spanish_case(fixture_catalog), "de", catalog=fixture_catalog, node_lang="es")
    # CLDR names countries in German; our own labels fall back to the node's language.
    country = field(rendered, "place", "country")
    assert country.label.text == "País" and country.label.lang == "es"
    assert country.label.fallback
    assert country.values[0].label.text == "Spanien"  # type: ignore[union-attr]
    assert not country.values[0].label.fallback  # type: ignore[union-attr]


def test_english_only_headings_fall_back_to_english_and_say_so(catalog: Catalog) -> None:
    record = spanish_case(catalog)
    rendered = render(record, "ru", catalog=catalog, node_lang="fr")
    heading = field(rendered, "commodity", "hs_heading").values[0]
    assert isinstance(heading, CodeValue) and not heading.unknown
    assert heading.label.lang == "en" and heading.label.fallback
    assert heading.label.text == code_label(
        catalog, "hs_heading", record["fields"]["commodity"][0]["hs_heading"], "en"
    )


def test_a_code_from_a_newer_catalog_is_shown_flagged_never_dropped(catalog: Catalog) -> None:
    record = spanish_case(catalog)
    record["catalog_version"] = catalog.version + 1
    known = record["fields"]["concealment_method"][0]
    record["fields"]["concealment_method"] = [known, "drone_drop"]
    record["fields"]["place"]["country"] = "XK"
    record["fields"]["vessel_ais"] = {"mmsi": "224123450"}
    rendered = render(record, "fr", catalog=catalog)
    assert rendered.newer_catalog and rendered.has_unknown
    values = field(rendered, "concealment_method").values
    assert [v.code for v in values] == [known, "drone_drop"]  # type: ignore[union-attr]
    assert [v.unknown for v in values] == [False, True]  # type: ignore[union-attr]
    drone = values[1]
    assert isinstance(drone, CodeValue)
    assert drone.label.text == "drone_drop" and drone.label.lang is None
    assert {c.code for c in rendered.unknown_codes} == {"drone_drop", "XK"}
    extra = rendered.fields[-1]
    assert extra.name == "vessel_ais" and extra.unknown and extra.key is None
    text = render_text(rendered)
    assert "drone_drop [code inconnu]" in text
    assert "XK [code inconnu]" in text
    assert "vessel_ais [champ inconnu]" in text
    assert "catalogue plus récent" in text


def test_rendering_twice_gives_the_same_and_unknown_codes_are_not_cached(
    fixture_catalog: Catalog,
) -> None:
    record = spanish_case(fixture_catalog)
    record["catalog_version"] = 2
    record["fields"]["offence_type"] = ["future_offence"]
    first = render(record, "es", catalog=fixture_catalog)
    second = render(record, "es", catalog=fixture_catalog)
    assert first.to_json() == second.to_json()
    record["catalog_version"] = 1
    record["fields"]["offence_type"] = ["smuggling"]
    smuggling = field(render(record, "es", catalog=fixture_catalog), "offence_type")
    assert smuggling.values[0].label.text == "Contrabando"  # type: ignore[union-attr]


def test_tlp_labels_are_never_translated(catalog: Catalog) -> None:
    for lang in ("ar", "zh", "ru", "fr"):
        amber = render_code("tlp", "AMBER", lang, catalog=catalog)
        assert amber.label.text == "TLP:AMBER"
        assert not amber.unknown and not amber.label.fallback


def test_the_json_form_carries_flags_languages_and_direction(catalog: Catalog) -> None:
    record = spanish_case(catalog)
    record["catalog_version"] = catalog.version + 1
    record["fields"]["offence_type"].append("future_offence")
    data = render(record, "ar", catalog=catalog, node_lang="es").to_json()
    json.dumps(data)
    assert data["dir"] == "rtl" and data["chain"] == ["ar", "es", "en"]
    assert data["newer_catalog"] and data["has_unknown"]
    assert data["terms"]["unknown_code"]["lang"] == "ar"
    offence = next(f for f in data["fields"] if f["name"] == "offence_type")
    assert offence["values"][-1] == {
        "kind": "code",
        "list": "offence_type",
        "code": "future_offence",
        "label": {"text": "future_offence", "lang": None, "fallback": True},
        "unknown": True,
    }
    summary = next(f for f in data["fields"] if f["name"] == "summary")
    assert summary["values"][0]["untranslated"] and summary["values"][0]["lang"] == "es"


def test_text_rendering_marks_right_to_left_and_untranslated_text(
    fixture_catalog: Catalog,
) -> None:
    text = render_text(render(spanish_case(fixture_catalog), "ar", catalog=fixture_catalog))
    lines = text.splitlines()
    assert all(line.startswith("\u200f") for line in lines)
    assert any("غير مترجم" in line and "cocaína en cajas de plátano" in line for line in lines)
    french = render_text(render(spanish_case(fixture_catalog), "fr", catalog=fixture_catalog))
    assert "Catégorie: Cocaïne" in french
    assert "[espagnol, non traduit]" in french
    assert "\u200f" not in french


def test_an_invalid_value_is_shown_flagged(fixture_catalog: Catalog) -> None:
    record = spanish_case(fixture_catalog)
    record["fields"]["date"] = 20261120
    record["fields"]["offence_type"] = "smuggling"
    rendered = render(record, "en", catalog=fixture_catalog)
    assert field(rendered, "date").values[0].kind == "raw"
    assert "20261120 [invalid value]" in render_text(rendered)


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=25,
)
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
        "concealment_method",
        "nope",
    ]
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)
@given(
    record_type=st.sampled_from(["case", "person", "alert", "other", 7]),
    fields=st.dictionaries(field_names, json_like, max_size=6) | json_like,
    lang=st.sampled_from(["fr", "ar", "de", "xx", ""]),
)
def test_render_never_raises_and_never_drops_a_field(
    fixture_catalog: Catalog, record_type: Any, fields: Any, lang: str
) -> None:
    record = {"type": record_type, "id": "r", "catalog_version": 2, "fields": fields}
    rendered = render(record, lang, catalog=fixture_catalog)
    json.dumps(rendered.to_json())
    render_text(rendered)
    if isinstance(fields, dict) and record_type in ("case", "person", "alert"):
        shown = {f.name for f in rendered.fields}
        assert shown == set(fields)  # a null or malformed value is shown, flagged
