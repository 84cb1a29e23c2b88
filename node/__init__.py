"""The node's I/O: the aiohttp server, delivery, services and the command line."""
