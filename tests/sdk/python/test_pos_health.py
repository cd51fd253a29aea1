"""POS health (autopilot) through the SDK: a POS whose bank keeps failing technically is
taken out of the rotation (payments go to the next POS at once, the POS reports
`autopilotState` down), and after its rest a success puts it back."""

import time

import pytest
import sdk_helpers as s
from conftest import SANDBOX_ISBANK_CLIENT_ID, SandboxEnv, sandbox_server

REST_SECS = 2


@pytest.fixture(scope="module")
def env(tmp_path_factory, db_kind):
    with sandbox_server(tmp_path_factory, db_kind, "pos-health", pos_rest_secs=REST_SECS) as srv:
        yield SandboxEnv(srv)


def state_of(env, pos_id):
    pos = env.client.merchant().retrieve(pos_id)
    return pos.autopilot_state.is_non_three_ds_up


def test_a_failing_pos_rests_and_comes_back(env):
    isbank = env.poses[SANDBOX_ISBANK_CLIENT_ID]
    assert state_of(env, isbank.id) is True
    # Three technical failures in a row (HTTP 500 at the bank): each payment still
    # succeeds, on the next POS, and the failing POS leaves the rotation.
    for _ in range(3):
        env.sim.fault(SANDBOX_ISBANK_CLIENT_ID, "http500", 1)
        payment = env.client.payment().create_payment(s.payment_request(price="10.00"))
        assert s.enum_value(payment.payment_status) == "SUCCESS"
        assert payment.pos.alias == env.halkbank_alias
    assert state_of(env, isbank.id) is False
    # While it rests, payments skip it without trying it.
    payment = env.client.payment().create_payment(s.payment_request(price="11.00"))
    assert payment.pos.alias == env.halkbank_alias
    reported = env.client.payment_reporting().retrieve_payment(payment.id)
    assert reported.retry_count == 0, "skipped, not tried"
    # After the rest the POS is tried again; its success puts it back.
    time.sleep(REST_SECS + 0.5)
    payment = env.client.payment().create_payment(s.payment_request(price="12.00"))
    assert payment.pos.alias == env.isbank_alias
    assert state_of(env, isbank.id) is True
    # The failed calls charged nothing: the bank holds only the last payment.
    orders = env.sim.orders(SANDBOX_ISBANK_CLIENT_ID)
    assert [o["amountMinor"] for o in orders] == [1200], orders
