"""Fixtures of the translation tests: the packaged catalog and a small fixture catalog.

``packaged_catalog`` is the real thing (translation/data, with the code lists as
written by their authors): the completeness tests run on it, and a missing or malformed
list fails them with every defect named. ``fixture_catalog`` has the same catalog.json
and field labels with the small lists of tests/translation/fixtures/lists, whose exact
labels some tests assert. ``catalog`` runs a test on both.
"""

from __future__ import annotations

import pytest
from translation_samples import FIXTURES

from translation import Catalog, CatalogError, load_catalog


@pytest.fixture(scope="session")
def packaged_catalog() -> Catalog:
    try:
        return load_catalog()
    except CatalogError as exc:
        pytest.fail("the packaged catalog does not load:\n  " + "\n  ".join(exc.problems))


@pytest.fixture(scope="session")
def fixture_catalog() -> Catalog:
    return load_catalog(lists_dir=FIXTURES / "lists")


@pytest.fixture(params=["packaged", "fixture"])
def catalog(request: pytest.FixtureRequest) -> Catalog:
    name = "packaged_catalog" if request.param == "packaged" else "fixture_catalog"
    catalog: Catalog = request.getfixturevalue(name)
    return catalog
