"""Fixtures for the federation door: the real node app over HTTP on loopback, a real
SQLite file in tmp_path, and FakePeers that reach trust through the real handshake."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient
from fakepeer import MSGPACK, Answer, FakePeer

from node import cli
from node.app import create_app
from node.appkeys import SERVICES
from node.config import load, render
from node.identity import read_api_token
from node.messages import simple_alert
from node.services import NodeServices
from protocol import MessageType, Outcome, PeerAction, PeerStatus, Reason, decode_keydoc
from protocol.errors import STATUS_HINTS
from storage.schema import received
from tests.threads import in_thread

NODE_ID = "fr-douane"
#: Small enough that a too-large request is cheap to make, large enough for 200 envelopes.
MAX_BODY_BYTES = 256 * 1024


def init_node(data: Path) -> None:
    """Create a node as `ncen-node init` does, then tune its configuration for tests."""
    # init runs its own event loop (asyncio.run): keep it off the test's thread.
    assert in_thread(lambda: cli.main([
        "init", "--data", str(data), "--id", NODE_ID, "--name",
        "Direction générale des douanes", "--country", "FR", "--language", "fr"])) == 0
    values = load(data).values
    values["server"]["max_body_bytes"] = MAX_BODY_BYTES
    values["delivery"].update(poll_interval_seconds=0.05, initial_backoff_seconds=0.05,
                              max_backoff_seconds=1)
    (data / "config.toml").write_text(render(values), encoding="utf-8")


@dataclass
class NodeUnderTest:
    """The node under test, seen from outside (HTTP) and, for checks, from its database."""

    app: web.Application
    client: TestClient
    data_dir: Path
    caplog: pytest.LogCaptureFixture
    node_id: str = NODE_ID
    #: Received envelopes (origin, id) the test has already accounted for.
    known: set[tuple[str, str]] = field(default_factory=set)
    _logs_seen: int = 0

    @property
    def services(self) -> NodeServices:
        return self.app[SERVICES]

    @property
    def url(self) -> str:
        return str(self.client.make_url("/")).rstrip("/")

    async def api(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """Call the local API with the node's bearer token."""
        token = read_api_token(self.data_dir)
        async with self.client.request(method, path, headers={"Authorization": f"Bearer {token}"},
                                       **kwargs) as resp:
            return resp.status, await resp.json()

    async def approve(self, peer_id: str) -> None:
        status, body = await self.api("POST", f"/api/v1/peers/{peer_id}/approve")
        assert status == 200, body
        assert body["status"] == PeerStatus.APPROVED

    async def change(self, peer_id: str, action: PeerAction) -> PeerStatus:
        return PeerStatus((await self.services.change_peer(peer_id, action)).status)

    async def status_of(self, peer_id: str) -> PeerStatus | None:
        peer = await self.services.store.get_peer(peer_id)
        return PeerStatus(peer.status) if peer else None

    async def stored(self) -> dict[tuple[str, str], bytes]:
        """Every row of the received table: (origin, envelope id) -> the envelope's bytes."""
        rows = await self.services.store.db.fetch_all(
            sa.select(received.c.origin, received.c.envelope_id, received.c.envelope)
        )
        return {(r.origin, r.envelope_id): r.envelope for r in rows}

    async def assert_newly_stored(self, *keys: tuple[str, str]) -> None:
        """The received table holds exactly what was known plus keys; they become known."""
        assert set(await self.stored()) == self.known | set(keys)
        self.known |= set(keys)

    def refusals_logged(self) -> list[str]:
        """Messages of ncen.federation warnings since the last call."""
        records = [r for r in self.caplog.records if r.name == "ncen.federation"]
        new = records[self._logs_seen:]
        self._logs_seen = len(records)
        return [r.getMessage() for r in new if r.levelno >= logging.WARNING]

    async def assert_refused(self, answer: Answer, reason: Reason) -> None:
        """Refused with reason's 4xx and reason code, logged, and nothing stored."""
        assert answer.status == STATUS_HINTS[reason], (answer.status, answer.body[:300])
        assert 400 <= answer.status < 500
        if answer.content_type == MSGPACK:
            result = answer.result()
            assert answer.headers.get("Ncen-Reason") == reason.value
            assert all(r.outcome is Outcome.REJECTED for r in result.results), answer.outcomes
            assert result.results[0].reason == reason.value, answer.outcomes
        else:
            error = answer.json()["error"]
            assert error["reason"] == reason.value, error
            assert isinstance(error["detail"], str)
        logged = self.refusals_logged()
        assert any(reason.value in line for line in logged), logged
        await self.assert_newly_stored()

    async def assert_sentinel_accepted(self, peer: FakePeer) -> str:
        """A good alert from peer, sent now, is accepted and stored; returns its id."""
        env = peer.envelope(simple_alert("sentinel", "en", alert_id="alert-sentinel"))
        answer = await peer.send(env)
        assert answer.status == 200, (answer.status, answer.body[:300])
        assert answer.outcomes == [(Outcome.ACCEPTED.value, "")]
        await self.assert_newly_stored((peer.node_id, env.id))
        return env.id


