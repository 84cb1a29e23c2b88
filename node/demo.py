"""`ncen-node demo`: a small local federation of three nodes with their consoles.

Each node is its own `ncen-node run` process with its own data folder under DATA;
they are created and made to trust each other on first use, then kept across runs.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

from .localnet import LocalNode, connect

DEMO_NODES = [
    ("es-aduana", "Agencia Tributaria - Departamento de Aduanas", "ES", "es", 8471),
    ("fr-douane", "Direction générale des douanes et droits indirects", "FR", "fr", 8472),
    ("ma-adii", "Administration des douanes et impôts indirects", "MA", "ar", 8473),
]


def run_demo(data: Path, *, base_port: int = 8471) -> int:
    data.mkdir(parents=True, exist_ok=True)
    nodes = [
        LocalNode(data / node_id, node_id, name, country, lang, port=base_port + i)
        for i, (node_id, name, country, lang, _port) in enumerate(DEMO_NODES)
    ]
    print(f"Starting a local federation of {len(nodes)} nodes in {data} ...", flush=True)
    try:
        for node in nodes:
            node.init()
            node.start()
        for i, a in enumerate(nodes):
            for b in nodes[i + 1 :]:
                if a.peer_status(b.node_id) != "approved":
                    print(f"  {a.node_id} asks {b.node_id} for trust; {b.node_id} approves",
                          flush=True)
                    connect(a, b)
        print()
        for node in nodes:
            token = (node.data / "api-token").read_text().strip()
            print(f"  {node.node_id:10} console {node.url}/   API token {token}")
        cli = Path(sys.executable).parent / "ncen-node"
        print(f"\nTry: {cli} send --data {nodes[0].data} --to fr-douane,ma-adii "
              "--file examples/alert-seizure.json")
        print(f"     {cli} inbox --data {nodes[1].data} --lang fr")
        print(f"     {cli} inbox --data {nodes[2].data} --lang ar")
        print("Press Ctrl-C to stop the federation.", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while all(n.process and n.process.poll() is None for n in nodes):
            time.sleep(0.5)
        dead = [n.node_id for n in nodes if not n.process or n.process.poll() is not None]
        print(f"node(s) {', '.join(dead)} stopped; see their process.log", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        print("\nStopping ...", flush=True)
        for node in nodes:
            node.stop()
