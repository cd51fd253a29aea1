"""The closed-loop wallet through the official SDK: members' wallets, the merchant's wallet,
remittances, withdrawals, wallet transactions, card top-ups (deposits, 3D Secure included),
wallet and card-and-wallet payments, refunds into a wallet and of a top-up back to its card,
100 parallel debits on one wallet, and a crash in the middle of a top-up. After each part
`orkestra ledger verify` proves the books."""

import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from craftgate.model.currency import Currency
from craftgate.model.member_type import MemberType
from craftgate.model.refund_destination_type import RefundDestinationType
from craftgate.model.remittance_reason_type import RemittanceReasonType
from craftgate.model.transaction_payout_status import TransactionPayoutStatus
from craftgate.model.wallet_transaction_type import WalletTransactionType
from craftgate.request.cancel_withdraw_request import CancelWithdrawRequest
from craftgate.request.complete_three_ds_payment_request import CompleteThreeDSPaymentRequest
from craftgate.request.create_deposit_payment_request import CreateDepositPaymentRequest
from craftgate.request.create_member_request import CreateMemberRequest
from craftgate.request.create_remittance_request import CreateRemittanceRequest
from craftgate.request.create_wallet_request import CreateWalletRequest
from craftgate.request.create_withdraw_request import CreateWithdrawRequest
from craftgate.request.refund_payment_request import RefundPaymentRequest
from craftgate.request.refund_payment_transaction_request import RefundPaymentTransactionRequest
from craftgate.request.refund_wallet_transaction_to_card_request import RefundWalletTransactionToCardRequest
from craftgate.request.reset_merchant_member_wallet_balance_request import ResetMerchantMemberWalletBalanceRequest
from craftgate.request.search_payments_request import SearchPaymentsRequest
from craftgate.request.search_wallet_transactions_request import SearchWalletTransactionsRequest
from craftgate.request.search_withdraws_request import SearchWithdrawsRequest
from craftgate.request.update_wallet_request import UpdateWalletRequest

import orkestra_harness as h
import sdk_helpers as s
from conftest import SANDBOX_ISBANK_CLIENT_ID, create_sim_pos

CALLBACK_URL = "https://merchant.example/deposit/callback"
DECLINED_CARD = "5100050000006661"  # NOT_SUFFICIENT_FUNDS at the bank


# ---- helpers ------------------------------------------------------------------------------


def verify_ledger(db: h.Database) -> str:
    """`orkestra ledger verify` on the server's database: must exit 0."""
    h.wait_for_binary()
    out = subprocess.run(
        [str(h.BIN), "ledger", "verify", "--database-url", db.url],
        capture_output=True, text=True, env=h.base_env(), timeout=120,
    )
    assert out.returncode == 0, f"ledger verify failed ({out.returncode}):\n{out.stdout}\n{out.stderr}"
    assert "OK: debits equal credits" in out.stdout, out.stdout
    return out.stdout


def new_member(client, name="Wallet Owner"):
    return client.onboarding().create_member(CreateMemberRequest(
        member_external_id=h.uid("wallet"),
        name=name,
        email="wallet.owner@example.com",
        phone_number="905551111111",
        member_type=MemberType.PERSONAL,
        is_buyer=True,
        is_sub_merchant=False,
    ))


def new_wallet(client, limit="0"):
    member = new_member(client)
    wallet = client.wallet().create_wallet(
        member.id, CreateWalletRequest(negative_amount_limit=Decimal(limit), currency=Currency.TRY))
    return member, wallet


def amount_of(client, member_id) -> Decimal:
    return Decimal(str(client.wallet().retrieve_member_wallet(member_id).amount))


def fund_merchant(client, amount):
    return client.wallet().reset_merchant_member_wallet_balance(
        ResetMerchantMemberWalletBalanceRequest(wallet_amount=Decimal(amount)))


def send(client, member_id, price, reason=RemittanceReasonType.REDEEM_ONLY_LOYALTY):
    return client.wallet().send_remittance(CreateRemittanceRequest(
        member_id=member_id, price=Decimal(price), currency=Currency.TRY,
        description="bonus", remittance_reason_type=reason))


