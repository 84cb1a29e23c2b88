"""openapi.yaml documents the local API: every /api/ route the app registers, and no
route the app does not have."""

from pathlib import Path

import yaml

from node.app import create_app
from node.config import Config, validate
from node.identity import new_api_token

ROOT = Path(__file__).resolve().parents[1]
METHODS = {"get", "put", "post", "delete", "patch"}


def app_routes(tmp_path: Path) -> set[tuple[str, str]]:
    values = validate({"node": {"id": "es-aduana", "name": "Aduanas", "country": "ES",
                                "url": "http://127.0.0.1:8470"}}, tmp_path / "config.toml")
    new_api_token(tmp_path)
    app = create_app(Config(path=tmp_path / "config.toml", data_dir=tmp_path, values=values))
    routes = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api/") and route.method.lower() in METHODS:
            routes.add((route.method.lower(), path))
    return routes


def documented() -> set[tuple[str, str]]:
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    assert spec["openapi"].startswith("3.1")
    return {(method, path) for path, item in spec["paths"].items()
            for method in item if method in METHODS}


def test_every_api_route_is_documented_in_openapi_yaml(tmp_path):
    missing = app_routes(tmp_path) - documented()
    assert not missing, f"routes missing from openapi.yaml: {sorted(missing)}"


def test_openapi_yaml_documents_only_routes_the_app_has(tmp_path):
    extra = documented() - app_routes(tmp_path)
    assert not extra, f"openapi.yaml documents routes the app lacks: {sorted(extra)}"
