"""A federation of real node processes on this machine's loopback.

Used by `ncen-node demo`, by the tests that run several nodes, and by the benchmarks:
each node is its own `ncen-node run` process with its own data folder, spoken to over
HTTP through its local API, like an operator would.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NodeApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


@dataclass
class LocalNode:
    """One node: its data folder and, while started, its process."""

    data: Path
    node_id: str
    name: str
    country: str
    language: str
    port: int = 0
    config_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run an `ncen-node` command against this node's data folder."""
        cmd = [sys.executable, "-m", "node", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stderr or done.stdout}")
        return done

    def init(self) -> None:
        """Create the node on first use (the port is kept in its configuration)."""
        config = self.data / "config.toml"
        if config.exists():
            self.port = int(config.read_text().split('listen = "127.0.0.1:')[1].split('"')[0])
            return
        self.port = self.port or free_port()
        self.cli("init", "--data", str(self.data), "--id", self.node_id, "--name", self.name,
                 "--country", self.country, "--language", self.language,
                 "--listen", f"127.0.0.1:{self.port}")
        if self.config_overrides:
            self.apply_overrides()

    def apply_overrides(self) -> None:
        from .config import load, render

        cfg = load(self.data)
        values = {s: dict(v) for s, v in cfg.values.items()}
        for section, keys in self.config_overrides.items():
            values[section].update(keys)
        (self.data / "config.toml").write_text(render(values), encoding="utf-8")

    def start(self, *, wait: float = 30.0) -> None:
        log = open(self.data / "process.log", "ab")  # noqa: SIM115 - owned by the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "node", "run", "--data", str(self.data)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.node_id} exited: see {self.data / 'process.log'}")
            try:
                self.get("/.well-known/ncen-node", auth=False)
                return
            except (urllib.error.URLError, ConnectionError, NodeApiError):
                time.sleep(0.05)
        raise TimeoutError(f"{self.node_id} did not start within {wait} s")

    def stop(self) -> None:
        """Graceful stop (SIGTERM), as an operator would."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: the process dies wherever it is."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)
        self.process = None

    # -- local API ---------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, *, auth: bool = True,
                headers: dict[str, str] | None = None) -> Any:
        # A body given as bytes is sent as it is (already JSON).
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        if auth:
            token = (self.data / "api-token").read_text().strip()
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode(errors="replace")
            raise NodeApiError(exc.code, parsed) from None

    def get(self, path: str, *, auth: bool = True) -> Any:
        return self.request("GET", path, auth=auth)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body if body is not None else {})

    def send_alert(self, to: list[str], headline: str, lang: str = "es", **extra: Any) -> Any:
        """Send a simple alert through the local API; returns {"id": envelope id}."""
        from .messages import simple_alert

        payload = simple_alert(headline, lang, alert_id=f"alert-{uuid.uuid4()}")
        return self.post("/api/v1/messages", {"to": to, "payload": payload, **extra})

    def peer_status(self, peer_id: str) -> str | None:
        for p in self.get("/api/v1/peers"):
            if p["id"] == peer_id:
                return p["status"]
        return None


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.05, what: str = "") -> Any:
    """Poll predicate until it returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or predicate}")
        time.sleep(interval)


def connect(a: LocalNode, b: LocalNode) -> None:
    """a asks b for trust, b's administrator approves, both end up approved."""
    a.post("/api/v1/peers", {"url": b.url})
    wait_for(lambda: b.peer_status(a.node_id) == "pending", what="trust request")
    b.post(f"/api/v1/peers/{a.node_id}/approve")
    wait_for(lambda: a.peer_status(b.node_id) == "approved", what="approval")