def receive(client, member_id, price):
    return client.wallet().receive_remittance(CreateRemittanceRequest(
        member_id=member_id, price=Decimal(price), currency=Currency.TRY,
        description="fee", remittance_reason_type=RemittanceReasonType.SUBMERCHANT_SEND_RECEIVE))


def deposit_request(member_id, price, card_number=s.SUCCESS_CARD, pos_alias=None, callback_url=None):
    return CreateDepositPaymentRequest(
        buyer_member_id=member_id, price=Decimal(price), currency=Currency.TRY,
        conversation_id=h.uid("deposit"), pos_alias=pos_alias, callback_url=callback_url,
        card=s.card(card_number))


def transactions(client, wallet_id, **kw):
    return client.wallet().search_wallet_transactions(wallet_id, SearchWalletTransactionsRequest(**kw))


# ---- wallets, merchant wallet, remittances, withdrawals -------------------------------------


def test_wallet_create_retrieve_update(client, server):
    member, wallet = new_wallet(client, limit="25.50")
    assert h.last_status() == 200
    assert wallet.id > 0
    assert wallet.member_id == member.id
    assert Decimal(str(wallet.amount)) == 0
    assert Decimal(str(wallet.negative_amount_limit)) == Decimal("25.50")
    assert s.enum_value(wallet.currency) == "TRY"
    assert wallet.created_date is not None
    read = client.wallet().retrieve_member_wallet(member.id)
    assert read.id == wallet.id
    # One wallet per member.
    s.expect_error(lambda: client.wallet().create_wallet(
        member.id, CreateWalletRequest(negative_amount_limit=Decimal("0"), currency=Currency.TRY)),
        status=400, code="4602")
    updated = client.wallet().update_wallet(member.id, wallet.id, UpdateWalletRequest(negative_amount_limit=Decimal("10")))
    assert Decimal(str(updated.negative_amount_limit)) == Decimal("10")
    # Another member's wallet id is not found; so is a member without a wallet.
    other = new_member(client)
    s.expect_error(lambda: client.wallet().update_wallet(
        other.id, wallet.id, UpdateWalletRequest(negative_amount_limit=Decimal("1"))), status=404)
    s.expect_error(lambda: client.wallet().retrieve_member_wallet(other.id), status=404)
    verify_ledger(server.db)


def test_merchant_wallet_and_remittances(client, server):
    member, wallet = new_wallet(client)
    fund_merchant(client, "0")
    s.expect_error(lambda: send(client, member.id, "5"), status=422, group="NOT_SUFFICIENT_FUNDS")
    merchant = fund_merchant(client, "1000")
    assert Decimal(str(merchant.amount)) == Decimal("1000")
    assert merchant.member_id is None
    sent = send(client, member.id, "150.25")
    assert s.enum_value(sent.remittance_type) == "SEND"
    assert s.enum_value(sent.remittance_reason_type) == "REDEEM_ONLY_LOYALTY"
    assert Decimal(str(sent.price)) == Decimal("150.25")
    assert sent.member_id == member.id
    assert s.enum_value(sent.status) == "ACTIVE"
    again = client.wallet().retrieve_remittance(sent.id)
    assert again.id == sent.id and Decimal(str(again.price)) == Decimal("150.25")
    received = receive(client, member.id, "50.25")
    assert s.enum_value(received.remittance_type) == "RECEIVE"
    assert amount_of(client, member.id) == Decimal("100")
    me = client.wallet().retrieve_merchant_member_wallet()
    assert Decimal(str(me.amount)) == Decimal("900")
    # The member's wallet has no negative limit: it cannot pay more than it holds.
    s.expect_error(lambda: receive(client, member.id, "100.01"), status=422, group="NOT_SUFFICIENT_FUNDS")
    s.expect_error(lambda: client.wallet().retrieve_remittance(987654321), status=404)
    verify_ledger(server.db)


