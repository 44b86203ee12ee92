import { describe, expect, it } from 'vitest';
import { redactedUrl } from '../../src/observability/request-log.js';

describe('redactedUrl', () => {
  it.each([
    ['/events?after=0&subject=/person/1', '/events?after=0&subject=[redacted]'],
    ['/events?alternativesubject=%2Fperson%2F1&after=0', '/events?alternativesubject=[redacted]&after=0'],
    ['/events?AlternativeSubject=x', '/events?AlternativeSubject=[redacted]'],
    ['/events?%73ubject=x&type=a', '/events?%73ubject=[redacted]&type=a'],
    ['/events?subject', '/events?subject=[redacted]'],
    ['/events?subject=a&subject=b', '/events?subject=[redacted]&subject=[redacted]'],
  ])('hides the subject in %s', (url, logged) => {
    expect(redactedUrl(url)).toBe(logged);
  });

  it.each(['/events', '/events?after=0&resource=urn:x&type=a', '/events?subjects=x', '/events?%ZZ=1', '/events?'])(
    'leaves %s as it is',
    (url) => {
      expect(redactedUrl(url)).toBe(url);
    },
  );
});
