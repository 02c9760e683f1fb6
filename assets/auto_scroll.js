import { onPageChange } from "./page_watch.js";

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

if (typeof window !== "undefined" && !window.chatScrollBottom) installAutoScroll();
