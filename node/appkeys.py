"""Typed application state."""

from aiohttp import web

from .config import Config
from .delivery import DeliveryManager
from .records import RecordService
from .services import NodeServices

CONFIG = web.AppKey("config", Config)
SERVICES = web.AppKey("services", NodeServices)
DELIVERY = web.AppKey("delivery", DeliveryManager)
RECORDS = web.AppKey("records", RecordService)
API_TOKEN = web.AppKey("api_token", str)
