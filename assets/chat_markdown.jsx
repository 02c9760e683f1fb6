// Message rendering: ChatMarkdown renders a message's markdown, from the stream store
// (stream_store.js) while it is live and from its `content` prop once stored.
// Markdown is split into blocks outside code fences so only the last block re-renders per batch.
// Images go through image_policy.jsx (foreign hosts are not loaded); message_guard.jsx keeps one
// unrenderable message from breaking the page; a complete ```mermaid block is drawn by
// mermaid_block.jsx.
import React, { createContext, memo, useCallback, useContext, useMemo, useState, useSyncExternalStore } from "react";
import ReactMarkdown from "react-markdown";
import remarkGfm from "remark-gfm";
import remarkMath from "remark-math";
import rehypeKatex from "rehype-katex";
import "katex/dist/katex.min.css";
import { Prism as SyntaxHighlighter } from "react-syntax-highlighter";
import { a11yDark, oneLight } from "react-syntax-highlighter/dist/esm/styles/prism";
import { SafeImage } from "./image_policy.jsx";
import { MessageBoundary, RawText, tooDeep } from "./message_guard.jsx";
import { copyText } from "./copy_text.js";
import { useHtmlLook } from "./html_look.js";
import { MermaidBlock } from "./mermaid_block.jsx";
import { store, subscribe } from "./stream_store.js";
// The page's other client scripts install themselves as this module (on every chat page) loads.
import "./composer_keys.js";
import "./auto_scroll.js";
import "./page_title.js";
import "./live_path.js";

// oneLight's palette with every token colour darkened until it reads at 4.5:1 (WCAG AA) on the
// block's light background: its strings, comments and numbers are ~2.5-3:1 as shipped.
const LIGHT_BG = [250, 250, 250];
function luminance([r, g, b]) {
  const lin = (c) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}
function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
// oneLight writes its colours as hsl(h, s%, l%).
function hslToRgb(h, s, l) {
  const k = (n) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n) => l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1));
  return [f(0), f(8), f(4)].map((v) => Math.round(v * 255));
}
function parseColor(color) {
  const hex = /^#([0-9a-f]{6})$/i.exec(color || "");
  if (hex) return [0, 2, 4].map((i) => parseInt(hex[1].slice(i, i + 2), 16));
  const hsl = /^hsl\(\s*([\d.]+)\s*,\s*([\d.]+)%\s*,\s*([\d.]+)%\s*\)$/i.exec(color || "");
  if (hsl) return hslToRgb(Number(hsl[1]), Number(hsl[2]) / 100, Number(hsl[3]) / 100);
  return null;
}
function readable(color) {
  let rgb = parseColor(color);
  if (!rgb) return color;
  while (contrast(rgb, LIGHT_BG) < 4.6) rgb = rgb.map((c) => Math.floor(c * 0.92));
  return "#" + rgb.map((c) => c.toString(16).padStart(2, "0")).join("");
}
const readableLight = Object.fromEntries(
  Object.entries(oneLight).map(([key, rule]) =>
    key.includes("language-") || !rule.color ? [key, rule] : [key, { ...rule, color: readable(rule.color) }],
  ),
);

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

// A fenced code block is complete when its last source line is a closing fence: the opening
// fence's character, at least as many of them, nothing after (blockquote markers and indentation
// before). An open fence runs to the end of the message.
const OPENING_FENCE = /^[\s>]*(`{3,}|~{3,})/;
const CLOSING_FENCE = /^[\s>]*(`{3,}|~{3,})\s*$/;
export function fenceClosed(md, node) {
  const at = node && node.position;
  if (!md || !at || at.start.offset == null || at.end.offset == null) return false;
  const lines = md.slice(at.start.offset, at.end.offset).split("\n");
  const open = OPENING_FENCE.exec(lines[0]);
  const close = lines.length > 1 && CLOSING_FENCE.exec(lines[lines.length - 1]);
  return Boolean(open && close && close[1][0] === open[1][0] && close[1].length >= open[1].length);
}
// The markdown of the block being rendered, for fenceClosed.
const BlockSource = createContext("");

// The copy button's words, in the page's language only (assets cannot reach chatapp/i18n).
const COPY_TEXT = {
  zh: { copy: "复制", copied: "✓ 已复制", label: "复制代码", done: "已复制到剪贴板" },
  en: { copy: "Copy", copied: "✓ Copied", label: "Copy code", done: "Copied to the clipboard" },
};

// Dark: a11y-dark, whose every token is at least 4.5:1 against its background (one-dark's
// comments are ~2.5:1). The head with the copy button sticks to the top of the message list
// while a long block scrolls by (chat.css).
function CodeBlock({ language, value }) {
  const [copied, setCopied] = useState(false);
  const [theme, lang] = useHtmlLook();
  const words = COPY_TEXT[lang] || COPY_TEXT.zh;
  const onCopy = useCallback(() => {
    copyText(value).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    });
  }, [value]);
  return (
    <div className="code-block" data-theme={theme}>
      <div className="code-head">
        <span className="code-lang">{language || "text"}</span>
        <button type="button" className="code-copy" onClick={onCopy} aria-label={words.label}>
          {copied ? words.copied : words.copy}
        </button>
        <span className="sr-only" role="status">
          {copied ? words.done : ""}
        </span>
      </div>
      <SyntaxHighlighter
        language={language || "text"}
        style={theme === "dark" ? a11yDark : readableLight}
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
    const blockSource = useContext(BlockSource);
    const match = /language-([\w+#.-]+)/.exec(className || "");
    const value = String(children ?? "").replace(/\n$/, "");
    const isBlock = match || value.includes("\n");
    if (!isBlock) return <code className="inline-code" {...rest}>{children}</code>;
    const language = match ? match[1] : "";
    // A diagram only once its closing fence has arrived: half a diagram streams as code.
    if (language === "mermaid" && fenceClosed(blockSource, node)) return <MermaidBlock source={value} />;
    return <CodeBlock language={language} value={value} />;
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
    <BlockSource.Provider value={md}>
      <ReactMarkdown
        remarkPlugins={[remarkGfm, [remarkMath, { singleDollarTextMath: true }]]}
        rehypePlugins={[[rehypeKatex, { throwOnError: false, strict: "ignore" }]]}
        components={components}
      >
        {md}
      </ReactMarkdown>
    </BlockSource.Provider>
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
