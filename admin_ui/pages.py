"""Console pages. For now a read-only status page: the node, its peers and delivery."""

from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web

from node.appkeys import SERVICES
from node.clock import iso

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
)
_env.filters["iso"] = iso


async def status_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    doc = services.keydoc()
    peers = await services.store.list_peers()
    counts = await services.store.outbox_counts()
    html = _env.get_template("status.html").render(
        node=doc.to_json(), peers=peers, counts=counts.by_peer,
    )
    return web.Response(text=html, content_type="text/html")


def setup(app: web.Application) -> None:
    app.router.add_get("/", status_page)
