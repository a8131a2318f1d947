// The share row under a story (templates/includes/share.html). Its links work without
// this script; it adds what needs one: "Copy link" through the Clipboard API and, on
// devices that have one, the system share sheet (Web Share API). Both buttons stay
// hidden where they cannot work. A file of its own: the site's CSP forbids inline script.
document.addEventListener("DOMContentLoaded", () => {
  for (const row of document.querySelectorAll(".share")) {
    const status = row.querySelector(".share__status");
    const copy = row.querySelector("[data-share-copy]");
    if (copy && navigator.clipboard && window.isSecureContext) {
      copy.hidden = false;
      copy.addEventListener("click", async () => {
        const url = copy.dataset.shareCopy;
        try {
          await navigator.clipboard.writeText(url);
          status.textContent = "Link copied.";
        } catch {
          status.textContent = `Could not copy: the address is ${url}`;
        }
      });
    }
    const native = row.querySelector("[data-share-native]");
    if (native && navigator.share) {
      native.hidden = false;
      native.addEventListener("click", () => {
        // A reader who closes the share sheet rejects the promise: nothing to report.
        navigator.share({ title: native.dataset.shareTitle, url: native.dataset.shareNative }).catch(() => {});
      });
    }
  }
});
