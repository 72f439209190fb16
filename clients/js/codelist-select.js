// <codelist-select>: a native <select> filled from one code list of the code-list service.
// Contract: api.md "Drop-down component". An ES module with no dependencies and no build step.

const SERVICE = new URL(import.meta.url).origin;
const STORE = 'codelist-select:';
// A code that can go into `include` as it is (api.md "Value representation").
const CODE = /^[^\s,/\p{Cc}]{1,64}$/u;
const HIDDEN = 'position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap';
let made = 0;

/** Text as the service's `q` compares it (app/domain/matching.py): NFKC, case folded with
 * the `da` locale (lower, upper, lower: ẞ and ß → ss; final ς → σ), NFKC again. */
export const fold = (text) =>
  String(text)
    .normalize('NFKC')
    .toLocaleLowerCase('da')
    .toLocaleUpperCase('da')
    .toLocaleLowerCase('da')
    .replace(/ς/g, 'σ')
    .normalize('NFKC');

// Per list, service and date: the request sent (with the codes it asked to include) and the
// one being gathered in this task, so every element of a page shares one request.
const sent = new Map();
const gathering = new Map();

function answer(service, list, at, code) {
  const key = JSON.stringify([service, list, at]);
  const done = sent.get(key);
  if (done && (!code || done.codes.has(code) || done.found?.has(code))) return done.promise;
  let batch = gathering.get(key);
  if (!batch) {
    // Everything asked before, plus what elements add until the microtask runs.
    batch = { codes: new Set(done?.codes) };
    batch.promise = new Promise((resolve) =>
      queueMicrotask(() => {
        gathering.delete(key);
        const entry = { codes: batch.codes };
        entry.promise = request(service, list, at, [...batch.codes].sort()).then((result) => {
          if (result.error) sent.delete(key); // the next element tries again
          else entry.found = new Set(result.data.options.map((o) => o.code));
          return result;
        });
        sent.set(key, entry);
        resolve(entry.promise);
      }),
    );
    gathering.set(key, batch);
  }
  if (code) batch.codes.add(code);
  return batch.promise;
}

// A plain GET: the browser's HTTP cache answers within max-age and revalidates after it.
async function request(service, list, at, codes) {
  const query = [];
  if (codes.length) query.push('include=' + codes.map(encodeURIComponent).join(','));
  if (at) query.push('at=' + encodeURIComponent(at));
  const url = new URL(
    `v1/codelists/${encodeURIComponent(list)}/options${query.length ? '?' + query.join('&') : ''}`,
    service,
  );
  const store = STORE + [service, list, at].join(' ');
  let reason;
  try {
    const response = await fetch(url);
    if (response.ok) {
      const data = await response.json();
      try {
        localStorage.setItem(store, JSON.stringify(data));
      } catch {
        // storage full or forbidden: no copy for outages, nothing else lost
      }
      return { data };
    }
    reason = `HTTP ${response.status}`;
    // The service answered: a last copy would hide a mistake (unknown list, bad date).
    if (response.status < 500) return { error: reason };
  } catch (error) {
    reason = error.message;
  }
  let copy = null;
  try {
    copy = JSON.parse(localStorage.getItem(store));
  } catch {
    // no storage: no copy
  }
  return copy?.options ? { data: copy, stale: true, reason } : { error: reason };
}

export class CodelistSelect extends HTMLElement {
  static formAssociated = true;
  static observedAttributes = ['list', 'at', 'service', 'value', 'required', 'disabled', 'placeholder', 'filter'];
  #internals = this.attachInternals();
  #value = null; // set by the user or a script; null: the `value` attribute (the stored value)
  #options = [];
  #turn = 0;
  #formDisabled = false;
  #select;
  #box;
  #live;

