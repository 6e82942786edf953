import { describe, expect, it } from 'vitest';
import { matchesLabelSelector } from './selectors.js';

describe('matchesLabelSelector (Kubernetes semantics)', () => {
  const labels = { app: 'web', tier: 'frontend' };
  const cases: [string, Parameters<typeof matchesLabelSelector>[0], boolean][] = [
    ['an absent selector matches everything', undefined, true],
    ['an empty selector matches everything', {}, true],
    ['matchLabels must all match', { matchLabels: { app: 'web', tier: 'frontend' } }, true],
    ['one differing label fails', { matchLabels: { app: 'web', tier: 'backend' } }, false],
    [
      'In matches a listed value',
      { matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend', 'x'] }] },
      true,
    ],
    [
      'In fails without the key',
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
      false,
    ],
    [
      'NotIn matches without the key',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      true,
    ],
    [
      'NotIn fails on a listed value',
      { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] },
      false,
    ],
    ['Exists', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    [
      'labels and expressions are ANDed',
      { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] },
      false,
    ],
  ];
  for (const [name, selector, want] of cases) {
    it(name, () => expect(matchesLabelSelector(selector, labels)).toBe(want));
  }
});
