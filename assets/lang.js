// <html lang> follows the UI language (zh-CN / en), so screen readers and the browser's own text
// (spelling, hyphenation, fonts) use the right one. Before the app renders it comes from the language
// cookie; afterwards from the `data-ui-lang` attribute of the page's marker element, which React
// updates on a language switch.
(function () {
  function apply(lang) {
    document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
  }
  var m = document.cookie.match(/(?:^|;\s*)chatapp_lang=([^;]*)/);
  apply(m ? decodeURIComponent(m[1]) : "zh");
  new MutationObserver(function (records) {
    for (var i = 0; i < records.length; i++) {
      apply(records[i].target.getAttribute("data-ui-lang"));
    }
  }).observe(document.documentElement, {
    attributes: true,
    attributeFilter: ["data-ui-lang"],
    subtree: true,
  });
  // The marker appears with the page (a new element is no attribute change).
  document.addEventListener("DOMContentLoaded", function () {
    var tries = 0;
    var timer = setInterval(function () {
      var el = document.querySelector("[data-ui-lang]");
      if (el) apply(el.getAttribute("data-ui-lang"));
      if (el || ++tries > 40) clearInterval(timer);
    }, 250);
  });
})();
