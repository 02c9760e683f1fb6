import { onPageChange } from "./page_watch.js";

// Keeps the newest message in view (`#message-scroll`), unless the user scrolled up to read.
//
// Whether to follow is decided from what the USER does (wheel, touch, keys, dragging the
// scrollbar), never from a bare scroll event: rows with `content-visibility: auto` (chat.css)
// start at their 96 px placeholder and grow to their real height as they come into view, so after
// `scrollTop = scrollHeight` the content grows under the reader and the next scroll event finds
// the view far from the bottom though nobody touched it. Reading that as "the user scrolled up"
// stopped the following from the second message of a visit on. Growth is followed with a
// ResizeObserver on the content (it fires after layout, before paint: no forced layout, and the
// rows a pin brings into view are pinned again in the same frame).
//
// While not following, `#message-scroll[data-follow="off"]` shows the 「↓ 回到底部」 button
// (components/scroll_button.py). Sending, opening a conversation, the button, or scrolling back
// down to the bottom follow again. 「加载更早的消息」 keeps the first visible row where it was.
const NEAR_PX = 40; // "at the bottom": within this of it
const INTENT_MS = 700; // how long a wheel / key / touch makes scroll events the user's
const ANCHOR_MS = 4000; // how long 「加载更早的消息」 keeps the reader's row in place

