import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SHOP_RELEASE, helmReleaseSecret } from './__fixtures__/objects.js';
import { HelmDecodeError, HelmPathError, compileHelmPath, decodeHelmRelease, readHelmField } from './helm.js';

const secret = helmReleaseSecret(SHOP_RELEASE);
const read = (path: string, s: unknown = secret): unknown =>
  readHelmField(decodeHelmRelease(s), compileHelmPath(path));

describe('helm:release paths (SEED-SPEC §4.1)', () => {
  it.each([
    ['helm:release.releaseName', 'shop'],
    ['helm:release.chartName', 'shop'],
    ['helm:release.chartVersion', '2.4.0'],
    ['helm:release.appVersion', '1.2.3'],
    ['helm:release.revision', 3],
    ['helm:release.status', 'deployed'],
    ['helm:release.lastDeployed', '2024-05-01T09:59:00Z'],
    ['helm:release.namespace', 'team-a'],
    ['helm:release.config.image.tag', '1.2.3'],
    ['helm:release.info.description', 'Upgrade complete'],
    ['helm:release.chart.metadata.name', 'shop'],
    ['helm:release.info.missing', null],
    ['helm:release.name.deeper', null],
  ])('%s → %j', (path, want) => {
    expect(read(path)).toEqual(want);
  });

  it('decodes a release that is not gzipped', () => {
    expect(read('helm:release.chartVersion', helmReleaseSecret(SHOP_RELEASE, { gzip: false }))).toBe('2.4.0');
  });

  it.each([
    'helm:release.manifest',
    'helm:release.hooks',
    'helm:release.hooks.0',
    'helm:release.chart.templates',
    'helm:release.chart.files',
    'helm:release.chart.values.image',
    'helm:release.chart.raw',
  ])('refuses the denied field %s at compile time', (path) => {
    expect(() => compileHelmPath(path)).toThrow(HelmPathError);
  });

  it.each(['helm:release.', 'helm:release.a..b', 'helm:chart.name'])(
    'rejects the malformed path %s',
    (path) => {
      expect(() => compileHelmPath(path)).toThrow(HelmPathError);
    },
  );

  it.each([
    ['a Secret without data.release', { data: { other: 'eA==' } }, /no data.release/],
    [
      'a payload that is not base64 JSON',
      { data: { release: Buffer.from('not json').toString('base64') } },
      /not JSON|empty/,
    ],
    [
      'a corrupt gzip stream',
      {
        data: {
          release: Buffer.from(Buffer.from([0x1f, 0x8b, 0x08, 1, 2, 3, 4]).toString('base64')).toString(
            'base64',
          ),
        },
      },
      /corrupt/,
    ],
  ])('fails to decode %s', (_what, s, message) => {
    expect(() => decodeHelmRelease(s)).toThrow(HelmDecodeError);
    expect(() => decodeHelmRelease(s)).toThrow(message);
  });

  it('refuses a release that inflates past the size cap', () => {
    const bomb = gzipSync(Buffer.alloc(40 * 1024 * 1024, 0x20));
    const s = { data: { release: Buffer.from(bomb.toString('base64')).toString('base64') } };
    expect(() => decodeHelmRelease(s)).toThrow(/larger than/);
  });
});
