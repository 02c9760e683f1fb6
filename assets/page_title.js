import { onPageChange } from "./page_watch.js";

// The tab's title names the open conversation (「标题 · chatapp」), and is 「chatapp」 on the home
// page: the pages' own title (chatapp.py) is fixed, the conversation's is known only here. Reads
// the header's title element (`#chat-title`, components/chat_header.py) on each page change:
// a text read, no layout.
function installPageTitle() {
  const update = () => {
    const path = location.pathname;
    if (path !== "/" && path !== "/chat" && !path.startsWith("/chat/")) return;
    const el = document.getElementById("chat-title");
    const name = el ? el.textContent.trim() : "";
    const wanted = name ? `${name} · chatapp` : "chatapp";
    if (document.title !== wanted) document.title = wanted;
  };
  onPageChange(update);
  update();
}

if (typeof window !== "undefined" && !window.__chatPageTitle) {
  window.__chatPageTitle = true;
  installPageTitle();
}
