// ONE MutationObserver of the page, shared by the scripts that watch it (composer_keys.js,
// auto_scroll.js): every DOM change of a streamed answer is recorded once per observer.
const pageWatchers = [];
let pageObserver = null;

export function onPageChange(fn) {
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
