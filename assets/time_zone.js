// Tells the server the browser's time zone, so times show in local time (not always China time).
//
// The zone (an IANA name such as "America/New_York") goes in the `chatapp_tz` cookie, which the
// UIState reads (chatapp/state/ui.py) and chatapp/core/timefmt.py formats in. It may run after
// the app's first event (the head's scripts are added by React): every signed-in page also asks
// the zone itself (`zone_script` in chatapp/state/ui.py), so the first visit is covered too.
(function () {
  if (typeof window === "undefined" || typeof Intl === "undefined") return;
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) return;
    const current = document.cookie.split("; ").find((c) => c.startsWith("chatapp_tz="));
    if (current && decodeURIComponent(current.slice(11)) === zone) return;
    document.cookie =
      "chatapp_tz=" + zone + "; path=/; max-age=31536000; samesite=lax" +
      (location.protocol === "https:" ? "; secure" : "");
  } catch (e) {
    // No zone: the server shows China time.
  }
})();
