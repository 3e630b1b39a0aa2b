// The roster pages' JavaScript. The upload form is sent to the API with XMLHttpRequest, so the
// bytes sent fill a <progress>; then the import is polled about twice a second and the rows read
// and its status shown, until it has finished and the result page opens. A refused upload shows
// the API's message in the form, which keeps what was chosen. On the result page of an import
// that is still queued or running, the same polling follows it and reloads the page at the end.
'use strict';

(function () {
  const box = document.getElementById('import-progress');
  if (!box) return;
  const form = document.getElementById('roster-upload');
  const rowsBar = document.getElementById('rows-bar');
  const rowsText = document.getElementById('rows-text');
  const statusText = document.getElementById('status-text');
  const note = document.getElementById('poll-note');
  const POLL_MS = 500;

  const count = (n) => Number(n || 0).toLocaleString('en-US');
  const statusLabel = (s) => box.dataset['status' + s.charAt(0).toUpperCase() + s.slice(1)] || s;

  function showImport(view) {
    const p = view.progress || {};
    // A total only when the file declared one the rows have not outgrown (an .xlsx without
    // its size declares one row): otherwise the rows read alone, and a bar that moves.
    const known = p.rows_total > 0 && p.rows_done <= p.rows_total;
    if (known) {
      rowsBar.max = p.rows_total;
      rowsBar.value = p.rows_done;
      rowsText.textContent = `${count(p.rows_done)} / ${count(p.rows_total)}`;
    } else {
      rowsBar.removeAttribute('value');
      rowsText.textContent = `${count(p.rows_done)}${box.dataset.totalUnknown}`;
    }
    statusText.textContent = statusLabel(view.status);
  }

  /** Follows import `id` until it has finished, then opens `done`. */
  function follow(id, done) {
    let failures = 0;
    async function tick() {
      try {
        const res = await window.cancerAid.api('GET', `/api/v1/roster-imports/${id}`);
        if (!res.ok || !res.data) throw new Error(String(res.status));
        failures = 0;
        note.hidden = true;
        showImport(res.data);
        if (!['queued', 'running'].includes(res.data.status)) {
          window.location.assign(done);
          return;
        }
      } catch (e) {
        failures += 1;
        note.textContent = box.dataset.pollFailed;
        note.hidden = false;
      }
      // Slower while the server does not answer, never slower than every 5 s.
      setTimeout(tick, Math.min(POLL_MS * (1 + failures), 5000));
    }
    box.hidden = false;
    tick();
  }

  function upload(event) {
    event.preventDefault();
    const cancerAid = window.cancerAid;
    cancerAid.clearErrors(form);
    const data = new FormData(form);
    // Empty fields are left out, so the API's defaults apply, as for the other forms.
    for (const [k, v] of Array.from(data.entries())) {
      if (typeof v === 'string' && v.trim() === '') data.delete(k);
      else if (typeof v !== 'string' && v.name === '' && v.size === 0) data.delete(k);
    }
    const button = form.querySelector('button[type=submit]');
    const part = document.getElementById('upload-part');
    const bar = document.getElementById('upload-bar');
    const text = document.getElementById('upload-text');
    button.disabled = true;
    box.hidden = false;
    part.hidden = false;
    bar.value = 0;
    rowsBar.removeAttribute('value');
    rowsText.textContent = '';
    statusText.textContent = '';

    const refused = (envelope) => {
      button.disabled = false;
      box.hidden = true;
      cancerAid.showErrors(form, envelope);
    };
    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.dataset.upload);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Accept-Language', document.documentElement.lang || 'zh-CN');
    const mb = (n) => (n / 1048576).toFixed(1);
    xhr.upload.addEventListener('progress', (e) => {
      if (!e.lengthComputable) return;
      bar.max = e.total;
      bar.value = e.loaded;
      text.textContent = e.loaded >= e.total
        ? box.dataset.processing
        : `${Math.floor((100 * e.loaded) / e.total)}% · ${mb(e.loaded)} / ${mb(e.total)} MB`;
    });
    xhr.addEventListener('load', () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (e) {
        body = null;
      }
      if ((xhr.status === 200 || xhr.status === 202) && body && body.id) {
        bar.value = bar.max;
        // 200: the same file was imported before; its result is final already.
        follow(body.id, cancerAid.fillIn(form.dataset.then, body));
        return;
      }
      if (!body || !body.error) {
        const message = xhr.status === 413 ? form.dataset.tooLarge : form.dataset.failed;
        body = { error: { message: `${message} (HTTP ${xhr.status})` } };
      }
      refused(body);
    });
    xhr.addEventListener('error', () => refused({ error: { message: form.dataset.network } }));
    xhr.send(data);
  }

  if (form) form.addEventListener('submit', upload);
  else if (!box.hidden && box.dataset.id !== '0') {
    follow(box.dataset.id, window.location.pathname + window.location.search);
  }
})();
