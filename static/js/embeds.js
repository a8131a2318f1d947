// Click-to-load embeds (articles/embeds.py builds the placeholders). Nothing
// from a third party loads until the reader presses the button.
(function () {
  "use strict";
  var ALLOWED = /^https:\/\/(www\.youtube-nocookie\.com|player\.vimeo\.com|platform\.twitter\.com|www\.instagram\.com|embed\.bsky\.app|datawrapper\.dwcdn\.net|flo\.uri\.sh|w\.soundcloud\.com)\//;

  function load(figure) {
    var src = figure.getAttribute("data-embed-src") || "";
    var kind = figure.getAttribute("data-embed-kind");
    var player;
    if (kind === "audio") {
      if (!/^https:\/\//.test(src)) return;
      player = document.createElement("audio");
      player.controls = true;
      player.preload = "none";
    } else {
      if (!ALLOWED.test(src)) return;
      player = document.createElement("iframe");
      player.setAttribute("sandbox", "allow-scripts allow-same-origin allow-popups allow-presentation");
      player.setAttribute("allow", "encrypted-media; fullscreen; picture-in-picture");
      player.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
      player.setAttribute("loading", "lazy");
    }
    player.src = src;
    player.title = figure.getAttribute("data-embed-title") || "Embedded content";
    var placeholder = figure.querySelector(".embed__placeholder");
    if (placeholder) placeholder.replaceWith(player);
    else figure.appendChild(player);
    if (player.focus) player.focus();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".embed__load");
    if (!button) return;
    var figure = button.closest(".embed");
    if (figure) load(figure);
  });
})();
