/* The page's tabs (dashboard/layout.py): WAI-ARIA's tab pattern with automatic activation.
   A click, Enter or Space selects a tab; the arrow keys, Home and End move to another and select it. */
(function () {
  function select(tab) {
    var tabs = Array.prototype.slice.call(tab.closest('[role="tablist"]').querySelectorAll('[role="tab"]'));
    tabs.forEach(function (other) {
      var chosen = other === tab;
      other.setAttribute("aria-selected", chosen ? "true" : "false");
      other.setAttribute("tabindex", chosen ? "0" : "-1");
      other.classList.toggle("active", chosen);
      document.getElementById(other.getAttribute("aria-controls")).hidden = !chosen;
    });
    window.dispatchEvent(new Event("resize")); // charts drawn while hidden take their width now
  }

  document.addEventListener("click", function (event) {
    var tab = event.target.closest('[role="tab"]');
    if (tab) { select(tab); }
  });

  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest('[role="tab"]');
    if (!tab) { return; }
    var tabs = Array.prototype.slice.call(tab.closest('[role="tablist"]').querySelectorAll('[role="tab"]'));
    var index = tabs.indexOf(tab);
    var next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) { return; }
    event.preventDefault();
    var target = tabs[(next + tabs.length) % tabs.length];
    target.focus();
    select(target);
  });
})();
