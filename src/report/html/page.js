// Optional: filtering and sorting. The page reads the same without it.
(function () {
  "use strict";
  var docs = Array.prototype.slice.call(document.querySelectorAll("details.doc"));
  var tools = document.querySelector(".tools");
  if (tools) {
    tools.hidden = false;
    var filter = document.getElementById("doc-filter");
    filter.addEventListener("input", function () {
      var q = filter.value.toLowerCase();
      docs.forEach(function (d) {
        d.hidden = q !== "" && d.getAttribute("data-path").toLowerCase().indexOf(q) === -1;
      });
    });
    document.getElementById("expand").addEventListener("click", function () {
      docs.forEach(function (d) { d.open = true; });
    });
    document.getElementById("collapse").addEventListener("click", function () {
      docs.forEach(function (d) { d.open = false; });
    });
  }
  // Printing shows everything, also the groups a large report starts with closed.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
  function key(row, i, numeric) {
    var text = row.cells[i] ? row.cells[i].textContent.trim() : "";
    if (!numeric) return text.toLowerCase();
    var n = parseFloat(text.replace("\u2212", "-"));
    return isNaN(n) ? Infinity : n;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, i) {
      th.tabIndex = 0;
      th.classList.add("sort");
      function sort() {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var numeric = th.classList.contains("n");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a, i, numeric), y = key(b, i, numeric);
          var c = x === y ? 0 : (x > y ? 1 : -1);
          return ascending ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
      });
    });
  });
})();
