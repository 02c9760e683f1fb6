"""What the chat pages read: a page of the conversation list, an open conversation, earlier
messages, a finished answer, an answer's last checkpoint — as the view models of
`chatapp.chat.items`, ready to show — and `start_turn`, the one database trip of a send.

Session-first functions read inside the caller's transaction (the Reflex handlers run them in a
worker thread, see chatapp/state/chat_base.py). `start_turn` and `read_checkpoint` open their own
session scope: the first commits the user's message before the model is called, the second runs
right after reaping dead answers. Every query filters by the owner.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlmodel import Session

from chatapp import preferences
from chatapp.billing import gate, rules
from chatapp.chat import answers, charging, conversations, images, store
from chatapp.chat.conversations import AnswerRequest, Turn
from chatapp.chat.items import ConversationItem, MessageItem, conversation_item, message_item
from chatapp.chat.providers import get_router
from chatapp.core import parameters
from chatapp.core.config import Settings, get_settings
from chatapp.core.crypto import box_for
from chatapp.core.db import session_scope
from chatapp.i18n import translate
from chatapp.models import Conversation, Message, utcnow

# Messages shown when a conversation opens (and per "load earlier"). Rendering costs ~7 ms per
# message on the 2-core bench machine (markdown + bubble): 50 took ~380 ms on top of the route
# change, over the 500 ms click-to-rendered budget; 20 fill a screen (bench/README.md, "big").
PAGE_SIZE = 20


class ListPage(NamedTuple):
    """The first rows of the conversation list, and whether there are more."""

    items: list[ConversationItem]
    has_more: bool


@dataclass
class ConversationView:
    """An open conversation: its header (title, model, parameters, role) and its last messages."""

    id: str
    title: str
    model: str
    temperature: float
    top_p: float
    max_tokens: int
    context_window: int
    token_budget: int
    role_id: int
    messages: list[MessageItem]
    has_earlier: bool
    # The answer still on its way (the last message streaming), or -1.
    streaming_id: int


class EarlierPage(NamedTuple):
    """The page of messages before the first one shown, and whether there are more before it."""

    messages: list[MessageItem]
    has_earlier: bool


class FinalAnswer(NamedTuple):
    """A finished answer's bubble, its conversation, and that conversation's list row."""

    item: MessageItem
    conversation_id: str
    row: list[str]  # [preview, time], as the list shows them


class Checkpoint(NamedTuple):
    """An answer's text as last saved, whether the answer has ended, and its reasoning."""

    text: str
    ended: bool
    reasoning: str = ""


@dataclass
class AppendedTurn:
    """A turn that only adds to the conversation on screen: its title and the two new bubbles."""

    title: str
    items: list[MessageItem]


@dataclass
class StartedTurn:
    """What a send (regenerate, edit) hands to the answer job and to the page."""

    turn: Turn
    request: AnswerRequest
    # The user's own API key and base URL (settings page), or None for the deployment's.
    api_key: str | None = field(repr=False)
    base_url: str | None
    # Shown as new bubbles when the turn added to the open conversation; otherwise the whole
    # conversation is shown again from `view` (None: not the user's).
    appended: AppendedTurn | None
    view: ConversationView | None
    # The list's first rows, when they were asked for (a conversation created by this turn).
    listing: ListPage | None
    # What the answer owes (reserved by the rule chain) and how its text is masked.
    charge: charging.Charge | None = None


def list_page(session: Session, *, user_id: int, query: str, limit: int, lang: str) -> ListPage:
    """The user's first `limit` conversations (pinned first, then by last activity) whose title or
    messages match `query` ("" for all).

    Args:
        session: The open session.
        user_id: The owner.
        query: The search box's text.
        limit: How many rows to show.
        lang: The page's language (untitled conversations, relative times).

    Returns:
        The rows, and whether there are more than `limit`.
    """
    untitled = translate("chat.untitled", lang)
    now = utcnow()
    rows = store.list_conversations(session, user_id=user_id, query=query, limit=limit + 1)
    items = [conversation_item(c, now=now, lang=lang, untitled=untitled) for c in rows[:limit]]
    return ListPage(items, len(rows) > limit)


