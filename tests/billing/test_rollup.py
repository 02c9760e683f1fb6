"""The daily usage rollup against real databases: the same seeded ledger read through the rollup
and summed live gives the same rows, finished days are stored once, and a call settled after
midnight still counts on the day it was made."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import Session, select

from chatapp.admin import dashboard
from chatapp.billing import plans, rollup, wallet
from chatapp.billing.wallet import Usage
from chatapp.core.config import load_settings
from chatapp.core.timefmt import zone_info
from chatapp.models import UsageDay, UsageEntry, User

ZONE = "Asia/Shanghai"
# 14:00 in China on 2026-12-20.
NOW = datetime(2026, 12, 20, 6, 0, tzinfo=UTC)
MODELS = ("gpt-4o", "deepseek-chat", "glm-4")


@pytest.fixture
def settings(tmp_path):
    return load_settings({"CHATAPP_DATA_DIR": str(tmp_path), "BILLING_TIME_ZONE": ZONE})


@pytest.fixture
def people(session: Session) -> list[int]:
    made = [User(openid=f"u{i}") for i in range(6)]
    session.add_all(made)
    session.commit()
    return [u.id for u in made if u.id is not None]


def _seed(session: Session, people: list[int], *, rows: int = 600, days: int = 12) -> None:
    """Settled and refunded calls spread over the last `days`, midnights included."""
    rnd = random.Random(16)
    for _ in range(rows):
        at = NOW - timedelta(seconds=rnd.randrange(days * 86400))
        failed = rnd.random() < 0.1
        session.add(
            UsageEntry(
                user_id=rnd.choice(people),
                created_at=at,
                model=rnd.choice(MODELS),
                prompt_tokens=0 if failed else rnd.randrange(10, 900),
                completion_tokens=0 if failed else rnd.randrange(5, 400),
                status="refunded" if failed else "settled",
            )
        )
    session.commit()


def _unrolled(session: Session, first_day: date) -> list[rollup.DayModel]:
    start = datetime.combine(first_day, time(), tzinfo=zone_info(ZONE))
    return sorted(rollup.from_ledger(session, ZONE, start, None))


def _stored_days(session: Session) -> set[str]:
    return {r.day for r in session.exec(select(UsageDay)).all()}


def test_the_rollup_gives_the_same_rows_as_the_ledger(session, settings, people):
    _seed(session, people)
    first = date(2026, 12, 6)
    live = _unrolled(session, first)
    assert len({r.day for r in live}) >= 10  # the seed covers the range it is compared over
    filled = rollup.per_day_and_model(session, zone=ZONE, first_day=first, now=NOW)
    session.commit()
    assert filled == live
    # Every finished day is stored, today is not.
    assert _stored_days(session) == {r.day for r in live} - {"2026-12-20"}
    from_rollup = rollup.per_day_and_model(session, zone=ZONE, first_day=first, now=NOW)
    assert from_rollup == live
    # The dashboard's series is the same numbers, in its JSON shape.
    series = dashboard.tokens_by_day_and_model(session, settings=settings, days=15, now=NOW)
    assert [(s["day"], s["model"], s["messages"], s["active_users"]) for s in series] == [
        (r.day, r.model, r.calls, r.active_users) for r in live
    ]


def test_the_stored_rollup_is_what_is_read_for_a_finished_day(session, people):
    _seed(session, people)
    first = date(2026, 12, 10)
    rollup.per_day_and_model(session, zone=ZONE, first_day=first, now=NOW)
    session.commit()
    # A row deleted from the ledger behind the rollup's back no longer changes a finished day,
    # which shows the day is read from the rollup — and today still from the ledger.
    old = session.exec(
        select(UsageEntry).where(UsageEntry.created_at < NOW - timedelta(days=3))
    ).first()
    newest = session.exec(select(UsageEntry).order_by(UsageEntry.created_at.desc())).first()
    assert old is not None and newest is not None
    before = rollup.per_day_and_model(session, zone=ZONE, first_day=first, now=NOW)
    session.delete(old)
    session.delete(newest)
    session.commit()
    after = rollup.per_day_and_model(session, zone=ZONE, first_day=first, now=NOW)
    today = "2026-12-20"
    assert [r for r in after if r.day != today] == [r for r in before if r.day != today]
    assert sum(r.calls for r in after if r.day == today) == (
        sum(r.calls for r in before if r.day == today) - 1
    )


def test_rolling_the_same_days_twice_changes_nothing(session, people):
    _seed(session, people, rows=200)
    first = date(2026, 12, 10)
    once = rollup.per_day_and_model(session, zone=ZONE, first_day=first, now=NOW)
    session.commit()
    count = len(session.exec(select(UsageDay)).all())
    # A second worker that missed the first one's rows writes the same days again.
    for row in session.exec(select(UsageDay).where(UsageDay.day == "2026-12-15")).all():
        session.delete(row)
    session.commit()
    again = rollup.per_day_and_model(session, zone=ZONE, first_day=first, now=NOW)
    session.commit()
    assert again == once
    assert len(session.exec(select(UsageDay)).all()) == count


def test_a_call_settled_after_midnight_counts_on_its_day(session, settings, people):
    user = people[0]
    _, terms = plans.plan_of(session, settings=settings, user_id=user, now=NOW)
    # 23:50 in China on the 19th; read at 00:10 on the 20th, inside the reservation window.
    before_midnight = datetime(2026, 12, 19, 15, 50, tzinfo=UTC)
    just_after = datetime(2026, 12, 19, 16, 10, tzinfo=UTC)
    hold = wallet.reserve(
        session,
        settings=settings,
        user_id=user,
        terms=terms,
        model="glm-4",
        units=0,
        now=before_midnight,
    )
    session.commit()
    first = date(2026, 12, 19)
    rollup.per_day_and_model(session, zone=ZONE, first_day=first, now=just_after)
    session.commit()
    assert _stored_days(session) == set()  # the 19th is not final yet
    # Still unsettled an hour later (a slow answer, or its process died): read live.
    later = just_after + timedelta(hours=1)
    rollup.per_day_and_model(session, zone=ZONE, first_day=first, now=later)
    session.commit()
    assert _stored_days(session) == set()
    wallet.settle(session, hold=hold, usage=Usage(prompt_tokens=70, completion_tokens=30))
    session.commit()
    rows = rollup.per_day_and_model(session, zone=ZONE, first_day=first, now=later)
    session.commit()
    assert rows == [rollup.DayModel("2026-12-19", "glm-4", 1, 70, 30, 1)]
    assert _stored_days(session) == {"2026-12-19"}
    assert rollup.per_day_and_model(session, zone=ZONE, first_day=first, now=later) == rows


def test_each_time_zone_has_its_own_days(session, people):
    # 20:00 UTC on the 18th: the 19th in China, the 18th in London.
    session.add(
        UsageEntry(
            user_id=people[0],
            created_at=datetime(2026, 12, 18, 20, 0, tzinfo=UTC),
            model="glm-4",
            prompt_tokens=5,
            completion_tokens=5,
            status="settled",
        )
    )
    session.commit()
    first = date(2026, 12, 17)
    china = rollup.per_day_and_model(session, zone=ZONE, first_day=first, now=NOW)
    london = rollup.per_day_and_model(session, zone="Europe/London", first_day=first, now=NOW)
    session.commit()
    assert [r.day for r in china] == ["2026-12-19"]
    assert [r.day for r in london] == ["2026-12-18"]
    assert rollup.per_day_and_model(session, zone=ZONE, first_day=first, now=NOW) == china
