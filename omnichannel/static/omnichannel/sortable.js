// Sort a table[data-sortable] by a column when its header button is pressed (again: the other way).
// Cells carry their raw value in data-sort; numeric columns compare as numbers, empty ones sort last.
(function () {
  function key(cell, numeric) {
    const raw = cell ? cell.dataset.sort : "";
    if (!numeric) return raw || "";
    return raw === "" || raw === undefined ? null : parseFloat(raw);
  }
  function sortBy(table, index, numeric, th) {
    const ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("thead th").forEach((h) => h.setAttribute("aria-sort", "none"));
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort((a, b) => {
      const x = key(a.cells[index], numeric), y = key(b.cells[index], numeric);
      if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
      const order = numeric ? x - y : String(x).localeCompare(String(y));
      return ascending ? order : -order;
    });
    rows.forEach((row) => body.appendChild(row));
  }
  function enhance(table) {
    table.querySelectorAll("thead th").forEach((th, index) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = th.textContent;
      button.title = "Sort by " + th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", () => sortBy(table, index, th.hasAttribute("data-numeric"), th));
    });
  }
  document.addEventListener("DOMContentLoaded", () => document.querySelectorAll("table[data-sortable]").forEach(enhance));
})();
