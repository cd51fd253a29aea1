"""Signed webhooks: a small HTTP receiver on 127.0.0.1 is the sandbox merchant's webhook URL
(`PUT /merchant/v1/webhook`, an Orkestra extension, sent signed by hand); payments and
refunds reach it as Craftgate's events, verified with the SDK's own is_webhook_verified."""

import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List
from zoneinfo import ZoneInfo

import pytest
from craftgate.model.webhook_data import WebhookData
from craftgate.request.refund_payment_request import RefundPaymentRequest
from craftgate.request.search_payments_request import SearchPaymentsRequest

import orkestra_harness as h
import sdk_helpers as s

# The server's delivery worker runs every second.
DELIVERY_WAIT_SECS = 10


class Receiver:
    """The merchant's webhook endpoint. `fail_first` makes it answer 500 to the first
    deliveries of every event it has not acknowledged yet."""

    def __init__(self):
        self.lock = threading.Lock()
        self.deliveries: List[Dict] = []  # every request, acknowledged or not
        self.fail_first = 0
        self.seen: Dict[tuple, int] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                with receiver.lock:
                    key = (body or {}).get("eventType"), (body or {}).get("payloadId")
                    receiver.seen[key] = receiver.seen.get(key, 0) + 1
                    status = 500 if receiver.seen[key] <= receiver.fail_first else 200
                    receiver.deliveries.append({
                        "at": time.monotonic(), "path": self.path, "headers": dict(self.headers),
                        "raw": raw, "body": body, "answered": status,
                    })
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/craftgate?src=orkestra"

    def of(self, event_type: str, payload_id) -> List[Dict]:
        with self.lock:
            return [d for d in self.deliveries if d["body"] and d["body"].get("eventType") == event_type
                    and d["body"].get("payloadId") == str(payload_id)]

    def wait_for(self, event_type: str, payload_id, count: int = 1, timeout: float = DELIVERY_WAIT_SECS,
                 acknowledged: bool = True) -> List[Dict]:
        def ready():
            found = self.of(event_type, payload_id)
            if acknowledged:
                found_ok = [d for d in found if d["answered"] == 200]
                return found if len(found_ok) >= 1 and len(found) >= count else None
            return found if len(found) >= count else None

        return h.wait_until(ready, timeout, interval=0.1, message=f"{count} {event_type} for {payload_id}")

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def receiver(raw):
    r = Receiver()
    answer = raw.put("/merchant/v1/webhook", {"url": r.url})
    assert h.data_of(answer)["url"] == r.url
    try:
        yield r
    finally:
        # Other modules' payments must not be posted to a receiver that is gone.
        h.data_of(raw.put("/merchant/v1/webhook", {"url": None}))
        r.stop()


@pytest.fixture(scope="module")
def hook_key(sandbox_keys) -> str:
    return sandbox_keys["hookKey"]


def verified(client, hook_key, delivery) -> bool:
    body = delivery["body"]
    # Plain strings: on Python >= 3.11 the SDK formats enum members as
    # "WebhookEventType.API_AUTH" and would never verify (reference §4.5).
    data = WebhookData(event_type=body["eventType"], event_time=body["eventTime"],
                       event_timestamp=body["eventTimestamp"], status=body["status"],
                       payload_id=body["payloadId"])
    return client.hook().is_webhook_verified(hook_key, delivery["headers"].get("x-cg-signature-v1"), data)


def check_event(delivery, event_type, status, payload_id, started):
    body = delivery["body"]
    assert set(body) == {"eventType", "eventTime", "eventTimestamp", "status", "payloadId"}, body
    assert body["eventType"] == event_type
    assert body["status"] == status
    assert body["payloadId"] == str(payload_id)
    assert isinstance(body["eventTimestamp"], int)
    assert started - 5 <= body["eventTimestamp"] <= time.time() + 5
    local = datetime.fromtimestamp(body["eventTimestamp"], ZoneInfo("Europe/Istanbul"))
    assert body["eventTime"] == local.strftime("%Y-%m-%dT%H:%M:%S")  # Istanbul wall-clock time
    assert delivery["headers"].get("Content-Type", delivery["headers"].get("content-type", "")).startswith(
        "application/json")
    assert delivery["path"] == "/hooks/craftgate?src=orkestra"


