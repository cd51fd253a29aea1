"""Authentication (Craftgate's request signature) and the response envelope."""

import uuid

import pytest
import requests
from craftgate.request.search_members_request import SearchMembersRequest

import orkestra_harness as h
import sdk_helpers as s

MEMBERS = "/onboarding/v1/members"


def test_signed_request_is_accepted(raw):
    r = raw.get(MEMBERS + "?page=0&size=1")
    h.data_of(r)
    assert r.headers.get("x-request-id")


def test_wrong_secret_key_is_401(raw, server, sandbox_keys):
    errors = h.errors_of(raw.get(MEMBERS, secret_key="not-the-secret"), 401)
    assert errors["errorCode"]
    wrong = s.sdk_client(server.base_url, sandbox_keys["apiKey"], "not-the-secret")
    s.expect_error(lambda: wrong.onboarding().search_members(SearchMembersRequest()), status=401)


def test_unknown_api_key_is_401(raw, server):
    h.errors_of(raw.get(MEMBERS, api_key="ork-nobody", secret_key="x"), 401)
    stranger = s.sdk_client(server.base_url, "ork-nobody", "nothing")
    s.expect_error(lambda: stranger.onboarding().search_members(SearchMembersRequest()), status=401)


@pytest.mark.parametrize("missing", [("x-api-key",), ("x-rnd-key",), ("x-signature",),
                                     ("x-api-key", "x-rnd-key", "x-signature")])
def test_missing_auth_headers_are_401(raw, missing):
    h.errors_of(raw.get(MEMBERS, omit=missing), 401)
    h.errors_of(raw.post(MEMBERS, {"name": "x", "isBuyer": True}, omit=missing), 401)


def test_tampered_body_is_401(raw):
    signed = {"name": "Haluk Demir", "isBuyer": True, "memberExternalId": h.uid("sig")}
    sent = dict(signed, name="Mallory")
    h.errors_of(raw.post(MEMBERS, sent, sign_body=signed), 401)
    # Whitespace counts too: the server must hash the raw bytes, not a re-serialisation.
    h.errors_of(raw.post(MEMBERS, b'{"name": "A", "isBuyer": true}',
                         sign_body=b'{"name":"A","isBuyer":true}'), 401)
    # The body as sent (any spacing) is what is signed.
    h.data_of(raw.post(MEMBERS, b'{ "name" : "Spaced Out" ,\n "isBuyer": true }'))


def test_signature_over_another_url_is_401(raw):
    h.errors_of(raw.get(MEMBERS + "?page=0", sign_path=MEMBERS + "?page=1"), 401)
    h.errors_of(raw.get(MEMBERS + "/1", sign_path="/onboarding/v1/members/2"), 401)


def test_signature_over_percent_decoded_query(raw):
    """SDKs sign the percent-decoded URL (reference §1.3)."""
    r = raw.get(MEMBERS + "?name=Zeytinya%C4%9F%C4%B1%20%C3%9Cretim&page=0")
    h.data_of(r)


def test_replayed_request_with_other_rnd_key_is_401(raw, server, sandbox_keys):
    """The signature binds x-rnd-key: changing it without re-signing fails."""
    rnd = str(uuid.uuid4())
    signature = h.craftgate_signature(server.base_url + MEMBERS, sandbox_keys["apiKey"],
                                      sandbox_keys["secretKey"], rnd, b"")
    headers = {"x-rnd-key": rnd, "x-signature": signature}
    h.data_of(raw.get(MEMBERS, sign=False, headers=headers))
    headers["x-rnd-key"] = rnd + "x"
    h.errors_of(raw.get(MEMBERS, sign=False, headers=headers), 401)


def test_lang_tr_gives_turkish_descriptions(raw, server, sandbox_keys, isbank_alias):
    def both(**kw):
        en = h.errors_of(raw.request(**kw))
        tr = h.errors_of(raw.request(lang="tr", **kw))
        assert en["errorCode"] == tr["errorCode"]
        return en["errorDescription"], tr["errorDescription"]

    en, tr = both(method="GET", path=MEMBERS, secret_key="wrong")
    assert en != tr and ("geçersiz" in tr.lower() or "imza" in tr.lower()), (en, tr)
    en, tr = both(method="GET", path=MEMBERS + "/987654321")
    assert en != tr and "bulunamadı" in tr, (en, tr)
    en, tr = both(method="POST", path="/payment/v1/card-payments",
                  body=s.raw_payment_body(posAlias=isbank_alias, card={"cardNumber": "5100050000006661"}))
    assert en == "Insufficient card limit, insufficient balance"
    assert tr == "Kart limiti yetersiz, yetersiz bakiye"
    en, tr = both(method="GET", path="/no/such/endpoint")
    assert en != tr
    # The SDK's `language` option sends the same header.
    turkish = s.sdk_client(server.base_url, sandbox_keys["apiKey"], sandbox_keys["secretKey"], language="tr")
    e = s.expect_error(lambda: turkish.onboarding().retrieve_member(987654321), status=404)
    assert "bulunamadı" in e.error_description


def test_malformed_json_is_400(raw):
    for body in (b"{bad json", b'{"name": "x",', b"\xff\xfe\x00", b"null", b"42"):
        errors = h.errors_of(raw.post(MEMBERS, body), 400)
        assert errors["errorCode"]
    h.errors_of(raw.post("/payment/v1/card-payments", b"{"), 400)
    h.errors_of(raw.post("/payment/v1/refunds", b"[1,2"), 400)


def test_empty_body_is_400(raw):
    h.errors_of(raw.post(MEMBERS, b""), 400)
    h.errors_of(raw.post("/payment/v1/card-payments", b""), 400)