def test_withdrawals(client, server):
    member, wallet = new_wallet(client)
    fund_merchant(client, "500")
    send(client, member.id, "80")
    created = client.wallet().create_withdraw(CreateWithdrawRequest(
        price=Decimal("30"), member_id=member.id, description="to my IBAN", currency=Currency.TRY))
    assert s.enum_value(created.payout_status) == "WAITING_FOR_PAYOUT"
    assert s.enum_value(created.status) == "ACTIVE"
    assert created.member_id == member.id
    assert Decimal(str(created.price)) == Decimal("30")
    assert amount_of(client, member.id) == Decimal("50")
    assert client.wallet().retrieve_withdraw(created.id).id == created.id
    found = client.wallet().search_withdraws(SearchWithdrawsRequest(
        member_id=member.id, payout_status=TransactionPayoutStatus.WAITING_FOR_PAYOUT))
    assert [w.id for w in found.items] == [created.id]
    cancelled = client.wallet().cancel_withdraw(CancelWithdrawRequest(withdraw_id=created.id))
    assert s.enum_value(cancelled.payout_status) == "CANCELLED"
    assert amount_of(client, member.id) == Decimal("80")
    # Cancelled once: money returns once.
    s.expect_error(lambda: client.wallet().cancel_withdraw(CancelWithdrawRequest(withdraw_id=created.id)),
                   status=422, code="4605")
    assert amount_of(client, member.id) == Decimal("80")
    s.expect_error(lambda: client.wallet().create_withdraw(CreateWithdrawRequest(
        price=Decimal("80.01"), member_id=member.id, currency=Currency.TRY)), status=422,
        group="NOT_SUFFICIENT_FUNDS")
    by_amount = client.wallet().search_withdraws(SearchWithdrawsRequest(
        member_id=member.id, min_withdraw_price=Decimal("29"), max_withdraw_price=Decimal("31")))
    assert by_amount.total_size == 1
    verify_ledger(server.db)


def test_wallet_transactions_search(client, server):
    member, wallet = new_wallet(client)
    fund_merchant(client, "500")
    send(client, member.id, "100")
    receive(client, member.id, "10")
    w = client.wallet().create_withdraw(CreateWithdrawRequest(price=Decimal("20"), member_id=member.id,
                                                               currency=Currency.TRY))
    client.wallet().cancel_withdraw(CancelWithdrawRequest(withdraw_id=w.id))
    page = transactions(client, wallet.id, page=0, size=10)
    assert page.total_size == 4
    types = [s.enum_value(t.wallet_transaction_type) for t in page.items]
    assert types == ["WITHDRAW_CANCEL", "WITHDRAW", "REMITTANCE", "REMITTANCE"]
    assert all(t.wallet_id == wallet.id for t in page.items)
    assert Decimal(str(page.items[1].amount)) == Decimal("-20")
    assert Decimal(str(page.items[3].amount)) == Decimal("100")
    only = transactions(client, wallet.id, wallet_transaction_types={WalletTransactionType.WITHDRAW,
                                                                     WalletTransactionType.WITHDRAW_CANCEL})
    assert only.total_size == 2
    big = transactions(client, wallet.id, min_amount=Decimal("50"))
    assert big.total_size == 1
    paged = transactions(client, wallet.id, page=1, size=3)
    assert len(paged.items) == 1 and paged.total_size == 4
    s.expect_error(lambda: transactions(client, 987654321), status=404)
    verify_ledger(server.db)


# ---- deposits --------------------------------------------------------------------------------


def test_deposit_by_card_credits_the_wallet(client, server, isbank_alias, sim):
    member, wallet = new_wallet(client)
    deposit = client.payment().create_deposit_payment(deposit_request(member.id, "120.50", pos_alias=isbank_alias))
    assert h.last_status() == 200
    assert s.enum_value(deposit.payment_status) == "SUCCESS"
    assert s.enum_value(deposit.payment_type) == "DEPOSIT_PAYMENT"
    assert deposit.buyer_member_id == member.id
    assert Decimal(str(deposit.price)) == Decimal("120.50")
    assert deposit.order_id and deposit.auth_code
    tx = deposit.wallet_transaction
    assert tx is not None
    assert s.enum_value(tx.wallet_transaction_type) == "DEPOSIT_FROM_CARD"
    assert Decimal(str(tx.amount)) == Decimal("120.50")
    assert tx.wallet_id == wallet.id
    assert amount_of(client, member.id) == Decimal("120.50")
    assert len(s.sim_orders_with(sim, SANDBOX_ISBANK_CLIENT_ID, deposit.order_id)) == 1
    # A declined card: nothing reaches the wallet.
    s.expect_error(lambda: client.payment().create_deposit_payment(
        deposit_request(member.id, "10", card_number=DECLINED_CARD, pos_alias=isbank_alias)),
        status=422, group="NOT_SUFFICIENT_FUNDS")
    assert amount_of(client, member.id) == Decimal("120.50")
    # No wallet, no deposit.
    other = new_member(client)
    s.expect_error(lambda: client.payment().create_deposit_payment(deposit_request(other.id, "10")),
                   status=400, code="4603")
    verify_ledger(server.db)


