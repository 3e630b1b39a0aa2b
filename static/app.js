// The pages' little JavaScript. Pages are plain server-rendered HTML; a form marked
// `data-api="/api/v1/..."` is sent to the JSON API instead of reloading the page, so the page
// keeps what was typed and the API's own checks and messages are the only ones. On refusal
// each message appears next to its field; on success the page goes where `data-then` says.
// A form with `data-multipart` is sent as multipart form data (a file upload).
//
//   <form data-api="/api/v1/cases" data-method="POST" data-then="/cases/{id}">
//     <input name="year" data-json="int">            number in the JSON body
//     <input type="checkbox" name="roles" value="x" data-json="array">   array of the checked
//     <input type="checkbox" name="active" data-json="bool">              true / false
//     <p class="form-error" role="alert" hidden></p>
//   </form>
//
// Empty fields are left out of the body. `data-then` may name fields of the answer in braces
// (`{id}`, `{visit.id}`); `data-then="reload"` reloads. Without `data-then` the form fires an
// `api:done` event with the answer as its detail, for pages that do more.
'use strict';

const pageLang = document.documentElement.lang || 'zh-CN';

/** Calls the API with the session cookie; resolves to {ok, status, data}. */
async function api(method, url, body) {
  const headers = { Accept: 'application/json', 'Accept-Language': pageLang };
  const opts = { method, headers, credentials: 'same-origin' };
  if (body instanceof FormData) {
    opts.body = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(url, opts);
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json() : null;
  return { ok: res.ok, status: res.status, data };
}

/** The form's fields as the JSON body the API expects. */
function formJson(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled || el.type === 'submit' || el.type === 'button') continue;
    const kind = el.dataset.json || 'string';
    if (kind === 'array') {
      out[el.name] = out[el.name] || [];
      if ((el.type !== 'checkbox' && el.type !== 'radio') || el.checked) {
        if (el.value.trim() !== '') out[el.name].push(el.value.trim());
      }
      continue;
    }
    if (kind === 'bool') {
      out[el.name] = el.checked;
      continue;
    }
    if ((el.type === 'checkbox' || el.type === 'radio') && !el.checked) continue;
    // A password is sent exactly as typed, as the login form sends it.
    const v = el.type === 'password' ? el.value : el.value.trim();
    if (v === '') continue;
    // A number the API reads as one; anything else goes as typed, for the API to refuse.
    out[el.name] = kind === 'int' && /^-?\d+$/.test(v) ? Number(v) : v;
  }
  return out;
}

function clearErrors(form) {
  form.querySelectorAll('.field-error').forEach((e) => e.remove());
  form.querySelectorAll('[aria-invalid]').forEach((e) => {
    e.removeAttribute('aria-invalid');
    e.removeAttribute('aria-describedby');
  });
  const box = form.querySelector('.form-error');
  if (box) {
    box.hidden = true;
    box.textContent = '';
  }
}

function fieldOf(form, name) {
  return form.querySelector(`[name="${CSS.escape(name)}"]`);
}

/** Shows the API's error envelope: the message on top, each detail next to its field. */
function showErrors(form, envelope) {
  const err = (envelope && envelope.error) || { message: form.dataset.failed || 'Error' };
  const box = form.querySelector('.form-error');
  const extra = [];
  let first = null;
  for (const d of err.details || []) {
    const el = fieldOf(form, d.field);
    if (!el) {
      extra.push(d.message);
      continue;
    }
    const p = document.createElement('p');
    p.className = 'field-error';
    p.id = `error-${form.id || 'form'}-${d.field}`;
    p.textContent = d.message;
    const host = el.closest('.field');
    if (host) host.appendChild(p);
    else el.insertAdjacentElement('afterend', p);
    el.setAttribute('aria-invalid', 'true');
    el.setAttribute('aria-describedby', p.id);
    first = first || el;
  }
  for (const r of err.reasons || []) extra.push(r.message);
  if (err.existing && err.existing.id) extra.push(`#${err.existing.id}`);
  if (box) {
    box.textContent = err.message;
    if (extra.length) {
      const ul = document.createElement('ul');
      for (const m of extra) {
        const li = document.createElement('li');
        li.textContent = m;
        ul.appendChild(li);
      }
      box.appendChild(ul);
    }
    box.hidden = false;
  }
  (first || box || form).focus();
}

/** `/cases/{id}` with the answer's fields filled in. */
function fillIn(template, data) {
  return template.replace(/\{([\w.]+)\}/g, (_, path) =>
    encodeURIComponent(path.split('.').reduce((v, k) => (v == null ? v : v[k]), data) ?? ''));
}

async function submitApiForm(event) {
  const form = event.target;
  if (!form.matches('form[data-api]')) return;
  event.preventDefault();
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
  clearErrors(form);
  const buttons = form.querySelectorAll('button[type=submit], button:not([type])');
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const method = (form.dataset.method || 'POST').toUpperCase();
    // `data-multipart`: the form goes as it is, files included (a bank's return file).
    const body = 'multipart' in form.dataset ? new FormData(form) : formJson(form);
    const res = await api(method, form.dataset.api, body);
    if (!res.ok) {
      showErrors(form, res.data);
      return;
    }
    const then = form.dataset.then;
    if (then === 'reload') window.location.reload();
    else if (then) window.location.assign(fillIn(then, res.data));
    else form.dispatchEvent(new CustomEvent('api:done', { detail: res.data, bubbles: true }));
  } catch (e) {
    showErrors(form, { error: { message: form.dataset.network || String(e) } });
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

document.addEventListener('submit', submitApiForm);

// A queue's "approve the selected" (`<button data-bulk="TABLE-ID">`): asked once, then each
// ticked row's own approve form is sent in turn; each row shows its outcome (approved, or the
// API's refusal in the row's own message), and the line beside the button counts them.
async function approveSelected(event) {
  const button = event.target.closest('button[data-bulk]');
  if (!button) return;
  const table = document.getElementById(button.dataset.bulk);
  const rows = [...table.querySelectorAll('tbody tr')].filter((tr) => tr.querySelector('input.pick:checked'));
  if (rows.length === 0 || !window.confirm(button.dataset.confirm)) return;
  button.disabled = true;
  let done = 0;
  for (const tr of rows) {
    const form = tr.querySelector('form.approve');
    if (!form) continue;
    clearErrors(form);
    try {
      const res = await api('POST', form.dataset.api, formJson(form));
      if (res.ok) {
        done += 1;
        tr.classList.add('decided');
        tr.querySelector('input.pick').disabled = true;
        tr.querySelectorAll('form').forEach((f) => { f.hidden = true; });
        const outcome = tr.querySelector('.outcome');
        if (outcome) outcome.hidden = false;
      } else {
        showErrors(form, res.data);
      }
    } catch (e) {
      showErrors(form, { error: { message: form.dataset.network || String(e) } });
    }
  }
  const status = document.getElementById(`${button.dataset.bulk}-status`);
  if (status) status.textContent = `${button.dataset.done} ${done} / ${rows.length}`;
  button.disabled = false;
}

document.addEventListener('click', approveSelected);
window.cancerAid = { api, formJson, showErrors, clearErrors, fillIn };
