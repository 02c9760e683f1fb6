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

if (typeof window !== "undefined" && !window.__chatLivePath) {
  window.__chatLivePath = true;
  installLivePath();
}
