// Findings list: select-all, the selection count of the bulk-triage bar, and expanding a group.
// No framework; event delegation, so rows that htmx swaps in need no wiring.
(function () {
  "use strict";

  function picks() {
    return Array.prototype.slice.call(document.querySelectorAll("input.pick[form=bulk]"));
  }

  function refresh() {
    var count = picks().filter(function (box) { return box.checked; }).length;
    var label = document.getElementById("bulk-count");
    if (label) { label.textContent = String(count); }
    var all = document.getElementById("select-all");
    if (all) {
      var boxes = picks();
      all.checked = boxes.length > 0 && count === boxes.length;
      all.indeterminate = count > 0 && count < boxes.length;
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.id === "select-all") {
      picks().forEach(function (box) { box.checked = target.checked; });
      refresh();
    } else if (target.classList && target.classList.contains("pick")) {
      refresh();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-toggle]") : null;
    if (!button) { return; }
    var row = document.getElementById(button.getAttribute("data-toggle"));
    if (!row) { return; }
    row.hidden = !row.hidden;
    button.setAttribute("aria-expanded", row.hidden ? "false" : "true");
    button.textContent = row.hidden ? "▸" : "▾";
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "bulk") { return; }
    var scope = form.querySelector("input[name=scope]:checked");
    var hint = document.getElementById("bulk-hint");
    var chosen = picks().filter(function (box) { return box.checked; }).length;
    if ((!scope || scope.value === "selected") && chosen === 0) {
      event.preventDefault();
      if (hint) { hint.textContent = "Tick at least one finding first."; }
    }
  });

  document.addEventListener("htmx:afterSwap", refresh);
  document.addEventListener("DOMContentLoaded", refresh);
})();
