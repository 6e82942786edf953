/**
 * The test bed apiserver's audit log (`KOLLECT_TEST_KUBE_AUDIT_LOG`, JSON lines, Metadata level for
 * every request), read from a mark taken before the action under test.
 *
 * A mark is a byte offset in one file (identified by its inode). The apiserver rotates the log by
 * renaming it to `audit-<timestamp>.log` next to it and starting a new `audit.log`; reading "since a
 * mark" follows the rotation: the rest of the marked file (wherever it now lives), every file rotated
 * after it, then the current file. When the marked file has already been deleted (more rotations than
 * `--audit-log-maxbackup` keeps), the read fails instead of silently missing events — a check like
 * "zero LIST calls since the mark" must never pass on a partial log.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { testbedEnv } from './testbed.js';

/** Where a read starts: a byte offset in the file with inode `ino`. */
export interface AuditMark {
  readonly path: string;
  readonly ino: number;
  readonly offset: number;
}

export interface AuditEvent {
  stage: string;
  verb: string;
  requestURI: string;
  auditID?: string;
  userAgent?: string;
  user?: { username?: string; groups?: string[] };
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string };
  responseStatus?: { code?: number };
}

interface LogFile {
  path: string;
  ino: number;
  size: number;
}

/** Audit events of the test bed apiserver, read since a mark. */
export class AuditLog {
  readonly path: string;

  constructor(path: string = testbedEnv.kubeAuditLog) {
    this.path = path;
  }

  /** The current end of the log. Take it before the action whose requests you want to see. */
  mark(): AuditMark {
    if (!existsSync(this.path)) return { path: this.path, ino: 0, offset: 0 };
    const st = statSync(this.path);
    return { path: this.path, ino: st.ino, offset: st.size };
  }

  /** The current file and its rotated siblings (`audit-<timestamp>.log`), oldest first. */
  private files(): LogFile[] {
    const dir = dirname(this.path);
    const ext = extname(this.path);
    const stem = basename(this.path, ext);
    const out: LogFile[] = [];
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      if (name !== basename(this.path) && !(name.startsWith(`${stem}-`) && name.endsWith(ext))) continue;
      try {
        const st = statSync(join(dir, name));
        out.push({ path: join(dir, name), ino: st.ino, size: st.size });
      } catch {
        // deleted by a rotation while we looked
      }
    }
    // rotated files carry their rotation time in the name, so name order is age order; the live file is last
    return out.sort((a, b) =>
      a.path === this.path ? 1 : b.path === this.path ? -1 : a.path.localeCompare(b.path),
    );
  }

  /** The raw text written since `mark` (following rotations). */
  textSince(mark: AuditMark): string {
    // a rotation between listing the files and opening them changes what a path names: read again
    for (let attempt = 0; attempt < 5; attempt++) {
      const text = this.tryTextSince(mark);
      if (text !== undefined) return text;
    }
    throw new Error(`the audit log ${this.path} kept rotating while it was read`);
  }

  private tryTextSince(mark: AuditMark): string | undefined {
    const files = this.files();
    let from = 0;
    let offset = 0;
    if (mark.ino !== 0) {
      from = files.findIndex((f) => f.ino === mark.ino);
      if (from < 0)
        throw new Error(
          `the audit log ${this.path} was rotated more than once since the mark and the marked file is gone; the events in between cannot be read (raise --audit-log-maxsize or --audit-log-maxbackup in tools/testbed/src/services/kube.ts)`,
        );
      offset = mark.offset;
      if (files[from]!.size < offset)
        throw new Error(
          `the audit log ${files[from]!.path} shrank below the mark (${offset} bytes); it was truncated`,
        );
    }
    const parts: string[] = [];
    for (let i = from; i < files.length; i++) {
      const part = readFrom(files[i]!, i === from ? offset : 0);
      if (part === undefined) return undefined;
      parts.push(part);
    }
    return parts.join('');
  }

  /** Audit events (stage ResponseComplete or Panic) written since `mark`. */
  eventsSince(mark: AuditMark): AuditEvent[] {
    const out: AuditEvent[] = [];
    for (const line of this.textSince(mark).split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const e = JSON.parse(line) as AuditEvent;
        if (e.stage === 'ResponseComplete' || e.stage === 'Panic') out.push(e);
      } catch {
        // a partially written last line
      }
    }
    return out;
  }

  /** LIST requests by a user agent (prefix) for a resource in the given namespaces since `mark`. */
  lists(
    mark: AuditMark,
    filter: { userAgent?: string; username?: string; resource: string; namespaces?: readonly string[] },
  ): AuditEvent[] {
    return this.eventsSince(mark).filter(
      (e) =>
        e.verb === 'list' &&
        (filter.userAgent === undefined || (e.userAgent?.startsWith(filter.userAgent) ?? false)) &&
        (filter.username === undefined || e.user?.username === filter.username) &&
        e.objectRef?.resource === filter.resource &&
        (filter.namespaces === undefined ||
          e.objectRef.namespace === undefined ||
          filter.namespaces.includes(e.objectRef.namespace)),
    );
  }

  /** LIST requests by Kollect's watcher for a resource in the given namespaces since `mark`. */
  watcherLists(mark: AuditMark, resource: string, namespaces: readonly string[]): AuditEvent[] {
    return this.lists(mark, { userAgent: 'kollect-watcher', resource, namespaces });
  }
}

/** The bytes of `file` from `offset` to its current end, as UTF-8; undefined when the path now names another file. */
function readFrom(file: LogFile, offset: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(file.path, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (st.ino !== file.ino) return undefined;
    if (st.size <= offset) return '';
    const buf = Buffer.alloc(st.size - offset);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
