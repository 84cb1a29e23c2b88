"""The node's aiohttp application: federation, local API and console in one app."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from . import api, federation, records_api
from .appkeys import API_TOKEN, CONFIG, DELIVERY, RECORDS, SERVICES
from .clock import Clock
from .config import Config
from .delivery import DeliveryManager
from .identity import read_api_token
from .records import RecordService
from .services import NodeServices

log = logging.getLogger("ncen.node")


@web.middleware
async def errors_middleware(request: web.Request, handler) -> web.StreamResponse:
    """HTTP errors pass through; anything unexpected is logged and answered 500."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return web.json_response(
            {"error": {"reason": "internal", "detail": "internal error, see the node log"}},
            status=500,
        )


def settle_heap() -> None:
    """Once everything is loaded: move what lives for the whole run (code lists, labels,
    country and currency tables, compiled statements) out of the garbage collector's
    way. A batch or a bulk send makes tens of thousands of short-lived objects; without
    this, every full collection they trigger walks the whole long-lived heap again."""
    import pycountry

    for table in (pycountry.countries, pycountry.currencies, pycountry.languages):
        len(table)  # pycountry loads its tables on first use: load them now
    gc.collect()
    gc.freeze()


def create_app(config: Config, *, clock: Clock | None = None) -> web.Application:
    """Build the application without I/O; resources open in cleanup contexts."""
    app = web.Application(
        client_max_size=config["server"]["max_body_bytes"],
        middlewares=[errors_middleware, api.api_middleware],
    )
    app[CONFIG] = config
    app[API_TOKEN] = read_api_token(config.data_dir)

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        app[SERVICES] = await NodeServices.open(config, clock)
        yield
        await app[SERVICES].close()

    async def delivery_ctx(app: web.Application) -> AsyncIterator[None]:
        manager = DeliveryManager(app[SERVICES])
        await manager.start()
        app[DELIVERY] = manager
        yield
        await manager.stop()

    async def records_ctx(app: web.Application) -> AsyncIterator[None]:
        app[RECORDS] = await RecordService.open(config, clock=clock,
                                                catalog=lambda: app[SERVICES].catalog)
        app[SERVICES].records = app[RECORDS]  # where carried records that arrive are kept
        yield
        app[SERVICES].records = None
        await app[RECORDS].close()

    async def settle_ctx(app: web.Application) -> AsyncIterator[None]:
        settle_heap()
        yield

    app.cleanup_ctx.extend([services_ctx, records_ctx, delivery_ctx, settle_ctx])
    app.add_routes(federation.routes)
    app.add_routes(api.routes)
    app.add_routes(records_api.routes)
    from admin_ui import setup as setup_console

    setup_console(app)
    return app