def conversation_view(
    session: Session, *, user_id: int, conversation_id: str, lang: str
) -> ConversationView | None:
    """A conversation of the user as it opens: its last PAGE_SIZE messages, its model as the next
    request will use it, and its parameters clamped to the operator's ceilings.

    Args:
        session: The open session.
        user_id: The owner.
        conversation_id: The conversation to show.
        lang: The page's language.

    Returns:
        The view, or None when the conversation is not the user's (or does not exist).
    """
    now = utcnow()
    conv = store.get_conversation(session, user_id=user_id, conversation_id=conversation_id)
    if conv is None:
        return None
    rows = store.list_messages(
        session, user_id=user_id, conversation_id=conv.id, limit=PAGE_SIZE + 1
    )
    has_earlier = len(rows) > PAGE_SIZE
    rows = rows[-PAGE_SIZE:]
    live = [m.id for m in rows if m.status == "streaming" and m.id is not None]
    settings = get_settings()
    # As the next request will use them: a value stored above a ceiling lowered since shows (and
    # saves back) clamped.
    params = parameters.effective(conv, settings.ceilings)
    return ConversationView(
        id=conv.id,
        title=conv.title or translate("chat.untitled", lang),
        model=get_router().resolve(
            conv.model, own_key=preferences.has_own_key(session, user_id=user_id)
        ),
        temperature=params["temperature"],
        top_p=params["top_p"] if params["top_p"] is not None else 1.0,
        # The stored value, not the operator's default reply length: 0 saves back as unset.
        max_tokens=min(conv.max_tokens or 0, settings.max_reply_tokens),
        context_window=params["context_window"],
        token_budget=params["token_budget"],
        role_id=conv.role_id or 0,
        messages=_items(session, rows, user_id=user_id, now=now, lang=lang),
        has_earlier=has_earlier,
        streaming_id=live[-1] if live else -1,
    )


def earlier_page(
    session: Session, *, user_id: int, conversation_id: str, before_id: int, lang: str
) -> EarlierPage:
    """The PAGE_SIZE messages of the user's conversation before the message `before_id` ("load
    earlier"); none when the conversation is not the user's."""
    now = utcnow()
    rows = store.list_messages(
        session,
        user_id=user_id,
        conversation_id=conversation_id,
        before_id=before_id,
        limit=PAGE_SIZE + 1,
    )
    return EarlierPage(
        _items(session, rows[-PAGE_SIZE:], user_id=user_id, now=now, lang=lang),
        len(rows) > PAGE_SIZE,
    )


def _items(
    session: Session, rows: Sequence[Message], *, user_id: int, now: datetime, lang: str
) -> list[MessageItem]:
    """The bubbles of `rows`, each answer with the pictures it drew."""
    drawn = images.image_ids(
        session, user_id=user_id, message_ids=[m.id for m in rows if m.id and m.kind == "assistant"]
    )
    return [message_item(m, now=now, lang=lang, image_ids=drawn.get(m.id or 0, ())) for m in rows]


def start_turn(
    make_turn: Callable[[Session], Turn],
    *,
    user_id: int,
    lang: str,
    appending: bool,
    list_query: tuple[str, int] | None = None,
) -> StartedTurn:
    """Runs a use case that opens an answer slot, commits it, and reads everything the answer and
    the page need, in one session: with 300 users sending at once every extra trip to a worker
    thread waited in the pool's queue (bench/README.md, "concurrency").

    Args:
        make_turn: The use case (`conversations.send_message`, `regenerate`, …) on the session.
        user_id: The user it runs for (the use case checks ownership itself).
        lang: The page's language.
        appending: The turn adds to the conversation on screen: read only its title and the new
            bubbles (otherwise the whole conversation is read again).
        list_query: (search, limit) of the list, to read its first rows too.

    Returns:
        The turn, the model request, the user's own credentials and what to show.

    Raises:
        InvalidInput, NotFound, spend.SendLimited, billing.rules.Refused: from the use case or
            the rule chain (nothing is stored then).
    """
    settings = get_settings()
    try:
        return _start_turn(
            make_turn,
            settings=settings,
            user_id=user_id,
            lang=lang,
            appending=appending,
            list_query=list_query,
        )
    except rules.Refused as exc:  # rolled back by now: the log gets its own transaction
        gate.record_refusal(user_id, exc.refusal)
        raise