def test_set_webhook_url_validation(raw):
    for bad in ("ftp://example.com/hook", "not a url", "http://exa mple.com/"):
        h.errors_of(raw.put("/merchant/v1/webhook", {"url": bad}), 400)
    h.errors_of(raw.put("/merchant/v1/webhook", b"{not json"), 400)


def test_payment_event_is_signed_and_verifiable(client, receiver, hook_key, isbank_alias):
    started = time.time()
    payment = client.payment().create_payment(s.payment_request(price="18.40", pos_alias=isbank_alias))
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    [delivery] = receiver.wait_for("API_AUTH", payment.id)
    check_event(delivery, "API_AUTH", "SUCCESS", payment.id, started)
    assert delivery["answered"] == 200
    signature = delivery["headers"].get("x-cg-signature-v1")
    assert signature, delivery["headers"]

    assert verified(client, hook_key, delivery) is True
    # A tampered event, a wrong key or a wrong signature do not verify.
    for name, forged in [("eventType", "REFUND"), ("status", "FAILURE"), ("payloadId", str(payment.id + 1)),
                         ("eventTimestamp", delivery["body"]["eventTimestamp"] + 1)]:
        tampered = dict(delivery, body=dict(delivery["body"], **{name: forged}))
        assert verified(client, hook_key, tampered) is False, name
    assert client.hook().is_webhook_verified(
        "x" + hook_key, signature, WebhookData(event_type="API_AUTH", event_timestamp=delivery["body"]["eventTimestamp"],
                                               status="SUCCESS", payload_id=str(payment.id))) is False
    # Delivered once only.
    time.sleep(1.5)
    assert len(receiver.of("API_AUTH", payment.id)) == 1


def test_failed_payment_event(client, receiver, hook_key, isbank_alias):
    started = time.time()
    conversation_id = h.uid("hook-fail")
    s.expect_error(lambda: client.payment().create_payment(s.payment_request(
        card_number="5100050000006661", pos_alias=isbank_alias, conversation_id=conversation_id)), status=422)
    [failed] = client.payment_reporting().search_payments(SearchPaymentsRequest(conversation_id=conversation_id)).items
    [delivery] = receiver.wait_for("API_AUTH", failed.id)
    check_event(delivery, "API_AUTH", "FAILURE", failed.id, started)
    assert verified(client, hook_key, delivery) is True


def test_refund_event(client, receiver, hook_key, isbank_alias):
    started = time.time()
    payment = client.payment().create_payment(s.payment_request(price="40", pos_alias=isbank_alias))
    receiver.wait_for("API_AUTH", payment.id)
    refund = client.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id))
    assert s.enum_value(refund.status) == "SUCCESS"
    [delivery] = receiver.wait_for("REFUND", refund.id)
    check_event(delivery, "REFUND", "SUCCESS", refund.id, started)
    assert verified(client, hook_key, delivery) is True


def test_undelivered_event_is_retried_with_backoff(client, raw, receiver, hook_key, isbank_alias):
    """The receiver answers 500 twice, then 200: three deliveries of the same signed event,
    the server backing off about 5 s, then about 10 s (with up to 25 % jitter)."""
    receiver.fail_first = 2
    try:
        payment = client.payment().create_payment(s.payment_request(price="9.99", pos_alias=isbank_alias))
        deliveries = receiver.wait_for("API_AUTH", payment.id, count=3, timeout=35)
    finally:
        receiver.fail_first = 0
    assert [d["answered"] for d in deliveries] == [500, 500, 200]
    assert len({d["raw"] for d in deliveries}) == 1  # the same event each time
    assert len({d["headers"].get("x-cg-signature-v1") for d in deliveries}) == 1
    assert all(verified(client, hook_key, d) for d in deliveries)
    first_gap = deliveries[1]["at"] - deliveries[0]["at"]
    second_gap = deliveries[2]["at"] - deliveries[1]["at"]
    assert 4.5 <= first_gap <= 8.5, first_gap
    assert 9.5 <= second_gap <= 14.5, second_gap

    # The delivery log (extension) tells the story.
    log = h.data_of(raw.get("/merchant/v1/webhook/events"))["items"]
    [event] = [e for e in log if e["eventType"] == "API_AUTH" and e["payloadId"] == str(payment.id)]
    assert event["deliveryState"] == "delivered"
    assert event["attempts"] == 3
    assert event["deliveredAt"]
