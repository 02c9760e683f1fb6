"""The model parameters' ranges and the operator's ceilings (`chatapp.core.parameters`), and the
settings that set them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from chatapp.core import parameters
from chatapp.core.config import load_settings
from chatapp.core.parameters import Ceilings, ParameterError
from chatapp.errors import ConfigError

LOW = Ceilings(context_window=50, token_budget=32_000, max_tokens=8192)


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("temperature", "0", 0.0),
        ("temperature", "1.234", 1.23),
        ("temperature", 2, 2.0),
        ("top_p", "0.95", 0.95),
        ("top_p", " 1 ", 1.0),
        ("max_tokens", "", None),
        ("max_tokens", "0", None),
        ("max_tokens", 0, None),
        ("max_tokens", "8192", 8192),
        ("max_tokens", "1", 1),
        ("context_window", "50", 50),
        ("context_window", "1", 1),
        ("context_window", "20.0", 20),
        ("token_budget", "256", 256),
        ("token_budget", "32000", 32000),
    ],
)
def test_values_in_range_are_accepted(name, raw, expected):
    assert parameters.parse(name, raw, LOW) == expected


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("temperature", "2.01"),
        ("temperature", "-0.1"),
        ("temperature", ""),
        ("temperature", "warm"),
        ("temperature", "nan"),
        ("temperature", "inf"),
        ("temperature", True),
        ("temperature", None),
        ("temperature", [1]),
        ("top_p", "1.5"),
        ("max_tokens", "8193"),  # over the ceiling (the absolute top is 128,000)
        ("max_tokens", "128000"),
        ("max_tokens", "-5"),
        ("max_tokens", "100.5"),
        ("context_window", "200"),  # the attack: over the ceiling of 50
        ("context_window", "51"),
        ("context_window", "0"),
        ("context_window", "20.5"),
        ("context_window", ""),
        ("token_budget", "1000000"),
        ("token_budget", "32001"),
        ("token_budget", "255"),
        ("token_budget", "1e309"),
    ],
)
def test_values_out_of_range_are_refused_naming_the_field(name, raw):
    with pytest.raises(ParameterError) as caught:
        parameters.parse(name, raw, LOW)
    assert caught.value.detail == name
    assert caught.value.allowed == LOW.ranges()[name]


def test_ceilings_lower_only_the_tops_and_never_raise_them():
    ranges = Ceilings(context_window=10, token_budget=999_999_999, max_tokens=100).ranges()
    assert (ranges["context_window"].lo, ranges["context_window"].hi) == (1, 10)
    assert ranges["token_budget"].hi == parameters.ABSOLUTE["token_budget"].hi
    assert (ranges["max_tokens"].lo, ranges["max_tokens"].hi) == (1, 100)
    assert ranges["temperature"] == parameters.ABSOLUTE["temperature"]


def test_a_form_changes_only_the_fields_it_sends_and_refuses_the_first_bad_one():
    assert parameters.parse_form({"model": "m", "temperature": "1"}, LOW) == {"temperature": 1.0}
    full = {
        "temperature": "0.5",
        "top_p": "0.9",
        "max_tokens": "",
        "context_window": "30",
        "token_budget": "16000",
    }
    assert parameters.parse_form(full, LOW) == {
        "temperature": 0.5,
        "top_p": 0.9,
        "max_tokens": None,
        "context_window": 30,
        "token_budget": 16000,
    }
    with pytest.raises(ParameterError) as caught:
        parameters.parse_form({**full, "context_window": "200", "token_budget": "1"}, LOW)
    assert caught.value.detail == "context_window"


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        # What the attacker stored before the ceilings existed.
        (
            {
                "temperature": 5,
                "top_p": 3,
                "max_tokens": 128_000,
                "context_window": 200,
                "token_budget": 1_000_000,
            },
            {
                "temperature": 2.0,
                "top_p": 1.0,
                "max_tokens": 8192,
                "context_window": 50,
                "token_budget": 32_000,
            },
        ),
        # Within the ceilings: unchanged; no top_p and no max_tokens are not sent.
        (
            {"temperature": 0.7, "context_window": 20, "token_budget": 8000},
            {
                "temperature": 0.7,
                "top_p": None,
                "max_tokens": None,
                "context_window": 20,
                "token_budget": 8000,
            },
        ),
        # Below the bottoms (a hand-edited row) and missing values.
        (
            {"temperature": -1, "top_p": -1, "max_tokens": -3, "context_window": 0},
            {
                "temperature": 0.0,
                "top_p": 0.0,
                "max_tokens": 1,
                "context_window": 1,
                "token_budget": 8000,
            },
        ),
    ],
)
def test_stored_values_are_clamped_to_the_ceilings_when_used(stored, expected):
    assert parameters.effective(stored, LOW) == expected
    assert parameters.effective(SimpleNamespace(**stored), LOW) == expected  # a row works too


def test_an_unset_reply_length_takes_the_operators_default_when_there_is_one():
    capped = Ceilings(max_tokens=4096, default_max_tokens=2048)
    assert parameters.effective({"max_tokens": None}, capped)["max_tokens"] == 2048
    assert parameters.effective({"max_tokens": 0}, capped)["max_tokens"] == 2048
    assert parameters.effective({"max_tokens": 100_000}, capped)["max_tokens"] == 4096


@pytest.mark.parametrize(
    ("name", "lang", "text"),
    [
        ("context_window", "zh", "上下文消息数必须是 1–50 之间的整数，未保存。"),
        ("context_window", "en", "Context messages must be a whole number from 1 to 50"),
        ("temperature", "zh", "温度必须在 0–2 之间，未保存。"),
        ("top_p", "en", "Top P must be between 0 and 1; nothing was saved."),
        ("token_budget", "zh", "上下文 token 预算必须是 256–32000 之间的整数"),
        (
            "max_tokens",
            "zh",
            "最大回复长度必须是 1–8192 之间的整数（0 或留空表示使用模型的默认值）",
        ),
        ("max_tokens", "en", "from 1 to 8192 (0 or empty: the model's default); nothing was saved"),
    ],
)
def test_the_refusal_says_which_field_and_what_is_allowed(name, lang, text):
    with pytest.raises(ParameterError) as caught:
        parameters.parse(name, "999999999", LOW)
    assert text in parameters.describe(caught.value, lang)


def test_settings_default_to_ceilings_a_normal_user_never_meets(tmp_path):
    s = load_settings({"CHATAPP_DATA_DIR": str(tmp_path)})
    assert s.ceilings == Ceilings(50, 32_000, 8192, None)
    assert (s.sends_per_minute, s.max_concurrent_answers) == (20, 3)
    # The conversation defaults (models.Conversation) sit below them.
    assert parameters.effective({}, s.ceilings) == {
        "temperature": 0.7,
        "top_p": None,
        "max_tokens": None,
        "context_window": 20,
        "token_budget": 8000,
    }


def test_settings_read_the_operators_limits(tmp_path):
    s = load_settings(
        {
            "CHATAPP_DATA_DIR": str(tmp_path),
            "CHAT_MAX_CONTEXT_MESSAGES": "10",
            "CHAT_MAX_TOKEN_BUDGET": "4000",
            "CHAT_MAX_REPLY_TOKENS": "2000",
            "CHAT_DEFAULT_REPLY_TOKENS": "1000",
            "CHAT_SENDS_PER_MINUTE": "5",
            "CHAT_MAX_CONCURRENT_ANSWERS": "1",
        }
    )
    assert s.ceilings == Ceilings(10, 4000, 2000, 1000)
    assert (s.sends_per_minute, s.max_concurrent_answers) == (5, 1)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CHAT_MAX_CONTEXT_MESSAGES", "0"),
        ("CHAT_MAX_CONTEXT_MESSAGES", "201"),
        ("CHAT_MAX_CONTEXT_MESSAGES", "fifty"),
        ("CHAT_MAX_TOKEN_BUDGET", "100"),
        ("CHAT_MAX_TOKEN_BUDGET", "2000000"),
        ("CHAT_MAX_REPLY_TOKENS", "0"),
        ("CHAT_MAX_REPLY_TOKENS", "200000"),
        ("CHAT_DEFAULT_REPLY_TOKENS", "9000"),  # above CHAT_MAX_REPLY_TOKENS (8192)
        ("CHAT_DEFAULT_REPLY_TOKENS", "0"),
        ("CHAT_SENDS_PER_MINUTE", "0"),
        ("CHAT_SENDS_PER_MINUTE", "-1"),
        ("CHAT_MAX_CONCURRENT_ANSWERS", "0"),
        ("CHAT_MAX_CONCURRENT_ANSWERS", "1.5"),
    ],
)
def test_bad_limits_stop_the_start_naming_the_setting(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings({"CHATAPP_DATA_DIR": str(tmp_path), name: value})
