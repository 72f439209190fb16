// The demo page of <codelist-select> (GET /components/): the date field sets `at` on every
// element; submitting shows the form's values instead of sending them. A file of its own, not
// an inline script: the page's Content-Security-Policy allows scripts from this origin only.
const form = document.getElementById('demo');
const elements = () => form.querySelectorAll('codelist-select');
const date = document.getElementById('at');
const evaluate = () => {
  for (const element of elements()) {
    if (date.value) element.setAttribute('at', date.value);
    else element.removeAttribute('at');
  }
};
date.addEventListener('input', evaluate);
date.addEventListener('change', evaluate);
form.addEventListener('reset', () => {
  for (const element of elements()) element.removeAttribute('at');
});
form.addEventListener('submit', (event) => {
  event.preventDefault();
  const lines = [...new FormData(form)].map(([name, value]) => `${name} = ${value}`);
  document.getElementById('values').textContent = lines.join('\n') || '(tom)';
});
