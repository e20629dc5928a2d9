import { createHash } from 'node:crypto';

// The incident page's only script: plain browser JavaScript, inline, no framework, no build step. The page is whole
// without it (server-rendered); it does two things the HTML cannot:
// 1. Approve: the form POSTs {digest} with the bearer token typed into it. The token lives in the password field
//    only: it is sent once, then the field is emptied; it is never written to storage, a cookie or the URL.
// 2. Follow progress: while the incident is acting or validating (or just after an approval), it polls the
//    incident's JSON about once a second and updates the status, the Failed launcher count, each step's bar and
//    outcome counts and the newest actions, all with textContent (nothing from the JSON is parsed as HTML). When
//    the incident leaves acting/validating it reloads once, so every section is server-rendered again.
// It reads its settings from data-* attributes of the [data-incident] element. The count and the progress rules
// repeat failedLaunchersNow and stepProgressOf of incident-view.ts: keep them in step.
export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var root = document.querySelector('[data-incident]');
  if (!root) return;
  var LIVE = ['acting', 'validating'];
  var api = root.getAttribute('data-api');
  var pollMs = Number(root.getAttribute('data-poll-ms')) || 1000;
  var recentLimit = Number(root.getAttribute('data-recent-limit')) || 50;
  var initialStatus = root.getAttribute('data-status');
  var sawLive = LIVE.indexOf(initialStatus) >= 0;
  var approvedAt = 0;
  var timer = null;
  var lastState = '';
  var quietPolls = 0;

  function field(name) { return document.querySelector('[data-field="' + name + '"]'); }
  function setText(node, text) { if (node) node.textContent = text; }

  function failedNow(incident) {
    var d = incident.diagnosis;
    if (!d) return null;
    var since = Date.parse(d.generatedAt);
    var removed = 0;
    (incident.actions || []).forEach(function (a) {
      if (a.action === 'clean' && (a.outcome === 'done' || a.outcome === 'gone') && !(Date.parse(a.time) < since)) removed++;
    });
    return { now: Math.max(0, d.failedLaunchers - removed), removed: removed };
  }

  function stepProgress(incident, id, total) {
    var live = incident.progress && incident.progress[id];
    if (live) return live;
    var keys = {};
    var settled = 0;
    (incident.actions || []).forEach(function (a) {
      var key = [a.kind, a.namespace, a.name, a.uid].join('\\u0000');
      if (a.step === id && !keys[key]) { keys[key] = true; settled++; }
    });
    return { settled: settled, total: total };
  }

  function outcomes(incident, id) {
    var counts = {};
    (incident.actions || []).forEach(function (a) {
      if (a.step === id) counts[a.outcome] = (counts[a.outcome] || 0) + 1;
    });
    return Object.keys(counts).map(function (k) { return k + ' ' + counts[k]; }).join(', ') || 'none yet';
  }

  function cell(row, text, className) {
    var td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
  }

  function renderActions(actions) {
    var body = document.querySelector('[data-field="recent-actions"]');
    if (!body) return;
    var recent = actions.slice(Math.max(0, actions.length - recentLimit)).reverse();
    var rows = recent.map(function (a) {
      var row = document.createElement('tr');
      cell(row, a.time, 'nowrap');
      cell(row, a.step);
      cell(row, a.kind + ' ' + (a.namespace ? a.namespace + '/' : '') + a.name);
      cell(row, a.outcome, 'outcome outcome-' + a.outcome);
      cell(row, a.detail || '');
      return row;
    });
    body.replaceChildren.apply(body, rows);
    setText(field('actions-total'), String(actions.length));
  }

  function render(incident) {
    var status = field('status');
    if (status) { status.textContent = incident.status; status.className = 'status status-' + incident.status; }
    var failed = failedNow(incident);
    if (failed) { setText(field('failed-now'), String(failed.now)); setText(field('failed-removed'), String(failed.removed)); }
    document.querySelectorAll('[data-step]').forEach(function (row) {
      var id = row.getAttribute('data-step');
      var p = stepProgress(incident, id, Number(row.getAttribute('data-total')));
      var bar = row.querySelector('progress');
      if (bar) { bar.max = Math.max(1, p.total); bar.value = p.settled; }
      setText(row.querySelector('[data-field="settled"]'), p.settled + ' / ' + p.total);
      setText(row.querySelector('[data-field="outcomes"]'), outcomes(incident, id));
    });
    renderActions(incident.actions || []);
    if (LIVE.indexOf(incident.status) >= 0) {
      setText(field('progress-state'), 'Running (' + incident.status + '): followed live, last update ' + new Date().toLocaleTimeString() + '.');
    }
    if (incident.validation) setText(field('validation'), incident.validation.verdict + ': ' + incident.validation.reason);
  }

  // Once a second while things move; slower (up to 5 s) while nothing does, as when a finished run waits in
  // validating for Alertmanager's resolved notification: each poll carries the whole incident.
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, pollMs * Math.min(5, 1 + Math.floor(quietPolls / 10)));
  }

  function noteChange(incident) {
    var state = incident.status + ' ' + (incident.actions || []).length + ' ' + JSON.stringify(incident.progress || {});
    quietPolls = state === lastState ? quietPolls + 1 : 0;
    lastState = state;
  }

  function poll() {
    fetch(api, { headers: { accept: 'application/json' }, cache: 'no-store' })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (incident) {
        setText(field('live-note'), '');
        noteChange(incident);
        render(incident);
        if (LIVE.indexOf(incident.status) >= 0) { sawLive = true; schedule(); return; }
        // Out of acting/validating: reload once for the server-rendered page (audit, validation, approvals).
        // Just after an approval the service may take a moment to start: keep polling up to 30 s for it.
        var waiting = approvedAt > 0 && Date.now() - approvedAt < 30000;
        if (sawLive || incident.status !== initialStatus || (approvedAt > 0 && !waiting)) location.reload();
        else if (waiting) schedule();
      })
      .catch(function (error) {
        setText(field('live-note'), 'Could not refresh (' + error.message + '); retrying.');
        schedule();
      });
  }

  var form = document.querySelector('form[data-approve]');
  if (form) {
    form.hidden = false;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var input = form.querySelector('input[name="token"]');
      var button = form.querySelector('button');
      var message = form.querySelector('[data-field="approve-message"]');
      var token = input.value.trim();
      input.value = '';
      if (!token) { setText(message, 'Type or paste your approval token first.'); return; }
      button.disabled = true;
      setText(message, 'Approving…');
      fetch(form.getAttribute('data-approve'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
        body: JSON.stringify({ digest: form.getAttribute('data-digest') }),
      })
        .then(function (response) {
          return response.text().then(function (text) {
            var body = {};
            try { body = JSON.parse(text); } catch (ignored) { body = { message: text }; }
            return { status: response.status, ok: response.ok, body: body };
          });
        })
        .then(function (result) {
          if (result.ok) {
            form.setAttribute('data-state', 'approved');
            input.disabled = true;
            setText(message, 'Approved. Following progress…');
            approvedAt = Date.now();
            poll();
            return;
          }
          button.disabled = false;
          var why = (result.body && result.body.message) || '';
          if (result.status === 401) setText(message, 'Token rejected (401): check it and try again.');
          else if (result.status === 403) setText(message, 'Approval refused (403). ' + why);
          else if (result.status === 409) setText(message, 'Not approved (409): ' + why.replace(/\\.?\\s*$/, '.') + ' Reload to see the incident and its plan as they are now.');
          else setText(message, 'Approval failed (HTTP ' + result.status + '). ' + why);
        })
        .catch(function (error) {
          button.disabled = false;
          setText(message, 'Approval not sent: ' + error.message);
        });
    });
  }

  if (sawLive) schedule();
})();
`;

/** The CSP source that allows this script and no other: its hash, so the page needs no per-response nonce. */
export const PAGE_SCRIPT_SOURCE = `'sha256-${createHash('sha256').update(PAGE_SCRIPT).digest('base64')}'`;
