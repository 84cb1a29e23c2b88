"""Catalog versions on disk: packaging a catalog for a signed update, installing one.

The packaged catalog (translation/data) is version 1 or later; a newer one arrives as a
``catalog.update`` envelope from the node named by ``catalog.authority`` and is kept
under DATA/catalog/vN/. It is written to a temporary folder, loaded and checked whole,
then renamed into place, so a half-written or broken catalog is never used.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from protocol import ProtocolError, Reason
from translation import Catalog, CatalogError, default_catalog, load_catalog

CATALOG_DIR = "catalog"
MAX_FILES = 200
FILE_RE = re.compile(r"^(catalog\.json|field_labels\.json|lists/[a-z0-9_]{1,64}\.json)$")


def package(source: Path) -> dict[str, Any]:
    """The payload of a catalog update from a catalog folder (catalog.json, lists/...)."""
    catalog = _load(source)
    files = {"catalog.json": (source / "catalog.json").read_bytes(),
             "field_labels.json": (source / "field_labels.json").read_bytes()}
    for path in sorted((source / "lists").glob("*.json")):
        files[f"lists/{path.name}"] = path.read_bytes()
    return {"version": catalog.version, "files": files}


def check_update(payload: dict[str, Any], current: Catalog) -> int:
    """The version an update payload brings, or ProtocolError if it cannot be installed."""
    version, files = payload.get("version"), payload.get("files")
    if not isinstance(version, int) or not isinstance(files, dict) or not files:
        raise ProtocolError(Reason.BAD_PAYLOAD, "a catalog update has a version and files")
    if len(files) > MAX_FILES or not all(
        isinstance(k, str) and FILE_RE.match(k) and isinstance(v, bytes) for k, v in files.items()
    ):
        raise ProtocolError(Reason.BAD_PAYLOAD, "catalog update files are not a catalog")
    if version < current.version:
        raise ProtocolError(Reason.BAD_STATE,
                            f"catalog version {version} is older than ours ({current.version})")
    return version


def install(data_dir: Path, payload: dict[str, Any], current: Catalog) -> Catalog:
    """Check, write and load a catalog update; return the new catalog."""
    version = check_update(payload, current)
    if version == current.version:
        return current
    root = data_dir / CATALOG_DIR
    final = root / f"v{version}"
    if final.exists():
        return _load(final)
    tmp = root / f".v{version}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        for name, content in payload["files"].items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
        catalog = _load(tmp)
        if catalog.version != version:
            raise ProtocolError(Reason.BAD_PAYLOAD,
                                f"the files hold catalog version {catalog.version}, not {version}")
        os.replace(tmp, final)
        return catalog
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def newest(data_dir: Path) -> Catalog:
    """The newest catalog this node holds: an installed update, else the packaged one."""
    best = default_catalog()
    root = data_dir / CATALOG_DIR
    versions = sorted((int(p.name[1:]) for p in root.glob("v*") if p.name[1:].isdigit()),
                      reverse=True) if root.is_dir() else []
    for version in versions:
        if version > best.version:
            return _load(root / f"v{version}")
    return best


def _load(folder: Path) -> Catalog:
    try:
        return load_catalog(folder)
    except CatalogError as exc:
        raise ProtocolError(Reason.BAD_PAYLOAD,
                            "catalog does not load: " + "; ".join(exc.problems)[:1000]) from None
