// The model's reasoning above its answer: a folding 「思考过程 / Thinking」 block with a live timer.
//
// While the answer streams, the reasoning comes from the stream store (stream_store.js, the `cs.t`
// channel) and the timer runs between the first reasoning and the first answer text this tab saw,
// with no server message per second. Once stored, the reasoning and its duration come as props.
// Folded when the answer starts, unless the user keeps reasoning open (settings); a click always
// folds or unfolds it. Plain text, never markdown or HTML: reasoning is a draft, not the answer.
import React, { useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore } from "react";
import { store, subscribe } from "./stream_store.js";
import "./answer_parts.css";

const fill = (label, s) => String(label || "").replace("{s}", String(s));

function useTick(active) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

export function ReasoningBlock({
  streamId,
  live,
  streamed,
  reasoning,
  seconds,
  keepOpen,
  thinkingLabel,
  thoughtLabel,
  untimedLabel,
  showLabel,
  hideLabel,
}) {
  const fromStore = live || streamed;
  const think = useSyncExternalStore(
    subscribe,
    () => (fromStore ? store.reasoning(streamId) : null),
    () => null,
  );
  const timing = useSyncExternalStore(
    subscribe,
    () => (fromStore ? store.timing(streamId).join(",") : "0,0"),
    () => "0,0",
  );
  const [t0, t1] = timing.split(",").map(Number);
  const text = (fromStore && think ? think : reasoning || "").replace(/^\s+|\s+$/g, "");
  const thinking = Boolean(live && text && !t1);
  const mounted = useRef(Date.now());
  const now = useTick(thinking);
  const [choice, setChoice] = useState(null); // null: fold as the answer's progress says
  const body = useRef(null);
  const open = choice !== null ? choice : thinking || Boolean(keepOpen);
  // Follow the newest reasoning while the model thinks (the block has its own scroll).
  useLayoutEffect(() => {
    if (thinking && open && body.current) body.current.scrollTop = body.current.scrollHeight;
  }, [text, thinking, open]);
  if (!text) return null;
  let label;
  if (thinking) {
    label = fill(thinkingLabel, Math.max(0, Math.floor((now - (t0 || mounted.current)) / 1000)));
  } else if (seconds >= 0) {
    label = fill(thoughtLabel, Math.max(1, seconds));
  } else if (t0 && t1) {
    label = fill(thoughtLabel, Math.max(1, Math.round((t1 - t0) / 1000)));
  } else {
    label = untimedLabel;
  }
  return (
    <div className="reasoning" data-testid="reasoning-block" data-state={thinking ? "thinking" : "done"}>
      <button
        type="button"
        className="reasoning-head"
        aria-expanded={open}
        aria-label={`${label} · ${open ? hideLabel : showLabel}`}
        onClick={() => setChoice(!open)}
        data-testid="reasoning-toggle"
      >
        <span className={thinking ? "reasoning-dot live" : "reasoning-dot"} aria-hidden="true" />
        <span className="reasoning-label" role={thinking ? "timer" : undefined}>
          {label}
        </span>
        <svg
          className={open ? "reasoning-chevron open" : "reasoning-chevron"}
          width="12"
          height="12"
          viewBox="0 0 24 24"
          fill="none"
          stroke="currentColor"
          strokeWidth="2.2"
          strokeLinecap="round"
          strokeLinejoin="round"
          aria-hidden="true"
        >
          <path d="m9 18 6-6-6-6" />
        </svg>
      </button>
      {open ? (
        <div className="reasoning-body" ref={body} data-testid="reasoning-text">
          {text}
        </div>
      ) : null}
    </div>
  );
}

// "请 28 秒后重试" counting down to the time in `code` ("rate_limit:<epoch ms>"), then the ready text.
export function RetryCountdown({ code, waitLabel, readyLabel }) {
  const until = Number(String(code || "").split(":")[1]) || 0;
  const left = Math.ceil((until - useTick(true)) / 1000);
  return (
    <span className="retry-countdown" data-testid="rate-countdown" data-left={Math.max(0, left)}>
      {left > 0 ? fill(waitLabel, left) : readyLabel}
    </span>
  );
}
