// Mermaid diagrams: a complete ```mermaid block of an answer drawn as SVG (chat_markdown.jsx picks
// this component for a closed mermaid fence; an open one stays code).
// - The npm `mermaid` package is loaded with a dynamic import() the first time a diagram comes
//   near the screen, so pages without diagrams never download it.
// - securityLevel "strict" (labels are sanitised, click handlers are off); on top of that every
//   link, script, event attribute and foreign url() is taken out of the SVG, and directives in a
//   diagram cannot change the security settings, the theme or the CSS.
// - Renders run one at a time, each after a paint, and results are cached by theme + source, so
//   many diagrams do not freeze the page and a re-render never draws the same diagram twice.
// - A diagram that does not parse shows the parser's message and its source, never a blank.
import React, { useCallback, useEffect, useRef, useState } from "react";
import { copyText } from "./copy_text.js";
import { useHtmlLook } from "./html_look.js";

// The block's words, in the page's language (assets cannot reach chatapp/i18n; the code block's
// copy button does the same).
const WORDS = {
  zh: {
    kind: "Mermaid 图表",
    figure: "Mermaid 图表",
    source: "查看源码",
    diagram: "查看图表",
    copy: "复制",
    copied: "✓ 已复制",
    copyLabel: "复制图表源码",
    done: "已复制到剪贴板",
    open: "打开 SVG",
    openLabel: "在新标签页打开 SVG",
    drawing: "正在绘制图表…",
    broken: "图表有语法错误，未能绘制：",
    unavailable: "图表组件没有加载成功，请刷新页面再试。",
  },
  en: {
    kind: "Mermaid",
    figure: "Mermaid diagram",
    source: "View source",
    diagram: "View diagram",
    copy: "Copy",
    copied: "✓ Copied",
    copyLabel: "Copy the diagram's source",
    done: "Copied to the clipboard",
    open: "Open as SVG",
    openLabel: "Open as SVG in a new tab",
    drawing: "Drawing the diagram…",
    broken: "The diagram has a syntax error and was not drawn:",
    unavailable: "The diagram renderer did not load. Reload the page to try again.",
  },
};

// The page's own font stack (chat.css), so Chinese labels are measured with the font they show in.
const FONT =
  '-apple-system, BlinkMacSystemFont, "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", ' +
  '"Noto Sans CJK SC", "Segoe UI", Roboto, sans-serif';
// Settings a `%%{init: ...}%%` directive inside a diagram may not change (mermaid's own defaults
// plus the look: a diagram written for a white page must still follow the dark theme).
const SECURE = [
  "secure",
  "securityLevel",
  "startOnLoad",
  "maxTextSize",
  "suppressErrorRendering",
  "maxEdges",
  "theme",
  "themeVariables",
  "themeCSS",
  "darkMode",
  "fontFamily",
  "altFontFamily",
];
const CACHE_LIMIT = 200;

let mermaidModule = null;
const loadMermaid = () => {
  if (!mermaidModule) {
    mermaidModule = import("mermaid").then((m) => m.default);
    // A failed download (offline, a new deploy) is tried again by the next diagram.
    mermaidModule.catch(() => (mermaidModule = null));
  }
  return mermaidModule;
};

const results = new Map(); // theme + source -> {svg} | {error}
const inFlight = new Map(); // theme + source -> Promise of the same
let queue = Promise.resolve();
let renderCount = 0;

const cacheKey = (theme, source) => `${theme}\n${source}`;
const afterPaint = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

function remember(key, result) {
  results.delete(key);
  results.set(key, result);
  if (results.size > CACHE_LIMIT) results.delete(results.keys().next().value);
}

