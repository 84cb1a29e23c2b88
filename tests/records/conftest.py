"""Fixtures for the record databases: a node made by `ncen-node init` (each test gets a
copy of its data folder, record databases included), its RecordService over the real
SQLite files, and its API served by create_app through aiohttp_client."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from node import cli
from node.app import create_app
from node.config import load
from node.identity import read_api_token
from node.records import RecordService
from tests.threads import in_thread

NODE_ID = "es-aduana"



@pytest.fixture(scope="session")
def node_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One node made by `ncen-node init`, its record databases created."""
    data = tmp_path_factory.mktemp("records-template") / NODE_ID
    assert in_thread(lambda: cli.main([
        "init", "--data", str(data), "--id", NODE_ID, "--name", "Aduanas", "--country", "ES",
        "--language", "es"])) == 0

    async def create_databases() -> None:
        await (await RecordService.open(load(data))).close()

    in_thread(lambda: asyncio.run(create_databases()))
    return data


@pytest.fixture
def data(node_template: Path, tmp_path: Path) -> Path:
    """The data folder of a fresh copy of the node."""
    folder = tmp_path / NODE_ID
    shutil.copytree(node_template, folder)
    return folder


@pytest.fixture
async def records(data: Path) -> AsyncIterator[RecordService]:
    service = await RecordService.open(load(data))
    yield service
    await service.close()


@dataclass
class Api:
    client: TestClient
    token: str

    async def call(self, method: str, path: str, *, token: str | None = None,
                   **kwargs: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token or self.token}", **kwargs.pop("headers", {})}
        async with self.client.request(method, path, headers=headers, **kwargs) as resp:
            body = await resp.json() if resp.content_type == "application/json" else None
            return resp.status, body


@pytest.fixture
async def api(data: Path, aiohttp_client: Callable[..., Awaitable[TestClient]]) -> Api:
    """The node's local API (create_app, real databases), with its bearer token."""
    client = await aiohttp_client(create_app(load(data)))
    return Api(client, read_api_token(data))
