// Client-side filter of the LEA tables (book/leas/index.md and each county page): the box is hidden until
// this script shows it; every word typed must appear in a row (name, CDS code, type, county).
document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("input.caaspp-lea-filter")) {
    const table = document.getElementById(input.dataset.table);
    if (!table || !table.tBodies.length) continue;
    const rows = Array.from(table.tBodies[0].rows);
    const texts = rows.map((row) => row.textContent.toLowerCase());
    input.hidden = false;
    input.addEventListener("input", () => {
      const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      rows.forEach((row, i) => { row.hidden = !words.every((w) => texts[i].includes(w)); });
    });
  }
});
