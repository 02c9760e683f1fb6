// Menus and the keyboard. Esc closing a menu (a row's ⋯, the header's pickers, the roles page's
// menu), or a dialog opened from one, puts the focus back where the menu came from: the button that opened it, or for a
// conversation row its link (the row's one Tab stop) — never <body>. On a row's link, → or
// Shift+F10 (or the context-menu key) opens the row's menu, whose button is out of the Tab order.
(function () {
  if (typeof document === "undefined" || window.__menuKeys) return;
  window.__menuKeys = true;

  // What takes the focus back for an opener: a row's menu button hands it to the row's link.
  function home(opener) {
    const row = opener.closest(".conv-item");
    return (row && row.querySelector(".conv-link")) || opener;
  }

  function press(el, key) {
    el.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));
  }

  // The last menu button used: a dialog opened from its menu (删除对话) gives the focus back to it.
  let lastOpener = null;
  const remember = (event) => {
    const opener = event.target instanceof Element && event.target.closest("[aria-haspopup]");
    if (opener) lastOpener = opener;
  };
  document.addEventListener("pointerdown", remember, true);

  document.addEventListener(
    "keydown",
    (event) => {
      remember(event);
      if (event.key === "Escape") {
        const openers = document.querySelectorAll('[aria-expanded="true"]');
        const inDialog = document.querySelector('[role="alertdialog"], [role="dialog"]');
        const opener =
          openers[openers.length - 1] || (inDialog && lastOpener && lastOpener.isConnected ? lastOpener : null);
        if (!opener) return;
        const target = home(opener);
        // Once the menu has gone (after its closing animation) and unless Radix returned the
        // focus itself: watch for the focus dropping to <body> for a moment.
        let tries = 0;
        const check = () => {
          const now = document.activeElement;
          if (!now || now === document.body || !now.isConnected) target.focus();
          else if (!now.closest('[role="menu"], [role="listbox"], [role="dialog"]')) return;
          if (++tries < 15) setTimeout(check, 50);
        };
        setTimeout(check, 50);
        return;
      }
      const link = event.target instanceof Element && event.target.closest(".conv-link");
      if (!link) return;
      const wantsMenu =
        event.key === "ArrowRight" || event.key === "ContextMenu" || (event.key === "F10" && event.shiftKey);
      if (!wantsMenu) return;
      const button = link.closest(".conv-item")?.querySelector(".menu-wrap button");
      if (!button) return;
      event.preventDefault();
      button.focus();
      press(button, "Enter");
    },
    true,
  );
})();
