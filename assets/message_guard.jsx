// One bad message must not take the conversation down. The markdown pipeline and React recurse
// once per level of nesting: 7,000 nested `>` (or list markers, footnotes, emphasis, links)
// overflowed the stack after seconds of work, and React then unmounted the whole page. A block
// nested deeper than the limits below is shown as its raw text without being parsed; and every
// message renders inside its own error boundary, whose fallback is the message's raw text, so
// whatever else the renderer cannot take, the other messages still show.
import React from "react";
import { uiLang } from "./image_policy.jsx";

// Real answers stay far below these.
export const MAX_NESTING = 32; // containers: blockquotes, list items, footnote definitions
export const MAX_INLINE_NESTING = 64; // emphasis, strikethrough, links and images
const CONTAINER = /^[ \t]{0,3}(?:>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t])|\[\^[^\]\s]+\]:)[ \t]?/;
const FENCE = /^[ \t]*(`{3,}|~{3,})/;
const SPACE = /\s/;

// How deeply the inline content of `text` (no code fences) may nest, counted up to `limit` + 1:
// a delimiter run of `*`, `_` or `~` followed by a non-space opens as many levels as it is long,
// one preceded by a non-space closes; `[` opens, `]` closes; code spans and escapes are skipped,
// a blank line starts over. Meant to over-estimate: odd text (many stray `**kwargs`) may be
// shown raw, deep nesting is never parsed.
export function inlineDepth(text, limit = MAX_INLINE_NESTING) {
  let depth = 0;
  let deepest = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text[i];
    if (c === "\\") {
      i += 2;
      continue;
    }
    if (c === "`") {
      let j = i;
      while (j < n && text[j] === "`") j++;
      const end = text.indexOf(text.slice(i, j), j);
      i = end < 0 ? j : end + (j - i);
      continue;
    }
    if (c === "*" || c === "_" || c === "~") {
      let j = i;
      while (j < n && text[j] === c) j++;
      const opens = j < n && !SPACE.test(text[j]);
      const closes = i > 0 && !SPACE.test(text[i - 1]);
      if (closes && depth > 0) depth = Math.max(0, depth - (j - i));
      else if (opens) depth += j - i;
      i = j;
    } else {
      if (c === "[") depth++;
      else if (c === "]" && depth > 0) depth--;
      else if (c === "\n" && text[i + 1] === "\n") depth = 0;
      i++;
    }
    if (depth > deepest) {
      deepest = depth;
      if (deepest > limit) return deepest;
    }
  }
  return deepest;
}

// The deepest container nesting of any line outside code fences, counted up to `limit` + 1:
// `>`, list markers (`-`, `*`, `+`, `1.`) and footnote labels at the start of a line, and
// indentation (2 spaces a level, as nested lists use).
export function nestingDepth(md, limit = MAX_NESTING) {
  let deepest = 0;
  let fence = null;
  for (const line of String(md).split("\n")) {
    const f = FENCE.exec(line);
    if (fence) {
      if (f && f[1][0] === fence[0] && f[1].length >= fence.length) fence = null;
      continue;
    }
    let depth = Math.floor(/^[ \t]*/.exec(line)[0].replace(/\t/g, "    ").length / 2);
    let rest = line.trimStart();
    while (depth <= limit) {
      const m = CONTAINER.exec(rest);
      if (!m) break;
      rest = rest.slice(m[0].length);
      depth++;
    }
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    if (f) fence = f[1];
  }
  return deepest;
}

// The text outside code fences (what inline markdown is parsed in).
function outsideFences(md) {
  const kept = [];
  let fence = null;
  for (const line of String(md).split("\n")) {
    const f = FENCE.exec(line);
    if (fence) {
      if (f && f[1][0] === fence[0] && f[1].length >= fence.length) fence = null;
      continue;
    }
    if (f) fence = f[1];
    else kept.push(line);
  }
  return kept.join("\n");
}

// True when `md` must not be parsed (see the limits above).
export function tooDeep(md) {
  return nestingDepth(md) > MAX_NESTING || inlineDepth(outsideFences(md)) > MAX_INLINE_NESTING;
}

const TEXT = {
  zh: {
    deep: "这段内容嵌套层级过深，按原文显示。",
    failed: "这条消息无法按格式显示，以下是原文。",
  },
  en: {
    deep: "This part is nested too deeply to format; shown as plain text.",
    failed: "This message could not be formatted; here is its raw text.",
  },
};
const note = (key) => TEXT[uiLang()][key];

// Markdown shown as text: React escapes it, so nothing in it is interpreted.
export function RawText({ text, reason }) {
  return (
    <div className="md-raw" data-testid="md-raw" data-reason={reason}>
      <p className="md-raw-note">{note(reason)}</p>
      <pre className="md-raw-text">{text}</pre>
    </div>
  );
}

export class MessageBoundary extends React.Component {
  constructor(props) {
    super(props);
    this.state = { failed: false };
  }

  static getDerivedStateFromError() {
    return { failed: true };
  }

  componentDidCatch(error) {
    console.warn("a message could not be rendered; showing its raw text", error && error.name);
  }

  componentDidUpdate(prev) {
    // A streamed message grows: try the new text again.
    if (this.state.failed && prev.text !== this.props.text) this.setState({ failed: false });
  }

  render() {
    if (this.state.failed) return <RawText text={this.props.text} reason="failed" />;
    return this.props.children;
  }
}
