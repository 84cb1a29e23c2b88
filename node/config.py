"""The node's configuration: one TOML file, every key typed, documented and defaulted.

``config.example.toml`` documents every key in ``SCHEMA`` (a test keeps them in step).
A wrong key, a wrong type or an unreadable file stops start-up with ``ConfigError``
naming the file, the key and what was expected.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_NAME = "config.toml"


class ConfigError(Exception):
    """A configuration that cannot be used; the message names file, key and expectation."""


@dataclass(frozen=True)
class Key:
    type: type | tuple[type, ...]
    default: Any
    doc: str
    pattern: str | None = None
    minimum: float | None = None


SCHEMA: dict[str, dict[str, Key]] = {
    "node": {
        "id": Key(str, None, "short node id, e.g. es-aduana", r"^[a-z0-9][a-z0-9-]{1,62}$"),
        "name": Key(str, None, "the administration's name"),
        "country": Key(str, None, "ISO 3166-1 alpha-2 country code", r"^[A-Z]{2}$"),
        "languages": Key(list, ["en"], "languages of the node's officers (ISO 639-1)"),
        "url": Key(str, None, "the URL peers use to reach this node", r"^https?://"),
    },
    "server": {
        "listen": Key(str, "127.0.0.1:8470", "HOST:PORT to listen on", r"^[^:]+:\d{1,5}$"),
        "max_body_bytes": Key(int, 8 << 20, "largest federation request accepted", None, 1024),
    },
    "storage": {
        "url": Key(str, "", "database URL; empty: SQLite file node.db in the data folder"),
        "cases_url": Key(str, "", "cases database URL; empty: SQLite file cases.db in the data "
                         "folder"),
        "persons_url": Key(str, "", "persons database URL; empty: SQLite file persons.db in the "
                           "data folder"),
        "entities_url": Key(str, "", "business entities database URL; empty: SQLite file "
                            "entities.db in the data folder"),
        "synchronous": Key(str, "NORMAL", "SQLite synchronous mode: NORMAL or FULL",
                           r"^(NORMAL|FULL)$"),
    },
    "federation": {
        "clock_skew_seconds": Key(int, 300, "how far in the future an envelope may be dated",
                                  None, 0),
        "message_lifetime_days": Key(int, 30, "default lifetime of a message", None, 1),
        "request_timeout_seconds": Key(int, 30, "timeout of one federation request", None, 1),
    },
    "delivery": {
        "batch_size": Key(int, 200, "envelopes per federation POST (at most 200)", None, 1),
        "window": Key(int, 4, "batches in flight at once towards one peer", None, 1),
        "initial_backoff_seconds": Key((int, float), 1, "first retry delay", None, 0),
        "max_backoff_seconds": Key((int, float), 3600, "longest retry delay", None, 1),
        "backoff_multiplier": Key((int, float), 2, "growth of the retry delay", None, 1),
        "give_up_days": Key((int, float), 7, "after this, a message is dead-lettered", None, 0),
        "poll_interval_seconds": Key((int, float), 1,
                                     "how often the outbox is checked for work queued by "
                                     "other processes", None, 0.01),
    },
    "catalog": {
        "authority": Key(str, "", "node id whose signed catalog updates are accepted; empty: "
                                  "none"),
    },
    "keys": {
        "rotation_grace_days": Key((int, float), 7, "how long a rotated key stays valid",
                                   None, 0),
    },
    "log": {
        "level": Key(str, "INFO", "DEBUG, INFO, WARNING or ERROR",
                     r"^(DEBUG|INFO|WARNING|ERROR)$"),
        "file": Key(str, "node.log", "log file in the data folder; empty: standard error"),
    },
}

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", list: "a list",
               bool: "true or false"}


def _type_name(t: type | tuple[type, ...]) -> str:
    if isinstance(t, tuple):
        return "a number"
    return _TYPE_NAMES.get(t, t.__name__)


@dataclass(frozen=True)
class Config:
    """A validated configuration: ``config["delivery"]["batch_size"]``."""

    path: Path
    data_dir: Path
    values: dict[str, dict[str, Any]]

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.values[section]

    @property
    def database_url(self) -> str:
        return self.values["storage"]["url"] or f"sqlite+aiosqlite:///{self.data_dir / 'node.db'}"

    @property
    def cases_url(self) -> str:
        return self._record_url("cases")

    @property
    def persons_url(self) -> str:
        return self._record_url("persons")

    @property
    def entities_url(self) -> str:
        return self._record_url("entities")

    def _record_url(self, name: str) -> str:
        return (self.values["storage"][f"{name}_url"]
                or f"sqlite+aiosqlite:///{self.data_dir / f'{name}.db'}")

    @property
    def listen(self) -> tuple[str, int]:
        host, _, port = self.values["server"]["listen"].rpartition(":")
        return host, int(port)


def validate(raw: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    """Check every key and type; fill in defaults; raise ConfigError on the first problem."""
    out: dict[str, dict[str, Any]] = {}
    for section in raw:
        if section not in SCHEMA:
            raise ConfigError(f"{path}: unknown section [{section}] "
                              f"(known: {', '.join(SCHEMA)})")
        if not isinstance(raw[section], dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
    for section, keys in SCHEMA.items():
        given = raw.get(section, {})
        for name in given:
            if name not in keys:
                raise ConfigError(f"{path}: unknown key {section}.{name} "
                                  f"(known: {', '.join(keys)})")
        values: dict[str, Any] = {}
        for name, key in keys.items():
            where = f"{path}: {section}.{name}"
            if name not in given:
                if key.default is None:
                    raise ConfigError(f"{where} is required ({key.doc})")
                values[name] = key.default
                continue
            value = given[name]
            if not isinstance(value, key.type) or isinstance(value, bool) and key.type is not bool:
                raise ConfigError(f"{where}: expected {_type_name(key.type)} ({key.doc}), "
                                  f"got {value!r}")
            if key.pattern and not re.search(key.pattern, value):
                raise ConfigError(f"{where}: {value!r} is not valid ({key.doc})")
            if key.minimum is not None and value < key.minimum:
                raise ConfigError(f"{where}: must be at least {key.minimum}, got {value!r}")
            values[name] = value
        out[section] = values
    if out["delivery"]["batch_size"] > 200:
        raise ConfigError(f"{path}: delivery.batch_size: at most 200, got "
                          f"{out['delivery']['batch_size']}")
    return out


def load(data_dir: Path) -> Config:
    """Read and validate DATA_DIR/config.toml."""
    path = Path(data_dir) / CONFIG_NAME
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no configuration here; run `ncen-node init` first") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return Config(path=path, data_dir=Path(data_dir).resolve(), values=validate(raw, path))


def render(values: dict[str, dict[str, Any]]) -> str:
    """A TOML file holding values (for init), with each key's documentation."""
    lines = ["# ncen-node configuration. config.example.toml documents every key.", ""]
    for section, keys in values.items():
        lines.append(f"[{section}]")
        for name, value in keys.items():
            lines.append(f"{name} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


def example() -> str:
    """The documented example configuration (config.example.toml is this text)."""
    samples = {"node": {"id": "es-aduana", "name": "Agencia Tributaria - Aduanas",
                        "country": "ES", "languages": ["es"], "url": "http://127.0.0.1:8470"}}
    lines = [
        "# ncen-node configuration: every key, its meaning and its default.",
        "# `ncen-node init` writes DATA_DIR/config.toml; keys left out take their default.",
        "",
    ]
    for section, keys in SCHEMA.items():
        lines.append(f"[{section}]")
        for name, key in keys.items():
            value = samples.get(section, {}).get(name, key.default)
            note = "required" if key.default is None else f"default: {_toml_value(key.default)}"
            lines.append(f"# {key.doc} ({note})")
            lines.append(f"{name} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)