const FOREIGN_URL = /url\(\s*(?!['"]?#)[^)]*\)/gi;

// Strips from mermaid's (already sanitised) SVG what could leave the page or run: links (kept as
// their text), scripts, frames, images, event attributes, non-fragment href/src, url() to anything
// but the SVG itself, @import. Parsed in an inert <template>: nothing in it runs or loads.
export function withoutActiveParts(svg) {
  const template = document.createElement("template");
  template.innerHTML = svg;
  const root = template.content;
  for (const el of root.querySelectorAll("script, iframe, object, embed, img, image")) el.remove();
  for (const link of root.querySelectorAll("a")) link.replaceWith(...link.childNodes);
  for (const el of root.querySelectorAll("*")) {
    for (const attr of [...el.attributes]) {
      const name = attr.name.toLowerCase();
      const value = attr.value.trim();
      if (name.startsWith("on")) el.removeAttribute(attr.name);
      else if ((name === "href" || name === "xlink:href" || name === "src") && !value.startsWith("#"))
        el.removeAttribute(attr.name);
      else if (name === "style") el.setAttribute(attr.name, value.replace(FOREIGN_URL, "none"));
    }
  }
  for (const style of root.querySelectorAll("style")) {
    style.textContent = style.textContent.replace(FOREIGN_URL, "none").replace(/@import[^;]*;?/gi, "");
  }
  return template.innerHTML;
}

async function drawNow(theme, source) {
  const mermaid = await loadMermaid();
  mermaid.initialize({
    startOnLoad: false,
    securityLevel: "strict",
    secure: SECURE,
    theme: theme === "dark" ? "dark" : "default",
    darkMode: theme === "dark",
    fontFamily: FONT,
    suppressErrorRendering: true,
    logLevel: "fatal",
  });
  try {
    await mermaid.parse(source);
    renderCount += 1;
    const { svg } = await mermaid.render(`mermaid-diagram-${renderCount}`, source);
    return { svg: withoutActiveParts(svg) };
  } catch (error) {
    return { error: String((error && (error.message || error.str)) || error) };
  }
}

// The diagram for `source` in `theme`: from the cache, or drawn after every render queued before it.
export function drawDiagram(theme, source) {
  const key = cacheKey(theme, source);
  if (results.has(key)) return Promise.resolve(results.get(key));
  if (inFlight.has(key)) return inFlight.get(key);
  const job = queue
    .then(afterPaint)
    .then(() => drawNow(theme, source))
    .catch((error) => ({ error: String((error && error.message) || error), unavailable: true }))
    .then((result) => {
      inFlight.delete(key);
      // A failed download is not a property of the diagram: not cached.
      if (!result.unavailable) remember(key, result);
      return result;
    });
  inFlight.set(key, job);
  queue = job;
  return job;
}

// True once the element has come within a screen of the viewport (and stays true).
function useNearScreen(ref) {
  const [near, setNear] = useState(false);
  useEffect(() => {
    if (near || !ref.current) return undefined;
    if (typeof IntersectionObserver === "undefined") {
      setNear(true);
      return undefined;
    }
    const observer = new IntersectionObserver(
      (entries) => entries.some((e) => e.isIntersecting) && setNear(true),
      { rootMargin: "100% 0px" },
    );
    observer.observe(ref.current);
    return () => observer.disconnect();
  }, [near, ref]);
  return near;
}

// Opens the diagram as an SVG document of its own in a new tab, on the surface it is drawn on
// (a dark diagram's light lines would vanish on the tab's white).
function openSvg(svgElement) {
  const standalone = svgElement.cloneNode(true);
  standalone.style.backgroundColor = getComputedStyle(svgElement.parentElement).backgroundColor;
  const xml = new XMLSerializer().serializeToString(standalone);
  const url = URL.createObjectURL(new Blob([xml], { type: "image/svg+xml" }));
  window.open(url, "_blank", "noopener");
  // The new tab has loaded it long before; the URL is dropped so the blob is freed.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function MermaidBlock({ source }) {
  const [theme, lang] = useHtmlLook();
  const words = WORDS[lang] || WORDS.zh;
  const figure = useRef(null);
  const drawing = useRef(null);
  const near = useNearScreen(figure);
  const key = cacheKey(theme, source);
  // The last result drawn (possibly for the previous theme: kept on screen until the new one is ready).
  const [shown, setShown] = useState(() => (results.has(key) ? { key, ...results.get(key) } : null));
  const [viewSource, setViewSource] = useState(false);
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    if (!near || (shown && shown.key === key)) return undefined;
    let current = true;
    drawDiagram(theme, source).then((result) => current && setShown({ key, ...result }));
    return () => {
      current = false;
    };
  }, [near, key, theme, source, shown]);

  const onCopy = useCallback(() => {
    copyText(source).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    });
  }, [source]);
  const onOpen = useCallback(() => {
    const svg = drawing.current && drawing.current.querySelector("svg");
    if (svg) openSvg(svg);
  }, []);

  const svg = shown && shown.svg;
  const error = shown && shown.error;
  const state = error ? "error" : svg ? (viewSource ? "source" : "diagram") : "drawing";
  return (
    <figure className="mermaid-block" data-theme={theme} data-state={state} ref={figure}>
      <div className="code-head mermaid-head">
        <span className="code-lang">{state === "drawing" ? words.drawing : words.kind}</span>
        <span className="mermaid-actions">
          {svg ? (
            <button
              type="button"
              className="code-copy mermaid-toggle"
              onClick={() => setViewSource(!viewSource)}
            >
              {viewSource ? words.diagram : words.source}
            </button>
          ) : null}
          <button type="button" className="code-copy mermaid-copy" onClick={onCopy} aria-label={words.copyLabel}>
            {copied ? words.copied : words.copy}
          </button>
          {svg ? (
            <button type="button" className="code-copy mermaid-open" onClick={onOpen} aria-label={words.openLabel}>
              {words.open}
            </button>
          ) : null}
        </span>
        <span className="sr-only" role="status">
          {copied ? words.done : ""}
        </span>
      </div>
      {error ? (
        <div className="mermaid-error">
          <p>{shown.unavailable ? words.unavailable : words.broken}</p>
          {shown.unavailable ? null : <pre className="mermaid-error-message">{error}</pre>}
        </div>
      ) : null}
      {svg ? (
        <div
          className="mermaid-diagram"
          ref={drawing}
          hidden={viewSource}
          role="img"
          aria-label={words.figure}
          dangerouslySetInnerHTML={{ __html: svg }}
        />
      ) : null}
      {!svg || viewSource ? (
        <pre className="mermaid-source" tabIndex={0}>
          <code>{source}</code>
        </pre>
      ) : null}
    </figure>
  );
}
