// The token lives in this tab's sessionStorage only: never in a URL, never in localStorage (it would outlive
// the tab and be shared by every tab of the origin).
const key = 'herald.token';

export const session = {
  token: (): string | null => sessionStorage.getItem(key),
  signIn: (token: string) => sessionStorage.setItem(key, token),
  signOut: () => sessionStorage.removeItem(key),
};
