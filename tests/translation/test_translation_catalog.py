"""The catalog loader: a defective catalog is refused with every defect named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from translation_samples import FIXTURES

from translation import Catalog, CatalogError, FieldType, default_catalog, load_catalog
from translation.catalog import packaged_data_dir


def copy_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(packaged_data_dir(), data)  # type: ignore[arg-type]
    return data


def edit(path: Path, change: Any) -> None:
    content = json.loads(path.read_text("utf-8"))
    change(content)
    path.write_text(json.dumps(content, ensure_ascii=False), "utf-8")


def test_the_packaged_catalog_is_version_1_and_read_once() -> None:
    assert default_catalog() is default_catalog()
    assert default_catalog().version == 1


def test_field_keys_name_shared_groups_by_the_group(fixture_catalog: Catalog) -> None:
    paths = dict(fixture_catalog.all_fields())
    assert paths["case.route.departure.country"].key == "place.country"
    assert paths["case.commodity.category"].key == "case.commodity.category"
    assert paths["case.commodity.quantity"].type is FieldType.QUANTITY
    assert paths["person.date_of_birth"].partial
    assert paths["alert.references"].required_if == ("kind", frozenset({"update", "cancel"}))


def test_every_defect_of_the_catalog_is_reported(tmp_path: Path) -> None:
    data = copy_data(tmp_path)

    def break_structure(catalog: dict[str, Any]) -> None:
        case = catalog["record_types"]["case"]["fields"]
        case.append({"name": "colour", "type": "colour"})
        case.append({"name": "tint", "type": "code", "list": "tints"})
        case.append({"name": "hull", "type": "string", "check": "luhn"})
        case.append({"name": "owner", "type": "ref", "targets": ["vehicle"]})
        case.append({"name": "date", "type": "date"})
        case.append({"name": "note", "type": "text", "max_length": 0, "colour": "red"})
        catalog["groups"]["loop"] = {"fields": [{"name": "again", "type": "group", "group": "loop"}]}
        case.append({"name": "loop", "type": "group", "group": "loop"})

    edit(data / "catalog.json", break_structure)
    edit(data / "field_labels.json", lambda labels: labels.update(catalog_version=2))
    (data / "lists" / "country.json").write_text(
        json.dumps({"list": "country", "version": 1, "codes": {"ES": {"en": "Spain"}}}), "utf-8"
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(data)
    assert sorted(caught.value.problems) == sorted(
        [
            "lists/country.json: 'country' is an ISO list, served by Babel",
            "field_labels.json: 'catalog_version' differs from catalog.json's",
            "catalog.json: case.colour has unknown type 'colour'",
            "catalog.json: case.tint names list 'tints', which is missing",
            "catalog.json: case.hull names unknown check 'luhn'",
            "catalog.json: case.owner must target known record types",
            "catalog.json: case.note has unknown attribute 'colour'",
            "catalog.json: case.note: 'max_length' must be a positive integer",
            "catalog.json: group 'loop' contains itself",
            "catalog.json: case.date is defined twice",
        ]
    )


def test_missing_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    assert caught.value.problems == ("catalog.json: missing", "field_labels.json: missing")


def test_lists_can_come_from_another_folder(tmp_path: Path) -> None:
    catalog = load_catalog(copy_data(tmp_path), lists_dir=FIXTURES / "lists")
    assert "in_cargo" in catalog.lists["concealment_method"]
