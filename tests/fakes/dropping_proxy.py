"""A TCP proxy on loopback in front of a gateway, whose open connections a test can cut at any
moment: what a caller sees when a gateway (or the load balancer before it) drops the
connection after the request went through, with no answer."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

_ACCEPT_POLL_S = 0.1
_CHUNK = 65536


class DroppingProxy:
    def __init__(self, upstream: str) -> None:
        host, _, port = upstream.rpartition(":")
        self._upstream = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(_ACCEPT_POLL_S)
        self.target = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def drop(self) -> None:
        """Cuts every connection open now, both ways; later connections go through."""
        with self._lock:
            cut, self._open = self._open, []
        for sock in cut:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self._stopping.set()
        self.drop()
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            try:
                upstream = socket.create_connection(self._upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            with self._lock:
                self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                pump = threading.Thread(target=_pump, args=(source, sink), daemon=True)
                self._threads.append(pump)
                pump.start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copies one direction until either side is closed (by its peer, or by drop())."""
    with contextlib.suppress(OSError):
        while chunk := source.recv(_CHUNK):
            sink.sendall(chunk)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def dropping_proxy(upstream: str) -> Iterator[DroppingProxy]:
    proxy = DroppingProxy(upstream)
    try:
        yield proxy
    finally:
        proxy.close()
