"""Prometheus metrics and the `/metrics` exposition.

Several workers per instance: the start script sets `PROMETHEUS_MULTIPROC_DIR` (a fresh directory
per start) and `/metrics` then aggregates every worker's values through prometheus_client's
multiprocess collector; gauges sum the workers (`livesum`). Limit: granian gives us no hook when a
worker dies, so a crashed worker's gauge values stay until the instance restarts. One worker: the
plain registry.
Several *instances*: Prometheus scrapes each one (by its own address, not through nginx) and sums.

Where the counters are fed:
- `chatapp_http_requests_total`, `chatapp_ws_*`: `chatapp.api.middleware` (every request / message);
- `chatapp_active_streams`, `chatapp_answers_total`, `chatapp_streamed_chars_total`,
  `chatapp_completion_tokens_total`, `chatapp_upstream_errors_total`,
  `chatapp_time_to_first_token_seconds`: `answer_started` / `answer_finished`, called by
  `chatapp.chat.answers` around each answer job;
- `chatapp_login_attempts_total{result}`: the login code should call
  `LOGIN_ATTEMPTS.labels(result=...).inc()` once per attempt, `result` one of `LOGIN_RESULTS`.

Who may read `/metrics`: `scrape_status` (an operator token, `METRICS_TOKEN`, as Bearer, or an
allow-list of client addresses, `METRICS_ALLOW`, loopback by default); everyone else gets 401/403.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Sequence
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import multiprocess as _mp

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# `*_created` timestamps double the series count and nobody graphs them.
disable_created_metrics()

LOGIN_RESULTS = ("ok", "bad_code", "expired", "rate_limited", "error")

HTTP_REQUESTS = Counter(
    "chatapp_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
WS_CONNECTIONS = Gauge(
    "chatapp_ws_connections", "Open websocket connections (/_event)", multiprocess_mode="livesum"
)
WS_MESSAGES = Counter(
    "chatapp_ws_messages_total", "Websocket messages (events in, updates out)", ["direction"]
)
ACTIVE_STREAMS = Gauge(
    "chatapp_active_streams", "Answers being streamed now", multiprocess_mode="livesum"
)
ANSWERS = Counter("chatapp_answers_total", "Answers finished, by final status", ["status"])
STREAMED_CHARS = Counter("chatapp_streamed_chars_total", "Characters of answers streamed")
COMPLETION_TOKENS = Counter(
    "chatapp_completion_tokens_total", "Completion tokens reported by the model APIs"
)
UPSTREAM_ERRORS = Counter(
    "chatapp_upstream_errors_total",
    "Failed answers, by error type (AnswerJob.error_code)",
    ["type"],
)
TTFT = Histogram(
    "chatapp_time_to_first_token_seconds",
    "Time from starting an answer to its first text",
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32),
)
LOGIN_ATTEMPTS = Counter("chatapp_login_attempts_total", "Login attempts, by result", ["result"])
REFUSALS = Counter(
    "chatapp_refusals_total", "Model calls refused by the rule chain, by rule", ["rule"]
)


def answer_started() -> None:
    """An answer job began streaming in this process."""
    ACTIVE_STREAMS.inc()


def answer_finished(job: Any, completion_tokens: int | None = None) -> None:
    """Records a finished `answers.AnswerJob` (duck-typed: no import cycle)."""
    ACTIVE_STREAMS.dec()
    ANSWERS.labels(status=job.status).inc()
    STREAMED_CHARS.inc(job.length)
    if completion_tokens:
        COMPLETION_TOKENS.inc(completion_tokens)
    if job.status == "error":
        # The kind only: a code may carry a user-chosen host ("redirect:host", errors.error_code).
        kind = (job.error_code or "internal").partition(":")[0]
        UPSTREAM_ERRORS.labels(type=kind).inc()
    if job.first_token_at is not None:
        TTFT.observe(max(0.0, job.first_token_at - job.started_at))


def render() -> tuple[bytes, str]:
    """The exposition text of this process, or of every worker in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _mp.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


# -- who may scrape ------------------------------------------------------------------------------


def scrape_status(
    *, authorization: str, addresses: Sequence[str], token: str, allow: Sequence[str]
) -> int:
    """200 when a request may read `/metrics`, else 401 or 403.

    A request may read it with `Authorization: Bearer <METRICS_TOKEN>`, or without a token when
    every address it came through is in `METRICS_ALLOW` (IP addresses or CIDR ranges; loopback
    only by default). `addresses` are the TCP peer and, behind trusted proxies, the client they
    forwarded: both must be allowed, so a forged `X-Forwarded-For` from outside gains nothing.

    Returns:
        200; 401 for a wrong token, or no token when one is configured and the address is not
        allowed; 403 when no token is configured and the address is not allowed.
    """
    presented = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
    if presented:
        return 200 if token and hmac.compare_digest(presented, token) else 401
    networks = [ipaddress.ip_network(entry, strict=False) for entry in allow]
    if addresses and all(_in_networks(a, networks) for a in addresses):
        return 200
    return 401 if token else 403


def _in_networks(address: str, networks: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # "unknown", a test client's name: not an address we allow
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in networks if ip.version == net.version)
