// Clicking a coloured cell opens its detail row below the case; the filter
// hides cases every implementation passes. Without JS, <noscript> shows every
// detail row instead, so nothing is lost. Embedded into the page at build time.
(function () {
  function toggle(cell) {
    var row = document.getElementById(cell.getAttribute('data-d'));
    if (!row) return;
    row.hidden = !row.hidden;
    cell.classList.toggle('open', !row.hidden);
    cell.setAttribute('aria-expanded', String(!row.hidden));
  }
  document.addEventListener('click', function (e) {
    var cell = e.target.closest('td[data-d]');
    if (cell) toggle(cell);
  });
  document.addEventListener('keydown', function (e) {
    var cell = e.target.closest && e.target.closest('td[data-d]');
    if (cell && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); toggle(cell); }
  });
  var only = document.getElementById('only-bad');
  if (only) only.addEventListener('change', function () {
    document.querySelector('table.matrix').classList.toggle('only-bad', only.checked);
  });
})();
