"""The rule chain, rule by rule and in order: the first refusal wins, each names what to do in
both languages, and every refusal is counted by rule."""

from __future__ import annotations

import dataclasses

import pytest
from prometheus_client import REGISTRY

from chatapp.billing import rules
from chatapp.billing.plans import PlanTerms
from chatapp.billing.rules import Facts, Refused, Request
from chatapp.billing.sensitive import Policy, WordList

TERMS = PlanTerms(
    id=1,
    name="基础版",
    daily_free=1000,
    models=("small", "big"),
    multipliers={"big": 2.0},
    sends_per_minute=0,
    max_message_chars=0,
)
WORDS = Policy(WordList(["违禁词"]), refuse_input=True, mask_output=True, version=1)
OK = Facts(
    status="active",
    terms=TERMS,
    words=WORDS,
    rate_retry_after_s=0,
    rate_limit=20,
    max_message_chars=100,
    available=500,
    free_left=400,
)
HELLO = Request(model="small", text="你好", estimate=50)


def _with(**changes) -> Facts:
    return dataclasses.replace(OK, **changes)


@pytest.mark.parametrize(
    ("facts", "req", "rule", "reason"),
    [
        (_with(status="frozen"), HELLO, "account_status", "account_frozen"),
        (OK, Request("gpt-4o", "你好", 50), "model_allowed", "model_not_allowed"),
        (OK, Request("small", "这有违禁词", 50), "sensitive_words", "sensitive_input"),
        (_with(rate_retry_after_s=12), HELLO, "send_rate", "send_rate_limited"),
        (OK, Request("small", "字" * 101, 50), "message_size", "message_too_long"),
        (_with(available=0, free_left=0), HELLO, "quota", "quota_daily"),
        (_with(available=20, free_left=0), HELLO, "quota", "quota_balance"),
    ],
)
def test_each_rule_refuses_its_case(facts, req, rule, reason):
    refusal = rules.first_refusal(facts, req)
    assert refusal is not None and (refusal.rule, refusal.reason) == (rule, reason)


def test_a_request_every_rule_allows_passes():
    assert rules.first_refusal(OK, HELLO) is None
    assert rules.first_refusal(_with(available=None), Request("big", "x" * 100, 10**9)) is None


def test_the_first_rule_in_the_chain_wins():
    everything_wrong = _with(status="frozen", rate_retry_after_s=5, available=0)
    refusal = rules.first_refusal(everything_wrong, Request("gpt-4o", "违禁词" * 50, 50))
    assert refusal is not None and refusal.rule == "account_status"
    refusal = rules.first_refusal(
        _with(rate_retry_after_s=5, available=0), Request("small", "违禁词" * 50, 50)
    )
    assert refusal is not None and refusal.rule == "sensitive_words"


def test_a_paused_word_list_refuses_nothing():
    paused = Policy(WORDS.words, refuse_input=False, mask_output=True, version=2)
    assert rules.first_refusal(_with(words=paused), Request("small", "违禁词", 5)) is None


@pytest.mark.parametrize(
    ("facts", "req", "zh", "en"),
    [
        (_with(available=0, free_left=0), HELLO, "今日免费额度已用完，明天 0 点恢复", "midnight"),
        (OK, Request("gpt-4o", "你好", 5), "当前套餐不能使用 gpt-4o 模型", "can't use the gpt-4o"),
        (_with(rate_retry_after_s=12), HELLO, "请 12 秒后再试", "Try again in 12 s"),
        (OK, Request("small", "字" * 101, 5), "最多 100 个字，当前 101 个字", "this one has 101"),
        (_with(available=20, free_left=0), HELLO, "余额不足（剩余 20）", "(20 left)"),
    ],
)
def test_a_refusal_says_what_happened_and_what_to_do(facts, req, zh, en):
    refusal = rules.first_refusal(facts, req)
    assert refusal is not None
    assert zh in rules.describe(refusal, "zh")
    assert en in rules.describe(refusal, "en")
    assert "{" not in rules.describe(refusal, "zh") + rules.describe(refusal, "en")


def test_admit_raises_and_counts_by_rule():
    def count() -> float:
        return REGISTRY.get_sample_value("chatapp_refusals_total", {"rule": "message_size"}) or 0

    before = count()
    with pytest.raises(Refused) as refused:
        rules.admit(OK, Request("small", "字" * 101, 5))
    assert refused.value.refusal.reason == "message_too_long"
    assert count() == before + 1
    rules.admit(OK, HELLO)  # passes: nothing raised, nothing counted
    assert count() == before + 1
