"""Real peers on loopback for the notification tests: an SMTP server and a webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailBox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that can be stopped and started again on its port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.box = MailBox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list:
        return self.box.messages


class WebhookReceiver:
    """An HTTP server that verifies each request's signature and keeps what it received."""

    def __init__(self, secret: str, delay: float = 0.0) -> None:
        self.secret = secret
        self.delay = delay
        self.received: list[dict] = []
        self.rejected: list[str] = []
        self.port = free_port()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def own_secret(self) -> str:
        """What the clinic hands this receiver: its secret, bound to its URL."""
        from between.plugins.webhook import recipient_secret

        return recipient_secret(self.secret, self.url)

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers["X-Between-Timestamp"]
                expected = hmac.new(
                    receiver.own_secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256
                )
                given = self.headers["X-Between-Signature"].removeprefix("sha256=")
                if (
                    not hmac.compare_digest(expected.hexdigest(), given)
                    or abs(time.time() - int(stamp)) > 300
                ):
                    receiver.rejected.append(self.headers["Idempotency-Key"])
                    self.send_response(401)
                    self.end_headers()
                    return
                time.sleep(receiver.delay)
                receiver.received.append(
                    {"key": self.headers["Idempotency-Key"], **json.loads(body)}
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
