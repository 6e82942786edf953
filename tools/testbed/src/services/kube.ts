import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binPath } from '../components.js';
import { TestbedError } from '../log.js';
import { httpCall } from '../proc.js';
import type { Ctx, ServiceDef } from './types.js';
import { issueServerCert, selfSignedCa } from '../pki.js';

const READONLY_ROLE = 'kollect-testbed:read-only';

interface Pki {
  ca: string;
  cert: string;
  key: string;
  saPub: string;
  saKey: string;
  tokens: string;
  auditPolicy: string;
}

function pkiPaths(ctx: Ctx): Pki {
  const p = join(ctx.dir, 'pki');
  return {
    ca: join(p, 'ca.crt'),
    cert: join(p, 'apiserver.crt'),
    key: join(p, 'apiserver.key'),
    saPub: join(p, 'sa.pub'),
    saKey: join(p, 'sa.key'),
    tokens: join(p, 'tokens.csv'),
    auditPolicy: join(ctx.dir, 'audit-policy.yaml'),
  };
}

/** CA + serving certificate (openssl), service-account key pair (node:crypto), static tokens. Once per data root. */
async function ensurePki(ctx: Ctx): Promise<Pki> {
  const k = pkiPaths(ctx);
  const dir = join(ctx.dir, 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(k.ca) || !existsSync(k.cert)) {
    const caKey = join(dir, 'ca.key');
    await selfSignedCa(caKey, k.ca, 'kollect-testbed-ca');
    await issueServerCert({
      caCert: k.ca,
      caKey,
      keyPath: k.key,
      certPath: k.cert,
      cn: 'kube-apiserver',
      sans: [
        'IP:127.0.0.1',
        'IP:10.0.0.1',
        'DNS:localhost',
        'DNS:kubernetes',
        'DNS:kubernetes.default',
        'DNS:kubernetes.default.svc',
        'DNS:kubernetes.default.svc.cluster.local',
      ],
    });
  }
  if (!existsSync(k.saKey)) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(k.saKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(k.saPub, publicKey.export({ type: 'spki', format: 'pem' }));
  }
  if (!existsSync(k.tokens)) {
    const admin = randomBytes(24).toString('hex');
    const ro = randomBytes(24).toString('hex');
    // token,user,uid,"group1,group2"
    writeFileSync(
      k.tokens,
      `${admin},kollect-admin,kollect-admin,"system:masters"\n${ro},kollect-readonly,kollect-readonly,"kollect:readonly"\n`,
      { mode: 0o600 },
    );
  }
  if (!existsSync(k.auditPolicy)) {
    // Metadata for everything (verb, resource, user, response code) is enough to count LIST/WATCH calls.
    writeFileSync(
      k.auditPolicy,
      [
        'apiVersion: audit.k8s.io/v1',
        'kind: Policy',
        'omitStages: ["RequestReceived"]',
        'rules:',
        '  - level: Metadata',
        '',
      ].join('\n'),
    );
  }
  return k;
}

function tokens(ctx: Ctx): { admin: string; readonly: string } {
  const lines = readFileSync(pkiPaths(ctx).tokens, 'utf8').trim().split('\n');
  const get = (user: string) => lines.find((l) => l.split(',')[1] === user)?.split(',')[0] ?? '';
  return { admin: get('kollect-admin'), readonly: get('kollect-readonly') };
}

function server(ctx: Ctx): string {
  return `https://127.0.0.1:${ctx.ports['https']}`;
}

function kubeconfig(ctx: Ctx, user: string, token: string): string {
  // JSON is valid YAML; every kubeconfig loader accepts it.
  return (
    JSON.stringify(
      {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'kollect-testbed',
            cluster: { server: server(ctx), 'certificate-authority': pkiPaths(ctx).ca },
          },
        ],
        users: [{ name: user, user: { token } }],
        contexts: [
          { name: 'kollect-testbed', context: { cluster: 'kollect-testbed', user, namespace: 'default' } },
        ],
        'current-context': 'kollect-testbed',
        preferences: {},
      },
      null,
      2,
    ) + '\n'
  );
}

export function kubeconfigPath(ctx: Ctx, which: 'admin' | 'readonly'): string {
  return join(ctx.dir, which === 'admin' ? 'kubeconfig' : 'kubeconfig-readonly');
}

