// Sorts a board in the browser when a column heading is clicked; without scripts the
// heading's link asks the server for the same order. Cells carry their sort value in
// data-sort; empty values (a missing number) go last either way.
"use strict";

function sortBoard(table, heading) {
  const column = Array.from(heading.parentNode.children).indexOf(heading);
  const ascending = heading.getAttribute("aria-sort") !== "ascending";
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const value = (row) => row.cells[column].dataset.sort;
  const numeric = rows.every((row) => value(row) === "" || !isNaN(Number(value(row))));
  rows.sort((a, b) => {
    const x = value(a), y = value(b);
    if (x === "" || y === "") return (x === "") - (y === "");
    const order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
    return ascending ? order : -order;
  });
  body.append(...rows);
  for (const other of heading.parentNode.children) other.removeAttribute("aria-sort");
  heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
}

for (const table of document.querySelectorAll("table.sortable")) {
  for (const heading of table.tHead.rows[0].cells) {
    heading.querySelector("a").addEventListener("click", (event) => {
      event.preventDefault();
      sortBoard(table, heading);
    });
  }
}
