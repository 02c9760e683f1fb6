// The client side of streaming: window.chatStream keeps the text of answers being streamed.
//
// The protocol, defined here and in chatapp/state/stream_push.py: the server sends only new text as
// `cs.a(id, offset, text)` (offset in code points), the model's reasoning the same way as
// `cs.t(id, offset, text)`, `cs.r(id, text)` resets an answer's text and `cs.d(id)` ends it; batches
// arrive in order on one socket. A gap (updates missed while the socket was down) or a long silence
// asks the server for the whole text again (the hidden resync form).
//
// The store also notes when this tab first saw reasoning and first saw answer text: the
// reasoning block's live timer ("思考中… 12 秒") runs between the two without a server message.
import { copyText } from "./copy_text.js";

const streams = new Map();
const listeners = new Set();
let scheduled = false;
const cpLen = (s) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

function emit() {
  if (scheduled) return;
  scheduled = true;
  const run = () => {
    scheduled = false;
    listeners.forEach((fn) => fn());
  };
  // A microtask, not requestAnimationFrame: batches come ~10 times a second, so there is little
  // to coalesce, and rendering at once lets the commit land before the next paint instead of
  // inside it (a rAF wait is most of the browser's share of the first-token time,
  // bench/README.md). Appends within one task still render once.
  queueMicrotask(run);
}

// Ask the server for the whole text again: after a gap, or when a live answer has been silent
// for a while (the socket dropped, or the instance streaming it died).
// `had` overrides what the tab says it holds: -1 after a gap in the reasoning, which the text's
// length cannot show.
function requestResync(id, had) {
  const form = document.getElementById("chat-resync");
  const have = document.getElementById("chat-resync-have");
  if (!form || !have) return;
  const s = id === undefined ? null : streams.get(id);
  have.value = String(had !== undefined ? had : s ? s.n : 0);
  form.requestSubmit();
}
const lastHeard = new Map();
const SILENCE_MS = 4000;
if (typeof window !== "undefined") {
  setInterval(() => {
    const live = document.querySelectorAll('[data-live-stream="true"]');
    const now = Date.now();
    live.forEach((el) => {
      const id = Number(el.dataset.streamId);
      const heard = lastHeard.get(id) ?? 0;
      if (!heard) lastHeard.set(id, now);
      else if (now - heard > SILENCE_MS) {
        lastHeard.set(id, now);
        requestResync(id);
      }
    });
  }, 1000);
}

const blank = () => ({ text: "", n: 0, think: "", tn: 0, t0: 0, t1: 0 });

// `chunk` at code point `offset` of `have` (of length `n`): the new [text, length], or null for a
// gap (an offset past the end).
function splice(have, n, offset, chunk) {
  if (offset === n) return [have + chunk, n + cpLen(chunk)];
  if (offset < n) return [Array.from(have).slice(0, offset).join("") + chunk, offset + cpLen(chunk)];
  return null;
}

export const store = {
  reset(id, text) {
    lastHeard.set(id, Date.now());
    streams.set(id, { ...(streams.get(id) || blank()), text, n: cpLen(text) });
    emit();
  },
  append(id, offset, chunk) {
    lastHeard.set(id, Date.now());
    const s = streams.get(id) || (offset === 0 ? blank() : null);
    const next = s && splice(s.text, s.n, offset, chunk);
    if (!next) return requestResync(id);
    streams.set(id, { ...s, text: next[0], n: next[1], t1: s.t1 || (chunk ? Date.now() : 0) });
    emit();
  },
  // The reasoning channel, like `append`.
  think(id, offset, chunk) {
    lastHeard.set(id, Date.now());
    const s = streams.get(id) || (offset === 0 ? blank() : null);
    const next = s && splice(s.think, s.tn, offset, chunk);
    if (!next) return requestResync(id, -1);
    streams.set(id, { ...s, think: next[0], tn: next[1], t0: s.t0 || Date.now() });
    emit();
  },
  reasoning(id) {
    const s = streams.get(id);
    return s ? s.think : null;
  },
  // [first reasoning seen, first answer text seen] in this tab (ms; 0: not yet).
  timing(id) {
    const s = streams.get(id);
    return s ? [s.t0, s.t1] : [0, 0];
  },
  // The text of a finished answer stays: the server does not send it again (the bubble's
  // `streamed` prop says so). A page load starts with an empty store and full contents.
  done(id) {
    lastHeard.delete(id);
    emit();
  },
  text(id) {
    const s = streams.get(id);
    return s ? s.text : null;
  },
  length(id) {
    const s = streams.get(id);
    return s ? s.text.length : 0;
  },
  copy(id) {
    const s = streams.get(id);
    return copyText(s ? s.text : "");
  },
};

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

if (typeof window !== "undefined" && !window.chatStream) {
  window.chatStream = store;
  // Short aliases the server calls for every streamed batch (bytes on the wire).
  window.cs = { r: store.reset, a: store.append, t: store.think, d: store.done };
}
