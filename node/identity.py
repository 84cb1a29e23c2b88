"""The node's secret material on disk: key files (mode 0600) and the local API token.

Each key generation is ``keys/KID.key`` holding the Ed25519 seed and the X25519
secret (64 bytes). Files are written to a temporary name, synced and renamed, so a
crash never leaves half a key. Secrets are never logged.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from protocol import NodeKeys

KEYS_DIR = "keys"
TOKEN_FILE = "api-token"


def write_secret(path: Path, data: bytes) -> None:
    """Write data to path atomically with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def save_keys(data_dir: Path, keys: NodeKeys) -> Path:
    path = Path(data_dir) / KEYS_DIR / f"{keys.kid}.key"
    write_secret(path, keys.sign_secret + keys.enc_secret)
    return path


def load_keys(data_dir: Path, kid: str) -> NodeKeys:
    path = Path(data_dir) / KEYS_DIR / f"{kid}.key"
    raw = path.read_bytes()
    if len(raw) != 64:
        raise ValueError(f"{path}: a key file holds 64 bytes, this one {len(raw)}")
    keys = NodeKeys(sign_secret=raw[:32], enc_secret=raw[32:])
    if keys.kid != kid:
        raise ValueError(f"{path}: holds key {keys.kid}, not {kid}")
    return keys


def new_api_token(data_dir: Path) -> str:
    token = secrets.token_urlsafe(32)
    write_secret(Path(data_dir) / TOKEN_FILE, token.encode())
    return token


def read_api_token(data_dir: Path) -> str:
    return (Path(data_dir) / TOKEN_FILE).read_text().strip()
