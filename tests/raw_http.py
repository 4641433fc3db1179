"""Requests no well-behaved client library sends: header names gRPC forbids, bytes HTTP/2
forbids. HTTP/1.1 over a plain socket, HTTP/2 with the h2 state machine (no validation of what
goes out), one request per connection."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events

TIMEOUT_SECONDS = 30


@dataclass
class RawResponse:
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # gRPC's status lives here on a full response, in `headers` on a trailers-only one.
    trailers: dict[str, str] = field(default_factory=dict)
    # An HTTP/2 stream reset (error code name), or a connection the server closed unanswered.
    reset: str | None = None

    @property
    def grpc_status(self) -> int | None:
        value = self.trailers.get("grpc-status", self.headers.get("grpc-status"))
        return None if value is None else int(value)

    @property
    def text(self) -> str:
        """Everything the server said, to search for what it must never say."""
        parts = [*self.headers.items(), *self.trailers.items()]
        return "\n".join(f"{k}: {v}" for k, v in parts) + "\n" + self.body.decode("latin-1")


def http1(
    port: int,
    method: str,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes = b"",
    version: bytes = b"HTTP/1.1",
) -> RawResponse:
    """One HTTP/1.x request written byte for byte, `Connection: close`."""
    lines = [f"{method} ".encode() + target + b" " + version, b"host: 127.0.0.1"]
    lines += [name + b": " + value for name, value in headers]
    lines += [f"content-length: {len(body)}".encode(), b"connection: close"]
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_SECONDS) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    if not data:
        return RawResponse(reset="closed")
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    response = RawResponse(status=int(status_line.split(" ")[1]))
    for line in header_lines:
        name, _, value = line.partition(":")
        response.headers[name.strip().lower()] = value.strip()
    response.body = (
        _dechunk(rest) if "chunked" in response.headers.get("transfer-encoding", "") else rest
    )
    return response


def _dechunk(data: bytes) -> bytes:
    body = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        body, data = body + data[:size], data[size + 2 :]
    return body


def http2(port: int, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> RawResponse:
    """One HTTP/2 request (prior knowledge, h2c) whose header block is sent exactly as given."""
    connection = h2.connection.H2Connection(
        h2.config.H2Configuration(
            client_side=True,
            header_encoding=None,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
            validate_inbound_headers=False,
        )
    )
    response = RawResponse()
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_SECONDS) as sock:
        connection.initiate_connection()
        stream_id = connection.get_next_available_stream_id()
        connection.send_headers(stream_id, headers, end_stream=not body)
        if body:
            connection.send_data(stream_id, body, end_stream=True)
        sock.sendall(connection.data_to_send())
        while response.reset is None:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                response.reset = response.reset or "closed"
                break
            if _receive(connection, data, stream_id, response):
                break
            sock.sendall(connection.data_to_send())
    return response


def _receive(
    connection: h2.connection.H2Connection, data: bytes, stream_id: int, response: RawResponse
) -> bool:
    """Feeds what arrived into `response`; True once the stream is over."""
    for event in connection.receive_data(data):
        if isinstance(event, h2.events.ResponseReceived):
            response.headers = _decoded(event.headers)
            response.status = int(response.headers.pop(":status"))
        elif isinstance(event, h2.events.TrailersReceived):
            response.trailers = _decoded(event.headers)
        elif isinstance(event, h2.events.DataReceived):
            response.body += event.data
            connection.acknowledge_received_data(event.flow_controlled_length, stream_id)
        elif isinstance(event, h2.events.StreamReset):
            response.reset = str(event.error_code)
            return True
        elif isinstance(event, h2.events.ConnectionTerminated):
            response.reset = f"goaway {event.error_code}"
            return True
        elif isinstance(event, h2.events.StreamEnded):
            return True
    return False


def _decoded(headers: object) -> dict[str, str]:
    pairs: list[tuple[bytes, bytes]] = list(headers)  # type: ignore[call-overload]
    return {bytes(k).decode("latin-1"): bytes(v).decode("latin-1") for k, v in pairs}
