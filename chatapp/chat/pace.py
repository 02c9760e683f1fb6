"""How often an answer's new text goes to the browser (and the model's stream is read): every
STREAM_BATCH_S, stretched when this process streams many answers at once."""

from __future__ import annotations

# Why 100 ms (bench/README.md, "stream cost"): each batch is one websocket frame with ~115 bytes
# of framing around the new text; at ~95 chunks/s x 4 chars a batch carries ~38 chars (~3 B/char
# of framing) vs ~30 at 80 ms. Chinese text itself is 3 B/char, sent once. 10 updates/s still
# reads as smooth, and every batch and every network read costs CPU per stream: fewer of them =
# more streams per core. The first text is not delayed: the follower sends as soon as text
# arrives after a quiet spell (added first-token time).
STREAM_BATCH_S = 0.1
# Under load, batches stretch up to this: a batch (one read of the model's stream, one push to the
# tab) costs about the same CPU whatever it carries, so 150 ms instead of 100 ms is ~a third
# fewer of them per stream when the process is busiest (bench/README.md, "concurrency"). 6-7
# updates a second still read as a steady stream.
STREAM_BATCH_MAX_S = 0.15
# Answers streaming in this process from which batches start to stretch.
BUSY_STREAMS = 100

_streaming = 0


def stream_started() -> None:
    """Counts an answer that started streaming in this process."""
    global _streaming
    _streaming += 1


def stream_ended() -> None:
    """Counts an answer that stopped streaming (finished, failed or stopped)."""
    global _streaming
    _streaming = max(0, _streaming - 1)


def batch_s() -> float:
    """The batch interval now: STREAM_BATCH_S, growing with the answers streaming beyond
    BUSY_STREAMS, up to STREAM_BATCH_MAX_S."""
    return min(STREAM_BATCH_MAX_S, STREAM_BATCH_S * max(1.0, _streaming / BUSY_STREAMS))
