import { BUCKETS, STREAMS } from '@kollect/contracts';

/**
 * The resolved names of one Kollect deployment on a NATS server: streams, buckets and the
 * subject root. Production uses the contract names unchanged (prefix `''`). A non-empty prefix
 * gives an isolated copy of the whole topology on a shared server (tests, side-by-side installs):
 * streams become `<prefix>_KOLLECT_OBJECTS`, buckets `<prefix>_kollect_rows`, and every subject
 * `<prefix>.kollect.…` — pass each subject built by `subjects.*` through {@link BusNames.subject}.
 */
export interface BusNames {
  readonly prefix: string;
  readonly streams: { readonly [K in keyof typeof STREAMS]: string };
  readonly buckets: { readonly [K in keyof typeof BUCKETS]: string };
  /** Map a contract subject (`kollect.obj.…`, may hold wildcards) into this deployment. */
  subject(contractSubject: string): string;
  /** Inverse of {@link BusNames.subject}: the contract subject of a received message. */
  contractSubject(subject: string): string;
}

const PREFIX_RE = /^[A-Za-z0-9_-]{1,32}$/;

/** Resolve the names for a prefix (`''` = the contract names). */
export function busNames(prefix = ''): BusNames {
  if (prefix !== '' && !PREFIX_RE.test(prefix)) {
    throw new Error(`bus prefix ${JSON.stringify(prefix)} must match ${PREFIX_RE.source}`);
  }
  const p = (n: string): string => (prefix === '' ? n : `${prefix}_${n}`);
  const streams = Object.fromEntries(
    Object.entries(STREAMS).map(([k, v]) => [k, p(v)]),
  ) as BusNames['streams'];
  const buckets = Object.fromEntries(
    Object.entries(BUCKETS).map(([k, v]) => [k, p(v)]),
  ) as BusNames['buckets'];
  return {
    prefix,
    streams,
    buckets,
    subject: (s) => (prefix === '' ? s : `${prefix}.${s}`),
    contractSubject: (s) => {
      if (prefix === '') return s;
      if (!s.startsWith(`${prefix}.`)) throw new Error(`subject ${s} is not under bus prefix ${prefix}`);
      return s.slice(prefix.length + 1);
    },
  };
}