function installAutoScroll() {
  let follow = true;
  let userUntil = 0; // scroll events before this come from the user's input
  let dragging = false; // the scrollbar (or the list itself) is held down
  let anchor = null; // {el, top, until}: a row kept at the same screen position
  let scroller = null;
  let content = null;
  let path = location.pathname;
  let shownOff = null;

  const distance = (el) => el.scrollHeight - el.scrollTop - el.clientHeight;
  const showState = () => {
    const off = !follow && scroller && distance(scroller) > NEAR_PX;
    if (scroller && off !== shownOff) {
      shownOff = off;
      scroller.dataset.follow = off ? "off" : "on";
    }
  };
  const pin = () => {
    if (scroller && follow) scroller.scrollTop = scroller.scrollHeight;
  };
  const keepAnchor = () => {
    if (!anchor || !scroller) return false;
    if (performance.now() > anchor.until || !anchor.el.isConnected) {
      anchor = null;
      return false;
    }
    const delta = anchor.el.getBoundingClientRect().top - anchor.top;
    if (Math.abs(delta) >= 1) scroller.scrollTop += delta;
    return true;
  };
  const onResize = () => {
    if (!keepAnchor()) pin();
    showState();
  };
  const resizeObserver = new ResizeObserver(onResize);

  const startFollowing = () => {
    follow = true;
    anchor = null;
    userUntil = 0; // what is left of a wheel's smooth scroll is not the reader's any more
    dragging = false;
    pin();
    showState();
  };
  const stopFollowing = () => {
    if (scroller && scroller.scrollHeight > scroller.clientHeight) {
      follow = false;
      showState();
    }
  };
  const userInput = () => {
    userUntil = performance.now() + INTENT_MS;
    anchor = null;
  };

  // Re-attaches to the list when it is (re)created: opening a conversation, the welcome screen
  // turning into the first message. Cheap on purpose (no layout read): this runs on every DOM
  // change of a streamed answer.
  const attach = () => {
    const el = document.getElementById("message-scroll");
    const inner = el ? el.querySelector(".message-inner") : null;
    const opened = location.pathname !== path;
    if (opened) path = location.pathname;
    if (el !== scroller) {
      if (scroller) resizeObserver.unobserve(scroller);
      scroller = el;
      shownOff = null;
      if (el) resizeObserver.observe(el);
      follow = true; // a new list: open at its latest message
    }
    if (inner !== content) {
      if (content) resizeObserver.unobserve(content);
      content = inner;
      if (inner) resizeObserver.observe(inner);
    }
    if (opened) startFollowing();
  };
  onPageChange(attach);
  attach();

  // ---- the user's intent --------------------------------------------------------------------
  const inList = (e) => scroller && e.target instanceof Node && scroller.contains(e.target);
  document.addEventListener(
    "wheel",
    (e) => {
      if (!inList(e)) return;
      userInput();
      if (e.deltaY < 0) stopFollowing();
    },
    { capture: true, passive: true },
  );
  let touchY = null;
  document.addEventListener(
    "touchstart",
    (e) => {
      if (!inList(e)) return;
      userInput();
      touchY = e.touches[0] ? e.touches[0].clientY : null;
    },
    { capture: true, passive: true },
  );
  document.addEventListener(
    "touchmove",
    (e) => {
      if (!inList(e)) return;
      userInput();
      const y = e.touches[0] ? e.touches[0].clientY : null;
      if (touchY !== null && y !== null && y > touchY + 2) stopFollowing(); // finger down: content up
      touchY = y;
    },
    { capture: true, passive: true },
  );
  // Momentum scrolling goes on after the finger lifts.
  document.addEventListener("touchend", (e) => inList(e) && userInput(), {
    capture: true,
    passive: true,
  });
  document.addEventListener(
    "keydown",
    (e) => {
      const t = e.target;
      if (t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT" || t.isContentEditable)) return;
      if (!["ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End", " "].includes(e.key)) return;
      userInput();
      if (e.key === "ArrowUp" || e.key === "PageUp" || e.key === "Home") stopFollowing();
      if (e.key === " " && e.shiftKey) stopFollowing();
    },
    true,
  );
  // The scrollbar: a press on the list element itself (not on a row inside it).
  document.addEventListener(
    "pointerdown",
    (e) => {
      if (scroller && e.target === scroller) {
        dragging = true;
        userInput();
      }
    },
    true,
  );
  const release = () => {
    if (dragging) userInput();
    dragging = false;
  };
  document.addEventListener("pointerup", release, true);
  document.addEventListener("pointercancel", release, true);

  document.addEventListener(
    "scroll",
    (e) => {
      if (!scroller || e.target !== scroller) return;
      if (dragging || performance.now() < userUntil) {
        if (dragging) userUntil = performance.now() + INTENT_MS;
        follow = distance(scroller) <= NEAR_PX;
      } else if (follow && !anchor && distance(scroller) > 1) {
        // Not the reader: the browser clamped or anchored the position (a row replaced, the
        // content briefly shorter within one frame, which no ResizeObserver sees). Back down.
        pin();
      }
      showState();
    },
    true,
  );

  // ---- sending, 回到底部, 加载更早的消息 ----------------------------------------------------------
  const isSend = (e) => {
    const form = e.target && e.target.closest ? e.target.closest("#composer-form") : null;
    return !!form;
  };
  document.addEventListener("submit", (e) => isSend(e) && startFollowing(), true);
  document.addEventListener(
    "click",
    (e) => {
      const t = e.target && e.target.closest ? e.target : null;
      if (!t) return;
      if (t.closest("#scroll-bottom") || t.closest("#composer-send") || t.closest("#edit-save")) {
        startFollowing();
      } else if (t.closest("#load-earlier") && scroller) {
        // Keep the first row on screen where it is while the earlier page is put above it (the
        // browser's own scroll anchoring picks the button itself, which stays at the top).
        const top = scroller.getBoundingClientRect().top;
        const rows = scroller.querySelectorAll(".msg-row, .divider");
        for (const row of rows) {
          const r = row.getBoundingClientRect();
          if (r.bottom > top) {
            follow = false;
            anchor = { el: row, top: r.top, until: performance.now() + ANCHOR_MS };
            break;
          }
        }
      }
    },
    true,
  );
  // Enter in the composer sends by submitting the form (composer_keys.js): the listener above.
  // New rows arrive through React commits, which the ResizeObserver sees; once per frame after a
  // commit the position is settled again too (a commit that leaves the size as it was but moved
  // the position is not a resize), in a frame callback, not per mutation (bench/README.md).
  let pending = false;
  onPageChange(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      if (!keepAnchor()) pin();
    });
  });

  window.chatScrollBottom = startFollowing;
  window.chatScrollState = () => ({
    follow,
    distance: scroller ? distance(scroller) : null,
  });
}

if (typeof window !== "undefined" && !window.chatScrollBottom) installAutoScroll();
