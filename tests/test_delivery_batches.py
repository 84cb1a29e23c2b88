"""How the sender cuts the queue into batches."""

from node.delivery import BATCH_BYTES, within_bytes
from protocol import MAX_BATCH_SIZE
from storage.nodestore import OutboxRow


def row(seq: int, size: int) -> OutboxRow:
    return OutboxRow(seq=seq, envelope_id=f"e{seq}", peer_id="fr-douane", type="alert",
                     envelope=b"x" * size, state="pending", attempts=0, next_attempt_at=0,
                     created_at=0, expires_at=1, last_error="", delivered_at=None)


def test_small_envelopes_all_go_in_one_batch():
    rows = [row(i, 1000) for i in range(100)]
    assert within_bytes(rows, BATCH_BYTES) == rows


def test_large_envelopes_are_cut_to_the_byte_budget_in_queue_order():
    rows = [row(i, 900 * 1024) for i in range(100)]
    taken = within_bytes(rows, BATCH_BYTES)
    assert taken == rows[: len(taken)]
    assert sum(len(r.envelope) for r in taken) <= BATCH_BYTES < MAX_BATCH_SIZE
    assert sum(len(r.envelope) for r in rows[: len(taken) + 1]) > BATCH_BYTES


def test_one_envelope_larger_than_the_budget_still_goes_alone():
    rows = [row(1, 10), row(2, 10)]
    assert within_bytes(rows, 5) == rows[:1]
