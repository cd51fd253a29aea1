"""File reports through the SDK's file_reporting(): the daily payment and transaction
reports as CSV and XLSX, and a report demand for a period, with the columns accounting
reconciles against the bank (POS, bank, commission, net amount, settlement date)."""

import csv
import io
import zipfile
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from craftgate.model.report_file_type import ReportFileType
from craftgate.model.report_period import ReportPeriod
from craftgate.model.report_type import ReportType
from craftgate.request.create_report_request import CreateReportRequest
from craftgate.request.refund_payment_transaction_request import RefundPaymentTransactionRequest
from craftgate.request.retrieve_daily_payment_report_request import RetrieveDailyPaymentReportRequest
from craftgate.request.retrieve_daily_transaction_report_request import RetrieveDailyTransactionReportRequest
from craftgate.request.retrieve_report_request import RetrieveReportRequest

import orkestra_harness as h
import sdk_helpers as s

ISTANBUL = timezone(timedelta(hours=3))


def rows_of(data: bytes):
    text = data.decode("utf-8")
    assert text.startswith("\ufeff"), "UTF-8 BOM for spreadsheet programs"
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture(scope="module")
def paid(client, isbank_alias, sim):
    """Two payments today: one of two items, partly refunded after the bank's day closed."""
    conversation_id = h.uid("filerep")
    first = client.payment().create_payment(s.payment_request(
        price="150.00", items=["100.00", "50.00"], pos_alias=isbank_alias, conversation_id=conversation_id))
    second = client.payment().create_payment(s.payment_request(
        price="75.25", pos_alias=isbank_alias, conversation_id=conversation_id, installment=1))
    sim.settle()
    client.payment().refund_payment_transaction(RefundPaymentTransactionRequest(
        payment_transaction_id=first.payment_transactions[1].id, refund_price=Decimal("20.00")))
    return first, second


def today():
    return datetime.now(ISTANBUL).date()


def test_daily_payment_report_csv(client, paid, isbank_alias):
    first, second = paid
    data = client.file_reporting().retrieve_daily_payment_report(
        RetrieveDailyPaymentReportRequest(report_date=today(), file_type=ReportFileType.CSV))
    rows = {int(r["paymentId"]): r for r in rows_of(data)}
    row = rows[first.id]
    assert row["paymentStatus"] == "SUCCESS"
    assert Decimal(row["paidPrice"]) == Decimal("150.00")
    assert Decimal(row["refundedPrice"]) == Decimal("20.00")
    assert row["posAlias"] == isbank_alias
    assert row["bankName"]
    assert row["lastFourDigits"] == s.SUCCESS_CARD[-4:]
    assert s.SUCCESS_CARD not in data.decode("utf-8"), "never a full card number"
    commission = Decimal(row["bankCommissionAmount"] or "0")
    assert Decimal(row["netAmount"]) == Decimal("150.00") - Decimal("20.00") - commission
    settles = datetime.strptime(row["expectedSettlementDate"], "%Y-%m-%d").date()
    assert settles > today()
    assert int(rows[second.id]["installment"]) == 1


def test_daily_transaction_report_xlsx(client, paid):
    first, _ = paid
    data = client.file_reporting().retrieve_daily_transaction_report(
        RetrieveDailyTransactionReportRequest(report_date=today(), file_type=ReportFileType.XLSX))
    assert data[:2] == b"PK", "an XLSX is a zip"
    book = zipfile.ZipFile(io.BytesIO(data))
    sheet = book.read("xl/worksheets/sheet1.xml").decode("utf-8")
    strings = book.read("xl/sharedStrings.xml").decode("utf-8") if "xl/sharedStrings.xml" in book.namelist() else ""
    assert "paymentTransactionId" in strings
    for item in first.payment_transactions:
        assert f"<v>{item.id}</v>" in sheet


def test_an_empty_day_has_only_the_header(client):
    data = client.file_reporting().retrieve_daily_payment_report(
        RetrieveDailyPaymentReportRequest(report_date=today() - timedelta(days=400), file_type=ReportFileType.CSV))
    assert data.decode("utf-8").strip("\ufeff").strip().count("\n") == 0


def test_report_demand_for_a_period(client, second_client, paid):
    first, second = paid
    now = datetime.now(ISTANBUL).replace(tzinfo=None, microsecond=0)
    demand = client.file_reporting().create_report(CreateReportRequest(
        start_date=now - timedelta(hours=6), end_date=now + timedelta(hours=1),
        report_type=ReportType.TRANSACTION, report_period=ReportPeriod.INSTANT))
    assert demand.id and demand.report_type == "TRANSACTION"
    data = client.file_reporting().retrieve_report(RetrieveReportRequest(file_type=ReportFileType.CSV), demand.id)
    ids = {int(r["paymentTransactionId"]) for r in rows_of(data)}
    assert {t.id for t in first.payment_transactions} | {t.id for t in second.payment_transactions} <= ids
    # Another merchant cannot read it.
    with pytest.raises(s.CraftgateException) as e:
        second_client.file_reporting().retrieve_report(RetrieveReportRequest(file_type=ReportFileType.CSV), demand.id)
    assert e.value.error_code == "4040"


def test_report_demand_is_validated(client):
    now = datetime.now(ISTANBUL).replace(tzinfo=None, microsecond=0)
    with pytest.raises(s.CraftgateException) as e:
        client.file_reporting().create_report(CreateReportRequest(
            start_date=now, end_date=now - timedelta(days=1), report_type=ReportType.PAYMENT))
    assert "endDate" in e.value.error_description
    with pytest.raises(s.CraftgateException):
        client.file_reporting().create_report(CreateReportRequest(
            start_date=now - timedelta(days=60), end_date=now, report_type=ReportType.PAYMENT))