def test_oversized_body_is_413_envelope(raw):
    big = {"name": "x" * (300 * 1024), "isBuyer": True}
    # Each 413 on its own connection: see test_connection_survives_a_413 for why.
    r = raw.post(MEMBERS, big, new_connection=True)
    errors = h.errors_of(r, 413)
    assert r.headers.get("x-request-id")
    assert errors["errorCode"]
    h.errors_of(raw.post("/payment/v1/card-payments", b"{" + b" " * (300 * 1024) + b"}",
                         new_connection=True), 413)
    # Unsigned and oversized: refused either way, never accepted.
    unsigned = raw.post(MEMBERS, big, sign=False, new_connection=True)
    assert h.errors_of(unsigned)["errorCode"] and unsigned.status_code in (401, 413)
    # Just under the limit is fine (as far as size goes).
    near = b'{"isBuyer":true,"name":"ok","address":"' + b"a" * 200 + b'"' + b" " * (255 * 1024) + b"}"
    assert len(near) < 256 * 1024
    h.data_of(raw.post(MEMBERS, near, new_connection=True))


def test_connection_survives_a_413(raw):
    """After answering 413 the server closes the connection. Unless the 413 says
    `Connection: close`, a keep-alive client (the SDKs pool connections) sends its next
    request on the dead connection and gets a transport error instead of an answer: for a
    payment, an unknown outcome caused by the previous, unrelated request."""
    raw = h.RawClient(raw.base_url, raw.api_key, raw.secret_key)  # its own connection pool
    failures = []
    for size in (1024 * 1024, 4 * 1024 * 1024):
        for attempt in range(20):
            big = raw.post(MEMBERS, b"x" * size)
            assert big.status_code == 413
            closes = big.headers.get("connection", "").lower() == "close"
            try:
                follow = raw.get(MEMBERS + "?size=1")
                assert follow.status_code == 200
            except requests.ConnectionError as e:
                failures.append(f"{size} bytes, try {attempt}: next request failed ({e}); "
                                f"413 had Connection: {big.headers.get('connection')!r}, closes={closes}")
    assert not failures, "\n".join(failures[:5]) + f"\n... {len(failures)} of 40 follow-up requests failed"


def test_413_that_closes_the_connection_says_so(server, sandbox_keys):
    """Deterministic form of the above: a 413 after which the server closes the
    connection must carry `Connection: close` (RFC 9112 §9.6)."""
    import socket

    body_sent = 256 * 1024 + 1024
    path = MEMBERS
    rnd = str(uuid.uuid4())
    signature = h.craftgate_signature(server.base_url + path, sandbox_keys["apiKey"],
                                      sandbox_keys["secretKey"], rnd, b"")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"x-api-key: {sandbox_keys['apiKey']}\r\nx-rnd-key: {rnd}\r\nx-signature: {signature}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {1024 * 1024}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + b"x" * body_sent)
        received = b""
        closed = False
        sock.settimeout(2)
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    closed = True
                    break
                received += chunk
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed = True
    status_line, _, rest = received.partition(b"\r\n")
    assert b" 413 " in status_line, received[:500]
    headers = rest.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    if closed:
        assert "connection: close" in headers, f"413 then the connection closed, but no Connection: close:\n{headers}"


def test_unknown_path_is_404_envelope(raw):
    for path in ("/no/such/endpoint", "/payment/v2/card-payments", "/onboarding/v1/memberz"):
        r = raw.get(path)
        h.errors_of(r, 404)
        assert r.headers.get("x-request-id")
    # Unsigned too.
    h.errors_of(raw.get("/no/such/endpoint", sign=False), 404)


def test_wrong_method_is_405_envelope(raw):
    h.errors_of(raw.delete("/payment/v1/card-payments"), 405)
    h.errors_of(raw.put("/payment/v1/refunds", {"paymentId": 1}), 405)


def test_every_response_has_a_request_id(raw):
    responses = [
        raw.get(MEMBERS),                                  # 200
        raw.get(MEMBERS + "/987654321"),                   # 404
        raw.get(MEMBERS, secret_key="wrong"),              # 401
        raw.get(MEMBERS, omit=("x-signature",)),           # 401
        raw.post(MEMBERS, b"{"),                           # 400
        raw.post(MEMBERS, b"x" * (300 * 1024), new_connection=True),  # 413
        raw.get("/nowhere"),                               # 404
        raw.delete("/payment/v1/card-payments"),           # 405
        raw.get("/installment/v1/bins/525864"),            # 200
    ]
    ids = [r.headers.get("x-request-id") for r in responses]
    assert all(ids), [(r.status_code, r.headers) for r in responses]
    assert len(set(ids)) == len(ids), "request ids must be unique"
    # A sane client-provided request id is echoed back.
    r = raw.get(MEMBERS, headers={"x-request-id": "client-req-42"})
    assert r.headers.get("x-request-id") == "client-req-42"


def test_success_envelope_shape(raw):
    body = raw.get(MEMBERS + "?page=0&size=2").json()
    assert set(body) == {"data"}
    assert {"items", "page", "size", "totalSize"} <= set(body["data"])
    assert body["data"]["size"] == 2


def test_paging_parameters_are_validated(raw):
    h.errors_of(raw.get(MEMBERS + "?size=0"), 400)
    h.errors_of(raw.get(MEMBERS + "?size=100000"), 400)
    h.errors_of(raw.get(MEMBERS + "?page=-1"), 400)
    h.errors_of(raw.get(MEMBERS + "?page=abc"), 400)
    h.errors_of(raw.get("/payment-reporting/v1/payments?size=0"), 400)
