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

