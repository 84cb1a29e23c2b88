"""The `ncen-node` command line. Every command works whether or not the node runs:
they act on the node's database, which a running node shares (it picks up queued
messages within `delivery.poll_interval_seconds`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from protocol import TLP, NodeKeys, PeerAction
from translation import SUPPORTED_LANGUAGES, normalise_language

from . import cli_records, messages
from .clock import SystemClock, iso
from .config import Config, ConfigError, load, render, validate
from .identity import new_api_token, save_keys
from .services import NodeServices, ServiceError


class CliError(Exception):
    """An error to print as one line, exit status 2."""


def _data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, type=Path, metavar="DIR",
                   help="the node's data folder")


def _json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ncen-node",
        description="A federated node for customs enforcement cooperation.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="create a node: data folder, configuration, keys, database")
    _data(p)
    p.add_argument("--id", required=True, help="short node id, e.g. es-aduana")
    p.add_argument("--name", required=True, help="the administration's name")
    p.add_argument("--country", required=True, help="ISO 3166-1 alpha-2 code, e.g. ES")
    p.add_argument("--language", required=True, action="append", dest="languages",
                   help="officers' language (ISO 639-1); repeat for several")
    p.add_argument("--listen", default="127.0.0.1:8470", help="HOST:PORT to listen on")
    p.add_argument("--url", help="URL peers reach this node at (default: from --listen)")

    p = sub.add_parser("run", help="run the node (federation, API and console)")
    _data(p)

    peer = sub.add_parser("peer", help="trust: request, list, approve, refuse, suspend, ...")
    psub = peer.add_subparsers(dest="peer_command", required=True, metavar="ACTION")
    p = psub.add_parser("request", help="ask the node at URL for trust")
    _data(p)
    p.add_argument("url", help="the other node's URL")
    p = psub.add_parser("list", help="list peers and their status")
    _data(p)
    _json_flag(p)
    for action, text in [("approve", "approve a pending trust request"),
                         ("refuse", "refuse a pending trust request"),
                         ("suspend", "stop exchanging with an approved peer for now"),
                         ("resume", "resume a suspended peer"),
                         ("revoke", "end trust with a peer for good")]:
        p = psub.add_parser(action, help=text)
        _data(p)
        p.add_argument("peer_id")
        p.add_argument("--reason", default="", help="why (sent to the peer on refuse)")

    p = sub.add_parser("send", help="queue a message for one or more approved peers")
    _data(p)
    p.add_argument("--to", required=True, help="peer id, or several separated by commas")
    p.add_argument("--file", required=True, type=Path,
                   help="JSON object with the message's type and payload")
    p.add_argument("--tlp", choices=[t.value for t in TLP], help="handling label (TLP 2.0)")

    p = sub.add_parser("inbox", help="messages received")
    _data(p)
    _json_flag(p)
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--lang", help="render the messages in this language (ar, zh, en, fr, pt, "
                                  "ru, es); default: the table")

    p = sub.add_parser("outbox", help="messages sent and their delivery state")
    _data(p)
    _json_flag(p)
    p.add_argument("--state", choices=["pending", "delivered", "rejected", "dead"])
    p.add_argument("--limit", type=int, default=50)

    p = sub.add_parser("retry", help="put dead-lettered messages back in the queue")
    _data(p)
    p.add_argument("--peer", help="only those for this peer")
    p.add_argument("--id", help="only this message")

    keys = sub.add_parser("keys", help="show or rotate the node's keys")
    ksub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    p = ksub.add_parser("show", help="print the key id and fingerprint")
    _data(p)
    _json_flag(p)
    p = ksub.add_parser("rotate", help="make new keys and announce them to approved peers")
    _data(p)

    p = sub.add_parser("demo", help="run a local federation of three nodes with consoles")
    p.add_argument("--data", type=Path, default=Path("data"), metavar="DIR",
                   help="folder holding the nodes' data folders (default: ./data)")
    p.add_argument("--base-port", type=int, default=8471,
                   help="first of three consecutive ports on 127.0.0.1 (default: 8471)")

    cat = sub.add_parser("catalog", help="the catalog of record types, fields and code lists")
    csub = cat.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    p = csub.add_parser("show", help="the catalog version in use")
    _data(p)
    p = csub.add_parser("publish", help="as the catalog authority: send a newer catalog, "
                                        "signed, to every approved peer")
    _data(p)
    p.add_argument("--from", dest="source", required=True, type=Path, metavar="FOLDER",
                   help="folder holding catalog.json, field_labels.json and lists/")

    audit = sub.add_parser("audit", help="the append-only audit log")
    asub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    p = asub.add_parser("verify", help="check the audit log's hash chain")
    _data(p)
    p = asub.add_parser("list", help="latest audit entries")
    _data(p)
    _json_flag(p)
    cli_records.add_parsers(sub)
    return parser


# -- commands -------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    data: Path = args.data
    if (data / "config.toml").exists():
        raise CliError(f"{data} already holds a node ({data / 'config.toml'}); "
                       "choose another folder")
    url = args.url or f"http://{args.listen}"
    raw = {
        "node": {"id": args.id, "name": args.name, "country": args.country.upper(),
                 "languages": args.languages, "url": url},
        "server": {"listen": args.listen},
    }
    try:
        values = validate(raw, data / "config.toml")
    except ConfigError as exc:
        raise CliError(str(exc).replace(str(data / "config.toml") + ": ", "")) from None
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    keys = NodeKeys.generate()
    save_keys(data, keys)
    new_api_token(data)
    config = Config(path=data / "config.toml", data_dir=data.resolve(), values=values)

    async def setup() -> None:
        services = await NodeServices.open(config)
        now = SystemClock().now_ms()

        def first_key(tx) -> None:
            tx.add_own_key(keys.kid, keys.sign_public, keys.enc_public, now,
                           retire_others_at=None)
            tx.audit(at=now, actor="cli", action="node.init", subject=args.id,
                     detail={"fingerprint": keys.fingerprint})

        await services.store.write(first_key)
        await services.close()

    asyncio.run(setup())
    # The configuration is written last: its presence means the node is complete.
    (data / "config.toml").write_text(render(values), encoding="utf-8")
    print(f"Node {args.id} created in {data}")
    print(f"Fingerprint: {keys.fingerprint}")
    print(f"Run it with: ncen-node run --data {data}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from aiohttp import web

    from .app import create_app

    config = load(args.data)
    _setup_logging(config)
    host, port = config.listen
    app = create_app(config)
    print(f"{config['node']['id']} listening on http://{host}:{port} "
          f"(console at http://{host}:{port}/)", flush=True)
    web.run_app(app, host=host, port=port, print=None, shutdown_timeout=10,
                loop=_event_loop())
    return 0


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (Linux, macOS): the same asyncio API, with the
    sockets, timers and callbacks of a busy node handled in C."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _setup_logging(config: Config) -> None:
    level = getattr(logging, config["log"]["level"])
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if config["log"]["file"]:
        handlers.append(logging.FileHandler(config.data_dir / config["log"]["file"]))
    logging.basicConfig(level=level, handlers=handlers,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


async def _with_services(args: argparse.Namespace,
                         fn: Callable[[NodeServices], Awaitable[int]]) -> int:
    services = await NodeServices.open(load(args.data))
    try:
        return await fn(services)
    finally:
        await services.close()


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        print("(none)")
        return
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    print("  ".join(c.upper().ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns))


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


async def cmd_peer(args: argparse.Namespace, s: NodeServices) -> int:
    if args.peer_command == "request":
        peer = await s.request_trust(args.url)
        print(f"Trust requested from {peer.node_id} ({peer.name}, {peer.country}).")
        print(f"Their fingerprint: {peer.fingerprint}")
        print("Compare it with their administrator out of band; they must approve us.")
        return 0
    if args.peer_command == "list":
        peers = [p.to_json() for p in await s.store.list_peers()]
        if args.json:
            _print_json(peers)
        else:
            for p in peers:
                p["updated"] = iso(p["updated_at"])
            _table(peers, ["id", "name", "country", "status", "fingerprint", "updated"])
        return 0
    peer = await s.change_peer(args.peer_id, PeerAction(args.peer_command), reason=args.reason)
    print(f"{peer.node_id} is now {peer.status}.")
    return 0


async def cmd_send(args: argparse.Namespace, s: NodeServices) -> int:
    try:
        message = json.loads(args.file.read_text(encoding="utf-8"), parse_float=_no_float)
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{args.file} is not valid JSON: {exc}") from None
    if not isinstance(message, dict):
        raise CliError(f"{args.file} must hold a JSON object")
    payload = message.get("payload", message)
    if not isinstance(payload, dict):
        raise CliError(f"{args.file}: `payload` must be a JSON object")
    eid = await s.send(
        [t.strip() for t in args.to.split(",") if t.strip()], payload,
        type=message.get("type", "alert"),
        tlp=args.tlp or message.get("tlp", TLP.AMBER.value),
        handling=message.get("handling", []), evaluation=message.get("evaluation"),
    )
    print(eid)
    return 0


def _no_float(text: str) -> Any:
    raise CliError(f"number {text} has a fraction: write quantities as strings, e.g. \"{text}\"")


async def cmd_inbox(args: argparse.Namespace, s: NodeServices) -> int:
    lang = None
    if args.lang:
        lang = normalise_language(args.lang)
        if lang is None:
            raise CliError(f"unknown language {args.lang!r}; one of: {', '.join(SUPPORTED_LANGUAGES)}")
    rows = await s.inbox(limit=args.limit, lang=lang)
    if args.json:
        _print_json(rows)
        return 0
    if lang:
        for r in rows:
            print(f"── {r['id']}  {r['from']}  {r['type']}  TLP:{r['tlp']}  {iso(r['received_at'])}")
            print(messages.rendered_text(r["payload"], lang, catalog=s.catalog,
                                         node_lang=s.node_lang))
            print()
        return 0
    for r in rows:
        r["received"] = iso(r["received_at"])
        r["read"] = "yes" if r["read_at"] else ""
        r["summary"] = json.dumps(r["payload"], ensure_ascii=False)[:60]
    _table(rows, ["id", "from", "type", "tlp", "received", "read", "summary"])
    return 0


async def cmd_outbox(args: argparse.Namespace, s: NodeServices) -> int:
    rows = await s.outbox(state=args.state, limit=args.limit)
    if args.json:
        _print_json(rows)
        return 0
    for r in rows:
        r["created"] = iso(r["created_at"])
        r["receipts"] = ",".join(x["kind"] for x in r["receipts"])
    _table(rows, ["id", "to", "type", "state", "attempts", "created", "receipts", "last_error"])
    return 0


async def cmd_retry(args: argparse.Namespace, s: NodeServices) -> int:
    n = await s.retry_dead(peer_id=args.peer, envelope_id=args.id)
    print(f"{n} message(s) queued again.")
    return 0


async def cmd_keys(args: argparse.Namespace, s: NodeServices) -> int:
    if args.keys_command == "rotate":
        key, told = await s.rotate_keys()
        print(f"New key {key.kid}, fingerprint {key.keys.fingerprint}; announced to {told} "
              f"peer(s). The old key stays valid for "
              f"{s.config['keys']['rotation_grace_days']} days.")
        return 0
    keys = [{"kid": k.kid, "fingerprint": k.keys.fingerprint, "current": k.valid_until is None,
             "valid_until": iso(k.valid_until)} for k in s._own]
    if args.json:
        _print_json({"node": s.node_id, "keys": keys})
    else:
        cur = s.current_key
        print(f"Node:        {s.node_id}")
        print(f"Key id:      {cur.kid}")
        print(f"Fingerprint: {cur.keys.fingerprint}")
        for k in keys:
            if not k["current"]:
                print(f"Previous key {k['kid']} valid until {k['valid_until']}")
    return 0


async def cmd_audit(args: argparse.Namespace, s: NodeServices) -> int:
    if args.audit_command == "verify":
        ok, n, where = await s.store.verify_audit()
        print(f"audit log intact: {n} entries" if ok else f"audit log BROKEN at {where}")
        return 0 if ok else 1
    rows = await s.store.audit_entries()
    if args.json:
        _print_json(rows)
    else:
        for r in rows:
            r["at"] = iso(r["at"])
        _table(rows, ["seq", "at", "actor", "action", "subject"])
    return 0


async def cmd_catalog(args: argparse.Namespace, s: NodeServices) -> int:
    if args.catalog_command == "publish":
        version, told = await s.publish_catalog(args.source)
        print(f"Catalog version {version} installed and sent to {told} peer(s).")
        return 0
    authority = s.config["catalog"]["authority"] or "none"
    print(f"Catalog version {s.catalog.version} (authority: {authority})")
    return 0


ASYNC_COMMANDS = {"peer": cmd_peer, "send": cmd_send, "inbox": cmd_inbox,
                  "outbox": cmd_outbox, "retry": cmd_retry, "keys": cmd_keys,
                  "audit": cmd_audit, "catalog": cmd_catalog, **cli_records.COMMANDS}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "init":
            return cmd_init(args)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "demo":
            from .demo import run_demo

            return run_demo(args.data, base_port=args.base_port)
        fn = ASYNC_COMMANDS[args.command]
        return asyncio.run(_with_services(args, lambda s: fn(args, s)))
    except (CliError, ConfigError, ServiceError) as exc:
        print(f"ncen-node: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

