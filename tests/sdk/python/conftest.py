"""Fixtures for the Craftgate-SDK end-to-end suite.

One sandbox server per session (fresh database: SQLite by default, PostgreSQL with
`ORKESTRA_TEST_DB=postgres`), the official Python SDK pointed at it, a raw signed-request
helper, the in-process NestPay simulator's admin API, a second merchant for isolation
tests, and a factory for merchant POSes that point at their own simulator store.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Callable, Dict, List

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import orkestra_harness as h  # noqa: E402
import sdk_helpers as s  # noqa: E402
from craftgate.model.currency import Currency  # noqa: E402
from craftgate.model.pos_integrator import PosIntegrator  # noqa: E402
from craftgate.model.pos_operation_type import PosOperationType  # noqa: E402
from craftgate.model.pos_status import PosStatus  # noqa: E402
from craftgate.model.pos_user_type import PosUserType  # noqa: E402
from craftgate.request.create_merchant_pos_request import CreateMerchantPosRequest  # noqa: E402
from craftgate.request.dto.create_merchant_pos_user import CreateMerchantPosUser  # noqa: E402
from craftgate.request.search_merchant_pos_request import SearchMerchantPosRequest  # noqa: E402

# Shared server's bank timeout: generous, so a loaded 2-core machine never times out by
# accident. Timeout and recovery tests run their own server with a short timeout.
SHARED_BANK_TIMEOUT_SECS = 10
SANDBOX_ISBANK_CLIENT_ID = "100200127"
SANDBOX_HALKBANK_CLIENT_ID = "100200128"


def pytest_configure(config):
    h.install_traffic_watch()


def pytest_sessionfinish(session, exitstatus):
    """After the whole run: no card number a test sent may be found in clear in any
    database file, database dump or server log of the run (card numbers are stored only
    sealed, and never logged)."""
    for server in h.SERVERS:
        server.stop()
        if server.log_path.exists():
            h.AT_REST_FINDINGS.extend(h.find_sent_pans(server.log_path.read_bytes(), str(server.log_path)))
    for db in h.DATABASES:
        db.scan_at_rest()
    scanned = len(h.DATABASES)
    if h.AT_REST_FINDINGS:
        print("\ncard numbers found at rest:\n" + "\n".join(h.AT_REST_FINDINGS))
        session.exitstatus = 1
    else:
        print(f"\nat rest: {len(h.SENT_PANS)} card numbers sent, none found in {scanned} databases and {len(h.SERVERS)} server logs")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for server in h.SERVERS:
            if server.owner in (None, item.nodeid):
                report.sections.append(
                    (f"orkestra log tail: {server.name} ({server.log_path})", server.log_tail(60))
                )


@pytest.fixture(scope="session")
def db_kind() -> str:
    return h.DB_KIND


@pytest.fixture(scope="session")
def server(tmp_path_factory, db_kind):
    workdir = tmp_path_factory.mktemp("orkestra-shared")
    db = h.Database(db_kind, workdir)
    srv = h.OrkestraServer(
        db, workdir, name="shared", sandbox=True, bank_timeout_secs=SHARED_BANK_TIMEOUT_SECS
    )
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
        db.drop()


@pytest.fixture(scope="session")
def sandbox_keys(server) -> Dict[str, str]:
    return server.sandbox_keys()


@pytest.fixture(scope="session")
def client(server, sandbox_keys):
    return s.sdk_client(server.base_url, sandbox_keys["apiKey"], sandbox_keys["secretKey"])


@pytest.fixture(scope="session")
def raw(server, sandbox_keys) -> h.RawClient:
    return h.RawClient(server.base_url, sandbox_keys["apiKey"], sandbox_keys["secretKey"])


@pytest.fixture(scope="session")
def sim(server) -> h.SimAdmin:
    return h.SimAdmin(server.sim_url)


@pytest.fixture(scope="session")
def second_merchant(server) -> Dict[str, str]:
    return server.create_merchant("Second Merchant " + h.uid("m"))


@pytest.fixture(scope="session")
def second_client(server, second_merchant):
    return s.sdk_client(server.base_url, second_merchant["apiKey"], second_merchant["secretKey"])


@pytest.fixture(scope="session")
def second_raw(server, second_merchant) -> h.RawClient:
    return h.RawClient(server.base_url, second_merchant["apiKey"], second_merchant["secretKey"])


@pytest.fixture(scope="session")
def sandbox_poses(client) -> Dict[str, object]:
    """The sandbox merchant's POSes by clientId."""
    result = client.merchant().search_merchant_pos(SearchMerchantPosRequest(size=100))
    poses = {p.client_id: p for p in result.items}
    assert SANDBOX_ISBANK_CLIENT_ID in poses and SANDBOX_HALKBANK_CLIENT_ID in poses, poses
    return poses


@pytest.fixture(scope="session")
def isbank_alias(sandbox_poses) -> str:
    return sandbox_poses[SANDBOX_ISBANK_CLIENT_ID].alias


