import { describe, expect, it } from 'vitest';
import {
  checkEndpoint,
  checkHost,
  endpointHost,
  parseIpv4,
  parseIpv6,
  type EndpointForm,
} from './endpoint.js';

describe('SSRF guard', () => {
  const forbidden: [string, EndpointForm][] = [
    ['file:///var/run/secrets/token', 'git'],
    ['https://localhost/repo.git', 'git'],
    ['https://api.localhost:8443/x', 'url'],
    ['https://LOCALHOST./x', 'url'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'url'],
    ['http://metadata/latest', 'url'],
    ['http://169.254.169.254/latest/meta-data', 'url'],
    ['https://127.0.0.1/repo.git', 'git'],
    ['https://127.1/repo.git', 'git'],
    ['http://2130706433/', 'url'],
    ['http://0x7f.0.0.1/', 'url'],
    ['http://0177.0.0.1/', 'url'],
    ['http://0.0.0.0:9000/bucket', 'objectStore'],
    ['https://10.1.2.3/repo.git', 'git'],
    ['https://172.16.0.1/repo.git', 'git'],
    ['https://172.31.255.255/repo.git', 'git'],
    ['https://192.168.1.10:9000/bucket/prefix', 'objectStore'],
    ['nats://100.64.0.1:4222', 'url'],
    ['nats://198.18.0.5:4222', 'url'],
    ['https://[::1]/repo.git', 'git'],
    ['https://[fe80::1%25eth0]/x', 'url'],
    ['https://[fd00::1]/x', 'url'],
    ['https://[::ffff:127.0.0.1]/x', 'url'],
    ['https://[::ffff:a9fe:a9fe]/x', 'url'],
    ['git@127.0.0.1:org/repo.git', 'git'],
    ['git@localhost:org/repo.git', 'git'],
    ['127.0.0.1:9092', 'broker'],
    ['[::1]:9092', 'broker'],
    ['localhost:9092', 'broker'],
    ['metadata.google.internal:80', 'broker'],
  ];
  it.each(forbidden)('rejects %s', (endpoint, form) => {
    expect(checkEndpoint(endpoint, form)).toMatch(/not allowed/);
  });

  const allowed: [string, EndpointForm][] = [
    ['https://git.example.com/platform/inventory.git', 'git'],
    ['ssh://git@github.com/org/repo.git', 'git'],
    ['git@gitlab.example.com:group/repo.git#branch=main', 'git'],
    ['s3://bucket/prefix', 'objectStore'],
    ['gs://bucket', 'objectStore'],
    ['bucket/prefix', 'objectStore'],
    ['https://minio.minio.svc:9000/bucket', 'objectStore'],
    ['nats://nats.kollect-system.svc.cluster.local:4222', 'url'],
    ['kafka-0.kafka.svc:9092', 'broker'],
    ['http://8.8.8.8/', 'url'],
    ['https://[2001:db8::1]/x', 'url'],
    ['https://172.32.0.1/x', 'url'],
    ['https://100.128.0.1/x', 'url'],
    ['https://metadata.example.com/x', 'url'],
  ];
  it.each(allowed)('allows %s', (endpoint, form) => {
    expect(checkEndpoint(endpoint, form)).toBeUndefined();
  });

  it('allows loopback and private addresses with allowPrivateEndpoints (test bed)', () => {
    const policy = { allowPrivateEndpoints: true };
    expect(checkEndpoint('http://127.0.0.1:9000/bucket', 'objectStore', policy)).toBeUndefined();
    expect(checkEndpoint('localhost:9092', 'broker', policy)).toBeUndefined();
    expect(checkEndpoint('https://10.0.0.1/repo.git', 'git', policy)).toBeUndefined();
  });

  it('keeps metadata, link-local and file endpoints forbidden with allowPrivateEndpoints', () => {
    const policy = { allowPrivateEndpoints: true };
    expect(checkEndpoint('http://169.254.169.254/', 'url', policy)).toMatch(/link-local/);
    expect(checkEndpoint('http://metadata.google.internal/', 'url', policy)).toMatch(/metadata/);
    expect(checkEndpoint('file:///tmp/repo.git', 'git', policy)).toMatch(/file:\/\//);
  });

  it('allows file endpoints only with allowFileEndpoints', () => {
    expect(checkEndpoint('file:///tmp/repo.git', 'git', { allowFileEndpoints: true })).toBeUndefined();
  });

  it('explains what to use instead', () => {
    expect(checkHost('10.0.0.1')).toMatch(/RFC 1918.*cluster DNS name/);
  });
});

describe('address parsing', () => {
  it('parses IPv4 in the forms URL parsers accept', () => {
    expect(parseIpv4('127.0.0.1')).toEqual([127, 0, 0, 1]);
    expect(parseIpv4('2130706433')).toEqual([127, 0, 0, 1]);
    expect(parseIpv4('0x7f000001')).toEqual([127, 0, 0, 1]);
    expect(parseIpv4('10.1')).toEqual([10, 0, 0, 1]);
    expect(parseIpv4('256.0.0.1')).toBeUndefined();
    expect(parseIpv4('kafka')).toBeUndefined();
  });

  it('parses IPv6 with :: and an IPv4 tail', () => {
    expect(parseIpv6('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6('fe80::1')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6('::ffff:10.0.0.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001]);
    expect(parseIpv6('1::2::3')).toBeUndefined();
  });

  it('finds the host of URLs, scp-like remotes and brokers', () => {
    expect(endpointHost('https://user:pw@host.example:8443/x', 'url').host).toBe('host.example');
    expect(endpointHost('git@host.example:org/repo.git', 'git').host).toBe('host.example');
    expect(endpointHost('[::1]:9092', 'broker').host).toBe('[::1]');
    expect(endpointHost('bucket/prefix', 'objectStore').host).toBeUndefined();
  });
});
