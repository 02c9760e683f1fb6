// Refuses, in the browser, a form the server could not take, and keeps its text.
//
// Reflex sends a submitted form as one websocket message, and the socket server (engine.io's
// max_http_buffer_size, 1,000,000 characters) closes the connection on a bigger one: the page
// went offline, the message was lost, and nothing said why. A composer message over the server's
// limit (the textarea's data-max-chars) would only be refused after the form had been cleared.
// So before a form is submitted, its text is measured; one that is too long or too large is not
// submitted at all (its text stays where it was typed), and a notice says why, in the page's
// language (the composer form carries the texts, from chatapp/i18n/).
//
// A capture listener on window runs before React's own submit handling (and before the
// composer's, in chat_markdown.jsx, which forgets its draft on submit).
(function () {
  if (typeof window === "undefined" || window.__sendGuard) return;
  window.__sendGuard = true;

  // The socket server's limit, in characters (code points) of one websocket message.
  const FRAME_LIMIT = 1000000;
  // The event's name, router data and JSON framing around the form's fields.
  const HEADROOM = 16384;
  const NOTICE_ID = "send-refused";
  const FALLBACK_LARGE = "内容太大，无法发送，文字已保留。Too large to send; your text is kept.";

  const cpLen = (s) => {
    let n = 0;
    for (const _ of s) n++;
    return n;
  };

  // What the form's event will weigh. Reflex sends each field by name and again by element id
  // (the composer's text goes twice), JSON-escaped: count every string field twice, escaped.
  function eventSize(form) {
    let size = HEADROOM;
    for (const [name, value] of new FormData(form)) {
      if (typeof value === "string") size += 2 * (cpLen(JSON.stringify(value)) + name.length + 8);
    }
    return size;
  }

  function texts(form) {
    const own = form.dataset;
    const page = (document.getElementById("composer-form") || {}).dataset || {};
    return {
      long: own.refusedLong || page.refusedLong || FALLBACK_LARGE,
      large: own.refusedLarge || page.refusedLarge || FALLBACK_LARGE,
    };
  }

  function hideNotice() {
    const el = document.getElementById(NOTICE_ID);
    if (el) el.remove();
  }

  function showNotice(text, field) {
    hideNotice();
    const el = document.createElement("div");
    el.id = NOTICE_ID;
    el.setAttribute("role", "alert");
    el.textContent = text;
    el.style.cssText =
      "position:fixed;left:50%;bottom:7.5rem;transform:translateX(-50%);z-index:2147483000;" +
      "max-width:min(36rem,92vw);padding:.6rem .9rem;border-radius:8px;" +
      "background:#fff4e5;color:#7a4a00;border:1px solid #f0c27a;" +
      "box-shadow:0 4px 16px rgba(0,0,0,.12);font:.9rem/1.45 system-ui,sans-serif;";
    document.body.append(el);
    if (field && field.focus) field.focus();
  }

  function refusal(form) {
    for (const el of form.querySelectorAll("textarea[data-max-chars],input[data-max-chars]")) {
      const max = Number(el.dataset.maxChars);
      if (max > 0 && cpLen(el.value) > max) {
        return { text: texts(form).long.replace("{n}", String(max)), field: el };
      }
    }
    if (eventSize(form) > FRAME_LIMIT) {
      const field = form.querySelector("textarea") || null;
      return { text: texts(form).large.replace("{n}", String(FRAME_LIMIT / 2)), field };
    }
    return null;
  }

  window.addEventListener(
    "submit",
    (e) => {
      const form = e.target;
      if (!(form instanceof HTMLFormElement)) return;
      const refused = refusal(form);
      if (!refused) {
        hideNotice();
        return;
      }
      e.preventDefault();
      e.stopImmediatePropagation();
      showNotice(refused.text, refused.field);
    },
    true,
  );
  // The notice goes once the text changes.
  document.addEventListener("input", (e) => {
    if (e.target && e.target.form && document.getElementById(NOTICE_ID)) hideNotice();
  });
})();
