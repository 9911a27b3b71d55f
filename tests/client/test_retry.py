"""Retry decisions are pure: tested without sleeping or sockets."""

from __future__ import annotations

import pytest

from axframe.client import retry
from axframe.client.retry import NOT_SENT, READ_TIMEOUT, SENT, RetryPolicy, decide

POLICY = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=5.0, max_retry_after=60)


def half():
    return 0.5


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("idempotent", [True, False])
def test_refusals_are_retried_for_every_method(status, idempotent):
    d = decide(POLICY, attempt=1, idempotent=idempotent, status=status, rand=half)
    assert d.retry and d.delay == 0.75  # 1.0 * (0.5 + 0.5 * 0.5)


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_errors_retried_only_when_idempotent(status):
    assert decide(POLICY, attempt=1, idempotent=True, status=status, rand=half).retry
    d = decide(POLICY, attempt=1, idempotent=False, status=status)
    assert not d.retry and d.unknown_outcome


@pytest.mark.parametrize("status", [200, 201, 400, 401, 403, 404, 409, 500])
def test_other_statuses_are_final(status):
    d = decide(POLICY, attempt=1, idempotent=True, status=status)
    assert not d.retry and not d.unknown_outcome


def test_retry_after_wins_and_is_capped():
    assert decide(POLICY, attempt=1, idempotent=False, status=429, retry_after=7).delay == 7
    assert decide(POLICY, attempt=1, idempotent=False, status=503, retry_after=600).delay == 60


def test_backoff_grows_and_is_capped():
    delays = [retry.backoff(POLICY, attempt, rand=lambda: 1.0) for attempt in range(1, 6)]
    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0]
    low = [retry.backoff(POLICY, attempt, rand=lambda: 0.0) for attempt in range(1, 4)]
    assert low == [0.5, 1.0, 2.0]


def test_gives_up_after_max_attempts():
    assert decide(POLICY, attempt=3, idempotent=True, status=503).retry
    d = decide(POLICY, attempt=4, idempotent=True, status=503)
    assert not d.retry and "gave up after 4 attempts" in d.reason


def test_transport_failures():
    assert decide(POLICY, attempt=1, idempotent=False, failure=NOT_SENT).retry
    for kind in (SENT, READ_TIMEOUT):
        assert decide(POLICY, attempt=1, idempotent=True, failure=kind).retry
        d = decide(POLICY, attempt=1, idempotent=False, failure=kind)
        assert not d.retry and d.unknown_outcome


def test_parse_retry_after():
    assert retry.parse_retry_after("3") == 3
    assert retry.parse_retry_after("0") == 0
    assert retry.parse_retry_after(None) is None
    assert retry.parse_retry_after("soon") is None
    assert retry.parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480) == 10


def test_policy_checks_itself():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
