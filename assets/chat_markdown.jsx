// Message rendering and the client side of streaming.
//
// window.chatStream keeps the text of answers being streamed. The server sends only new text
// (cs.a(id, offset, text), offset in code points; cs.r resets, cs.d ends), batched; a gap (missed updates while the
// socket was down) asks the server for the whole text again (resync). ChatMarkdown renders a
// message's markdown, from the store while it is live and from its `content` prop once stored.
// Markdown is split into blocks outside code fences so only the last block re-renders per batch.
// Images go through image_policy.jsx (foreign hosts are not loaded); message_guard.jsx keeps one
// unrenderable message from breaking the page.
import React, { memo, useCallback, useMemo, useState, useSyncExternalStore } from "react";
import ReactMarkdown from "react-markdown";
import remarkGfm from "remark-gfm";
import remarkMath from "remark-math";
import rehypeKatex from "rehype-katex";
import "katex/dist/katex.min.css";
import { Prism as SyntaxHighlighter } from "react-syntax-highlighter";
import { oneLight } from "react-syntax-highlighter/dist/esm/styles/prism";
import { SafeImage } from "./image_policy.jsx";
import { MessageBoundary, RawText, tooDeep } from "./message_guard.jsx";

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
function requestResync(id) {
  const form = document.getElementById("chat-resync");
  const have = document.getElementById("chat-resync-have");
  if (!form || !have) return;
  const s = id === undefined ? null : streams.get(id);
  have.value = String(s ? s.n : 0);
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

const store = {
  reset(id, text) {
    lastHeard.set(id, Date.now());
    streams.set(id, { text, n: cpLen(text) });
    emit();
  },
  append(id, offset, chunk) {
    lastHeard.set(id, Date.now());
    let s = streams.get(id);
    if (!s) {
      if (offset !== 0) return requestResync(id);
      s = { text: "", n: 0 };
    }
    if (offset === s.n) {
      s = { text: s.text + chunk, n: s.n + cpLen(chunk) };
    } else if (offset < s.n) {
      s = { text: Array.from(s.text).slice(0, offset).join("") + chunk, n: offset + cpLen(chunk) };
    } else {
      return requestResync(id);
    }
    streams.set(id, s);
    emit();
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

// ONE MutationObserver of the page for the scripts installed below (the composer, auto-scroll):
// every DOM change of a streamed answer is recorded once per observer, so they share it. Declared
// before the install block, which runs as the module loads.
const pageWatchers = [];
let pageObserver = null;

function onPageChange(fn) {
  pageWatchers.push(fn);
  if (pageObserver) return;
  pageObserver = new MutationObserver(() => {
    for (const watcher of pageWatchers) watcher();
  });
  const start = () =>
    pageObserver.observe(document.body, {
      childList: true,
      subtree: true,
      characterData: true,
      attributes: true,
      attributeFilter: ["data-ready"],
    });
  if (document.body) start();
  else window.addEventListener("DOMContentLoaded", start);
}

if (typeof window !== "undefined" && !window.chatStream) {
  window.chatStream = store;
  // Short aliases the server calls for every streamed batch (bytes on the wire).
  window.cs = { r: store.reset, a: store.append, d: store.done };
  installComposer();
  installAutoScroll();
  installLivePath();
}

// The first message sent from the home page moves the address to /chat/<id> with
// history.replaceState, not a route change (that would mount a new page mid-answer). React Router
// does not see it, and Reflex sends its location with every event: a reconnect's on_load then
// ran for "/" and cleared the chat on screen. Events leaving a page in that state carry the
// address the user sees. The hook is the one Reflex calls on every event it sends, the boot
// event of each (re)connect included (state.js: window.__reflex_otel.onEventSend).
function installLivePath() {
  const hooks = window.__reflex_otel || (window.__reflex_otel = {});
  const next = hooks.onEventSend;
  hooks.onEventSend = (event) => {
    const data = event && event.router_data;
    const live = window.location.pathname;
    if (data && data.pathname === "/" && live.startsWith("/chat/")) {
      data.pathname = live;
      data.asPath = live + window.location.search + window.location.hash;
    }
    if (next) next(event);
  };
}

function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// Models write \( \) and \[ \]; remark-math understands $ and $$. Convert outside code only.
export function normalizeMath(md) {
  const parts = md.split(/(```[\s\S]*?(?:```|$)|`[^`\n]*`)/g);
  return parts
    .map((p, i) =>
      i % 2
        ? p
        : p
            .replace(/\\\[([\s\S]+?)\\\]/g, (_, m) => `\n$$\n${m.trim()}\n$$\n`)
            .replace(/\\\(([\s\S]+?)\\\)/g, (_, m) => `$${m.trim()}$`),
    )
    .join("");
}

// Split into top-level blocks at blank lines that are not inside a code fence or $$ block.
export function splitBlocks(md) {
  const lines = md.split("\n");
  const blocks = [];
  let cur = [];
  let fence = null;
  let math = false;
  for (const line of lines) {
    const t = line.trim();
    const m = t.match(/^(`{3,}|~{3,})/);
    if (m) {
      if (!fence) fence = m[1];
      else if (t.startsWith(fence)) fence = null;
    } else if (!fence && t === "$$") {
      math = !math;
    }
    if (!fence && !math && t === "" && cur.length) {
      blocks.push(cur.join("\n"));
      cur = [];
    } else {
      cur.push(line);
    }
  }
  if (cur.length) blocks.push(cur.join("\n"));
  return blocks;
}