def _start_turn(
    make_turn: Callable[[Session], Turn],
    *,
    settings: Settings,
    user_id: int,
    lang: str,
    appending: bool,
    list_query: tuple[str, int] | None,
) -> StartedTurn:
    with session_scope() as session:
        turn = make_turn(session)
        request = conversations.build_request(
            session, user_id=user_id, turn=turn, ceilings=settings.ceilings
        )
        # The user's own API key, if they saved one (settings page); decrypted only here.
        api_key, base_url = preferences.user_credentials(
            session, user_id=user_id, box=box_for(settings)
        )
        # Last of the turn's writes: a refusal rolls the whole turn back (nothing is stored).
        request, charge = charging.admit_turn(
            session,
            settings=settings,
            user_id=user_id,
            turn=turn,
            request=request,
            provider=get_router().provider_name(request.model, own_key=bool(api_key)),
            own_key=bool(api_key),
        )
        appended = _appended(session, user_id=user_id, turn=turn, lang=lang) if appending else None
        view = (
            None
            if appended is not None
            else conversation_view(
                session, user_id=user_id, conversation_id=turn.conversation_id, lang=lang
            )
        )
        listing = None
        if list_query is not None:
            query, limit = list_query
            listing = list_page(session, user_id=user_id, query=query, limit=limit, lang=lang)
    return StartedTurn(turn, request, api_key, base_url, appended, view, listing, charge)


def _appended(session: Session, *, user_id: int, turn: Turn, lang: str) -> AppendedTurn | None:
    now = utcnow()
    conv = store.get_conversation(session, user_id=user_id, conversation_id=turn.conversation_id)
    rows = [
        store.get_message(session, user_id=user_id, message_id=mid)
        for mid in (turn.user_message_id, turn.assistant_message_id)
    ]
    if conv is None or not all(rows):
        return None
    title = conv.title or translate("chat.untitled", lang)
    return AppendedTurn(title, [message_item(m, now=now, lang=lang) for m in rows if m])


def final_answer(
    session: Session, *, user_id: int, message_id: int, lang: str
) -> FinalAnswer | None:
    """The user's finished answer `message_id` as its bubble and list row; None if it is not
    theirs (or was deleted)."""
    msg = store.get_message(session, user_id=user_id, message_id=message_id)
    if msg is None:
        return None
    conv = store.get_conversation(session, user_id=user_id, conversation_id=msg.conversation_id)
    if conv is None:
        return None
    drawn = images.image_ids(session, user_id=user_id, message_ids=[message_id])
    return final_view(msg, conv, lang=lang, image_ids=drawn.get(message_id, ()))


def final_view(
    msg: Message, conv: Conversation, *, lang: str, image_ids: Sequence[str] = ()
) -> FinalAnswer:
    """A finished answer's bubble and list row from rows already at hand (the answer job keeps the
    rows its final save wrote, and the ids of the pictures it drew: no need to read them back)."""
    now = utcnow()
    row = conversation_item(conv, now=now, lang=lang, untitled="")
    item = message_item(msg, now=now, lang=lang, image_ids=image_ids)
    return FinalAnswer(item, conv.id, [row.preview, row.time])


def read_checkpoint(*, user_id: int, message_id: int) -> Checkpoint:
    """The last checkpoint of the user's answer streamed by another process, and whether it has
    ended. Answers of a process that died are marked interrupted first, so a follower of one does
    not wait forever; an answer that is not the user's reads as empty and ended."""
    answers.reap_stale_answers()
    with session_scope() as session:
        msg = store.get_message(session, user_id=user_id, message_id=message_id)
        if msg is None:
            return Checkpoint("", True)
        return Checkpoint(msg.content, msg.status != "streaming", msg.reasoning)
