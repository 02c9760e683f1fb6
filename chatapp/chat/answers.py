"""The answer job: streams one model reply into its message row, checkpoints it, and stops it.

Rules kept here (not in the UI):
- the model's reasoning is kept apart from the answer (its own column, its own stream to the
  tab), with how long the model reasoned before the answer began;
- every ending is recorded (`Message.ending`): how a stream that ended well ended
  (`chatapp.llm.endings`), stopped, interrupted or error; a rate limit records the wait the
  provider asked for in its code (`rate_limit:30`), for the bubble's countdown;
- a continued answer ("继续", after the length limit) streams into the same row, after the text
  it had;
- the answer is checkpointed to the database at least every second while it streams (and a
  heartbeat is written even when the model is silent, so a dead process is detectable);
- a stopped, failed or interrupted answer keeps what arrived and is marked with why;
- an answer whose message row was deleted (in another tab) stops: no model call runs on for an
  answer nobody can read, uncounted by the limit of answers at once;
- an answer left "streaming" by a process that died is marked interrupted
  (`reap_stale_answers`);
- the pictures an image model drew (`chat/images.py`) are stored with the final save, in the
  same transaction as the answer's text and charge.

The jobs of this process are found by message id (`get_job`), so any tab can follow one.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from chatapp.billing.sensitive import StreamMasker
from chatapp.chat import pace, store
from chatapp.chat.images import ImageDelta, store_images
from chatapp.chat.providers import ChatModel
from chatapp.core import metrics
from chatapp.core.db import session_scope
from chatapp.errors import error_code
from chatapp.llm.endings import ending_of
from chatapp.llm.types import ReasoningDelta, RefusalDelta, StreamDone, TextDelta
from chatapp.models import Conversation, Message, utcnow

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL_S = 1.0
# An answer still "streaming" with no checkpoint for this long belongs to a process that died.
STALE_STREAM_S = 10.0
# Error kinds that read differently once part of the answer has arrived.
_MID_STREAM_CODES = {"connection": "connection_lost", "timeout": "stalled"}


@dataclass(frozen=True)
class AnswerRequest:
    """Everything needed to ask the model for one answer."""

    messages: list[dict[str, str]]
    model: str
    params: dict[str, Any]
    # A continuation ("继续"): the answer's text and reasoning so far, which the new text follows.
    prefix: str = ""
    prefix_reasoning: str = ""


@dataclass
class AnswerJob:
    """Streams one answer from a model into its message row.

    The job outlives the browser: reloading the page or losing the websocket does not stop it, and
    any tab can follow it through `text` (in this process) or the checkpoints (in any process).
    """

    user_id: int
    message_id: int
    request: AnswerRequest
    client: ChatModel
    checkpoint_interval: float = CHECKPOINT_INTERVAL_S
    clock: Callable[[], float] = time.monotonic
    parts: list[str] = field(default_factory=list)
    length: int = 0
    # The reasoning, apart from the answer (`reasoning`).
    reasoning_parts: list[str] = field(default_factory=list)
    reasoning_length: int = 0
    status: str = "streaming"
    error_code: str | None = None
    finish_reason: str | None = None
    ending: str | None = None
    refused: bool = False
    tool_calls: bool = False
    # Pictures an image model drew, stored with the final save.
    images: list[ImageDelta] = field(default_factory=list)
    image_ids: list[str] = field(default_factory=list)
    started_at: float = 0.0
    first_token_at: float | None = None
    # When the first reasoning arrived, and when the model stopped reasoning (its first answer
    # text, or the end).
    reasoning_started_at: float | None = None
    reasoning_ended_at: float | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    # Set whenever text arrives or the job ends: followers sleep on it instead of polling, so the
    # first token reaches the browser at once (see ChatState.follow).
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    # What the answer owes (chat/charging.py): settled in the final save; its 敏感词 mask.
    charge: Any = None
    _masks: tuple[Any, Any] | None = None
    # The message and conversation rows as the final save left them: followers in this process
    # show the finished answer from these instead of reading them back.
    saved: tuple[Message, Conversation] | None = None
    _saved_length: int = -1
    # Set by `cancel` (the user's Stop, or deleting the conversation). A cancellation without it
    # is the process shutting down (a deploy's graceful restart): "interrupted", not "stopped".
    _stop_requested: bool = False

    def __post_init__(self) -> None:
        mask = getattr(self.charge, "mask", None)
        if mask is not None:  # text and reasoning each held back until no word can be split
            self._masks = (StreamMasker(mask), StreamMasker(mask))
        if self.request.prefix:
            self.parts.append(self.request.prefix)
            self.length = len(self.request.prefix)
        if self.request.prefix_reasoning:
            self.reasoning_parts.append(self.request.prefix_reasoning)
            self.reasoning_length = len(self.request.prefix_reasoning)

    @property
    def text(self) -> str:
        """Everything the model has sent so far."""
        if len(self.parts) > 1:
            self.parts[:] = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""

    @property
    def reasoning(self) -> str:
        """The model's reasoning so far."""
        if len(self.reasoning_parts) > 1:
            self.reasoning_parts[:] = ["".join(self.reasoning_parts)]
        return self.reasoning_parts[0] if self.reasoning_parts else ""

    @property
    def reasoning_ms(self) -> int | None:
        """How long the model reasoned (so far, while it still does)."""
        if self.reasoning_started_at is None:
            return None
        end = self.reasoning_ended_at if self.reasoning_ended_at is not None else self.clock()
        return round((end - self.reasoning_started_at) * 1000)

    def _add(self, event: Any) -> None:
        if isinstance(event, ReasoningDelta):
            if self.reasoning_started_at is None:
                self.reasoning_started_at = self.clock()
            self._add_reasoning(self._masks[1].feed(event.text) if self._masks else event.text)
        elif isinstance(event, TextDelta | RefusalDelta):
            # A refusal is shown where the answer would be, and named as a refusal.
            self.refused = self.refused or isinstance(event, RefusalDelta)
            if self.reasoning_started_at is not None and self.reasoning_ended_at is None:
                self.reasoning_ended_at = self.clock()
            self._add_text(self._masks[0].feed(event.text) if self._masks else event.text)
        else:
            return
        if self.first_token_at is None:
            self.first_token_at = self.clock()
        self.changed.set()

    def _add_text(self, text: str) -> None:
        if text:
            self.parts.append(text)
            self.length += len(text)

    def _add_reasoning(self, text: str) -> None:
        if text:
            self.reasoning_parts.append(text)
            self.reasoning_length += len(text)

    def _flush_masks(self) -> None:
        """What the 敏感词 masks still hold back, at the end of the stream."""
        if self._masks is not None:
            self._add_reasoning(self._masks[1].flush())
            self._add_text(self._masks[0].flush())

    async def run(self) -> None:
        """Consumes the model stream; always leaves the row in a final state."""
        self.started_at = self.clock()
        checkpointer = _checkpointer(self.checkpoint_interval)
        checkpointer.add(self)
        usage = None
        try:
            async for event in self.client.stream_chat(
                self.request.messages, self.request.model, **self.request.params
            ):
                if isinstance(event, StreamDone):
                    self.finish_reason = event.finish_reason
                    self.tool_calls = getattr(event, "tool_calls", False)
                    usage = event.usage
                elif isinstance(event, ImageDelta):
                    self.images.append(event)
                elif getattr(event, "text", ""):
                    self._add(event)
            self._flush_masks()
            self.status = "done"
            self.ending = ending_of(
                self.finish_reason,
                text=self.text,
                refusal=self.refused,
                tool_calls=self.tool_calls,
            )
        except asyncio.CancelledError:
            self.status = self.error_code = "stopped" if self._stop_requested else "interrupted"
            self.ending = self.status
        except Exception as exc:  # every failure is recorded on the message, never raised to the UI
            self.status = self.ending = "error"
            self.error_code = error_code(exc)
            if self.length and self.error_code in _MID_STREAM_CODES:
                # The user saw text arrive: "could not connect" would be the wrong story.
                self.error_code = _MID_STREAM_CODES[self.error_code]
            wait = getattr(exc, "retry_after", None)
            if self.error_code == "rate_limit" and isinstance(wait, int | float) and wait >= 1:
                # The wait the provider asked for: the bubble counts it down (chat/items.py).
                self.error_code = f"rate_limit:{math.ceil(wait)}"
            if self.error_code == "internal":
                log.exception("answer %s failed", self.message_id)
            else:
                log.warning("answer %s failed: %s", self.message_id, self.error_code)
        finally:
            checkpointer.discard(self)
            self._flush_masks()
            if self.reasoning_started_at is not None and self.reasoning_ended_at is None:
                self.reasoning_ended_at = self.clock()
            fields: dict[str, Any] = {
                "content": self.text,
                "reasoning": self.reasoning,
                "reasoning_ms": self.reasoning_ms,
                "status": self.status,
                "error_code": self.error_code,
                "finish_reason": self.finish_reason,
                "ending": self.ending,
            }
            if usage is not None:
                fields["prompt_tokens"] = getattr(usage, "prompt_tokens", None)
                fields["completion_tokens"] = getattr(usage, "completion_tokens", None)
                fields["reasoning_tokens"] = getattr(usage, "reasoning_tokens", None) or None
            await asyncio.shield(asyncio.to_thread(self._save, fields, True, usage))
            metrics.answer_finished(self, fields.get("completion_tokens"))
            self.done.set()
            self.changed.set()

    def _save(self, fields: dict[str, Any], final: bool, usage: Any = None) -> None:
        try:
            with session_scope() as session:
                msg = store.update_message(
                    session, user_id=self.user_id, message_id=self.message_id, **fields
                )
                if final and self.images:
                    self.image_ids = store_images(
                        session,
                        user_id=self.user_id,
                        message_id=self.message_id,
                        images=self.images,
                    )
                if final and self.charge is not None:
                    self._settle(session, usage)
                if final and msg is not None:
                    conv = store.get_conversation(
                        session, user_id=self.user_id, conversation_id=msg.conversation_id
                    )
                    if conv is not None and msg.content:
                        store.touch_conversation(session, conv, preview_text=msg.content)
                    if conv is not None:
                        self.saved = (msg, conv)
        except Exception:  # a failed checkpoint must not kill the stream; the next one retries
            log.exception("checkpoint of answer %s failed", self.message_id)

    def _settle(self, session: Any, usage: Any) -> None:
        """Books what the answer cost, in the final save's transaction (chat/charging.py)."""
        from chatapp.chat import charging

        first = self.first_token_at
        charging.settle(
            session,
            self.charge,
            usage=usage,
            text=self.text,
            reasoning=self.reasoning,
            failed=self.status == "error",
            first_token_ms=None if first is None else round((first - self.started_at) * 1000),
            error_code=self.error_code,
            images=len(self.images),
        )

    def cancel(self) -> None:
        """Stops the answer: cancels the upstream request; what arrived is kept as 'stopped'."""
        self._stop_requested = True
        if self.task is not None and not self.task.done():
            self.task.cancel()


