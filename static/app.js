// Progressive enhancement only: every page works without this file.
(function () {
  'use strict';

  // The browser's time zone, for the first sign-in and the account page.
  var zone = '';
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { /* old browser */ }
  document.querySelectorAll('[data-browser-tz]').forEach(function (i) { i.value = zone; });
  document.querySelectorAll('[data-browser-tz-text]').forEach(function (s) { s.textContent = zone || 'unknown'; });

  // A refused form: focus goes to the first field in error, whose message
  // is tied to it (aria-describedby) and so read out.
  var invalid = document.querySelector('[aria-invalid=true]');
  if (invalid) invalid.focus();

  // "Select all" checkbox of the Servers list.
  function wireSelectAll() {
    var all = document.querySelector('[data-select-all]');
    if (!all) return;
    all.addEventListener('change', function () {
      document.querySelectorAll('input[name=id]').forEach(function (box) { box.checked = all.checked; });
    });
  }
  wireSelectAll();

  // Menus (<details class="menu">): one open at a time, closed by Esc or a
  // click elsewhere; Esc gives focus back to the menu's button.
  var menus = document.querySelectorAll('details.menu');
  menus.forEach(function (d) {
    d.addEventListener('toggle', function () {
      if (!d.open) return;
      menus.forEach(function (o) { if (o !== d) o.open = false; });
    });
  });
  document.addEventListener('click', function (ev) {
    menus.forEach(function (d) { if (d.open && !d.contains(ev.target)) d.open = false; });
  });

  // Pop-ups on hover and focus (disk, "+N more"): Esc hides the one showing
  // without moving the pointer or focus (WCAG 1.4.13); a tap toggles it.
  var popups = '.disk, .more';
  document.addEventListener('keydown', function (ev) {
    if (ev.key !== 'Escape') return;
    var closed = false;
    document.querySelectorAll(popups).forEach(function (p) {
      if (p.matches(':hover') || p.contains(document.activeElement) || p.classList.contains('open')) {
        p.classList.add('closed'); p.classList.remove('open'); closed = true;
      }
    });
    menus.forEach(function (d) {
      if (d.open) { d.open = false; d.querySelector('summary').focus(); closed = true; }
    });
    if (closed) ev.preventDefault();
  });
  function reopen(ev) { var p = ev.target.closest && ev.target.closest(popups); if (p) p.classList.remove('closed'); }
  document.addEventListener('mouseover', reopen);
  document.addEventListener('focusin', reopen);
  document.addEventListener('click', function (ev) {
    var p = ev.target.closest(popups);
    document.querySelectorAll(popups).forEach(function (o) { if (o !== p) o.classList.remove('open'); });
    if (p && !ev.target.closest('a')) { p.classList.remove('closed'); p.classList.toggle('open'); }
  });

  // Keep a disk pop-up inside the viewport when the table scrolls sideways.
  document.addEventListener('mouseover', function (ev) {
    var cell = ev.target.closest && ev.target.closest('.disk');
    if (!cell) return;
    var tip = cell.querySelector('[role=tooltip]');
    if (!tip) return;
    tip.style.right = '0'; tip.style.left = 'auto';
    if (tip.getBoundingClientRect().left < 8) { tip.style.right = 'auto'; tip.style.left = '0'; }
  });

  // Filters changed but not applied: say so, and refuse a bulk action on
  // "all matching" until they are applied, so it never acts on a set other
  // than the one the list shows.
  var filters = document.getElementById('filters');
  var dirty = false;
  if (filters) {
    var mark = function () {
      dirty = true;
      var note = filters.querySelector('.dirty');
      if (note) note.hidden = false;
    };
    filters.addEventListener('input', mark);
    filters.addEventListener('change', mark);
  }
  var bulk = document.getElementById('bulk');
  if (bulk) {
    bulk.addEventListener('submit', function (ev) {
      var scope = bulk.querySelector('[name=scope]').value;
      if (dirty && scope !== 'checked') {
        ev.preventDefault();
        var note = bulk.querySelector('.bulk-note');
        note.textContent = 'The filters have changes that are not applied, so the list does not show what this action would act on. ' +
          'Press Apply first (or reload the page to drop the changes).';
        note.hidden = false;
      }
    });
  }

  // Table Settings: a ticked box is saved at once and the table redrawn in
  // place; focus stays on the box.
  document.querySelectorAll('form[data-columns]').forEach(function (form) {
    form.querySelectorAll('.noscript-only').forEach(function (e) { e.hidden = true; });
    var status = form.querySelector('.saved');
    form.addEventListener('change', function () {
      var body = new URLSearchParams(new FormData(form));
      fetch(form.action, { method: 'POST', body: body, headers: { 'X-Requested-With': 'fetch' }, credentials: 'same-origin' })
        .then(function (r) {
          if (!r.ok) throw new Error('not saved');
          return fetch(location.href, { credentials: 'same-origin' });
        })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, 'text/html');
          var fresh = doc.getElementById('results'), here = document.getElementById('results');
          if (fresh && here) { here.innerHTML = fresh.innerHTML; wireSelectAll(); }
          if (status) status.textContent = 'Columns saved.';
        })
        .catch(function () { if (status) status.textContent = 'The columns could not be saved; try again.'; });
    });
  });
})();
