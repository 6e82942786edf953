import { describe, expect, it } from 'vitest';
import type {
  InventorySinkRefListEntry,
  KollectConnectionTestSpec,
  KollectInventorySpec,
  KollectObjectByKind,
  KollectProfileSpec,
  KollectSnapshotSinkSpec,
} from './index.js';

describe('public types', () => {
  it('derive from the schemas and reject misuse at compile time', () => {
    const refs: KollectInventorySpec['databaseSinkRefs'] = [
      'pg',
      { name: 'warehouse', exportMinInterval: '1h' },
    ];
    const entry: InventorySinkRefListEntry = 'audit-git';
    // @ts-expect-error azureblob exists in the original as a constant but is not admitted
    const badType: KollectSnapshotSinkSpec['type'] = 'azureblob';
    // @ts-expect-error export.mode is an enum
    const badMode: NonNullable<KollectProfileSpec['export']>['mode'] = 'Everything';
    // @ts-expect-error the sink ref of a connection test is an object, not a name
    const badRef: KollectConnectionTestSpec['sinkRef'] = 'audit-git';
    // @ts-expect-error the kind field is a literal
    const badKind: KollectObjectByKind['KollectScope']['kind'] = 'KollectClusterScope';
    expect([refs, entry, badType, badMode, badRef, badKind]).toHaveLength(6);
  });
});
