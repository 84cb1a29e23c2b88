"""The wire format of ncen-node: pure, bytes in and typed messages out, and back.

Nothing here touches a socket, a file, a database or a clock: times and keys are
arguments, so every rule is unit-tested with fixed values.
"""

from . import transport  # noqa: F401  (re-exported module)
from .batch import (
    MAX_BATCH_SIZE,
    Batch,
    BatchResult,
    EnvelopeResult,
    Outcome,
    decode_batch,
    decode_batch_result,
)
from .codec import decode, encode
from .compose import compose, read_payload
from .crypto import NodeKeys, Sealed, Signer, fingerprint, key_id, open_sealed, pairwise_key, seal
from .envelope import (
    FORMAT_VERSION,
    TLP,
    Envelope,
    Handling,
    HandlingCode,
    Hop,
    MessageType,
    decode_envelope,
    new_envelope_id,
)
from .errors import DecodeError, ProtocolError, Reason, SignatureError
from .keydoc import KeyDocument, decode_keydoc
from .peerstate import PeerAction, PeerStatus, transition

__all__ = [
    "FORMAT_VERSION", "MAX_BATCH_SIZE", "TLP", "Batch", "BatchResult", "DecodeError", "Envelope",
    "EnvelopeResult", "Handling", "HandlingCode", "Hop", "KeyDocument", "MessageType",
    "NodeKeys", "Outcome", "PeerAction", "PeerStatus", "ProtocolError", "Reason", "Sealed",
    "SignatureError", "Signer", "compose", "decode", "decode_batch", "decode_batch_result",
    "decode_envelope", "decode_keydoc", "encode", "fingerprint", "key_id", "new_envelope_id",
    "open_sealed", "pairwise_key", "read_payload", "seal", "transition",
]
