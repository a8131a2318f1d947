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
