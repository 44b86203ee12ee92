/** One reason a request was refused, naming the attribute or parameter at fault. */
export interface FieldError {
  /** The attribute, header or query parameter, e.g. `resource`, `[2].time`, `ce-source`, `after`. */
  readonly field: string;
  readonly message: string;
}

/** The outcome of parsing untrusted input: the value, or every reason it was refused. */
export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errors: FieldError[] };

export function accepted<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function refused<T>(field: string, message: string): Parsed<T> {
  return { ok: false, errors: [{ field, message }] };
}
