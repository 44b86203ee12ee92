import { createContext, type ComponentChildren } from 'preact';
import { useContext, useMemo, useState } from 'preact/hooks';
import { ApiError } from './api.js';

/** What pages tell the person: a status (polite) or a problem (assertive), each in its own live region. */
export interface Notices {
  readonly say: (message: string) => void;
  readonly fail: (error: unknown) => void;
  readonly clear: () => void;
}

interface Notice {
  readonly status?: string;
  readonly title?: string;
  readonly detail?: string | undefined;
  /** The page it was said on: another page does not show it. */
  readonly hash: string;
}

const NoticeContext = createContext<Notices>({ say: () => {}, fail: () => {}, clear: () => {} });
const ShownContext = createContext<Notice | undefined>(undefined);
export const useNotices = () => useContext(NoticeContext);

function problemOf(error: unknown): { title: string; detail?: string | undefined } {
  if (error instanceof ApiError) return { title: error.title, detail: error.detail };
  if (error instanceof Error) return { title: 'Something went wrong.', detail: error.message };
  return { title: 'Something went wrong.', detail: String(error) };
}

/** Holds the one notice shown; said after a navigation (`go(…)` then `say(…)`), it belongs to the new page. */
export function NoticeProvider(props: { children: ComponentChildren }) {
  const [notice, setNotice] = useState<Notice | undefined>();
  const notices = useMemo<Notices>(
    () => ({
      say: (status) => setNotice({ status, hash: location.hash }),
      fail: (error) => setNotice({ ...problemOf(error), hash: location.hash }),
      clear: () => setNotice(undefined),
    }),
    [],
  );
  return (
    <NoticeContext.Provider value={notices}>
      <ShownContext.Provider value={notice}>{props.children}</ShownContext.Provider>
    </NoticeContext.Provider>
  );
}

/**
 * The two live regions, always in the page (a region added together with its text is often not read out):
 * statuses politely, the API's problems (title and detail) as alerts.
 */
export function NoticeRegions() {
  const shown = useContext(ShownContext);
  const notice = shown && shown.hash === location.hash ? shown : undefined;
  return (
    <div class="notices">
      <p role="status" class={notice?.status ? 'status' : 'empty'}>
        {notice?.status}
      </p>
      <div role="alert" class={notice?.title ? 'problem' : 'empty'}>
        {notice?.title && (
          <>
            <strong>{notice.title}</strong>
            {notice.detail && <span> {notice.detail}</span>}
          </>
        )}
      </div>
    </div>
  );
}