def test_3ds_deposit(client, server, isbank_alias):
    from browser_helpers import Browser, decode_html_content, run_3ds

    member, wallet = new_wallet(client)
    init = client.payment().init_3ds_deposit_payment(
        deposit_request(member.id, "75", pos_alias=isbank_alias, callback_url=CALLBACK_URL))
    assert h.last_status() == 200
    assert s.enum_value(init.payment_status) == "INIT_THREEDS"
    assert init.html_content and init.redirect_url
    # Nothing is spendable before the card is charged.
    assert amount_of(client, member.id) == 0
    run = run_3ds(Browser(), decode_html_content(init.html_content), server.base_url)
    assert run.orkestra.status_code == 200, run.orkestra.text[:2000]
    assert run.merchant is not None and run.merchant.action == CALLBACK_URL
    done = client.payment().complete_3ds_deposit_payment(CompleteThreeDSPaymentRequest(payment_id=init.payment_id))
    assert s.enum_value(done.payment_status) == "SUCCESS"
    assert s.enum_value(done.payment_type) == "DEPOSIT_PAYMENT"
    assert Decimal(str(done.wallet_transaction.amount)) == Decimal("75")
    assert amount_of(client, member.id) == Decimal("75")
    # Completing twice credits once.
    again = client.payment().complete_3ds_deposit_payment(CompleteThreeDSPaymentRequest(payment_id=init.payment_id))
    assert again.wallet_transaction.id == done.wallet_transaction.id
    assert amount_of(client, member.id) == Decimal("75")

    # A cancelled 3D authentication: the hold is voided, the wallet unchanged.
    init = client.payment().init_3ds_deposit_payment(
        deposit_request(member.id, "40", pos_alias=isbank_alias, callback_url=CALLBACK_URL))
    run_3ds(Browser(), decode_html_content(init.html_content), server.base_url, action="cancel")
    s.expect_error(lambda: client.payment().complete_3ds_deposit_payment(
        CompleteThreeDSPaymentRequest(payment_id=init.payment_id)), status=422)
    assert amount_of(client, member.id) == Decimal("75")
    verify_ledger(server.db)


def test_refund_a_deposit_back_to_the_card(client, server, isbank_alias, sim):
    member, wallet = new_wallet(client)
    deposit = client.payment().create_deposit_payment(deposit_request(member.id, "100", pos_alias=isbank_alias))
    tx_id = deposit.wallet_transaction.id
    refundable = client.wallet().retrieve_refundable_amount_of_wallet_transaction(tx_id)
    assert Decimal(str(refundable.refundable_amount)) == Decimal("100")
    # The whole top-up on its own day: the bank cancels it.
    refund = client.wallet().refund_wallet_transaction(tx_id, RefundWalletTransactionToCardRequest(refund_price=Decimal("100")))
    assert s.enum_value(refund.refund_status) == "SUCCESS"
    assert s.enum_value(refund.transaction_type) == "WALLET_TX"
    assert refund.wallet_transaction_id == tx_id
    assert refund.transaction_id == deposit.id
    assert amount_of(client, member.id) == 0
    order = s.sim_orders_with(sim, SANDBOX_ISBANK_CLIENT_ID, deposit.order_id)[0]
    assert order["voided"] is True
    listed = client.wallet().retrieve_refund_wallet_transactions(tx_id)
    assert [r.id for r in listed.items] == [refund.id]
    refundable = client.wallet().retrieve_refundable_amount_of_wallet_transaction(tx_id)
    assert Decimal(str(refundable.refundable_amount)) == 0

    # A partial refund after the bank's end of day, and never more than the wallet holds.
    deposit = client.payment().create_deposit_payment(deposit_request(member.id, "60", pos_alias=isbank_alias))
    sim.settle(SANDBOX_ISBANK_CLIENT_ID)
    tx_id = deposit.wallet_transaction.id
    receive(client, member.id, "45")
    refundable = client.wallet().retrieve_refundable_amount_of_wallet_transaction(tx_id)
    assert Decimal(str(refundable.refundable_amount)) == Decimal("15")
    s.expect_error(lambda: client.wallet().refund_wallet_transaction(
        tx_id, RefundWalletTransactionToCardRequest(refund_price=Decimal("20"))), status=422,
        group="NOT_SUFFICIENT_FUNDS")
    assert amount_of(client, member.id) == Decimal("15")
    partial = client.wallet().refund_wallet_transaction(tx_id, RefundWalletTransactionToCardRequest(refund_price=Decimal("15")))
    assert s.enum_value(partial.refund_status) == "SUCCESS"
    assert amount_of(client, member.id) == 0
    types = [s.enum_value(t.wallet_transaction_type) for t in transactions(client, wallet.id, size=20).items]
    assert types.count("REFUND_WALLET_TX_TO_CARD") == 2
    verify_ledger(server.db)


