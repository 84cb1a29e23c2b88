"""Retry timing: exponential, jittered, capped (all of it in one place)."""

from node.delivery import PERMANENT, Backoff
from protocol import Reason


def test_retry_delays_grow_by_the_multiplier_with_jitter_and_stop_at_the_maximum():
    backoff = Backoff(initial_ms=1000, multiplier=2, max_ms=60_000)
    for attempts, base in [(1, 1000), (2, 2000), (3, 4000), (6, 32_000), (7, 60_000),
                           (30, 60_000)]:
        delays = [backoff.delay_ms(attempts) for _ in range(200)]
        assert all(0.8 * base <= d <= 1.4 * base for d in delays), (attempts, min(delays))
        assert len(set(delays)) > 1  # jittered, so peers do not retry in lockstep


def test_only_rejections_no_retry_can_cure_are_permanent():
    assert Reason.BAD_SIGNATURE in PERMANENT and Reason.EXPIRED in PERMANENT
    for transient in (Reason.PEER_SUSPENDED, Reason.UNKNOWN_KEY, Reason.UNTRUSTED_SENDER,
                      Reason.PEER_PENDING, Reason.DUPLICATE):
        assert transient not in PERMANENT
