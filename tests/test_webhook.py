"""Webhooks as a receiver meets them: a secret of its own, no redirects taken for deliveries."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import invoke
from peers import WebhookReceiver, free_port

from between.engine.contracts.channels import Message
from between.engine.settings import Settings
from between.plugins.webhook import Webhook, recipient_secret, signature

SECRET = "clinic-webhook-secret"


def message(address: str, key: str = "k-1") -> Message:
    return Message(key, "agreed", "client", "client", "webhook", address, "Homework", "text")


def settings() -> Settings:
    return Settings(environ={"BETWEEN_CHANNEL_WEBHOOK_SECRET": SECRET})


@pytest.fixture
def receivers():
    started = [WebhookReceiver(SECRET), WebhookReceiver(SECRET)]
    for receiver in started:
        receiver.start()
    yield started
    for receiver in started:
        receiver.stop()


def test_each_receiver_verifies_with_a_secret_of_its_own(receivers):
    therapist, client = receivers
    assert therapist.own_secret != client.own_secret
    assert Webhook().send(message(therapist.url), settings()).outcome == "delivered"
    assert [m["key"] for m in therapist.received] == ["k-1"]

    # The client's receiver knows only its own secret: a message it signs for the
    # therapist's endpoint is refused there.
    body = json.dumps({"key": "forged", "text": "come to my office"}).encode()
    stamp = str(int(time.time()))
    forged = urllib.request.Request(
        therapist.url,
        data=body,
        method="POST",
        headers={
            "Idempotency-Key": "forged",
            "X-Between-Timestamp": stamp,
            "X-Between-Signature": signature(client.own_secret, stamp, body),
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=5)
    assert refused.value.code == 401
    assert therapist.rejected == ["forged"]


def test_a_replayed_message_outside_the_window_is_refused(receivers):
    therapist, _ = receivers
    body = json.dumps({"key": "old"}).encode()
    stamp = str(int(time.time()) - 3600)
    replay = urllib.request.Request(
        therapist.url,
        data=body,
        method="POST",
        headers={
            "Idempotency-Key": "old",
            "X-Between-Timestamp": stamp,
            "X-Between-Signature": signature(therapist.own_secret, stamp, body),
        },
    )
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(replay, timeout=5)
    assert therapist.received == []


def test_a_redirect_is_not_a_delivery(receivers):
    target, _ = receivers
    port = free_port()

    class Moved(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(302)
            self.send_header("Location", target.url)
            self.end_headers()

        def do_GET(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Moved)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        delivery = Webhook().send(message(f"http://127.0.0.1:{port}/old"), settings())
    finally:
        server.shutdown()
        server.server_close()
    assert delivery.outcome == "permanent"
    assert "update the webhook URL" in delivery.detail
    assert target.received == []


def test_the_clinic_prints_a_receivers_secret(tmp_path):
    url = "https://therapist.example/hook"
    result = invoke({"BETWEEN_CHANNEL_WEBHOOK_SECRET": SECRET}, "webhook-secret", url)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == recipient_secret(SECRET, url)
    missing = invoke(None, "webhook-secret", url)
    assert missing.exit_code == 2 and "secret" in missing.output