async function api(ctx: Ctx, method: string, path: string, body?: unknown) {
  const k = pkiPaths(ctx);
  return httpCall(`${server(ctx)}${path}`, {
    method,
    ca: readFileSync(k.ca),
    headers: {
      authorization: `Bearer ${tokens(ctx).admin}`,
      'content-type': 'application/json',
      accept: 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    timeoutMs: 10_000,
  });
}

/** A real kube-apiserver (k8s.io/kubernetes), with etcd, static token auth, RBAC and an audit log. */
export const kubeApiserver: ServiceDef = {
  name: 'kube-apiserver',
  description:
    'kube-apiserver v1.37.2 (k8s.io/kubernetes; staging k8s.io/* v0.37.2), kubectl v1.37.2, RBAC, audit log',
  deps: ['etcd'],
  components: ['kube-apiserver'],
  portNames: ['https'],
  startTimeoutMs: 120_000,
  stopSignal: 'SIGTERM',
  async prepare(ctx) {
    const k = await ensurePki(ctx);
    const t = tokens(ctx);
    writeFileSync(kubeconfigPath(ctx, 'admin'), kubeconfig(ctx, 'kollect-admin', t.admin), { mode: 0o600 });
    writeFileSync(kubeconfigPath(ctx, 'readonly'), kubeconfig(ctx, 'kollect-readonly', t.readonly), {
      mode: 0o600,
    });
    const etcdPort = ctx.state.services.etcd?.ports['client'];
    if (!etcdPort)
      throw new TestbedError(
        'kube-apiserver needs etcd, which has no port yet',
        'npm run testbed -- up etcd kube-apiserver',
      );
    mkdirSync(join(ctx.dir, 'audit'), { recursive: true });
    return {
      cmd: binPath('kube-apiserver'),
      args: [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        '--etcd-prefix=/registry',
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        // the lease reconciler refuses a loopback advertise address; nothing in the bed needs the kubernetes Service endpoints
        '--endpoint-reconciler-type=none',
        `--secure-port=${ctx.ports['https']}`,
        `--tls-cert-file=${k.cert}`,
        `--tls-private-key-file=${k.key}`,
        `--client-ca-file=${k.ca}`,
        `--token-auth-file=${k.tokens}`,
        '--authorization-mode=RBAC',
        '--anonymous-auth=false',
        '--allow-privileged=true',
        '--service-cluster-ip-range=10.0.0.0/24',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${k.saPub}`,
        `--service-account-signing-key-file=${k.saKey}`,
        `--audit-policy-file=${k.auditPolicy}`,
        `--audit-log-path=${join(ctx.dir, 'audit', 'audit.log')}`,
        '--audit-log-format=json',
        '--audit-log-mode=blocking',
        // Rotation renames the file (e2e/support/audit.ts follows it from a mark); 1 GB files and two
        // backups keep a whole CI run (~100 MB of audit per hour of e2e) in one or two files.
        '--audit-log-maxsize=1024',
        '--audit-log-maxbackup=2',
        '--profiling=false',
        '--v=0',
      ],
      cwd: ctx.dir,
      logFile: join(ctx.dir, 'kube-apiserver.log'),
    };
  },
  async health(ctx) {
    try {
      const r = await api(ctx, 'GET', '/readyz');
      return {
        ok: r.status === 200,
        detail:
          r.status === 200
            ? 'readyz ok'
            : `readyz ${r.status} ${r.body
                .trim()
                .split('\n')
                .filter((l) => l.includes('failed'))
                .join('; ')
                .slice(0, 200)}`,
      };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  },
  async afterStart(ctx) {
    const role = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: READONLY_ROLE, labels: { 'app.kubernetes.io/managed-by': 'kollect-testbed' } },
      rules: [
        { apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] },
        { nonResourceURLs: ['*'], verbs: ['get'] },
      ],
    };
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: READONLY_ROLE, labels: { 'app.kubernetes.io/managed-by': 'kollect-testbed' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: READONLY_ROLE },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kollect:readonly' }],
    };
    for (const [path, obj] of [
      ['/apis/rbac.authorization.k8s.io/v1/clusterroles', role],
      ['/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', binding],
    ] as const) {
      const r = await api(ctx, 'POST', path, obj);
      if (r.status !== 201 && r.status !== 409)
        throw new TestbedError(`creating ${obj.kind} ${READONLY_ROLE} failed: ${r.status} ${r.body}`);
    }
  },
  env(ctx) {
    const t = tokens(ctx);
    return {
      KOLLECT_TEST_KUBECONFIG: kubeconfigPath(ctx, 'admin'),
      KOLLECT_TEST_KUBECONFIG_READONLY: kubeconfigPath(ctx, 'readonly'),
      KOLLECT_TEST_KUBE_SERVER: server(ctx),
      KOLLECT_TEST_KUBE_CA_FILE: pkiPaths(ctx).ca,
      KOLLECT_TEST_KUBE_TOKEN: t.admin,
      KOLLECT_TEST_KUBE_READONLY_TOKEN: t.readonly,
      KOLLECT_TEST_KUBE_AUDIT_LOG: join(ctx.dir, 'audit', 'audit.log'),
      KOLLECT_TEST_KUBECTL: binPath('kube-apiserver', 'kubectl'),
    };
  },
  where(ctx) {
    return server(ctx);
  },
};
