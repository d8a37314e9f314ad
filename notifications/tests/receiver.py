"""A real HTTP receiver for the tests: a threaded server on 127.0.0.1 that records every request
(path, headers, the raw body bytes) and answers from a script per path."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    status: int
    at: float


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # path -> list of statuses to answer in turn (the last one repeats); "hang" sleeps `hang_seconds`
    script: dict[str, list] = field(default_factory=dict)
    hang_seconds: float = 3.0
    delay_seconds: float = 0.0
    in_flight: int = 0
    most_in_flight: int = 0  # the most requests it was answering at once

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    lock = threading.Lock()
    receiver = Receiver(url="")
    counts: dict[str, int] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                n = counts.get(self.path, 0)
                counts[self.path] = n + 1
                answers = receiver.script.get(self.path, [200])
                answer = answers[min(n, len(answers) - 1)]
            if answer == "hang":
                time.sleep(receiver.hang_seconds)
                return
            with lock:
                receiver.in_flight += 1
                receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
            if receiver.delay_seconds:
                time.sleep(receiver.delay_seconds)
            with lock:
                receiver.in_flight -= 1
                receiver.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, answer, time.time())
                )
            payload = b"ok" if answer < 300 else b"receiver error"
            # status line, headers and body in one write (separate small writes wait on delayed ACKs)
            head = f"HTTP/1.1 {answer} X\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
            self.wfile.write(head.encode() + payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server
