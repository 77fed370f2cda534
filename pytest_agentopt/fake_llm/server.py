"""The loopback HTTP server: bytes in, ``Responder`` answers out.

A ``ThreadingHTTPServer`` on 127.0.0.1 with an OS-chosen port serves each connection in its own
(non-daemon) thread, keep-alive included, and streams SSE with chunked transfer encoding. ``stop`` leaks
nothing: it stops the accept loop, wakes every handler sleeping on a scripted latency, shuts down every open
connection (a pooled keep-alive connection would otherwise hold its thread in ``readline`` forever), joins all
handler threads and closes the listening socket.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pytest_agentopt.fake_llm.responder import Answer, Responder

_CONNECTION_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class _LoopbackServer(ThreadingHTTPServer):
    daemon_threads = False  # handler threads are joined by server_close()
    block_on_close = True

    def __init__(self, host: str, dispatcher: Responder) -> None:
        self.dispatcher = dispatcher
        self.closing = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Shut down every open connection so that handler threads blocked on it return."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the peer
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that hang up (their timeouts, our shutdown); report anything else."""
        if self.closing.is_set() or isinstance(sys.exc_info()[1], _CONNECTION_ERRORS):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _LoopbackServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests read ``FakeLLM.requests`` instead of the server's stderr."""

    def _serve(self) -> None:
        body = self._read_body()
        headers = dict(self.headers.items())
        answer = self.server.dispatcher.answer(self.command, self.path, headers, body)
        if answer.delay > 0 and self.server.closing.wait(answer.delay):
            self.close_connection = True
            return
        try:
            if answer.events is None:
                self._send_json(answer)
            else:
                self._send_stream(answer)
        except _CONNECTION_ERRORS:
            self.close_connection = True  # the client gave up (e.g. its own timeout)

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _start(self, answer: Answer) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)

    def _send_json(self, answer: Answer) -> None:
        self._start(answer)
        self.send_header("content-length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)
        self.wfile.flush()

    def _send_stream(self, answer: Answer) -> None:
        self._start(answer)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for event in answer.events or ():
            data = event.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class LoopbackServer:
    """Runs a ``Responder`` behind HTTP on ``host`` (127.0.0.1) and a free port, in a background thread.

    The accept loop waits on the listening socket and on a wake-up socket pair instead of polling, so that
    ``stop`` takes effect at once (``serve_forever`` would add up to its poll interval to every test).
    """

    def __init__(self, dispatcher: Responder, host: str = "127.0.0.1") -> None:
        self._server = _LoopbackServer(host, dispatcher)
        self._server.timeout = 0  # handle_request() must never block: the loop below has already waited
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._thread = threading.Thread(target=self._accept_until_stopped, name="fake_llm-server")
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    def _accept_until_stopped(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._server, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while True:
                ready = selector.select()
                if any(key.fileobj is self._wake_reader for key, _ in ready):
                    return
                self._server.handle_request()

    def stop(self) -> None:
        """Stop serving and release the port and every thread; safe to call twice."""
        if self._server.closing.is_set():
            return
        self._server.closing.set()
        self._wake_writer.send(b"x")
        self._thread.join()
        self._server.drop_connections()
        self._server.server_close()
        self._wake_reader.close()
        self._wake_writer.close()
