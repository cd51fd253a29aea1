"""BIN lookups through the SDK."""

import sdk_helpers as s
import orkestra_harness as h


def test_bin_525864_yapi_kredi_world(client):
    info = client.installment().retrieve_bin_number("525864")
    assert h.last_status() == 200
    assert info.bin_number == "525864"
    assert info.bank_name == "Yapı Kredi"
    assert info.card_brand == "World"
    assert s.enum_value(info.card_association) == "MASTER_CARD"
    assert s.enum_value(info.card_type) == "CREDIT_CARD"
    assert info.bank_code == 67
    assert info.commercial is False


def test_bin_404308_garanti_bonus(client):
    info = client.installment().retrieve_bin_number("404308")
    assert info.bin_number == "404308"
    assert info.bank_name.startswith("Garanti")
    assert info.card_brand == "Bonus"
    assert s.enum_value(info.card_association) == "VISA"
    assert info.bank_code == 62


def test_eight_digit_bin(client):
    info = client.installment().retrieve_bin_number("52586400")
    assert info.bank_name == "Yapı Kredi"


def test_unknown_bin_is_404(client):
    s.expect_error(lambda: client.installment().retrieve_bin_number("540001"), status=404)


def test_bad_bin_is_400(client, raw):
    s.expect_error(lambda: client.installment().retrieve_bin_number("abc"), status=400)
    for bad in ("12345", "123456789", "52586x"):
        h.errors_of(raw.get(f"/installment/v1/bins/{bad}"), 400)


def test_bin_with_include_global_bins_flag(client):
    info = client.installment().retrieve_bin_number("525864", include_global_bins=True)
    assert info.bank_name == "Yapı Kredi"
