import { useEffect, useState } from 'preact/hooks';
import { type ApiError, localProblem } from '../api.js';
import { discover, type Identity } from '../identity.js';
import { useNotices } from '../notices.js';
import { session } from '../session.js';
import { Field, PageHeading } from '../ui.js';

/** Sign-in with a token; `ended` is the 401 that signed the person out, if one did. */
export function SignInPage(props: { ended?: ApiError | undefined; onSignedIn: (identity: Identity) => void }) {
  const { fail, say } = useNotices();
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (props.ended) fail(props.ended);
  }, [props.ended, fail]);

  const submit = async (event: Event) => {
    event.preventDefault();
    const given = token.trim();
    if (!given) return fail(localProblem('No token.', 'Paste a token, such as one from npx herald token.'));
    setBusy(true);
    session.signIn(given);
    say('Signing in…');
    try {
      props.onSignedIn(await discover());
    } catch (error) {
      session.signOut();
      fail(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="sign-in">
      <PageHeading>Sign in to Herald</PageHeading>
      <p>
        Paste a token for Herald&apos;s API. It stays in this tab only and is forgotten when the tab closes. What
        the token may do in the API is what it may do here.
      </p>
      <form onSubmit={submit}>
        <Field label="Token" type="password" value={token} onInput={setToken} required autoComplete="off" />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </section>
  );
}