@pytest.fixture(scope="session")
def node_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One node made by `ncen-node init`; each test gets a copy of its data folder."""
    data = tmp_path_factory.mktemp("template") / NODE_ID
    init_node(data)
    return data


@pytest.fixture
async def node(node_template: Path, tmp_path: Path,
               aiohttp_client: Callable[..., Awaitable[TestClient]],
               caplog: pytest.LogCaptureFixture) -> NodeUnderTest:
    """fr-douane, created by `ncen-node init` and served by create_app over loopback."""
    caplog.set_level(logging.INFO, logger="ncen")
    data = tmp_path / NODE_ID
    shutil.copytree(node_template, data)
    app = create_app(load(data))
    client = await aiohttp_client(app)
    return NodeUnderTest(app=app, client=client, data_dir=data, caplog=caplog)


PeerMaker = Callable[..., Awaitable[FakePeer]]


@pytest.fixture
async def make_peer(node: NodeUnderTest) -> AsyncIterator[PeerMaker]:
    """make_peer(node_id, status) -> a FakePeer the node sees in that status (None: not
    at all), reached through the real handshake (trust request, approval, suspension, ...)."""
    peers: list[FakePeer] = []

    async def make(node_id: str = "es-aduana",
                   status: PeerStatus | None = PeerStatus.APPROVED) -> FakePeer:
        peer = await FakePeer(node_id=node_id).start()
        peers.append(peer)
        await peer.connect(node.url)
        if status is None:  # a stranger: it has read our key document, nothing more
            return peer
        if status is PeerStatus.REQUESTED:
            await node.services.request_trust(peer.url)
        else:
            answer = await peer.ask_trust()
            assert answer.status == 202, answer.body
            assert answer.json()["status"] == PeerStatus.PENDING
        if status in (PeerStatus.APPROVED, PeerStatus.SUSPENDED, PeerStatus.REVOKED):
            await node.approve(node_id)
            _, payload = await peer.wait_for(MessageType.TRUST_APPROVE)
            assert decode_keydoc(payload["keydoc"]).sign_public == peer.node.sign_public
        if status is PeerStatus.SUSPENDED:
            await node.change(node_id, PeerAction.SUSPEND)
        elif status is PeerStatus.REVOKED:
            await node.change(node_id, PeerAction.REVOKE)
        elif status is PeerStatus.REFUSED:
            await node.change(node_id, PeerAction.REFUSE)
        assert await node.status_of(node_id) == status
        node.refusals_logged()  # what the handshake logged is not a refusal under test
        return peer

    yield make
    for peer in peers:
        await peer.close()
    for peer in peers:
        assert not peer.problems, peer.problems


@pytest.fixture
async def peer(make_peer: PeerMaker) -> FakePeer:
    """es-aduana, approved by the node under test."""
    return await make_peer()