@pytest.fixture(scope="session")
def halkbank_alias(sandbox_poses) -> str:
    return sandbox_poses[SANDBOX_HALKBANK_CLIENT_ID].alias


def create_sim_pos(client, sim: h.SimAdmin, hostname: str, path: str = "/sim/nestpay/fim/api",
                   threeds_path: str = "/sim/nestpay/fim/est3Dgate", **overrides) -> h.SimPos:
    """Registers a new store in the simulator and creates a ZIRAATBANK merchant POS
    pointing at it through the SDK (hostname/path/threedsPath are Orkestra extensions
    sent as extra fields of the SDK's request object)."""
    client_id = overrides.pop("client_id", None) or h.numeric_uid(9)
    user = overrides.pop("pos_username", None) or ("API" + h.numeric_uid(6))
    password = overrides.pop("pos_password", None) or ("Pw" + h.uid("p").replace("-", ""))
    store_key = overrides.pop("threeds_key", None) or ("Key" + h.uid("k").replace("-", ""))
    if overrides.pop("register_store", True):
        sim.add_store(client_id, user, password, store_key)
    name = overrides.pop("name", None) or ("Sim POS " + h.uid("pos"))
    request = CreateMerchantPosRequest(
        status=overrides.pop("status", PosStatus.ACTIVE),
        name=name,
        client_id=client_id,
        currency=overrides.pop("currency", Currency.TRY),
        threeds_key=store_key,
        enable_installment=overrides.pop("enable_installment", True),
        enable_foreign_card=overrides.pop("enable_foreign_card", False),
        enable_payment_without_cvc=False,
        enable_loyalty=False,
        new_integration=False,
        order_number=overrides.pop("order_number", 50),
        pos_integrator=overrides.pop("pos_integrator", PosIntegrator.ZIRAATBANK),
        merchant_pos_users=[
            CreateMerchantPosUser(
                pos_username=user,
                pos_password=password,
                pos_user_type=PosUserType.API,
                pos_operation_type=PosOperationType.STANDARD,
            )
        ],
    )
    # Orkestra extension fields: the SDK serialises every attribute of the request object.
    request.hostname = hostname
    request.path = path
    request.threeds_path = threeds_path
    assert not overrides, f"unknown overrides {overrides}"
    response = client.merchant().create_merchant_pos(request)
    return h.SimPos(
        id=response.id,
        alias=response.alias,
        client_id=client_id,
        name=name,
        password=password,
        store_key=store_key,
        response=response,
    )


class SandboxEnv:
    """Everything a test needs around one sandbox server: SDK client, raw client,
    simulator admin, the sandbox POS aliases and a POS factory."""

    def __init__(self, server: h.OrkestraServer):
        self.server = server
        self.keys = server.sandbox_keys()
        self.client = s.sdk_client(server.base_url, self.keys["apiKey"], self.keys["secretKey"])
        self.raw = h.RawClient(server.base_url, self.keys["apiKey"], self.keys["secretKey"])
        self.sim = h.SimAdmin(server.sim_url)
        result = self.client.merchant().search_merchant_pos(SearchMerchantPosRequest(size=100))
        self.poses = {p.client_id: p for p in result.items}
        self.isbank_alias = self.poses[SANDBOX_ISBANK_CLIENT_ID].alias
        self.halkbank_alias = self.poses[SANDBOX_HALKBANK_CLIENT_ID].alias

    def make_sim_pos(self, **overrides) -> h.SimPos:
        return create_sim_pos(self.client, self.sim, self.server.base_url, **overrides)


@contextlib.contextmanager
def sandbox_server(tmp_path_factory, db_kind: str, name: str, **server_args):
    """A separate sandbox server on its own fresh database, stopped (and its database
    dropped) on exit."""
    workdir = tmp_path_factory.mktemp(f"orkestra-{name}")
    db = h.Database(db_kind, workdir)
    srv = h.OrkestraServer(db, workdir, name=name, sandbox=True, **server_args)
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
        db.drop()


@pytest.fixture
def make_sim_pos(client, sim, server) -> Callable[..., h.SimPos]:
    """Factory: a fresh merchant POS of the sandbox merchant with its own simulator store,
    so a test can settle it or count its orders without touching the sandbox POSes."""

    def make(**overrides) -> h.SimPos:
        return create_sim_pos(client, sim, server.base_url, **overrides)

    return make


@pytest.fixture(autouse=True)
def _per_test_guards(request):
    """After each test: clear the shared simulator's faults, and fail the test if any
    Orkestra API response carried a card number."""
    leaks_before = len(h.PAN_LEAKS)
    yield
    for server in h.SERVERS:
        if server.sandbox and server.alive():
            try:
                h.SimAdmin(server.sim_url).clear_faults()
            except Exception:
                pass
    new_leaks: List[str] = h.PAN_LEAKS[leaks_before:]
    assert not new_leaks, "card numbers appeared in API responses:\n" + "\n".join(new_leaks)