# ---- paying from the wallet, refunds into it --------------------------------------------------


def test_wallet_payment_and_card_and_wallet_payment(client, server, isbank_alias, sim):
    member, wallet = new_wallet(client)
    fund_merchant(client, "1000")
    send(client, member.id, "100")

    request = s.payment_request(price="40", items=["15", "25"], buyer_member_id=member.id)
    request.wallet_price = Decimal("40")
    request.card = None
    paid = client.payment().create_payment(request)
    assert s.enum_value(paid.payment_type) == "WALLET_PAYMENT"
    assert s.enum_value(paid.payment_status) == "SUCCESS"
    assert Decimal(str(paid.wallet_price)) == Decimal("40")
    assert [Decimal(str(t.wallet_price)) for t in paid.payment_transactions] == [Decimal("15"), Decimal("25")]
    assert amount_of(client, member.id) == Decimal("60")
    assert Decimal(str(client.payment().retrieve_payment(paid.id).wallet_price)) == Decimal("40")

    request = s.payment_request(price="100", pos_alias=isbank_alias, buyer_member_id=member.id)
    request.wallet_price = Decimal("35")
    mixed = client.payment().create_payment(request)
    assert s.enum_value(mixed.payment_type) == "CARD_AND_WALLET_PAYMENT"
    assert Decimal(str(mixed.wallet_price)) == Decimal("35")
    assert amount_of(client, member.id) == Decimal("25")
    order = s.sim_orders_with(sim, SANDBOX_ISBANK_CLIENT_ID, mixed.order_id)[0]
    assert order["amountMinor"] == 6500  # the card pays what the wallet does not

    # Not enough in the wallet: nothing is charged anywhere.
    before = len(sim.orders(SANDBOX_ISBANK_CLIENT_ID))
    request = s.payment_request(price="100", pos_alias=isbank_alias, buyer_member_id=member.id)
    request.wallet_price = Decimal("30")
    s.expect_error(lambda: client.payment().create_payment(request), status=422, group="NOT_SUFFICIENT_FUNDS")
    assert len(sim.orders(SANDBOX_ISBANK_CLIENT_ID)) == before
    assert amount_of(client, member.id) == Decimal("25")
    # The card declines: the wallet part is given back.
    request = s.payment_request(price="50", pos_alias=isbank_alias, buyer_member_id=member.id,
                                card_number=DECLINED_CARD)
    request.wallet_price = Decimal("20")
    s.expect_error(lambda: client.payment().create_payment(request), status=422, group="NOT_SUFFICIENT_FUNDS")
    assert amount_of(client, member.id) == Decimal("25")
    # A walletPrice needs its owner.
    request = s.payment_request(price="50")
    request.wallet_price = Decimal("5")
    s.expect_error(lambda: client.payment().create_payment(request), status=400, code="4104")

    redeem = transactions(client, wallet.id, wallet_transaction_types={WalletTransactionType.PAYMENT_REDEEM})
    assert redeem.total_size == 2
    assert {Decimal(str(t.amount)) for t in redeem.items} == {Decimal("-40"), Decimal("-35")}
    assert {t.transaction_id for t in redeem.items} == {paid.id, mixed.id}
    verify_ledger(server.db)


