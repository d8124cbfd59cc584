/* Names for what dcc.Upload draws without one: its file input is labelled by the zone's own
   prompt (components.upload_zone gives it the id "<upload id>-prompt"), so a screen reader says
   "Drag and drop a photo here, or click to browse" where it would say "file". */
(function () {
  function label(root) {
    root.querySelectorAll(".upload-zone input[type=file]:not([aria-labelledby])").forEach(function (input) {
      var zone = input.closest(".upload-zone").parentElement;
      if (zone && zone.id && document.getElementById(zone.id + "-prompt")) {
        input.setAttribute("aria-labelledby", zone.id + "-prompt");
      }
    });
  }
  new MutationObserver(function () { label(document); }).observe(document.documentElement, { childList: true, subtree: true });
})();
