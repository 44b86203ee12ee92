import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { useNotices } from './notices.js';

/**
 * The page's heading; it takes the focus when the page opens, so keyboard and screen-reader users start there,
 * and names the tab.
 */
export function PageHeading(props: { children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  useEffect(() => {
    document.title = `${heading.current?.textContent ?? ''} · Herald console`;
  });
  return (
    <h1 tabIndex={-1} ref={heading}>
      {props.children}
    </h1>
  );
}

/**
 * Loads what a page shows, again every `refreshMs` (quietly) and when `reload` is called; a failure goes to the
 * alert region. Superseded answers are dropped, so a slow old one never overwrites a newer one.
 */
export function useLoaded<T>(load: () => Promise<T>, deps: readonly unknown[], refreshMs?: number) {
  const { fail } = useNotices();
  const [value, setValue] = useState<T | undefined>();
  const generation = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const loaded = await load();
      if (mine === generation.current) setValue(loaded);
    } catch (error) {
      if (mine === generation.current) fail(error);
    }
  }, deps);
  useEffect(() => {
    void reload();
    if (!refreshMs) return undefined;
    const timer = setInterval(() => void reload(), refreshMs);
    return () => clearInterval(timer);
  }, [reload, refreshMs]);
  return { value, reload };
}

/** A time as the person's locale writes it, with seconds; the ISO form on hover and for machines. */
export function Time(props: { iso: string | undefined }) {
  if (!props.iso) return <span>—</span>;
  return <time dateTime={props.iso}>{new Date(props.iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' })}</time>;
}

export const dash = (value: string | number | undefined | null) => (value === undefined || value === null || value === '' ? '—' : String(value));

/** A field with its visible label. */
export function Field(props: {
  label: string;
  value: string;
  onInput: (value: string) => void;
  type?: 'text' | 'password' | 'url' | 'datetime-local';
  hint?: string;
  multiline?: boolean;
  required?: boolean;
  autoComplete?: string;
}) {
  const id = `field-${props.label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  const hintId = props.hint ? `${id}-hint` : undefined;
  const common = {
    id,
    value: props.value,
    required: props.required,
    'aria-describedby': hintId,
    onInput: (event: Event) => props.onInput((event.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.multiline ? (
        <textarea {...common} rows={6} spellcheck={false} />
      ) : (
        // Preact types each input type apart; these four take the same attributes.
        <input {...common} type={(props.type ?? 'text') as 'text'} autoComplete={props.autoComplete ?? 'off'} spellcheck={false} />
      )}
      {props.hint && (
        <small id={hintId} class="hint">
          {props.hint}
        </small>
      )}
    </div>
  );
}
