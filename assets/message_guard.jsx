// One bad message must not take the conversation down. A block of markdown nested deeper than
// MAX_NESTING (7,000 `>` made the markdown pipeline overflow the stack, and React then unmounted
// the whole page) is shown as its raw text without being parsed; and every message renders inside
// its own error boundary, whose fallback is the message's raw text, so whatever else a message
// holds that the renderer cannot take, the other messages still show.
import React from "react";
import { uiLang } from "./image_policy.jsx";

// Blockquotes and lists nest; real answers stay far below this.
export const MAX_NESTING = 32;
const CONTAINER = /^[ \t]{0,3}(?:>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t]))[ \t]?/;
const FENCE = /^[ \t]*(`{3,}|~{3,})/;

// The deepest container nesting of any line outside code fences, counted up to `limit` + 1:
// `>`, list markers (`-`, `*`, `+`, `1.`) at the start of a line, and indentation (2 spaces a
// level, as nested lists use).
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