class _Checkpointer:
    """Writes the text of every answer this process streams, every `interval` seconds, in ONE
    statement — always, even when the model is silent: `updated_at` is the liveness signal other
    processes read (see reap_stale_answers)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.jobs: dict[int, AnswerJob] = {}  # by message id (a dataclass job is unhashable)
        self.task: asyncio.Task[None] | None = None

    def add(self, job: AnswerJob) -> None:
        self.jobs[job.message_id] = job
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._loop())

    def discard(self, job: AnswerJob) -> None:
        if self.jobs.get(job.message_id) is job:
            del self.jobs[job.message_id]

    async def _loop(self) -> None:
        while self.jobs:
            await asyncio.sleep(self.interval)
            items = [
                (j.user_id, j.message_id, j.text, j.reasoning) for j in list(self.jobs.values())
            ]
            try:
                gone = await asyncio.to_thread(_checkpoint, items)
            except Exception:  # a failed checkpoint must not kill streams; the next one retries
                log.exception("checkpoint of %d answers failed", len(items))
                continue
            for message_id in gone:
                # Its message was deleted (the conversation, or a regenerate or edit in another
                # tab): nobody can see the rest, and it no longer counts toward the user's
                # answers at once (`spend`), so it must not keep the model call going.
                job = self.jobs.get(message_id)
                if job is not None:
                    log.info("answer %s stopped: its message was deleted", message_id)
                    job.cancel()


def _checkpoint(items: list[tuple[int, int, str, str]]) -> set[int]:
    """Writes the checkpoints; returns the ids of those answers whose row no longer exists."""
    ids = {m for _, m, _, _ in items}
    with session_scope() as session:
        store.checkpoint_messages(session, items=items)
        present = session.exec(select(Message.id).where(col(Message.id).in_(ids))).all()
    return ids - set(present)


# One checkpointer per event loop and interval (tests run several loops in one process).
_checkpointers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[float, _Checkpointer]]
_checkpointers = weakref.WeakKeyDictionary()


def _checkpointer(interval: float) -> _Checkpointer:
    by_interval = _checkpointers.setdefault(asyncio.get_running_loop(), {})
    if interval not in by_interval:
        by_interval[interval] = _Checkpointer(interval)
    return by_interval[interval]


_jobs: dict[int, AnswerJob] = {}


def start_answer(
    *,
    user_id: int,
    message_id: int,
    request: AnswerRequest,
    client: ChatModel,
    charge: Any = None,
) -> AnswerJob:
    """Starts streaming an answer in this process; the job is findable by `get_job` until done.

    `charge` (chat/charging.py) is settled when the answer ends and masks its 敏感词."""
    job = AnswerJob(
        user_id=user_id, message_id=message_id, request=request, client=client, charge=charge
    )
    _jobs[message_id] = job
    metrics.answer_started()
    pace.stream_started()

    async def _run() -> None:
        try:
            await job.run()
        finally:
            pace.stream_ended()
            # Keep the finished job a little so followers read the final text from memory.
            asyncio.get_running_loop().call_later(30, _jobs.pop, message_id, None)

    job.task = asyncio.create_task(_run())
    return job


def get_job(message_id: int) -> AnswerJob | None:
    """The job streaming `message_id` in this process, if any."""
    return _jobs.get(message_id)


def reap_stale_answers() -> int:
    """Marks answers whose process died (no checkpoint for STALE_STREAM_S) as interrupted."""
    with session_scope() as session:
        return store.mark_stale_streams(
            session, older_than=utcnow() - timedelta(seconds=STALE_STREAM_S)
        )
