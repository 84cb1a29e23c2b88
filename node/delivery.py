"""Reliable delivery: a durable outbox, one sender per peer, batches, backoff, dead letters.

Design (after Synapse's federation sender):

* The outbox table is the truth. Sending only writes rows (in the transaction that
  records the message) and wakes the peer's sender; nothing lives only in memory, so a
  restart resumes exactly where the database says.
* One ``PeerSender`` per peer keeps up to ``window`` signed batches of ``batch_size``
  in flight: as soon as one is answered (and its outcome recorded), the next due rows
  go out, so the peer never waits for the slowest batch of a round. A cursor over the
  outbox sequence keeps rows in flight from being read twice; when nothing is due
  beyond it, the loop ends, and a wake-up that came meanwhile starts it again from the
  beginning of the queue (where retried rows become due). Order between batches in
  flight is not kept: every envelope stands alone, and one that arrives before what it
  depends on (a rotated key, an approval) is refused with a transient reason and retried.
* Outcomes: accepted and duplicate rows are delivered (the receiver committed them);
  a permanent rejection (the envelope itself is wrong) is marked rejected with its
  reason; anything else (network error, 5xx, the peer not trusting us yet) is retried
  with exponential backoff and jitter until ``give_up_days`` after queueing, when the
  row becomes a dead letter that an administrator can list and retry.
* A poll every ``poll_interval_seconds`` wakes peers whose retries are due and picks up
  rows queued by another process (the CLI) on the same database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass

import aiohttp

from protocol import (
    MAX_BATCH_SIZE,
    Batch,
    Outcome,
    PeerStatus,
    ProtocolError,
    Reason,
    decode_batch_result,
    new_envelope_id,
)
from storage.nodestore import NodeTx, OutboxRow, PeerRow

from . import inbound
from .clock import DAY_MS
from .services import BATCH_PATH, MSGPACK, NodeServices

log = logging.getLogger("ncen.delivery")

#: Rejections that no retry can cure: the envelope itself is wrong.
PERMANENT = frozenset({
    Reason.BAD_ENCODING, Reason.NON_CANONICAL, Reason.BAD_FIELD, Reason.BAD_SIGNATURE,
    Reason.BAD_PAYLOAD, Reason.EXPIRED, Reason.TOO_LARGE, Reason.UNSUPPORTED_VERSION,
    Reason.UNSUPPORTED_TYPE, Reason.NOT_A_RECIPIENT, Reason.CONFLICT, Reason.SENDER_MISMATCH,
    Reason.BAD_KEY_DOCUMENT,
})

#: Bytes of envelopes in one POST: half the protocol's batch limit, so a batch of large
#: messages (photos) is cut short instead of refused as too large. A single envelope
#: (at most 1 MiB) always fits.
BATCH_BYTES = MAX_BATCH_SIZE // 2


def within_bytes(rows: list[OutboxRow], budget: int) -> list[OutboxRow]:
    """The first rows whose envelopes add up to at most budget bytes (at least one)."""
    total = 0
    for i, row in enumerate(rows):
        total += len(row.envelope)
        if total > budget and i > 0:
            return rows[:i]
    return rows


#: What may be sent to a peer in each status (None: everything).
SENDABLE: dict[str, frozenset[str] | None] = {
    PeerStatus.APPROVED.value: None,
    PeerStatus.PENDING.value: frozenset(),
    PeerStatus.REQUESTED.value: frozenset(),
    PeerStatus.SUSPENDED.value: frozenset(),
    PeerStatus.REFUSED.value: frozenset({"trust.refuse"}),
    PeerStatus.REVOKED.value: frozenset(),
}


@dataclass(frozen=True)
class Backoff:
    """All retry timing in one place."""

    initial_ms: int
    multiplier: float
    max_ms: int

    @classmethod
    def from_config(cls, section: dict) -> Backoff:
        return cls(
            initial_ms=int(section["initial_backoff_seconds"] * 1000),
            multiplier=float(section["backoff_multiplier"]),
            max_ms=int(section["max_backoff_seconds"] * 1000),
        )

    def delay_ms(self, attempts: int) -> int:
        """Delay before the next try after `attempts` failures, with jitter."""
        base = min(self.max_ms, self.initial_ms * self.multiplier ** max(0, attempts - 1))
        return int(base * random.uniform(0.8, 1.4))


class PeerSender:
    """The single transmission loop towards one peer."""

    def __init__(self, manager: DeliveryManager, peer_id: str) -> None:
        self.manager = manager
        self.peer_id = peer_id
        self._wanted = False
        self._task: asyncio.Task[None] | None = None
        #: Set when a POST failed as a whole (no answer, or not ours); cleared, and the
        #: back-offs of the outage cut short, by the next answer.
        self._unreachable = False

    def wake(self) -> None:
        self._wanted = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"deliver:{self.peer_id}")

    async def _run(self) -> None:
        try:
            while self._wanted:
                self._wanted = False
                await self._drain()
        except asyncio.CancelledError:
            raise
        except Exception:  # never let one peer's failure kill delivery for good
            log.exception("delivery to %s failed unexpectedly", self.peer_id)

    async def _drain(self) -> None:
        """Send every row due now, keeping up to ``window`` batches in flight."""
        cursor = 0
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while True:
                while len(in_flight) < self.manager.window:
                    taken = await self._take(cursor)
                    if taken is None:
                        break
                    peer, rows = taken
                    cursor = rows[-1].seq
                    in_flight.add(asyncio.create_task(self._transmit(peer, rows)))
                if not in_flight:
                    return
                done, in_flight = await asyncio.wait(in_flight,
                                                     return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()  # an unexpected error ends this round (and is logged)
        finally:
            for task in in_flight:
                task.cancel()

    async def _take(self, cursor: int) -> tuple[PeerRow, list[OutboxRow]] | None:
        """The next batch of rows due after the cursor, or None when there is none."""
        services = self.manager.services
        while True:
            now = services.clock.now_ms()
            peer = await services.peer(self.peer_id)
            if peer is None:
                return None
            if peer.status == PeerStatus.REVOKED.value:
                await services.store.write(
                    lambda tx: tx.abandon_for_peer(self.peer_id, "peer revoked"))
                return None
            rows = await services.store.due(self.peer_id, now, self.manager.batch_size,
                                            after_seq=cursor)
            if not rows:
                return None
            give_up = self.manager.give_up_ms
            expired = [r for r in rows if now - r.created_at > give_up or r.expires_at <= now]
            if expired:
                reason = (f"gave up after {self.manager.give_up_days:g} days: "
                          f"{expired[0].last_error}")
                await services.store.write(
                    lambda tx, seqs=[r.seq for r in expired], why=reason: tx.mark_dead(seqs, why))
                continue
            allowed = SENDABLE.get(peer.status)
            if allowed is not None:
                rows = [r for r in rows if r.type in allowed]
                if not rows:
                    return None
            return peer, within_bytes(rows, BATCH_BYTES)

    async def _transmit(self, peer: PeerRow, rows: list[OutboxRow]) -> None:
        services = self.manager.services
        target = peer.url.rstrip("/") + BATCH_PATH
        body = Batch(txn=new_envelope_id(services.clock.now_ms()), sender=services.node_id,
                     envelopes=tuple(r.envelope for r in rows)).encode()
        headers = services.sign_headers("POST", target, body)
        try:
            async with self.manager.http.post(target, data=body, headers=headers) as resp:
                answer = await resp.read()
                ctype = resp.headers.get("Content-Type", "")
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            self._unreachable = True
            await self._retry(rows, f"cannot reach peer: {type(exc).__name__}: {exc}")
            return
        if ctype.startswith(MSGPACK):
            try:
                result = decode_batch_result(answer)
            except ProtocolError as exc:
                await self._retry(rows, f"unreadable answer: {exc}")
                return
            receipts = []
            if result.receipt:
                try:
                    receipts = inbound.open_receipt(services, peer, result.receipt)
                except ProtocolError as exc:
                    log.warning("inline receipt from %s refused: %s", self.peer_id, exc)
            await self._record(rows, result.results, receipts)
        else:
            self._unreachable = True
            await self._retry(rows, f"HTTP {status}: {answer[:300].decode(errors='replace')}")

    async def _record(self, rows: list[OutboxRow], results, receipts) -> None:
        services = self.manager.services
        now = services.clock.now_ms()
        # The peer answers again after an outage: what waits on a back-off from it goes
        # now, not one back-off at a time (the next round starts from the queue's head).
        recovered, self._unreachable = self._unreachable, False
        delivered, rejected, retry, reasons = [], [], [], set()
        by_index = {r.index: r for r in results}
        for i, row in enumerate(rows):
            r = by_index.get(i)
            if r is None:
                retry.append(row)
                reasons.add("no result for the envelope")
            elif r.outcome in (Outcome.ACCEPTED, Outcome.DUPLICATE):
                delivered.append(row.seq)
            elif r.reason in PERMANENT:
                rejected.append((row.seq, f"{r.reason}: {r.detail}"))
                log.warning("peer %s rejected %s: %s %s", self.peer_id, row.envelope_id,
                            r.reason, r.detail)
            else:
                retry.append(row)
                reasons.add(r.reason)

        def record(tx: NodeTx) -> int:
            tx.mark_delivered(delivered, now)
            tx.mark_rejected(rejected)
            tx.add_receipts(receipts)
            return tx.due_now(self.peer_id, now) if recovered else 0

        woken = await services.store.write(record)
        if woken:
            log.info("%s answers again: %d message(s) retried now", self.peer_id, woken)
            self._wanted = True
        if retry:
            await self._retry(retry, "; ".join(sorted(reasons)))
        self.manager.delivered += len(delivered)

    async def _retry(self, rows: list[OutboxRow], error: str) -> None:
        services = self.manager.services
        now = services.clock.now_ms()
        attempts = max(r.attempts for r in rows) + 1
        when = now + self.manager.backoff.delay_ms(attempts)
        log.info("delivery to %s failed (%s); %d message(s) retried in %.1f s", self.peer_id,
                 error, len(rows), (when - now) / 1000)
        await services.store.write(
            lambda tx: tx.mark_retry([r.seq for r in rows], next_attempt_at=when, error=error))


class DeliveryManager:
    """Owns the per-peer senders, the HTTP client session and the outbox poll."""

    def __init__(self, services: NodeServices) -> None:
        self.services = services
        cfg = services.config["delivery"]
        self.batch_size: int = cfg["batch_size"]
        self.window: int = cfg["window"]
        self.backoff = Backoff.from_config(cfg)
        self.give_up_days: float = cfg["give_up_days"]
        self.give_up_ms = int(self.give_up_days * DAY_MS)
        self.poll_s: float = cfg["poll_interval_seconds"]
        self.delivered = 0
        self._senders: dict[str, PeerSender] = {}
        self._poll_task: asyncio.Task[None] | None = None
        self.http: aiohttp.ClientSession

    async def start(self) -> None:
        timeout = aiohttp.ClientTimeout(
            total=self.services.config["federation"]["request_timeout_seconds"]
        )
        self.http = aiohttp.ClientSession(timeout=timeout)
        self.services.on_enqueued = self.wake
        self._poll_task = asyncio.create_task(self._poll(), name="outbox-poll")

    def wake(self, peer_id: str) -> None:
        sender = self._senders.get(peer_id)
        if sender is None:
            sender = self._senders[peer_id] = PeerSender(self, peer_id)
        sender.wake()

    async def _poll(self) -> None:
        while True:
            try:
                await self.services.reload_keys()
                now = self.services.clock.now_ms()
                for peer_id, due in (await self.services.store.peers_with_pending()).items():
                    if due <= now:
                        self.wake(peer_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox poll failed")
            await asyncio.sleep(self.poll_s)

    async def stop(self) -> None:
        self.services.on_enqueued = lambda _peer: None
        tasks = [t for t in [self._poll_task, *(s._task for s in self._senders.values())] if t]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await self.http.close()
