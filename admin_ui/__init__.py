"""The web console: server-rendered pages that call node services, no business rules."""

from .pages import setup

__all__ = ["setup"]
