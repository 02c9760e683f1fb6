"""The rule chain every model call passes first — chat, regenerate, edit, image and the API.

One ordered list of plain rules, each a function of the facts about the user and the request that
returns a `Refusal` or None; the first refusal wins:

    account status → model allowed → 敏感词 → send rate → message size → quota

The caller gathers the facts (`Facts`: the wallet, the plan, the 敏感词 policy, the send-rate
verdict) and, once the chain passes, reserves the estimate (`billing.wallet.reserve`), which
checks the quota again atomically. A refusal is a sentence in the user's language
(`describe`) saying what to do, and is counted in metrics by rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from chatapp.billing.plans import PlanTerms
from chatapp.billing.sensitive import Policy
from chatapp.errors import InvalidInput


@dataclass(frozen=True)
class Request:
    """What is about to be sent: the model, the user's new text (empty for a regenerate), and the
    units the call is estimated to cost."""

    model: str
    text: str
    estimate: int


@dataclass(frozen=True)
class Facts:
    """What the rules know about the user, gathered before the chain runs."""

    status: str  # active | frozen
    terms: PlanTerms
    words: Policy
    # Seconds until the send rate lets this send through; 0: it may go now.
    rate_retry_after_s: int
    rate_limit: int
    # The largest message the plan or the server allows, in characters.
    max_message_chars: int
    # Free units left today + balance − what answers in flight hold (None: no quota).
    available: int | None
    free_left: int = 0


@dataclass(frozen=True)
class Refusal:
    """Why a call may not run: the rule, a reason code and the numbers the sentence names."""

    rule: str
    reason: str
    params: dict[str, str] = field(default_factory=dict)


class Refused(InvalidInput):
    """A call the rule chain refused; `refusal` says which rule and why."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason, refusal.params.get("n", ""))
        self.refusal = refusal


def account_status(facts: Facts, req: Request) -> Refusal | None:
    if facts.status != "active":
        return Refusal("account_status", "account_frozen")
    return None


def model_allowed(facts: Facts, req: Request) -> Refusal | None:
    if not facts.terms.allows(req.model):
        return Refusal("model_allowed", "model_not_allowed", {"model": req.model})
    return None


def sensitive_words(facts: Facts, req: Request) -> Refusal | None:
    if facts.words.refuse_input and req.text:
        found = facts.words.words.find(req.text)
        if found:
            return Refusal("sensitive_words", "sensitive_input", {"word": found[0]})
    return None


def send_rate(facts: Facts, req: Request) -> Refusal | None:
    if facts.rate_retry_after_s > 0:
        return Refusal(
            "send_rate",
            "send_rate_limited",
            {"n": str(facts.rate_limit), "s": str(facts.rate_retry_after_s)},
        )
    return None


def message_size(facts: Facts, req: Request) -> Refusal | None:
    if len(req.text) > facts.max_message_chars:
        return Refusal(
            "message_size",
            "message_too_long",
            {"n": str(facts.max_message_chars), "m": str(len(req.text))},
        )
    return None


def quota(facts: Facts, req: Request) -> Refusal | None:
    if facts.available is None or facts.available >= req.estimate:
        return None
    if facts.free_left <= 0 and facts.available <= 0 and (facts.terms.daily_free or 0) > 0:
        return Refusal("quota", "quota_daily", {"n": str(facts.terms.daily_free)})
    return Refusal("quota", "quota_balance", {"n": str(max(0, facts.available))})


Rule = Callable[[Facts, Request], Refusal | None]
CHAIN: tuple[Rule, ...] = (
    account_status,
    model_allowed,
    sensitive_words,
    send_rate,
    message_size,
    quota,
)


def first_refusal(facts: Facts, req: Request, chain: tuple[Rule, ...] = CHAIN) -> Refusal | None:
    """The first rule's refusal, or None when every rule lets the call through."""
    for rule in chain:
        refusal = rule(facts, req)
        if refusal is not None:
            return refusal
    return None


def admit(facts: Facts, req: Request) -> None:
    """Runs the chain; counts and raises the refusal.

    Raises:
        Refused: the first rule that refused.
    """
    refusal = first_refusal(facts, req)
    if refusal is not None:
        from chatapp.core import metrics

        metrics.REFUSALS.labels(rule=refusal.rule).inc()
        raise Refused(refusal)


def describe(refusal: Refusal, lang: str) -> str:
    """The sentence the user reads, in their language."""
    from chatapp.i18n import translate

    text = translate(f"rule.{refusal.reason}", lang)
    for name, value in refusal.params.items():
        text = text.replace("{" + name + "}", value)
    return text
