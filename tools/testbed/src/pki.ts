/**
 * The bed's own PKI, once per data root (`$KOLLECT_TESTBED_ROOT/pki/`): a CA ("kollect-testbed bed
 * CA") and a server certificate it signs for `127.0.0.1` and `localhost` (SAN IP and DNS), used by
 * PostgreSQL (`ssl = on`) and the TLS fronts of git, s3 and gcs (services/tls.ts); plus a second,
 * unrelated "wrong" CA that signed nothing the bed serves, for negative tests. openssl, like the
 * kube-apiserver PKI (services/kube.ts), which stays separate: its serving cert carries cluster names.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataRoot } from './paths.js';
import { runOk } from './proc.js';

export interface BedPki {
  /** PEM of the bed CA (KOLLECT_TEST_CA_FILE). */
  ca: string;
  /** Server certificate for 127.0.0.1 + localhost, signed by the bed CA. */
  cert: string;
  key: string;
  /** PEM of an unrelated CA (KOLLECT_TEST_WRONG_CA_FILE). */
  wrongCa: string;
}

export function pkiDir(): string {
  return join(dataRoot(), 'pki');
}

/** The paths, whether or not the files exist yet. */
export function bedPkiPaths(): BedPki {
  const d = pkiDir();
  return {
    ca: join(d, 'ca.crt'),
    cert: join(d, 'server.crt'),
    key: join(d, 'server.key'),
    wrongCa: join(d, 'wrong-ca.crt'),
  };
}

/** A self-signed CA (RSA 2048, 10 years) written to `keyPath` / `certPath`. */
export async function selfSignedCa(keyPath: string, certPath: string, cn: string): Promise<void> {
  await runOk('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-days',
    '3650',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-subj',
    `/CN=${cn}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
}

/**
 * A server certificate (serverAuth, RSA 2048, 10 years) for `sans` (openssl subjectAltName
 * entries, e.g. `IP:127.0.0.1`, `DNS:localhost`) signed by the CA at `caCert` / `caKey`. The CSR
 * and extension file are written next to `certPath`; the CSR is removed afterwards.
 */
export async function issueServerCert(o: {
  caCert: string;
  caKey: string;
  keyPath: string;
  certPath: string;
  cn: string;
  sans: string[];
}): Promise<void> {
  const csr = `${o.certPath}.csr`;
  const ext = `${o.certPath}.ext`;
  await runOk('openssl', [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-keyout',
    o.keyPath,
    '-out',
    csr,
    '-subj',
    `/CN=${o.cn}`,
  ]);
  writeFileSync(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${o.sans.join(',')}`,
      '',
    ].join('\n'),
  );
  await runOk('openssl', [
    'x509',
    '-req',
    '-sha256',
    '-days',
    '3650',
    '-in',
    csr,
    '-CA',
    o.caCert,
    '-CAkey',
    o.caKey,
    '-CAcreateserial',
    '-out',
    o.certPath,
    '-extfile',
    ext,
  ]);
  rmSync(csr);
}

async function generate(): Promise<void> {
  const final = pkiDir();
  // built in a sibling and renamed into place: an interrupted run never leaves half a PKI
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: 0o755 });
  await selfSignedCa(join(tmp, 'ca.key'), join(tmp, 'ca.crt'), 'kollect-testbed bed CA');
  await selfSignedCa(
    join(tmp, 'wrong-ca.key'),
    join(tmp, 'wrong-ca.crt'),
    'kollect-testbed wrong CA (signs nothing the bed serves)',
  );
  await issueServerCert({
    caCert: join(tmp, 'ca.crt'),
    caKey: join(tmp, 'ca.key'),
    keyPath: join(tmp, 'server.key'),
    certPath: join(tmp, 'server.crt'),
    cn: '127.0.0.1',
    sans: ['IP:127.0.0.1', 'DNS:localhost'],
  });
  rmSync(join(tmp, 'wrong-ca.key')); // nothing is ever signed with it
  renameSync(tmp, final);
}

let pending: Promise<BedPki> | undefined;

/**
 * Creates the bed PKI when it is missing (idempotent; concurrent callers in one process share the
 * run, and every bed command runs under the bed lock) and returns its paths.
 */
export function ensureBedPki(): Promise<BedPki> {
  const p = bedPkiPaths();
  if (Object.values(p).every((f) => existsSync(f))) return Promise.resolve(p);
  pending ??= (async () => {
    rmSync(pkiDir(), { recursive: true, force: true }); // incomplete leftovers
    await generate();
    return p;
  })().finally(() => (pending = undefined));
  return pending;
}
