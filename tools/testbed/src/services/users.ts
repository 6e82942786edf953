import { readFileSync } from 'node:fs';

/** uid/gid of a local user, from /etc/passwd. */
export function lookupUser(name: string): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    /* no passwd */
  }
  return undefined;
}

export const isRoot = (): boolean => process.getuid?.() === 0;
