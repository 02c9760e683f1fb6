// The page's theme (the `dark` class Radix / next-themes put on <html>) and language (<html lang>)
// as one React-readable value, watched so code blocks and diagrams follow a theme or language
// switch without a reload.
import { useSyncExternalStore } from "react";

function htmlSnapshot() {
  const el = document.documentElement;
  const dark = el.classList.contains("dark") || el.classList.contains("dark-theme");
  const zh = (el.lang || "zh").toLowerCase().startsWith("zh");
  return (dark ? "dark" : "light") + (zh ? ":zh" : ":en");
}

function subscribeHtml(callback) {
  const observer = new MutationObserver(callback);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ["class", "lang"] });
  return () => observer.disconnect();
}

// [theme, lang]: theme is "light" or "dark", lang "zh" or "en".
export function useHtmlLook() {
  return useSyncExternalStore(subscribeHtml, htmlSnapshot, () => "light:zh").split(":");
}
