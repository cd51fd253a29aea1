"""Pay-by-link (Craftlink) products through the SDK's pay_by_link() adapter: create,
retrieve, update, search, delete; the product's page and QR codes; buying through it."""

import html
from decimal import Decimal

import pytest
from craftgate.model.currency import Currency
from craftgate.model.status import Status
from craftgate.request.create_product_request import CreateProductRequest
from craftgate.request.delete_product_request import DeleteProductRequest
from craftgate.request.search_products_request import SearchProductsRequest
from craftgate.request.update_product_request import UpdateProductRequest

import orkestra_harness as h
import sdk_helpers as s
from browser_helpers import Browser, only_form

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def create_product(client, name=None, price="49.90", stock=5, installments=(1, 2, 3), **extra):
    request = CreateProductRequest(
        name=name or ("Defter " + h.uid("p")),
        price=Decimal(price),
        currency=Currency.TRY,
        stock=stock,
        enabled_installments=set(installments),
        conversation_id=h.uid("conv"),
        external_id=h.uid("ext"),
        **extra,
    )
    product = client.pay_by_link().create_product(request)
    assert h.last_status() == 200
    return request, product


def test_create_and_retrieve(client, server):
    request, product = create_product(client, description="A5, 80 yaprak", channel="instagram")
    assert isinstance(product.id, int)
    assert product.name == request.name
    assert product.price == Decimal("49.90")
    assert s.enum_value(product.currency) == "TRY"
    assert product.stock == 5 and product.sold_count == 0
    assert sorted(product.enabled_installments) == [1, 2, 3]
    assert s.enum_value(product.status) == "ACTIVE"
    assert product.description == "A5, 80 yaprak"
    assert product.channel == "instagram"
    assert product.conversation_id == request.conversation_id
    assert product.external_id == request.external_id
    assert product.token
    assert product.url == f"{server.base_url}/pay/{product.token}"

    fetched = client.pay_by_link().retrieve_product(product.id)
    assert vars(fetched) == vars(product)


def test_qr_code_urls_are_extensions_in_the_raw_json(client, raw, server):
    _, product = create_product(client)
    data = h.data_of(raw.get(f"/craftlink/v1/products/{product.id}"))
    assert data["qrCodeUrl"] == f"{server.base_url}/pay/{product.token}/qr.png"
    assert data["qrCodeSvgUrl"] == f"{server.base_url}/pay/{product.token}/qr.svg"


