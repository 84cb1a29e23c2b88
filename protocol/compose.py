"""Building an envelope from a payload, and reading the payload of one received."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from . import codec
from .crypto import Signer, open_sealed, seal
from .envelope import TLP, Envelope, Handling, MessageType, new_envelope_id
from .errors import ProtocolError, Reason

MAX_PAYLOAD_SIZE = 900 * 1024

DEFAULT_LIFETIME_MS = 30 * 24 * 3600 * 1000


def compose(
    payload: Mapping[str, Any],
    *,
    type: MessageType | str,
    sender: str,
    signer: Signer,
    kid: str,
    recipients: Mapping[str, tuple[str, bytes]],
    now_ms: int,
    tlp: TLP | str = TLP.AMBER,
    catalog: int = 1,
    lifetime_ms: int = DEFAULT_LIFETIME_MS,
    handling: Iterable[Handling] = (),
    evaluation: str | None = None,
    addressed_to: Iterable[str] | None = None,
    envelope_id: str | None = None,
    plaintext: bytes | None = None,
) -> Envelope:
    """Seal payload for recipients {node id: (their kid, pairwise key)} and sign it.

    ``addressed_to`` names the envelope's recipients when they differ from the key
    holders (a group id a hub expands); by default they are the key holders.
    ``plaintext`` is the payload already encoded (``codec.encode(payload)``), when the
    caller needs those bytes too.
    """
    if plaintext is None:
        plaintext = codec.encode(dict(payload))
    if len(plaintext) > MAX_PAYLOAD_SIZE:
        raise ProtocolError(Reason.TOO_LARGE, f"payload of {len(plaintext)} bytes is too large")
    eid = envelope_id or new_envelope_id(now_ms)
    sealed = seal(plaintext, envelope_id=eid, originator=sender, recipients=dict(recipients))
    env = Envelope(
        id=eid,
        type=type,  # checked and made a MessageType by the envelope
        sender=sender,
        kid=kid,
        recipients=tuple(addressed_to if addressed_to is not None else recipients),
        created=now_ms,
        expires=now_ms + lifetime_ms,
        tlp=tlp,
        handling=tuple(handling),
        evaluation=evaluation,
        catalog=catalog,
        sealed=sealed,
    )
    return env.signed(signer)


def read_payload(env: Envelope, *, recipient: str, shared_key: bytes) -> dict[str, Any]:
    """Decrypt and decode our copy of the payload (the envelope's signature already checked)."""
    plaintext = open_sealed(
        env.sealed,
        envelope_id=env.id,
        originator=env.sender,
        recipient=recipient,
        shared_key=shared_key,
    )
    try:
        payload = codec.decode(plaintext, max_size=MAX_PAYLOAD_SIZE)
    except ProtocolError as exc:
        raise ProtocolError(Reason.BAD_PAYLOAD, f"payload: {exc.detail}") from exc
    if not isinstance(payload, dict):
        raise ProtocolError(Reason.BAD_PAYLOAD, "a payload is a map")
    return payload
