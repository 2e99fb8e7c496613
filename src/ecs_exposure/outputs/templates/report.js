(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var table = document.getElementById("findings");
  var rows = Array.prototype.slice.call(document.querySelectorAll("tbody.finding"));
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name=severity]"));
  var search = document.getElementById("search");
  var showSuppressed = document.getElementById("show-suppressed");
  var count = document.getElementById("shown-count");

  function apply() {
    var wanted = {};
    boxes.forEach(function (b) { if (b.checked) { wanted[b.value] = true; } });
    var q = search.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (r) {
      var ok = wanted[r.dataset.severity] === true &&
        (q === "" || r.dataset.text.indexOf(q) !== -1) &&
        (showSuppressed.checked || r.dataset.status !== "Suppressed");
      r.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " findings shown";
  }

  function sortBy(button) {
    var key = button.dataset.sort;
    var numeric = button.dataset.numeric === "1";
    var descending = button.getAttribute("aria-sort") !== "descending";
    table.querySelectorAll("th button").forEach(function (b) { b.removeAttribute("aria-sort"); });
    button.setAttribute("aria-sort", descending ? "descending" : "ascending");
    rows.sort(function (a, b) {
      var x = a.dataset[key], y = b.dataset[key];
      var c = numeric ? Number(x) - Number(y) : x.localeCompare(y);
      return descending ? -c : c;
    });
    rows.forEach(function (r) { table.appendChild(r); });
  }

  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  showSuppressed.addEventListener("change", apply);
  search.addEventListener("input", apply);
  document.getElementById("filters").addEventListener("submit", function (e) { e.preventDefault(); });
  if (table) {
    table.querySelectorAll("th button").forEach(function (b) {
      b.addEventListener("click", function () { sortBy(b); });
    });
  }
  apply();
})();