def test_refunds_into_the_wallet(client, server, isbank_alias):
    member, wallet = new_wallet(client)
    fund_merchant(client, "1000")
    send(client, member.id, "50")

    # A card payment refunded into the buyer's wallet instead of the card.
    card = client.payment().create_payment(s.payment_request(price="70", pos_alias=isbank_alias,
                                                             buyer_member_id=member.id))
    refund = client.payment().refund_payment(RefundPaymentRequest(
        payment_id=card.id, refund_destination_type=RefundDestinationType.WALLET))
    assert s.enum_value(refund.status) == "SUCCESS"
    assert s.enum_value(refund.refund_destination_type) == "WALLET"
    assert Decimal(str(refund.refund_wallet_price)) == Decimal("70")
    assert Decimal(str(refund.refund_bank_price)) == 0
    assert amount_of(client, member.id) == Decimal("120")
    s.expect_error(lambda: client.payment().refund_payment(RefundPaymentRequest(
        payment_id=card.id, refund_destination_type=RefundDestinationType.WALLET)), status=422)
    assert amount_of(client, member.id) == Decimal("120")

    # A wallet payment goes back to the wallet, in part and then the rest.
    request = s.payment_request(price="30", items=["10", "20"], buyer_member_id=member.id)
    request.wallet_price = Decimal("30")
    request.card = None
    paid = client.payment().create_payment(request)
    assert amount_of(client, member.id) == Decimal("90")
    partial = client.payment().refund_payment_transaction(RefundPaymentTransactionRequest(
        payment_transaction_id=paid.payment_transactions[1].id, refund_price=Decimal("5"),
        refund_destination_type=RefundDestinationType.WALLET))
    assert Decimal(str(partial.refund_wallet_price)) == Decimal("5")
    assert amount_of(client, member.id) == Decimal("95")
    rest = client.payment().refund_payment(RefundPaymentRequest(payment_id=paid.id))
    assert Decimal(str(rest.refund_price)) == Decimal("25")
    assert s.enum_value(rest.refund_destination_type) == "WALLET"
    assert amount_of(client, member.id) == Decimal("120")

    # No buyer: there is no wallet to refund into.
    anonymous = client.payment().create_payment(s.payment_request(price="10", pos_alias=isbank_alias))
    s.expect_error(lambda: client.payment().refund_payment(RefundPaymentRequest(
        payment_id=anonymous.id, refund_destination_type=RefundDestinationType.WALLET)), status=400, code="4301")
    types = {s.enum_value(t.wallet_transaction_type) for t in transactions(client, wallet.id, size=50).items}
    assert {"CANCEL_REFUND_TO_WALLET", "REFUND_TX_TO_WALLET", "PAYMENT_REDEEM", "REMITTANCE"} <= types
    verify_ledger(server.db)


# ---- concurrency ----------------------------------------------------------------------------


def test_a_hundred_parallel_debits_never_overdraw(client, server, sandbox_keys):
    member, wallet = new_wallet(client)
    fund_merchant(client, "1000")
    send(client, member.id, "50")
    clients = [s.sdk_client(server.base_url, sandbox_keys["apiKey"], sandbox_keys["secretKey"])
               for _ in range(16)]

    def debit(n):
        try:
            receive(clients[n % len(clients)], member.id, "1")
            return "ok"
        except Exception as e:  # CraftgateException: a refused debit
            return getattr(e, "error_group", None) or repr(e)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(debit, range(100)))
    assert results.count("ok") == 50, results
    assert results.count("NOT_SUFFICIENT_FUNDS") == 50, results
    assert amount_of(client, member.id) == 0
    assert transactions(client, wallet.id, wallet_transaction_types={WalletTransactionType.REMITTANCE}).total_size == 51
    verify_ledger(server.db)


# ---- crash in the middle of a top-up ----------------------------------------------------------

BANK_TIMEOUT_SECS = 2
ZIRAAT = dict(client_id="190100000", pos_username="ZIRAATAPI", pos_password="ZIRAAT19",
              threeds_key="123456", register_store=False)


