import { describe, expect, it } from 'vitest';
import { checksumItems, checksumOfItemJsons, itemJson, sortItems, type Item } from './index.js';

function item(i: number): Item {
  return {
    targetNamespace: `ns-${i % 3}`,
    targetName: 't',
    namespace: `ns-${i % 3}`,
    name: `n-${i}`,
    group: i % 2 ? 'apps' : '',
    version: 'v1',
    kind: 'Deployment',
    uid: `uid-${i}`,
    attributes: { image: 'x'.repeat(i % 200), n: i, nested: { '<b>': [i, null, true] } },
  };
}

describe('checksumOfItemJsons', () => {
  it('equals checksumItems for the same items, across hashing chunk boundaries', () => {
    for (const n of [0, 1, 2, 500, 3000]) {
      const items = Array.from({ length: n }, (_, i) => item(i));
      expect(checksumOfItemJsons(sortItems(items).map(itemJson))).toBe(checksumItems(items));
    }
  });
});
