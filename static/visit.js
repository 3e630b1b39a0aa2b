// The visit form: show the date fields of the chosen kind, and the subsidy before saving it.
// The preview asks the API, which runs the very plan (checks and computation) saving runs, in a
// read transaction that writes nothing.
'use strict';

(function () {
  const form = document.getElementById('visit-form');
  if (!form) return;
  const { api, formJson, showErrors, clearErrors } = window.cancerAid;
  const box = document.getElementById('preview');

  function showKind() {
    const kind = form.querySelector('input[name=kind]:checked').value;
    form.querySelectorAll('[data-kind]').forEach((div) => {
      const on = div.dataset.kind === kind;
      div.hidden = !on;
      // A hidden field is disabled, so it is left out of the body.
      div.querySelectorAll('input').forEach((i) => { i.disabled = !on; });
    });
  }
  form.querySelectorAll('input[name=kind]').forEach((r) => r.addEventListener('change', showKind));
  showKind();

  function value(data, path) {
    return path.split('.').reduce((v, k) => (v == null ? v : v[k]), data);
  }

  function money(text) {
    if (text == null) return '';
    const [int, frac] = String(text).split('.');
    return `${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${(frac || '').padEnd(2, '0')}`;
  }

  async function preview() {
    clearErrors(form);
    const res = await api('POST', form.dataset.preview, formJson(form));
    if (!res.ok) {
      box.hidden = true;
      showErrors(form, res.data);
      return;
    }
    box.querySelectorAll('[data-out]').forEach((el) => {
      const v = value(res.data, el.dataset.out);
      if (el.dataset.out === 'cap_reason_label') el.textContent = v ? `(${v})` : '';
      else if (el.dataset.out === 'policy.group') el.textContent = `#${res.data.policy.id} ${v}`;
      else el.textContent = money(v);
    });
    box.hidden = false;
  }

  // A preview is of the amounts shown: any change hides it until it is computed again.
  form.addEventListener('input', () => { box.hidden = true; });

  document.getElementById('preview-button').addEventListener('click', () => {
    preview().catch((e) => showErrors(form, { error: { message: form.dataset.network || String(e) } }));
  });
}());
