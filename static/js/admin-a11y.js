// Django's SelectFilter2.js (the "filter_horizontal" picker) draws a filter icon as a
// <span aria-label="…"> with no role, which ARIA forbids (axe: aria-prohibited-attr).
// It builds the picker on window load; this runs just after it and names the icon an image.
window.addEventListener("load", function () {
  window.setTimeout(function () {
    document.querySelectorAll(".search-label-icon[aria-label]").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }, 0);
});

// Django's type-ahead pickers (autocomplete_fields: select2) leave two problems axe reports:
// the search box typed into has no name (axe: label), and the "remove all" cross is a <span>
// directly inside the <ul> of choices (axe: list). Each time select2 redraws a picker, name the
// box after the field's label and move the cross beside the list (select2 finds it there too:
// its handlers are delegated from the picker, not bound to the list).
(function () {
  "use strict";
  function fix() {
    document.querySelectorAll(".select2-selection__rendered > .select2-selection__clear").forEach(function (cross) {
      cross.parentNode.parentNode.appendChild(cross);
    });
    document.querySelectorAll(".select2-search__field:not([aria-label])").forEach(function (box) {
      var container = box.closest(".select2-container");
      var select = container && container.previousElementSibling;
      var label = select && select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
      box.setAttribute("aria-label", label ? "Search " + label.textContent.replace(/:\s*$/, "").trim().toLowerCase() : "Search");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    fix();
    new MutationObserver(fix).observe(document.body, { childList: true, subtree: true });
  });
})();
