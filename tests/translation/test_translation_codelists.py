"""Code lists: our own from JSON files, the ISO lists from pycountry and Babel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from translation import Catalog, CatalogError, Label
from translation.codelists import load_own_lists


def write_list(folder: Path, list_id: str, data: object) -> None:
    (folder / f"{list_id}.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")


def test_a_label_is_given_in_exactly_the_language_asked(fixture_catalog: Catalog) -> None:
    concealment = fixture_catalog.lists["concealment_method"]
    assert concealment.label("false_bottom", "fr") == Label("Double fond", "fr")
    assert concealment.label("false_bottom", "es") == Label("Doble fondo", "es")
    assert concealment.label("false_bottom", "de") is None  # no fallback here
    assert concealment.label("no_such_code", "fr") is None
    assert "false_bottom" in concealment
    assert "no_such_code" not in concealment
    assert 5 not in concealment


def test_a_list_has_a_title_in_each_language(fixture_catalog: Catalog) -> None:
    title = fixture_catalog.lists["offence_type"].title("ru")
    assert title == Label("Вид правонарушения", "ru")


def test_country_names_come_from_cldr_in_every_language_babel_has(
    packaged_catalog: Catalog,
) -> None:
    countries = packaged_catalog.lists["country"]
    assert countries.label("ES", "fr") == Label("Espagne", "fr")
    assert countries.label("ES", "ar") == Label("إسبانيا", "ar")
    assert countries.label("ES", "zh") == Label("西班牙", "zh")
    assert countries.label("ES", "de") == Label("Spanien", "de")  # beyond our seven
    assert countries.label("ES", "tlh") is None  # a language Babel does not carry
    assert "ES" in countries and "XK" not in countries and "001" not in countries


def test_currency_names_come_from_cldr(packaged_catalog: Catalog) -> None:
    currencies = packaged_catalog.lists["currency"]
    assert currencies.label("EUR", "es") == Label("euro", "es")
    assert currencies.label("USD", "ru") is not None
    assert "EUR" in currencies and "EURO" not in currencies


def test_language_codes_accept_iso_639_1_and_639_3(packaged_catalog: Catalog) -> None:
    languages = packaged_catalog.lists["language"]
    assert "es" in languages and "spa" in languages and "yue" in languages
    assert "xx" not in languages
    assert languages.label("spa", "fr") == languages.label("es", "fr") == Label("espagnol", "fr")
    assert languages.canonical("spa") == "es"  # type: ignore[attr-defined]


def test_every_iso_code_has_an_english_name(packaged_catalog: Catalog) -> None:
    for list_id in ("country", "currency", "language"):
        code_list = packaged_catalog.lists[list_id]
        unnamed = [c for c in code_list.codes() if code_list.label(c, "en") is None]
        assert not unnamed, f"{list_id}: no English name for {unnamed[:20]}"


def test_tlp_labels_read_the_same_in_every_language(tmp_path: Path) -> None:
    translated = {lang: "TLP:AMBER" for lang in ("ar", "zh", "en", "fr", "pt", "es")}
    translated["ru"] = "TLP:ЯНТАРНЫЙ"  # a translator's well-meant mistake
    write_list(
        tmp_path,
        "tlp",
        {
            "list": "tlp",
            "version": 1,
            "source": "FIRST TLP 2.0",
            "title": {"en": "TLP"},
            "codes": {
                "AMBER": {
                    **translated,
                    "explanation": {"en": "Limited disclosure", "ru": "Ограниченное раскрытие"},
                }
            },
        },
    )
    tlp = load_own_lists(tmp_path)["tlp"]
    assert tlp.label("AMBER", "ru") == Label("TLP:AMBER", "ru")
    assert tlp.extra("AMBER", "explanation", "ru") == Label("Ограниченное раскрытие", "ru")


def test_every_defect_of_every_list_file_is_reported(tmp_path: Path) -> None:
    write_list(
        tmp_path,
        "good",
        {"list": "good", "version": 1, "source": "x", "title": {"en": "Good"}, "codes": {"a": {"en": "A"}}},
    )
    write_list(tmp_path, "renamed", {"list": "other", "version": 1, "codes": {"a": {"en": "A"}}})
    write_list(tmp_path, "no_codes", {"list": "no_codes", "version": 1, "codes": {}})
    write_list(
        tmp_path,
        "bad_label",
        {"list": "bad_label", "version": "1", "codes": {"a": {"en": "", "fr": 3}, "b": "B"}},
    )
    (tmp_path / "broken.json").write_text("{not json", "utf-8")
    with pytest.raises(CatalogError) as caught:
        load_own_lists(tmp_path)
    text = "\n".join(caught.value.problems)
    assert "renamed.json: 'list' is 'other'" in text
    assert "no_codes.json: 'codes' must be a non-empty object" in text
    assert "bad_label.json: 'version' must be a positive integer" in text
    assert "bad_label.json: code 'a': label 'en' must be a non-empty string" in text
    assert "bad_label.json: code 'a': label 'fr' must be a non-empty string" in text
    assert "bad_label.json: code 'b' must map to an object of labels" in text
    assert "broken.json: not valid JSON" in text
    assert "good.json" not in text


def test_a_missing_list_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="code list folder is missing"):
        load_own_lists(tmp_path / "nowhere")
