"""Serving the app with uvicorn on a socket bound first, so that port 0 works and is known."""

from __future__ import annotations

import socket

import uvicorn
from fastapi import FastAPI

# Connections the socket queues before the server accepts them.
BACKLOG = 128
# Seconds a stopping server waits for open requests before closing their connections.
GRACEFUL_SHUTDOWN_S = 10


def listen(host: str, port: int) -> socket.socket:
    """Return a TCP socket bound to ``host:port`` (0: a free port) and listening.

    Raises:
        OSError: If the address cannot be bound (in use, or not this machine's).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Named TCP, so that asyncio sets TCP_NODELAY on the connections it accepts: without
    # it a small answer on a kept-alive connection waits for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    """Return the ``http://`` URL of a listening socket."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def make_server(app: FastAPI) -> uvicorn.Server:
    """Return a uvicorn server of ``app`` that logs warnings only.

    Run it with ``server.run(sockets=[listen(...)])``; setting ``server.should_exit``
    stops it (Ctrl-C does too, when it runs in the main thread), waiting at most
    ``GRACEFUL_SHUTDOWN_S`` for open requests.
    """
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S
    )
    return uvicorn.Server(config)
