// Type declarations for codelist-select.js (api.md "Drop-down component").

/** One option of `GET /v1/codelists/{list}/options`, in the service's order. */
export interface CodelistOption {
  code: string;
  name: string;
  selectable: boolean;
}

/** The `detail` of the element's `error` event. */
export interface CodelistSelectErrorDetail {
  /** Why the list could not be had, e.g. "HTTP 404" or the network error's message. */
  message: string;
}

/** Text folded as the service's `q` folds it: NFKC, case folding with the `da` locale. */
export declare function fold(text: string): string;

/**
 * `<codelist-select list="fravaer" name="absence" value="59">`: a native `<select>` in light
 * DOM, taking part in forms like one (ElementInternals).
 *
 * Attributes: `list` (required), `value` (the stored value), `name`, `at` (YYYY-MM-DD),
 * `service` (base URL; default the origin the module was loaded from), `required`,
 * `disabled`, `placeholder`, `filter`. Set by the element: `stale` (options from the last
 * copy kept in localStorage), `error` (no options at all).
 */
export declare class CodelistSelect extends HTMLElement {
  static readonly formAssociated: true;
  static readonly observedAttributes: string[];
  /** The current value: the stored value until the user or a script changes it. */
  value: string;
  name: string;
  disabled: boolean;
  required: boolean;
  readonly type: "select-one";
  /** The native `<select>` the element renders (or adopted from its children). */
  readonly select: HTMLSelectElement;
  readonly form: HTMLFormElement | null;
  readonly labels: NodeListOf<HTMLLabelElement>;
  readonly validity: ValidityState;
  readonly validationMessage: string;
  readonly willValidate: boolean;
  checkValidity(): boolean;
  reportValidity(): boolean;
  focus(options?: FocusOptions): void;
  formResetCallback(): void;
  formDisabledCallback(disabled: boolean): void;
  formStateRestoreCallback(state: string): void;
  addEventListener<K extends keyof CodelistSelectEventMap>(
    type: K,
    listener: (this: CodelistSelect, event: CodelistSelectEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
}

export interface CodelistSelectEventMap extends Omit<HTMLElementEventMap, "error"> {
  change: Event;
  input: Event;
  error: CustomEvent<CodelistSelectErrorDetail>;
}

declare global {
  interface HTMLElementTagNameMap {
    "codelist-select": CodelistSelect;
  }
}