  get value() {
    return this.#value ?? this.getAttribute('value') ?? '';
  }
  set value(value) {
    this.#value = value == null ? '' : String(value);
    this.#update();
    if (this.#select) this.#load();
  }
  get name() {
    return this.getAttribute('name') ?? '';
  }
  set name(name) {
    this.setAttribute('name', name);
  }
  get disabled() {
    return this.hasAttribute('disabled');
  }
  set disabled(on) {
    this.toggleAttribute('disabled', !!on);
  }
  get required() {
    return this.hasAttribute('required');
  }
  set required(on) {
    this.toggleAttribute('required', !!on);
  }
  get type() {
    return 'select-one';
  }
  get select() {
    return this.#select;
  }
  get form() {
    return this.#internals.form;
  }
  get labels() {
    return this.#internals.labels;
  }
  get validity() {
    return this.#internals.validity;
  }
  get validationMessage() {
    return this.#internals.validationMessage;
  }
  get willValidate() {
    return this.#internals.willValidate;
  }
  checkValidity() {
    return this.#internals.checkValidity();
  }
  reportValidity() {
    return this.#internals.reportValidity();
  }
  focus(options) {
    this.#select?.focus(options);
  }

  connectedCallback() {
    if (!this.#select) this.#build();
    this.#update();
    this.#load();
  }

  attributeChangedCallback(name, before, after) {
    if (!this.#select || before === after) return;
    if (name === 'filter') this.#filterBox();
    this.#update();
    if (name === 'list' || name === 'at' || name === 'service' || name === 'value') this.#load();
  }

  formResetCallback() {
    this.#value = null;
    if (this.#box) this.#box.value = '';
    this.#update();
  }
  formDisabledCallback(disabled) {
    this.#formDisabled = disabled;
    this.#update();
  }
  formStateRestoreCallback(state) {
    this.value = state;
  }

  #build() {
    const id = this.id || `codelist-select-${++made}`;
    // A <select> given as a child (design-system markup) is used as it is.
    this.#select = this.querySelector('select') || this.appendChild(document.createElement('select'));
    this.#select.id ||= `${id}-select`;
    this.#live = this.appendChild(document.createElement('span'));
    this.#live.id = `${id}-status`;
    this.#live.setAttribute('role', 'status');
    this.#live.setAttribute('aria-live', 'polite');
    this.#live.style.cssText = HIDDEN;
    // The events of the inner controls are the element's own: re-sent with it as target.
    const relay = (event) => {
      if (event.target === this) return;
      event.stopPropagation();
      if (event.target === this.#box) {
        if (event.type === 'input') this.#update(true);
      } else if (event.target === this.#select) {
        this.#value = this.#select.value;
        this.#sync();
        this.dispatchEvent(new Event(event.type, { bubbles: true, composed: event.type === 'input' }));
      }
    };
    this.addEventListener('change', relay);
    this.addEventListener('input', relay);
    // A label's click lands on this element, which cannot take focus itself.
    this.addEventListener('click', (event) => event.target === this && this.#select.focus());
    this.#filterBox();
  }

  #filterBox() {
    if (this.hasAttribute('filter') && !this.#box) {
      const box = (this.#box = document.createElement('input'));
      box.type = 'search';
      box.autocomplete = 'off';
      box.placeholder = 'Søg';
      box.setAttribute('aria-controls', this.#select.id);
      box.addEventListener('keydown', (event) => event.key === 'ArrowDown' && this.#select.focus());
      this.#select.before(box);
    } else if (!this.hasAttribute('filter') && this.#box) {
      this.#box.remove();
      this.#box = null;
    }
  }

  async #load() {
    const turn = ++this.#turn;
    const list = this.getAttribute('list');
    const service = new URL(this.getAttribute('service') || SERVICE, document.baseURI).href;
    const value = this.value;
    this.#select.setAttribute('aria-busy', 'true'); // until this load's options are shown
    const result = list
      ? await answer(service.endsWith('/') ? service : service + '/', list, this.getAttribute('at') || '', CODE.test(value) ? value : '')
      : { error: 'no list attribute' };
    if (turn !== this.#turn) return; // a later load (new list, date or value) is under way
    this.#options = result.data?.options ?? [];
    this.toggleAttribute('stale', !!result.stale);
    this.toggleAttribute('error', !!result.error);
    this.#update();
    this.#select.removeAttribute('aria-busy');
    const text = result.error
      ? `Fejl: listen kunne ikke hentes (${result.error}). Den gemte værdi ${value || ''} er bevaret.`
      : result.stale
        ? 'Tjenesten svarer ikke: listen vises fra en gemt kopi og kan være forældet.'
        : '';
    this.#say(text, !!result.error);
    if (result.error) this.dispatchEvent(new CustomEvent('error', { detail: { message: result.error } }));
  }

  #say(text, alert) {
    this.#live.setAttribute('role', alert ? 'alert' : 'status');
    this.#live.textContent = text;
    if (text) this.#select.setAttribute('aria-describedby', this.#live.id);
    else this.#select.removeAttribute('aria-describedby');
  }

  // Options in the service's order; a stored value outside them stays, selected.
  #update(filtering) {
    const select = this.#select;
    if (!select) return;
    const value = this.value;
    const stored = this.getAttribute('value') ?? '';
    const needle = this.#box ? fold(this.#box.value.trim()) : '';
    const options = [new Option(this.getAttribute('placeholder') ?? '', '', !stored, !value)];
    const kept = new Set([value, stored]);
    let shown = 0;
    for (const { code, name, selectable } of this.#options) {
      const mine = kept.has(code);
      kept.delete(code);
      if (!selectable && !mine) continue;
      if (needle && !mine && !fold(code).includes(needle) && !fold(name).includes(needle)) continue;
      const option = new Option(selectable ? name : `${name} (udgået)`, code, code === stored, code === value);
      option.disabled = !selectable;
      options.push(option);
      shown += selectable;
    }
    for (const code of kept) if (code) options.push(new Option(code, code, code === stored, code === value));
    select.replaceChildren(...options);
    select.disabled = this.hasAttribute('disabled') || this.#formDisabled;
    select.setAttribute('aria-required', this.hasAttribute('required'));
    const labels = [...this.#internals.labels];
    labels.forEach((label, i) => (label.id ||= `${select.id}-label${i || ''}`));
    if (labels.length) select.setAttribute('aria-labelledby', labels.map((l) => l.id).join(' '));
    else if (this.hasAttribute('aria-label')) select.setAttribute('aria-label', this.getAttribute('aria-label'));
    if (this.#box) {
      this.#box.disabled = select.disabled;
      this.#box.setAttribute('aria-label', `Søg i ${labels.map((l) => l.textContent.trim()).join(' ') || 'listen'}`);
    }
    if (filtering) this.#say(`${shown} valgmuligheder`);
    this.#sync();
  }

  // The form value and its validity (api.md: `required` validity).
  #sync() {
    const value = this.value;
    this.#internals.setFormValue(value);
    const missing = this.hasAttribute('required') && !value;
    this.#internals.setValidity({ valueMissing: missing }, missing ? 'Vælg en værdi på listen.' : '', this.#select);
  }
}

if (!customElements.get('codelist-select')) customElements.define('codelist-select', CodelistSelect);
