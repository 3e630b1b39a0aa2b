// Administrators' pages: a form marked `data-admin-api` is sent like app.js sends `data-api`
// forms, except that the fields named in `data-nulls` go as null when left empty (app.js
// leaves empty fields out, which to a PATCH means "unchanged"): so a policy's end date can be
// cleared to make it open-ended.
'use strict';

document.addEventListener('submit', async (event) => {
  const form = event.target;
  if (!form.matches('form[data-admin-api]')) return;
  event.preventDefault();
  const { api, formJson, showErrors, clearErrors, fillIn } = window.cancerAid;
  clearErrors(form);
  const body = formJson(form);
  for (const name of (form.dataset.nulls || '').split(/\s+/).filter(Boolean)) {
    if (!(name in body)) body[name] = null;
  }
  const buttons = form.querySelectorAll('button[type=submit], button:not([type])');
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const res = await api((form.dataset.method || 'POST').toUpperCase(), form.dataset.adminApi, body);
    if (!res.ok) {
      showErrors(form, res.data);
      return;
    }
    const then = form.dataset.then;
    if (then === 'reload') window.location.reload();
    else if (then) window.location.assign(fillIn(then, res.data));
  } catch (e) {
    showErrors(form, { error: { message: form.dataset.network || String(e) } });
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
});
