// Progressive enhancement only: every page works without this file.
(function () {
  // "Select all" checkbox of the Servers list.
  var all = document.querySelector('[data-select-all]');
  if (all) {
    all.addEventListener('change', function () {
      document.querySelectorAll('input[name=id]').forEach(function (box) { box.checked = all.checked; });
    });
  }
  // Table Settings: save as soon as a box is toggled.
  document.querySelectorAll('form[data-autosubmit] input[type=checkbox]').forEach(function (box) {
    box.addEventListener('change', function () { box.form.requestSubmit(); });
  });
  // Keep a disk pop-up inside the viewport when the table scrolls sideways.
  document.querySelectorAll('.disk').forEach(function (cell) {
    function place() {
      var tip = cell.querySelector('[role=tooltip]');
      if (!tip) return;
      tip.style.right = '0'; tip.style.left = 'auto';
      var r = tip.getBoundingClientRect();
      if (r.left < 8) { tip.style.right = 'auto'; tip.style.left = '0'; }
    }
    cell.addEventListener('mouseenter', place);
    cell.addEventListener('focus', place);
  });
})();
