import { describe, expect, it } from 'vitest';
import { statusIn, subscriptionChangeAllowed, subscriptionStatusAfter } from '../../src/store/status-sql.js';

describe('Statuses as SQL, from the transition tables', () => {
  it('writes one status as an equality and several as a list', () => {
    expect(statusIn('s.status', ['active'])).toBe("s.status = 'active'");
    expect(statusIn('d.status', ['pending', 'failed'])).toBe("d.status IN ('pending', 'failed')");
  });

  it("guards a change with the statuses and kind it is allowed from, qualified by the statement's alias", () => {
    expect(subscriptionChangeAllowed('validated', 's')).toBe("((s.endpoint IS NOT NULL AND s.status IN ('pending', 'active')))");
    expect(subscriptionChangeAllowed('unreadTooLong')).toBe("((endpoint IS NULL AND status = 'active'))");
  });

  it('sets the status each row leads to, leaves the others, and writes a change that leads everywhere to one status as it', () => {
    expect(subscriptionStatusAfter('unreadTooLong')).toBe("CASE WHEN endpoint IS NULL AND status = 'active' THEN 'inactive' ELSE status END");
    expect(subscriptionStatusAfter('disabledByOperator')).toBe("'disabled'");
  });
});