function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  const area = document.createElement("textarea");
  area.value = text;
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  try {
    document.execCommand("copy");
  } finally {
    document.body.removeChild(area);
  }
  return Promise.resolve();
}
if (typeof window !== "undefined") window.chatCopy = copyText;

function CodeBlock({ language, value }) {
  const [copied, setCopied] = useState(false);
  const onCopy = useCallback(() => {
    copyText(value).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    });
  }, [value]);
  return (
    <div className="code-block">
      <div className="code-head">
        <span className="code-lang">{language || "text"}</span>
        <button type="button" className="code-copy" onClick={onCopy} aria-label="copy code">
          {copied ? "✓ 已复制 Copied" : "复制 Copy"}
        </button>
      </div>
      <SyntaxHighlighter
        language={language || "text"}
        style={oneLight}
        customStyle={{ margin: 0, borderRadius: "0 0 8px 8px", fontSize: "0.85em" }}
        wrapLongLines={false}
      >
        {value}
      </SyntaxHighlighter>
    </div>
  );
}

const components = {
  code({ className, children, node, ...rest }) {
    const match = /language-([\w+#.-]+)/.exec(className || "");
    const value = String(children ?? "").replace(/\n$/, "");
    const isBlock = match || value.includes("\n");
    if (!isBlock) return <code className="inline-code" {...rest}>{children}</code>;
    return <CodeBlock language={match ? match[1] : ""} value={value} />;
  },
  pre({ children }) {
    return <>{children}</>;
  },
  a({ href, children }) {
    return (
      <a href={href} target="_blank" rel="noopener noreferrer nofollow">
        {children}
      </a>
    );
  },
  table({ children }) {
    return (
      <div className="table-wrap">
        <table>{children}</table>
      </div>
    );
  },
  img({ src, alt, title }) {
    return <SafeImage src={src} alt={alt} title={title} />;
  },
};

const Block = memo(function Block({ md }) {
  // Checked before parsing: the parser and React recurse once per level.
  if (tooDeep(md)) return <RawText text={md} reason="deep" />;
  return (
    <ReactMarkdown
      remarkPlugins={[remarkGfm, [remarkMath, { singleDollarTextMath: true }]]}
      rehypePlugins={[[rehypeKatex, { throwOnError: false, strict: "ignore" }]]}
      components={components}
    >
      {md}
    </ReactMarkdown>
  );
});

// React.memo for list rows, comparing props one level deep: a row's props are a message (or
// conversation) object of plain fields and a few flags, and an update that re-sends a list (a
// fold of new messages into the history, a list refresh) brings new objects with equal fields.
const sameFields = (a, b) => {
  if (a === b) return true;
  if (!a || !b || typeof a !== "object" || typeof b !== "object") return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
};
export const rowMemo = (component) =>
  memo(component, (a, b) => {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => sameFields(a[k], b[k]));
  });

export function ChatMarkdown({ content, streamId, live, streamed: kept }) {
  const fromStore = live || kept;
  const streamed = useSyncExternalStore(
    subscribe,
    () => (fromStore ? store.text(streamId) : null),
    () => null,
  );
  const text = fromStore && streamed !== null ? streamed : content || "";
  const blocks = useMemo(() => splitBlocks(normalizeMath(text)), [text]);
  if (live && !text) {
    return (
      <span className="typing" aria-label="typing" data-live-stream="true" data-stream-id={streamId}>
        <i />
        <i />
        <i />
      </span>
    );
  }
  return (
    <div className={live ? "md md-live" : "md"} data-live-stream={live ? "true" : "false"} data-stream-id={streamId}>
      <MessageBoundary text={text}>
        {blocks.map((b, i) => (
          <Block key={i} md={b} />
        ))}
      </MessageBoundary>
      {live ? <span className="caret" /> : null}
    </div>
  );
}

// Enter sends (Shift+Enter newline), or Ctrl+Enter sends when the user prefers; never while an
// IME is composing Chinese text. The send button is enabled only when there is text and the page
// is ready.
//
// "Ready" is Reflex's is_hydrated (the form's data-ready): false from a page load, a reconnect or
// a navigation until the page's on_load has run. A message sent before that would reach the server
// ahead of the on_load, which would then run for the URL the page was opened with and clear the
// chat the message has just created. Enter pressed meanwhile is kept and sent once the page is ready.
//
// The composer's text also survives the page component being replaced: the first "new chat"
// after a message sent from the home page switches React routes ("/" to "/chat/[cid]"), which
// mounts a new, empty textarea: text typed in that moment would otherwise be lost.
let pendingSend = false;
let draft = "";
let shownArea = null;

const composerReady = (form) => !form || form.dataset.ready !== "false";

function syncComposer() {
  const area = document.getElementById("composer-input");
  const button = document.getElementById("composer-send");
  if (area && button) button.disabled = !area.value.trim() || !composerReady(area.form);
}

// Runs in the page observer's callback (`onPageChange`): a microtask, so a new textarea gets the draft before the
// next key or input event reaches it.
function settleComposer() {
  const area = document.getElementById("composer-input");
  if (area && area !== shownArea) {
    if (shownArea && draft && !area.value) area.value = draft;
    shownArea = area;
  }
  if (!area) return;
  if (pendingSend && composerReady(area.form)) {
    pendingSend = false;
    if (area.value.trim() && document.getElementById("composer-send")) area.form.requestSubmit();
  }
  syncComposer();
}

function installComposer() {
  document.addEventListener("input", (e) => {
    if (e.target && e.target.id === "composer-input") {
      draft = e.target.value;
      syncComposer();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.target && e.target.id === "rename-input" && e.key === "Escape") {
      const cancel = document.getElementById("rename-cancel");
      if (cancel) cancel.click();
    }
  });
  document.addEventListener("keydown", (e) => {
    const area = e.target;
    if (!area || (area.id !== "composer-input" && area.id !== "edit-input")) return;
    if (e.key !== "Enter" || e.isComposing || e.keyCode === 229) return;
    const ctrlMode = (area.dataset.sendkey || "enter") === "ctrl";
    const mod = e.ctrlKey || e.metaKey;
    const send = ctrlMode ? mod : !e.shiftKey && !mod && !e.altKey;
    if (!send) return;
    e.preventDefault();
    if (!area.value.trim()) return;
    const composer = area.id === "composer-input";
    // No send button: an answer is streaming (Stop shows instead). The server would refuse the
    // message, and submitting clears the box: keep the text until the answer has ended.
    if (!document.getElementById(composer ? "composer-send" : "edit-save")) return;
    if (composer && !composerReady(area.form)) {
      pendingSend = true;
      return;
    }
    area.form && area.form.requestSubmit();
  });
  document.addEventListener("submit", (e) => {
    if (e.target && e.target.id === "composer-form") {
      draft = "";
      pendingSend = false;
      setTimeout(syncComposer, 0);
    }
  });
  onPageChange(settleComposer);
}

// Keep the newest text in view while streaming, unless the user scrolled up to read.
function installAutoScroll() {
  let stick = true;
  document.addEventListener(
    "scroll",
    (e) => {
      const el = e.target;
      if (el && el.id === "message-scroll") {
        stick = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      }
    },
    true,
  );
  // Once per frame, not per DOM mutation: reading scrollHeight inside a MutationObserver forces
  // a layout in the middle of every React commit (~10 ms per send on the bench machine, while the
  // first token waited behind it: bench/README.md, "first token"). In a frame callback the layout
  // is the one the frame does anyway.
  let pending = false;
  const settle = () => {
    pending = false;
    const el = document.getElementById("message-scroll");
    if (el && stick) el.scrollTop = el.scrollHeight;
  };
  onPageChange(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(settle);
  });
  window.chatScrollBottom = () => {
    stick = true;
    const el = document.getElementById("message-scroll");
    if (el) el.scrollTop = el.scrollHeight;
  };
}
