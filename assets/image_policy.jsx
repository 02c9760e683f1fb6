// Which images a page loads: this site's, data:/blob: URLs, and hosts the operator allows
// (IMAGE_HOSTS_ALLOW, read once from /api/v1/client-config). Any other image — one a model wrote
// into an answer (a prompt-injected model could put the conversation into its URL), or an
// imported role's avatar — is never requested: a placeholder names its host, and in answers
// offers 「打开图片 / Open image」, a link the user may open in a new tab. The page's
// Content-Security-Policy (img-src, chatapp/core/web_policy.py) blocks the same hosts, so this file
// is the first guard and the header the second; the two read the same allow-list.
import React, { useSyncExternalStore } from "react";
import { getBackendURL } from "$/utils/state";
import "./image_policy.css";

let allowed = null; // null until the config arrives: nothing foreign loads meanwhile
const listeners = new Set();

function setAllowed(list) {
  allowed = Array.isArray(list) ? list.filter((h) => typeof h === "string") : [];
  listeners.forEach((fn) => fn());
}

if (typeof window !== "undefined") {
  let url = "/api/v1/client-config";
  try {
    url = new URL("/api/v1/client-config", getBackendURL()).toString();
  } catch (e) {
    // No backend URL (a static export): same origin.
  }
  fetch(url, { credentials: "omit" })
    .then((r) => (r.ok ? r.json() : {}))
    .then((config) => setAllowed(config && config.image_hosts))
    .catch(() => setAllowed([]));
}

function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const useAllowed = () =>
  useSyncExternalStore(
    subscribe,
    () => allowed,
    () => null,
  );

const defaultPort = (proto) => (proto === "https:" ? "443" : "80");

// One IMAGE_HOSTS_ALLOW entry against a URL, as CSP matches a host source: `host` or `*.host`
// (sub-domains only), optional scheme (http also admits https), optional `:port` or `:*`
// (none: the scheme's default port only).
function hostSourceMatches(entry, url) {
  const m = /^(?:(https?):\/\/)?([^:/]+)(?::(\*|\d+))?$/.exec(entry);
  if (!m) return false;
  const [, scheme, host, port] = m;
  const proto = url.protocol;
  const base = scheme ? scheme + ":" : window.location.protocol;
  if (!(proto === base || (base === "http:" && proto === "https:"))) return false;
  const name = url.hostname.toLowerCase();
  if (host.startsWith("*.")) {
    if (!name.endsWith(host.slice(1))) return false;
  } else if (name !== host) {
    return false;
  }
  if (port === "*") return true;
  return (url.port || defaultPort(proto)) === (port || defaultPort(proto));
}

// "load", "blocked" (a foreign host) or "invalid" (not an image URL at all).
export function imageVerdict(src, hosts) {
  let url;
  try {
    url = new URL(String(src || ""), window.location.href);
  } catch (e) {
    return "invalid";
  }
  if (url.protocol === "data:") return /^data:image\//i.test(url.href) ? "load" : "invalid";
  if (url.protocol === "blob:") return url.origin === window.location.origin ? "load" : "blocked";
  if (url.protocol !== "http:" && url.protocol !== "https:") return "invalid";
  if (url.origin === window.location.origin) return "load";
  return (hosts || []).some((h) => hostSourceMatches(h, url)) ? "load" : "blocked";
}

export function uiLang() {
  const m = /(?:^|;\s*)chatapp_lang=([^;]*)/.exec(document.cookie || "");
  return m && decodeURIComponent(m[1]) === "en" ? "en" : "zh";
}

const TEXT = {
  zh: {
    image: "图片",
    blocked: "外部图片未加载",
    open: "打开图片",
    openTitle: "在新标签页打开（会访问 {host}）",
    avatar: "外部头像未加载（{host}）",
    sep: "：",
  },
  en: {
    image: "Image",
    blocked: "External image not loaded",
    open: "Open image",
    openTitle: "Opens in a new tab (contacts {host})",
    avatar: "External avatar not loaded ({host})",
    sep: ": ",
  },
};

export const uiText = (key, vars = {}) =>
  TEXT[uiLang()][key].replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));

const hostOf = (src) => {
  try {
    return new URL(String(src), window.location.href).host;
  } catch (e) {
    return "";
  }
};

// An image in an answer (react-markdown's `img`).
export function SafeImage({ src, alt, title }) {
  const hosts = useAllowed();
  const verdict = imageVerdict(src, hosts);
  if (verdict === "load") {
    return <img src={src} alt={alt || ""} title={title} loading="lazy" referrerPolicy="no-referrer" />;
  }
  const host = hostOf(src);
  return (
    <span className="img-blocked" data-testid="img-blocked" data-host={host}>
      <span className="img-blocked-icon" aria-hidden="true">
        🖼
      </span>
      <span className="img-blocked-text">
        {uiText("blocked")}
        {alt ? uiText("sep") + alt : ""}
        {host ? <span className="img-blocked-host">{host}</span> : null}
      </span>
      {verdict === "blocked" ? (
        <a
          href={src}
          target="_blank"
          rel="noopener noreferrer nofollow"
          referrerPolicy="no-referrer"
          title={uiText("openTitle", { host })}
          data-testid="img-open"
        >
          {uiText("open")}
        </a>
      ) : null}
    </span>
  );
}

// A role's avatar image: loads only when allowed, else a neutral tile naming the host.
export function AvatarImage({ src }) {
  const hosts = useAllowed();
  if (imageVerdict(src, hosts) === "load") {
    return <img src={src} alt="" loading="lazy" referrerPolicy="no-referrer" />;
  }
  return (
    <span
      className="avatar-blocked"
      role="img"
      aria-label={uiText("avatar", { host: hostOf(src) })}
      title={uiText("avatar", { host: hostOf(src) })}
      data-testid="avatar-blocked"
    >
      🖼
    </span>
  );
}
