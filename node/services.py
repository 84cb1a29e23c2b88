"""Node services: what an administrator or an officer can do, callable alike from the
CLI, the local API and the console. All state lives in the node database; a running
node and a CLI command can therefore act on the same data folder at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

from protocol import (
    TLP,
    Envelope,
    Handling,
    KeyDocument,
    MessageType,
    NodeKeys,
    PeerAction,
    PeerStatus,
    ProtocolError,
    Reason,
    Signer,
    compose,
    decode,
    decode_keydoc,
    encode,
    pairwise_key,
    transition,
    transport,
)
from storage.nodestore import NewOutbox, NewSent, NodeStore, NodeTx, PeerRow
from translation import Catalog, Problem

from . import catalogs, messages
from .clock import DAY_MS, Clock, SystemClock, to_datetime
from .config import Config
from .identity import load_keys, save_keys

if TYPE_CHECKING:
    from .records import RecordService

log = logging.getLogger("ncen.services")

WELL_KNOWN = "/.well-known/ncen-node"
TRUST_PATH = "/federation/v1/trust"
BATCH_PATH = "/federation/v1/batch"
MSGPACK = "application/msgpack"
PEER_CACHE_SECONDS = 1.0


class ServiceError(Exception):
    """A request a user made that cannot be carried out; the message says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class RecordProblems(ServiceError):
    """Records that do not fit the catalog, with every problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s): {messages.describe(list(problems))}", 422)
        self.problems = list(problems)

    def to_json(self) -> list[dict[str, str | None]]:
        return [{"path": p.path, "code": str(p.code), "given": p.given, "expected": p.expected}
                for p in self.problems]


@dataclass(frozen=True, slots=True)
class OwnKey:
    keys: NodeKeys
    valid_until: int | None

    @property
    def kid(self) -> str:
        return self.keys.kid


class NodeServices:
    """One node's operations over its database and keys."""

    def __init__(self, config: Config, store: NodeStore, clock: Clock | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock or SystemClock()
        self.node_id: str = config["node"]["id"]
        self._own: list[OwnKey] = []
        self._signers: dict[str, Signer] = {}
        self._pairwise: dict[tuple[str, bytes], bytes] = {}
        self._peers: dict[str, tuple[float, PeerRow | None]] = {}
        self.catalog: Catalog = catalogs.newest(config.data_dir)
        #: The records databases, where records carried by arriving alerts are stored.
        self.records: RecordService | None = None
        self.node_lang: str = config["node"]["languages"][0]
        #: Called with a peer id after something was queued for it (the delivery wakes up).
        self.on_enqueued: Callable[[str], None] = lambda _peer: None

    @classmethod
    async def open(cls, config: Config, clock: Clock | None = None) -> NodeServices:
        store = await NodeStore.open(config.database_url,
                                     synchronous=config["storage"]["synchronous"])
        services = cls(config, store, clock)
        await services.reload_keys()
        return services

    async def close(self) -> None:
        await self.store.close()

    # -- peers -------------------------------------------------------------------------

    async def peer(self, node_id: str) -> PeerRow | None:
        """A peer as the door and the senders see it, cached for PEER_CACHE_SECONDS.

        Changes made through this process forget the entry at once; a change made by
        another process on the same database (the CLI) applies within that time."""
        hit = self._peers.get(node_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        row = await self.store.get_peer(node_id)
        self._peers[node_id] = (time.monotonic() + PEER_CACHE_SECONDS, row)
        return row

    def forget_peer(self, node_id: str) -> None:
        self._peers.pop(node_id, None)

    # -- own keys ----------------------------------------------------------------------

    async def reload_keys(self) -> bool:
        """Load our key generations from the database; True if they changed."""
        rows = await self.store.own_keys()
        if [r.kid for r in rows] == [k.kid for k in self._own] and all(
            r.valid_until == k.valid_until for r, k in zip(rows, self._own, strict=True)
        ):
            return False
        self._own = [
            OwnKey(load_keys(self.config.data_dir, r.kid), r.valid_until) for r in rows
        ]
        return True

    @property
    def current_key(self) -> OwnKey:
        for k in self._own:
            if k.valid_until is None:
                return k
        raise ServiceError("this node has no current key: run `ncen-node init`", 500)

    def own_key(self, kid: str) -> OwnKey | None:
        now = self.clock.now_ms()
        for k in self._own:
            if k.kid == kid and (k.valid_until is None or k.valid_until > now):
                return k
        return None

    def transport_key(self) -> OwnKey:
        """The key requests are signed with: the oldest still valid, so that peers that
        have not yet processed a rotation still recognise us during the grace period."""
        now = self.clock.now_ms()
        valid = [k for k in self._own if k.valid_until is None or k.valid_until > now]
        return valid[0] if valid else self.current_key

    def signer(self, key: OwnKey) -> Signer:
        s = self._signers.get(key.kid)
        if s is None:
            s = self._signers[key.kid] = Signer(key.keys.sign_secret)
        return s

    def shared_key(self, own: OwnKey, their_enc_public: bytes) -> bytes:
        cache_key = (own.kid, their_enc_public)
        k = self._pairwise.get(cache_key)
        if k is None:
            k = self._pairwise[cache_key] = pairwise_key(own.keys.enc_secret, their_enc_public)
        return k

    def keydoc(self, key: OwnKey | None = None) -> KeyDocument:
        key = key or self.current_key
        node = self.config["node"]
        return KeyDocument(
            node_id=self.node_id, name=node["name"], country=node["country"],
            languages=tuple(node["languages"]), url=node["url"],
            sign_public=key.keys.sign_public, enc_public=key.keys.enc_public,
            issued=self.clock.now_ms(),
        ).signed(self.signer(key))

    # -- composing and queueing --------------------------------------------------------

    def compose_for(
        self,
        peers: Sequence[PeerRow],
        payload: Mapping[str, Any],
        *,
        type: MessageType,
        tlp: TLP | str = TLP.AMBER,
        handling: Iterable[Handling] = (),
        evaluation: str | None = None,
        signing_key: OwnKey | None = None,
        catalog: int = 1,
        plaintext: bytes | None = None,
    ) -> Envelope:
        key = signing_key or self.current_key
        now = self.clock.now_ms()
        slots = {}
        for p in peers:
            theirs = p.current_key
            slots[p.node_id] = (theirs.kid, self.shared_key(key, theirs.enc_public))
        return compose(
            payload, type=type, sender=self.node_id, signer=self.signer(key), kid=key.kid,
            recipients=slots, now_ms=now, tlp=tlp, handling=handling, evaluation=evaluation,
            catalog=catalog, plaintext=plaintext,
            lifetime_ms=self.config["federation"]["message_lifetime_days"] * DAY_MS,
        )

    @staticmethod
    def outbox_rows(env: Envelope, peer_ids: Iterable[str]) -> list[NewOutbox]:
        raw = env.encode()
        return [
            NewOutbox(envelope_id=env.id, peer_id=p, type=env.type.value, envelope=raw,
                      created_at=env.created, expires_at=env.expires)
            for p in peer_ids
        ]

    async def approved_peers(self, ids: Sequence[str]) -> list[PeerRow]:
        if not ids:
            raise ServiceError("name at least one recipient")
        found = []
        for pid in dict.fromkeys(ids):
            peer = await self.store.get_peer(pid)
            if peer is None:
                raise ServiceError(f"unknown peer {pid!r}: see `ncen-node peer list`", 404)
            if peer.status != PeerStatus.APPROVED:
                raise ServiceError(f"peer {pid!r} is {peer.status}, not approved", 409)
            found.append(peer)
        return found

    async def send(
        self,
        to: Sequence[str],
        payload: Mapping[str, Any],
        *,
        type: str = MessageType.ALERT.value,
        tlp: str = TLP.AMBER.value,
        handling: Iterable[Mapping[str, str]] = (),
        evaluation: str | None = None,
        actor: str = "cli",
    ) -> str:
        """Queue one message for approved peers; return its envelope id at once."""
        ids = await self.send_many(
            [dict(to=to, payload=payload, type=type, tlp=tlp, handling=handling,
                  evaluation=evaluation)],
            actor=actor,
        )
        return ids[0]

    async def send_many(self, items: Sequence[Mapping[str, Any]], *, actor: str) -> list[str]:
        """Queue many messages in one transaction (each a dict of send()'s arguments)."""
        prepared: list[tuple[Envelope, list[PeerRow], bytes]] = []
        peer_cache: dict[str, PeerRow] = {}
        for n, m in enumerate(items):
            if n % 50 == 49:
                # Composing is CPU work: let answers and deliveries in between.
                await asyncio.sleep(0)
            to = list(m["to"])
            missing = [p for p in to if p not in peer_cache]
            for p in await self.approved_peers(missing) if missing else []:
                peer_cache[p.node_id] = p
            peers = [peer_cache[p] for p in dict.fromkeys(to)]
            mtype = _user_type(m.get("type", MessageType.ALERT.value))
            if not isinstance(m["payload"], Mapping):
                raise ServiceError("a message's payload is a JSON object")
            found = messages.problems(m["payload"], self.catalog)
            if found:
                raise RecordProblems(found)
            try:
                handling = [Handling(code=h["code"], text=h.get("text", ""))
                            for h in m.get("handling", ())]
                tlp = TLP(m.get("tlp", TLP.AMBER.value))
                plaintext = encode(dict(m["payload"]))
                env = self.compose_for(
                    peers, m["payload"], type=mtype, tlp=tlp, handling=handling,
                    evaluation=m.get("evaluation"), plaintext=plaintext,
                    catalog=_catalog_version(m["payload"], self.catalog.version),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ServiceError(f"message not valid: {exc}") from None
            except ProtocolError as exc:
                raise ServiceError(f"message not valid: {exc.detail or exc.reason}") from None
            prepared.append((env, peers, plaintext))
        sent_rows = [
            NewSent(envelope_id=env.id, type=env.type.value, recipients=env.recipients,
                    tlp=env.tlp.value, created_at=env.created, expires_at=env.expires,
                    payload=plain)
            for env, _, plain in prepared
        ]
        queued = [row for env, peers, _ in prepared
                  for row in self.outbox_rows(env, [p.node_id for p in peers])]
        if len(prepared) == 1:
            env = prepared[0][0]
            audit = dict(at=env.created, actor=actor, action="message.send", subject=env.id,
                         detail={"to": list(env.recipients), "type": env.type.value})
        else:
            audit = dict(at=self.clock.now_ms(), actor=actor, action="message.send_many",
                         subject=f"{len(prepared)} messages",
                         detail={"first": prepared[0][0].id, "last": prepared[-1][0].id})

        def write(tx: NodeTx) -> None:
            tx.record_sent(sent_rows)
            tx.enqueue(queued)
            tx.audit(**audit)

        await self.store.write(write)
        for p in {p.node_id for _, peers, _ in prepared for p in peers}:
            self.on_enqueued(p)
        return [env.id for env, _, _ in prepared]

    # -- trust -------------------------------------------------------------------------

    async def request_trust(self, url: str, *, actor: str = "cli") -> PeerRow:
        """Fetch a node's key document at url, pin it, and ask it for trust."""
        url = url.rstrip("/")
        timeout = aiohttp.ClientTimeout(total=self.config["federation"]["request_timeout_seconds"])
        try:
            async with aiohttp.ClientSession(timeout=timeout) as http:
                async with http.get(url + WELL_KNOWN) as resp:
                    if resp.status != 200:
                        raise ServiceError(f"{url} answered {resp.status} for its key document",
                                           502)
                    doc = decode_keydoc(bytes.fromhex((await resp.json())["document"]))
                if doc.node_id == self.node_id:
                    raise ServiceError("that URL is this node itself")
                existing = await self.store.get_peer(doc.node_id)
                new_status = transition(
                    PeerStatus(existing.status) if existing else None, PeerAction.REQUEST
                )
                now = self.clock.now_ms()

                def pin(tx: NodeTx) -> None:
                    self._pin(tx, doc, new_status, now, existing)
                    tx.audit(at=now, actor=actor, action="peer.request", subject=doc.node_id,
                             detail={"url": url, "fingerprint": doc.fingerprint})

                await self.store.write(pin)
                self.forget_peer(doc.node_id)
                body = self.keydoc().encode()
                headers = self.sign_headers("POST", doc.url.rstrip("/") + TRUST_PATH, body)
                async with http.post(doc.url.rstrip("/") + TRUST_PATH, data=body,
                                     headers=headers) as resp:
                    if resp.status >= 400:
                        answer = await resp.text()
                        raise ServiceError(
                            f"{doc.node_id} refused the trust request ({resp.status}): "
                            f"{answer[:300]}", 502)
        except aiohttp.ClientError as exc:
            raise ServiceError(f"cannot reach {url}: {exc}", 502) from None
        except ProtocolError as exc:
            raise ServiceError(f"{url} sent an invalid key document: {exc}", 502) from None
        except (ValueError, KeyError) as exc:
            raise ServiceError(f"{url} did not answer with a key document: {exc}", 502) from None
        peer = await self.store.get_peer(doc.node_id)
        assert peer is not None
        return peer

    @staticmethod
    def _pin(tx: NodeTx, doc: KeyDocument, status: PeerStatus, now: int,
             existing: PeerRow | None) -> None:
        # A pinned key never changes through a trust request: only through a rotation the
        # old key signs, or after an administrator refused the peer (and then approves
        # the new key anew).
        if existing and existing.keys and existing.status != PeerStatus.REFUSED:
            if existing.current_key.sign_public != doc.sign_public:
                raise ProtocolError(
                    Reason.BAD_KEY_DOCUMENT,
                    f"{doc.node_id} is pinned to another key; keys change only through a "
                    "signed rotation",
                )
        tx.upsert_peer(
            node_id=doc.node_id, name=doc.name, country=doc.country, languages=doc.languages,
            url=doc.url, status=status.value, fingerprint=doc.fingerprint, now_ms=now,
        )
        tx.add_peer_key(doc.node_id, doc.kid, doc.sign_public, doc.enc_public, now,
                        retire_others_at=None)

    async def receive_trust_request(self, doc: KeyDocument) -> PeerStatus:
        """A node asks us for trust (its request signature already checked by the caller)."""
        existing = await self.store.get_peer(doc.node_id)
        if existing and existing.status == PeerStatus.APPROVED:
            if existing.current_key.sign_public == doc.sign_public:
                return PeerStatus.APPROVED
        new_status = transition(
            PeerStatus(existing.status) if existing else None, PeerAction.RECEIVE_REQUEST
        )
        now = self.clock.now_ms()

        def pin(tx: NodeTx) -> None:
            self._pin(tx, doc, new_status, now, existing)
            tx.audit(at=now, actor=doc.node_id, action="peer.trust_requested",
                     subject=doc.node_id, detail={"fingerprint": doc.fingerprint})

        await self.store.write(pin)
        self.forget_peer(doc.node_id)
        log.info("trust request from %s (%s), fingerprint %s", doc.node_id, doc.name,
                 doc.fingerprint)
        return new_status

    async def change_peer(self, peer_id: str, action: PeerAction, *, reason: str = "",
                          actor: str = "cli") -> PeerRow:
        """Approve, refuse, suspend, resume or revoke a peer."""
        peer = await self.store.get_peer(peer_id)
        if peer is None:
            raise ServiceError(f"unknown peer {peer_id!r}", 404)
        try:
            new_status = transition(PeerStatus(peer.status), action)
        except ProtocolError as exc:
            raise ServiceError(exc.detail, 409) from None
        now = self.clock.now_ms()
        envelope = None
        if action is PeerAction.APPROVE:
            envelope = self.compose_for([peer], {"keydoc": self.keydoc().encode()},
                                        type=MessageType.TRUST_APPROVE, tlp=TLP.CLEAR)
        elif action is PeerAction.REFUSE:
            envelope = self.compose_for([peer], {"reason": reason},
                                        type=MessageType.TRUST_REFUSE, tlp=TLP.CLEAR)
        self.forget_peer(peer_id)

        def change(tx: NodeTx) -> None:
            tx.set_peer_status(peer_id, new_status.value, reason, now)
            if envelope is not None:
                tx.enqueue(self.outbox_rows(envelope, [peer_id]))
            if action is PeerAction.REVOKE:
                tx.abandon_for_peer(peer_id, "peer revoked")
            tx.audit(at=now, actor=actor, action=f"peer.{action.value}", subject=peer_id,
                     detail={"reason": reason, "from": peer.status, "to": new_status.value})

        await self.store.write(change)
        self.forget_peer(peer_id)
        if envelope is not None or action is PeerAction.RESUME:
            self.on_enqueued(peer_id)
        updated = await self.store.get_peer(peer_id)
        assert updated is not None
        return updated

    # -- catalog -----------------------------------------------------------------------

    async def publish_catalog(self, source: Path, *, actor: str = "cli") -> tuple[int, int]:
        """As the catalog authority: install a newer catalog and send it, signed, to every
        approved peer. Returns (version, peers told)."""
        if self.config["catalog"]["authority"] != self.node_id:
            raise ServiceError("only the catalog authority publishes catalogs; this node is "
                               f"not it (catalog.authority = "
                               f"{self.config['catalog']['authority']!r})", 403)
        try:
            payload = catalogs.package(source)
            self.catalog = catalogs.install(self.config.data_dir, payload, self.catalog)
        except ProtocolError as exc:
            raise ServiceError(f"{source}: {exc.detail}") from None
        except OSError as exc:
            raise ServiceError(f"{source}: {exc}") from None
        peers = await self.store.list_peers(PeerStatus.APPROVED.value)
        envs = [self.compose_for([p], payload, type=MessageType.CATALOG_UPDATE, tlp=TLP.CLEAR)
                for p in peers]
        now = self.clock.now_ms()

        def publish(tx: NodeTx) -> None:
            for env, p in zip(envs, peers, strict=True):
                tx.enqueue(self.outbox_rows(env, [p.node_id]))
            tx.audit(at=now, actor=actor, action="catalog.publish",
                     subject=str(payload["version"]), detail={"to": [p.node_id for p in peers]})

        await self.store.write(publish)
        for p in peers:
            self.on_enqueued(p.node_id)
        return payload["version"], len(peers)

    # -- keys --------------------------------------------------------------------------

    async def rotate_keys(self, *, actor: str = "cli") -> tuple[OwnKey, int]:
        """Make new keys, announce them to every approved peer signed by the old key.

        The old key stays valid for the grace period; returns (new key, peers told)."""
        old = self.current_key
        new_keys = NodeKeys.generate()
        save_keys(self.config.data_dir, new_keys)
        now = self.clock.now_ms()
        grace_until = now + int(self.config["keys"]["rotation_grace_days"] * DAY_MS)
        new = OwnKey(new_keys, None)
        announcement = {"keydoc": self.keydoc(new).encode(), "grace_until": grace_until}
        peers = await self.store.list_peers(PeerStatus.APPROVED.value)
        envs = [
            self.compose_for([p], announcement, type=MessageType.KEY_ROTATE, tlp=TLP.CLEAR,
                             signing_key=old)
            for p in peers
        ]

        def rotate(tx: NodeTx) -> None:
            tx.add_own_key(new_keys.kid, new_keys.sign_public, new_keys.enc_public, now,
                           retire_others_at=grace_until)
            for env, p in zip(envs, peers, strict=True):
                tx.enqueue(self.outbox_rows(env, [p.node_id]))
            tx.audit(at=now, actor=actor, action="keys.rotate", subject=new_keys.kid,
                     detail={"old": old.kid, "grace_until": grace_until,
                             "announced_to": [p.node_id for p in peers]})

        await self.store.write(rotate)
        await self.reload_keys()
        for p in peers:
            self.on_enqueued(p.node_id)
        return new, len(peers)

    # -- requests ----------------------------------------------------------------------

    def sign_headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        key = self.transport_key()
        return transport.sign_request(
            method=method, url=url, headers={"Content-Type": MSGPACK}, body=body,
            node_id=self.node_id, kid=key.kid, sign_secret=key.keys.sign_secret,
            now=to_datetime(self.clock.now_ms()),
        )

    # -- reading -----------------------------------------------------------------------

    async def inbox(self, *, limit: int = 100, unread_only: bool = False,
                    lang: str | None = None) -> list[dict[str, Any]]:
        """Received alerts and bulletins, newest first; rendered in lang when given."""
        rows = await self.store.list_received(
            types=[MessageType.ALERT.value, MessageType.BULLETIN.value], limit=limit,
            unread_only=unread_only,
        )
        out = []
        for r in rows:
            payload = decode(r.payload)
            item = {"id": r.envelope_id, "from": r.origin, "type": r.type, "tlp": r.tlp,
                    "catalog": r.catalog, "created_at": r.created_at,
                    "received_at": r.received_at, "via": r.via, "read_at": r.read_at,
                    "payload": _jsonable(payload)}
            if lang:
                item["rendered"] = messages.rendered(payload, lang, catalog=self.catalog,
                                                     node_lang=self.node_lang)
            out.append(item)
        return out

    async def mark_read(self, envelope_id: str, *, actor: str = "cli") -> bool:
        """Mark a received message read and send a signed read receipt to its originator."""
        row = await self.store.get_received(envelope_id)
        if row is None:
            raise ServiceError(f"no message {envelope_id} in the inbox", 404)
        now = self.clock.now_ms()
        peer = await self.store.get_peer(row.origin)
        env = None
        if peer is not None and peer.status == PeerStatus.APPROVED:
            env = self.compose_for([peer], {"kind": "read", "ids": [envelope_id]},
                                   type=MessageType.RECEIPT, tlp=TLP.CLEAR)

        def read(tx: NodeTx) -> bool:
            changed = tx.mark_read(row.origin, envelope_id, now)
            if changed and env is not None:
                tx.enqueue(self.outbox_rows(env, [row.origin]))
            if changed:
                tx.audit(at=now, actor=actor, action="message.read", subject=envelope_id)
            return changed

        changed = await self.store.write(read)
        if changed and env is not None:
            self.on_enqueued(row.origin)
        return changed

    async def outbox(self, *, state: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self.store.list_outbox(state=state, limit=limit)
        receipts = await self.store.receipts_for([r.envelope_id for r in rows])
        return [
            {"seq": r.seq, "id": r.envelope_id, "to": r.peer_id, "type": r.type,
             "state": r.state, "attempts": r.attempts, "next_attempt_at": r.next_attempt_at,
             "created_at": r.created_at, "delivered_at": r.delivered_at,
             "last_error": r.last_error,
             "receipts": [x for x in receipts.get(r.envelope_id, []) if x["peer"] == r.peer_id]}
            for r in rows
        ]

    async def retry_dead(self, *, peer_id: str | None = None, envelope_id: str | None = None,
                         actor: str = "cli") -> int:
        now = self.clock.now_ms()

        def retry(tx: NodeTx) -> int:
            n = tx.retry_dead(now, peer_id=peer_id, envelope_id=envelope_id)
            tx.audit(at=now, actor=actor, action="outbox.retry", subject=peer_id or "*",
                     detail={"count": n, "envelope": envelope_id})
            return n

        n = await self.store.write(retry)
        for p in await self.store.peers_with_pending():
            self.on_enqueued(p)
        return n


def _catalog_version(payload: Mapping[str, Any], ours: int) -> int:
    """The catalog version an envelope names: its alert record's, else ours."""
    record = payload.get("record")
    version = record.get("catalog_version") if isinstance(record, Mapping) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else ours


def _user_type(value: str) -> MessageType:
    """Types an officer may send; the others are the node's own."""
    allowed = {MessageType.ALERT.value, MessageType.BULLETIN.value}
    if value not in allowed:
        raise ServiceError(f"message type must be one of {sorted(allowed)}, not {value!r}")
    return MessageType(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value