def test_page_shows_the_product_and_qr_codes_are_images(client):
    name = "Kitap & <Defter> · çğıöşü"
    _, product = create_product(client, name=name, price="1234.50", stock=3)
    browser = Browser()
    page = browser.get(product.url)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert html.escape(name, quote=False) in page.text
    assert "<Defter>" not in page.text  # escaped, never raw markup
    assert "1.234,50" in page.text
    buy = only_form(page.text, page.url)
    assert buy.action.startswith(f"{product.url}/checkout")

    png = browser.get(product.url + "/qr.png")
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(PNG_MAGIC)
    assert png.content[12:16] == b"IHDR" and len(png.content) > 100
    svg = browser.get(product.url + "/qr.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content
    assert browser.get(product.url + "/qr.gif").status_code == 404


def test_update(client):
    _, product = create_product(client, stock=10)
    updated = client.pay_by_link().update_product(product.id, UpdateProductRequest(
        name="Defter (güncel)",
        status=Status.ACTIVE,
        price=Decimal("59.00"),
        currency=Currency.TRY,
        stock=7,
        enabled_installments={1, 6},
        description="yeni",
    ))
    assert h.last_status() == 200
    assert updated.id == product.id and updated.token == product.token
    assert updated.name == "Defter (güncel)"
    assert updated.price == Decimal("59.00")
    assert updated.stock == 7
    assert sorted(updated.enabled_installments) == [1, 6]
    fetched = client.pay_by_link().retrieve_product(product.id)
    assert fetched.name == "Defter (güncel)" and fetched.price == Decimal("59.00") and fetched.stock == 7
    page = Browser().get(product.url)
    assert "Defter (güncel)" in page.text and "59,00" in page.text

    # A passive link says so and sells nothing.
    client.pay_by_link().update_product(product.id, UpdateProductRequest(
        name="Defter (güncel)", status=Status.PASSIVE, price=Decimal("59.00"), currency=Currency.TRY, stock=7))
    assert s.enum_value(client.pay_by_link().retrieve_product(product.id).status) == "PASSIVE"
    browser = Browser()
    page = browser.get(product.url)
    assert page.status_code == 200 and 'id="unavailable"' in page.text and 'id="buy"' not in page.text
    assert browser.post(product.url + "/checkout").status_code != 303


def test_search(client):
    marker = h.uid("srch")
    _, cheap = create_product(client, name=f"Kalem {marker}", price="10.00")
    _, dear = create_product(client, name=f"Çanta {marker}", price="500.00")
    _, other = create_product(client, price="10.00")

    found = client.pay_by_link().search_products(SearchProductsRequest(name=marker, size=50))
    assert {p.id for p in found.items} == {cheap.id, dear.id}
    assert found.total_size == 2
    by_price = client.pay_by_link().search_products(
        SearchProductsRequest(name=marker, min_price=Decimal("100"), max_price=Decimal("1000")))
    assert [p.id for p in by_price.items] == [dear.id]
    assert [p.id for p in client.pay_by_link().search_products(
        SearchProductsRequest(name=marker.upper())).items] != []  # case-insensitive
    everything = client.pay_by_link().search_products(SearchProductsRequest(size=100))
    assert {cheap.id, dear.id, other.id} <= {p.id for p in everything.items}
    paged = client.pay_by_link().search_products(SearchProductsRequest(name=marker, page=0, size=1))
    assert len(paged.items) == 1 and paged.total_size == 2


def test_delete(client):
    _, product = create_product(client)
    result = client.pay_by_link().delete_product(DeleteProductRequest(id=product.id))
    assert result is None and h.last_status() in (200, 204)
    s.expect_error(lambda: client.pay_by_link().retrieve_product(product.id), status=404)
    s.expect_error(lambda: client.pay_by_link().delete_product(DeleteProductRequest(id=product.id)), status=404)
    assert product.id not in {p.id for p in client.pay_by_link().search_products(
        SearchProductsRequest(name=product.name)).items}
    browser = Browser()
    page = browser.get(product.url)
    assert page.status_code in (200, 404, 410) and 'id="buy"' not in page.text
    assert browser.post(product.url + "/checkout").status_code != 303


def test_buy_through_the_link(client, server):
    _, product = create_product(client, price="25.00", stock=1, installments=(1,))
    browser = Browser()
    start = browser.post(product.url + "/checkout")
    assert start.status_code in (302, 303), start.text[:500]
    checkout_url = server.base_url + start.headers["location"]
    assert "/checkout/" in checkout_url
    page = browser.get(checkout_url)
    assert page.status_code == 200 and "25,00" in page.text
    pay_url = checkout_url.split("?")[0] + "/pay"
    paid = browser.post(pay_url, data={"cardHolderName": "Ali Veli", "cardNumber": s.SUCCESS_CARD,
                                       "expiry": "07/44", "cvc": "000", "installment": "1"})
    assert paid.status_code == 200, paid.text[:1000]

    token = checkout_url.split("/checkout/")[1].split("?")[0]
    payment = client.payment().retrieve_checkout_payment(token)
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.paid_price == Decimal("25.00")
    assert s.enum_value(payment.payment_source) == "PAY_BY_LINK", payment.payment_source

    sold = client.pay_by_link().retrieve_product(product.id)
    assert sold.sold_count == 1
    # The only unit is sold: the link says so and opens no new checkout.
    page = browser.get(product.url)
    assert 'id="unavailable"' in page.text and 'id="buy"' not in page.text
    assert browser.post(product.url + "/checkout").status_code != 303


def test_other_merchant_cannot_see_or_change(client, second_client):
    _, product = create_product(client)
    s.expect_error(lambda: second_client.pay_by_link().retrieve_product(product.id), status=404)
    s.expect_error(lambda: second_client.pay_by_link().update_product(product.id, UpdateProductRequest(
        name="mine", price=Decimal("1"), currency=Currency.TRY)), status=404)
    s.expect_error(lambda: second_client.pay_by_link().delete_product(DeleteProductRequest(id=product.id)),
                   status=404)
    assert product.id not in {p.id for p in second_client.pay_by_link().search_products(
        SearchProductsRequest(size=100)).items}
    assert client.pay_by_link().retrieve_product(product.id).name == product.name


@pytest.mark.parametrize("body, field", [
    ({"price": 10, "currency": "TRY"}, "name"),
    ({"name": "x", "currency": "TRY"}, "price"),
    ({"name": "x", "price": -1, "currency": "TRY"}, "price"),
    ({"name": "x", "price": 10, "currency": "XYZ"}, "currency"),
    ({"name": "x", "price": 10, "currency": "TRY", "stock": -1}, "stock"),
    ({"name": "x", "price": 10, "currency": "TRY", "enabledInstallments": [13]}, "enabledInstallments"),
])
def test_create_validation(raw, body, field):
    errors = h.errors_of(raw.post("/craftlink/v1/products", body), 400)
    assert int(errors["errorCode"]) < 10000, errors
