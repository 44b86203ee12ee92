import { useCallback, useEffect, useState } from 'preact/hooks';
import { type ApiError, whenUnauthenticated } from './api.js';
import { discover, type Identity, IdentityContext } from './identity.js';
import { NoticeProvider, NoticeRegions } from './notices.js';
import { DeadLettersPage } from './pages/dead-letters.js';
import { DeliveryPage } from './pages/delivery.js';
import { EventsPage } from './pages/events.js';
import { FiltersPage } from './pages/filters.js';
import { OverviewPage } from './pages/overview.js';
import { SignInPage } from './pages/sign-in.js';
import { SubscriptionPage } from './pages/subscription.js';
import { SubscriptionsPage } from './pages/subscriptions.js';
import { go, useRoute } from './route.js';
import { session } from './session.js';

type State =
  | { readonly kind: 'signed-out'; readonly ended?: ApiError | undefined }
  | { readonly kind: 'checking' }
  | { readonly kind: 'signed-in'; readonly identity: Identity };

export function App() {
  const [state, setState] = useState<State>(() => (session.token() ? { kind: 'checking' } : { kind: 'signed-out' }));

  const signOut = useCallback((ended?: ApiError) => {
    session.signOut();
    setState({ kind: 'signed-out', ended });
  }, []);
  useEffect(() => whenUnauthenticated(signOut), [signOut]);

  // A reload keeps the tab's session: check the token again and find what this Herald offers.
  useEffect(() => {
    if (state.kind !== 'checking') return;
    discover().then(
      (identity) => setState({ kind: 'signed-in', identity }),
      (error: ApiError) => signOut(error),
    );
  }, [state.kind, signOut]);

  if (state.kind === 'checking') {
    return (
      <main>
        <p role="status">Checking the token…</p>
      </main>
    );
  }
  if (state.kind === 'signed-out') {
    return (
      <NoticeProvider>
        <main>
          <NoticeRegions />
          <SignInPage ended={state.ended} onSignedIn={(identity) => setState({ kind: 'signed-in', identity })} />
        </main>
      </NoticeProvider>
    );
  }
  return (
    <IdentityContext.Provider value={state.identity}>
      <NoticeProvider>
        <Layout identity={state.identity} onSignOut={() => signOut()} />
      </NoticeProvider>
    </IdentityContext.Provider>
  );
}

interface Link {
  readonly href: string;
  readonly label: string;
  readonly shown: boolean;
}

function Layout(props: { identity: Identity; onSignOut: () => void }) {
  const route = useRoute();
  const { me, features } = props.identity;
  const links: Link[] = [
    { href: '#/overview', label: 'Overview', shown: features.overview },
    { href: '#/subscriptions', label: 'Subscriptions', shown: true },
    { href: '#/dead-letters', label: 'Dead letters', shown: true },
    { href: '#/events', label: 'Events', shown: features.stream },
    { href: '#/filters', label: 'Filters', shown: features.evaluate },
  ];
  const home = features.overview ? '#/overview' : '#/subscriptions';
  const section = route[0];
  useEffect(() => {
    // An unknown or missing page (a feature this Herald lacks) goes to the first page.
    if (!links.some((link) => link.shown && link.href === `#/${section}`)) go(home);
  });
  return (
    <>
      <header class="top">
        <span class="brand">Herald console</span>
        {me && (
          <span class="who">
            {me.consumer}
            {me.operator && <span class="badge">operator</span>}
          </span>
        )}
        <button type="button" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Console">
        <ul>
          {links
            .filter((link) => link.shown)
            .map((link) => (
              <li key={link.href}>
                <a href={link.href} aria-current={`#/${section}` === link.href ? 'page' : undefined}>
                  {link.label}
                </a>
              </li>
            ))}
        </ul>
      </nav>
      <main>
        <NoticeRegions />
        <Page route={route} />
      </main>
    </>
  );
}

function Page({ route }: { route: string[] }) {
  const [section, id, sub, subId] = route;
  switch (section) {
    case 'overview':
      return <OverviewPage />;
    case 'subscriptions':
      if (id && sub === 'deliveries' && subId) return <DeliveryPage key={route.join('/')} subscriptionId={id} deliveryId={subId} />;
      if (id) return <SubscriptionPage key={id} id={id} />;
      return <SubscriptionsPage />;
    case 'dead-letters':
      return <DeadLettersPage />;
    case 'events':
      return <EventsPage />;
    case 'filters':
      return <FiltersPage />;
    default:
      return null;
  }
}