@pytest.fixture(scope="module")
def crash_env(tmp_path_factory, db_kind):
    """A server on its own database and a bank in its own process (`orkestra sim`), so the
    bank lives on when the server is killed."""
    workdir = tmp_path_factory.mktemp("orkestra-wallet-crash")
    bank = h.SimProcess(workdir).start()
    db = h.Database(db_kind, workdir / "db")
    server = None
    try:
        keys = h.create_merchant(db, "Wallet Crash Merchant", workdir)
        server = h.OrkestraServer(db, workdir, name="wallet-crash", sandbox=False,
                                  bank_timeout_secs=BANK_TIMEOUT_SECS)
        server.start()
        sim = h.SimAdmin(bank.admin_url)
        client = s.sdk_client(server.base_url, keys["apiKey"], keys["secretKey"])
        pos = create_sim_pos(client, sim, bank.base_url, path="/nestpay/fim/api",
                             threeds_path="/nestpay/fim/est3Dgate", **ZIRAAT)
        yield dict(server=server, bank=bank, sim=sim, client=client, pos=pos, db=db)
    finally:
        if server is not None:
            server.stop()
        bank.stop()
        db.drop()


def deposit_in_thread(client, request):
    outcome = {}

    def run():
        try:
            outcome["deposit"] = client.payment().create_deposit_payment(request)
        except Exception as e:  # the server dies under it
            outcome["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("fault, expected", [("delay", "SUCCESS"), ("drop_before", "FAILURE")])
def test_kill_during_a_top_up(crash_env, request, fault, expected):
    """kill -9 while the card call of a top-up is in flight; after the restart the recovery
    task asks the bank, the top-up completes (the bank charged) or is voided (it did not),
    and the books balance."""
    env = crash_env
    server, sim, client, pos = env["server"], env["sim"], env["client"], env["pos"]
    server.owner = request.node.nodeid
    if not server.alive():
        server.start()
    member, wallet = new_wallet(client)
    before = {o["orderId"] for o in sim.orders(pos.client_id)}
    sim.fault(pos.client_id, fault, count=1, delay_ms=3000)
    deposit = deposit_request(member.id, "64.20", pos_alias=pos.alias)
    conversation_id = deposit.conversation_id
    thread, outcome = deposit_in_thread(client, deposit)
    if fault == "delay":
        # The bank books the order, then sits on the answer: kill the server right then.
        h.wait_until(lambda: [o for o in sim.orders(pos.client_id) if o["orderId"] not in before], 15,
                     interval=0.05, message="the bank to book the order")
    else:
        h.wait_until(lambda: not sim.pending_faults(pos.client_id), 15, interval=0.05,
                     message="the request to reach the bank")
    server.kill9()
    thread.join(timeout=30)
    assert "deposit" not in outcome, "an answer from a dead server?"

    server.start()  # same port, same database
    # Whatever the bank did, nothing is spendable before it is known.
    assert amount_of(client, member.id) in (Decimal("0"), Decimal("64.20"))
    found = client.payment_reporting().search_payments(SearchPaymentsRequest(conversation_id=conversation_id))
    assert found.total_size == 1, found.total_size
    payment_id = found.items[0].id

    def settled():
        p = client.payment().retrieve_payment(payment_id)
        return s.enum_value(p.payment_status) in ("SUCCESS", "FAILURE") and p

    done = h.wait_until(settled, 60, interval=0.5, message="the top-up's card payment to settle")
    assert s.enum_value(done.payment_status) == expected
    assert s.enum_value(done.payment_type) == "DEPOSIT_PAYMENT"
    # The hold follows the payment: posted (complete) or voided, and nothing left pending.
    h.wait_until(lambda: ", 0 pending" in verify_ledger(env["db"]), 30, interval=0.5,
                 message="the top-up's hold to be settled")
    orders = [o for o in sim.orders(pos.client_id) if o["orderId"] not in before]
    assert len(orders) == (1 if expected == "SUCCESS" else 0), orders
    deposits = transactions(client, wallet.id, wallet_transaction_types={WalletTransactionType.DEPOSIT_FROM_CARD})
    if expected == "SUCCESS":
        assert deposits.total_size == 1
        assert amount_of(client, member.id) == Decimal("64.20")
    else:
        assert deposits.total_size == 0
        assert amount_of(client, member.id) == 0
