// Copies text to the clipboard, also where the async Clipboard API is missing (plain http on a
// LAN address is not a secure context): the code blocks' copy button and the message menu's copy.
export function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  const area = document.createElement("textarea");
  area.value = text;
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  try {
    document.execCommand("copy");
  } finally {
    document.body.removeChild(area);
  }
  return Promise.resolve();
}
if (typeof window !== "undefined") window.chatCopy = copyText;


// A message's copy button says it worked: its tip reads 「已复制」 (its `data-done-tip`) for a
// moment, and a polite live region tells screen readers the same.
const COPIED_MS = 1500;
function announce(text) {
  let region = document.getElementById("copy-status");
  if (!region) {
    region = document.createElement("div");
    region.id = "copy-status";
    region.className = "visually-hidden";
    region.setAttribute("role", "status");
    document.body.appendChild(region);
  }
  region.textContent = "";
  setTimeout(() => (region.textContent = text), 30);
}
if (typeof document !== "undefined") {
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element && event.target.closest("button[data-done-tip]");
    if (!button) return;
    button.setAttribute("data-copied", "");
    announce(button.getAttribute("data-done-tip"));
    clearTimeout(button._copiedTimer);
    button._copiedTimer = setTimeout(() => button.removeAttribute("data-copied"), COPIED_MS);
  });
}
