"""Fixtures for tests that run real node processes on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.localnet import LocalNode

NAMES = {
    "es-aduana": ("Agencia Tributaria - Aduanas", "ES", "es"),
    "fr-douane": ("Direction générale des douanes", "FR", "fr"),
    "ma-adii": ("Administration des douanes et impôts indirects", "MA", "ar"),
}


@pytest.fixture
def make_node(tmp_path: Path) -> Iterator:
    """make_node("es-aduana", **config overrides) -> a started LocalNode."""
    nodes: list[LocalNode] = []

    def make(node_id: str, *, start: bool = True, **overrides) -> LocalNode:
        name, country, lang = NAMES[node_id]
        node = LocalNode(tmp_path / node_id, node_id, name, country, lang,
                         config_overrides={"delivery": {"poll_interval_seconds": 0.2,
                                                        "initial_backoff_seconds": 0.2,
                                                        "max_backoff_seconds": 1},
                                           **overrides})
        node.init()
        nodes.append(node)
        if start:
            node.start()
        return node

    yield make
    for node in nodes:
        node.kill()
