import { onPageChange } from "./page_watch.js";

// Enter sends (Shift+Enter newline), or Ctrl+Enter sends when the user prefers; never while an
// IME is composing Chinese text. The send button is enabled only when there is text and the page
// is ready.
//
// "Ready" is Reflex's is_hydrated (the form's data-ready): false from a page load, a reconnect or
// a navigation until the page's on_load has run. A message sent before that would reach the server
// ahead of the on_load, which would then run for the URL the page was opened with and clear the
// chat the message has just created. Enter pressed meanwhile is kept and sent once the page is ready.
//
// The composer's text also survives the page component being replaced: the first "new chat"
// after a message sent from the home page switches React routes ("/" to "/chat/[cid]"), which
// mounts a new, empty textarea: text typed in that moment would otherwise be lost.
let pendingSend = false;
let draft = "";
let shownArea = null;

const composerReady = (form) => !form || form.dataset.ready !== "false";

// Phones and tablets: soft keyboards have no Shift+Enter, so Enter adds a line there and the send
// button sends (Ctrl/Cmd+Enter still sends from an attached keyboard).
const touchOnly = () =>
  typeof window !== "undefined" && !!window.matchMedia && window.matchMedia("(pointer: coarse)").matches;

function syncComposer() {
  const area = document.getElementById("composer-input");
  const button = document.getElementById("composer-send");
  if (area && button) button.disabled = !area.value.trim() || !composerReady(area.form);
}

// Runs in the page observer's callback (`onPageChange`, page_watch.js): a microtask, so a new textarea gets the draft before the
// next key or input event reaches it.
function settleComposer() {
  const area = document.getElementById("composer-input");
  if (area && area !== shownArea) {
    if (shownArea && draft && !area.value) area.value = draft;
    shownArea = area;
  }
  if (area && touchOnly() && area.dataset.placeholderTouch && area.placeholder !== area.dataset.placeholderTouch) {
    area.placeholder = area.dataset.placeholderTouch;
  }
  if (!area) return;
  if (pendingSend && composerReady(area.form)) {
    pendingSend = false;
    if (area.value.trim() && document.getElementById("composer-send")) area.form.requestSubmit();
  }
  syncComposer();
}

function installComposer() {
  document.addEventListener("input", (e) => {
    if (e.target && e.target.id === "composer-input") {
      draft = e.target.value;
      syncComposer();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || !e.target) return;
    if (e.target.id === "rename-input") {
      const cancel = document.getElementById("rename-cancel");
      if (cancel) cancel.click();
    } else if (e.target.id === "edit-input" && e.target.form) {
      // The message editor: Esc is its Cancel button (the form's one plain button).
      const cancel = e.target.form.querySelector('button[type="button"]');
      if (cancel) cancel.click();
    }
  });
  document.addEventListener("keydown", (e) => {
    const area = e.target;
    if (!area || (area.id !== "composer-input" && area.id !== "edit-input")) return;
    if (e.key !== "Enter" || e.isComposing || e.keyCode === 229) return;
    const ctrlMode = (area.dataset.sendkey || "enter") === "ctrl";
    const mod = e.ctrlKey || e.metaKey;
    const send = ctrlMode || touchOnly() ? mod : !e.shiftKey && !mod && !e.altKey;
    if (!send) return;
    e.preventDefault();
    if (!area.value.trim()) return;
    const composer = area.id === "composer-input";
    // No send button: an answer is streaming (Stop shows instead). The server would refuse the
    // message, and submitting clears the box: keep the text until the answer has ended.
    if (!document.getElementById(composer ? "composer-send" : "edit-save")) return;
    if (composer && !composerReady(area.form)) {
      pendingSend = true;
      return;
    }
    area.form && area.form.requestSubmit();
  });
  document.addEventListener("submit", (e) => {
    if (e.target && e.target.id === "composer-form") {
      draft = "";
      pendingSend = false;
      setTimeout(syncComposer, 0);
    }
  });
  onPageChange(settleComposer);
}

if (typeof window !== "undefined" && !window.__chatComposer) {
  window.__chatComposer = true;
  installComposer();
}
