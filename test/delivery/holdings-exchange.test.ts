import { expect, it } from 'vitest';
import { BudgetLedger } from '../../src/delivery/budget-ledger.js';
import { HoldingsExchange } from '../../src/delivery/holdings-exchange.js';
import { defaultBudgets } from '../../src/domain/delivery-budgets.js';
import type { DispatcherHoldings } from '../../src/store/dispatcher-holdings.js';

const keys = { consumerOf: () => 'alpha', originOf: () => 'https://a', pushSubscriptionsOf: () => [1], pushSubscriptionsAt: () => [1] };

it('forgets the holdings only after an exchange under way has written them', async () => {
  const calls: string[] = [];
  let answer: (others: Map<number, number>) => void = () => {};
  const holdings = {
    exchange: () => {
      calls.push('exchange');
      return new Promise<Map<number, number>>((resolve) => {
        answer = (others) => {
          calls.push('exchanged');
          resolve(others);
        };
      });
    },
    forget: async () => {
      calls.push('forget');
    },
  } as unknown as DispatcherHoldings;
  const exchange = new HoldingsExchange(holdings, new BudgetLedger(defaultBudgets, keys), 'me', () => ({ now: 0, until: 1 }), () => {});
  const heard = exchange.beforeLease();
  const stopped = exchange.stop();
  await new Promise((resolve) => setTimeout(resolve, 10));
  answer(new Map());
  await heard;
  await stopped;
  // Written after the forget, the holdings would count against the others until they expired.
  expect(calls).toEqual(['exchange', 'exchanged', 'forget']);
});
