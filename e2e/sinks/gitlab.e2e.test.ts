/**
 * The gitlab sink. Its git half (the shared writer, honouring git.* settings) runs the
 * conformance suite against the test bed's real git server. No GitLab server can run here, so the
 * REST API v4 merge-request calls run against `GitLabApiDouble`, a recorded-contract double: it
 * answers exactly the requests and response shapes of GitLab's documented API (GET/POST
 * /projects/:id/merge_requests, GET /projects/:id, PRIVATE-TOKEN auth, 401 on a bad token) and
 * records every call.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumItems, sortItems } from '@kollect/contracts';
import { MaterializedStore, SinkRunner } from '@kollect/sink';
import { gitlabSinkFactory } from '@kollect/sink-gitlab';
import { InventoryModel, makeItems, sinkConformance } from '@kollect/sink-testing';
import { hasTestbed, testbed, testbedEnv, uniqueName } from '../support/testbed.js';
import { createRepo, gitCreds, gitSink } from './git-helpers.js';
import { gitRemoteHead, readGit } from './readers.js';

interface Call {
  method: string;
  path: string;
  body?: Record<string, unknown>;
}

/** GitLab REST API v4, merge-request subset, as documented; state kept in memory. */
class GitLabApiDouble {
  calls: Call[] = [];
  mrs: {
    iid: number;
    state: string;
    source_branch: string;
    target_branch: string;
    title: string;
    web_url: string;
  }[] = [];
  private server: Server | undefined;
  url = '';
  constructor(
    private readonly token: string,
    private readonly projectPath: string,
  ) {}
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://x');
        const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
        this.calls.push({ method: req.method ?? '', path: u.pathname + u.search, ...(body ? { body } : {}) });
        const send = (status: number, v: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(v));
        };
        if (req.headers['private-token'] !== this.token) return send(401, { message: '401 Unauthorized' });
        const prefix = `/api/v4/projects/${encodeURIComponent(this.projectPath)}`;
        if (!u.pathname.startsWith(prefix.replace(/%2F/g, '%2F')))
          return send(404, { message: '404 Project Not Found' });
        const rest = u.pathname.slice(prefix.length);
        if (req.method === 'GET' && rest === '')
          return send(200, { id: 42, path_with_namespace: this.projectPath });
        if (req.method === 'GET' && rest === '/merge_requests') {
          const q = u.searchParams;
          return send(
            200,
            this.mrs.filter(
              (m) =>
                (!q.get('state') || m.state === q.get('state')) &&
                (!q.get('source_branch') || m.source_branch === q.get('source_branch')) &&
                (!q.get('target_branch') || m.target_branch === q.get('target_branch')),
            ),
          );
        }
        if (req.method === 'POST' && rest === '/merge_requests') {
          const b = body ?? {};
          if (
            this.mrs.some(
              (m) =>
                m.state === 'opened' &&
                m.source_branch === b['source_branch'] &&
                m.target_branch === b['target_branch'],
            )
          ) {
            return send(409, {
              message: ['Another open merge request already exists for this source branch'],
            });
          }
          const mr = {
            iid: this.mrs.length + 1,
            state: 'opened',
            source_branch: String(b['source_branch']),
            target_branch: String(b['target_branch']),
            title: String(b['title']),
            web_url: `https://gitlab.example/${this.projectPath}/-/merge_requests/${this.mrs.length + 1}`,
          };
          this.mrs.push(mr);
          return send(201, mr);
        }
        return send(404, { message: '404 Not Found' });
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/api/v4`;
  }
  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe.runIf(hasTestbed('git'))('gitlab sink', () => {
  sinkConformance({
    name: 'gitlab direct (git half, yaml document)',
    factory: gitlabSinkFactory,
    bigRows: 10_000,
    fault: { down: () => testbed.stop('git'), up: () => testbed.start('git') },
    async destination(o) {
      const url = await createRepo(uniqueName('gl'));
      const auth = { username: testbedEnv.gitUsername, password: testbedEnv.gitPassword };
      return {
        sink: gitSink(
          url,
          {
            gitlab: {},
            ...(o.clusterPartitioned
              ? { pathTemplate: '{cluster}/inventory/{namespace}/{name}{extension}' }
              : {}),
          },
          'gitlab',
        ),
        credentials: gitCreds(auth.username, auth.password),
        wrongCredentials: gitCreds(auth.username, 'wrong-password-123'),
        read: (cluster, inv) =>
          readGit(
            url,
            auth,
            {
              mode: 'document',
              format: 'yaml',
              path: (c, i) => `${o.clusterPartitioned ? `${c}/` : ''}inventory/${i.namespace}/${i.name}.yaml`,
            },
            cluster,
            inv,
          ),
        revision: () => gitRemoteHead(url, auth),
      };
    },
  });

  describe('merge-request mode (REST calls against GitLabApiDouble)', () => {
    const projectPath = uniqueName('group/mr');
    let api: GitLabApiDouble;
    let url: string;
    const inv = { kind: 'KollectInventory' as const, namespace: 'team-a', name: 'web' };
    beforeAll(async () => {
      url = await createRepo(projectPath);
      // The sink derives the project from the remote path (`/git/<group>/<name>.git` on the test bed).
      api = new GitLabApiDouble(testbedEnv.gitToken, `git/${projectPath}`);
      await api.start();
      // The target branch exists with one commit of its own.
      const auth = `Authorization: Basic ${Buffer.from(`${testbedEnv.gitUsername}:${testbedEnv.gitPassword}`).toString('base64')}`;
      execFileSync('sh', [
        '-c',
        `set -e; d=$(mktemp -d); cd $d; git init -q -b main; git -c user.name=t -c user.email=t@t commit -q --allow-empty -m init; git -c http.extraHeader="${auth}" push -q ${url} main; rm -rf $d`,
      ]);
    });
    afterAll(() => api.stop());

    function runnerFor(token: string, model: InventoryModel) {
      const sink = gitlabSinkFactory.create({
        sink: gitSink(
          url,
          {
            gitlab: { mergeRequest: { mode: 'merge_request', targetBranch: 'main' } },
            git: {
              commitMessage: 'inventory({namespace}/{name}): {itemCount} rows',
              author: { name: 'Inventory Bot', email: 'bot@example.com' },
            },
            options: { apiUrl: api.url },
          },
          'gitlab',
        ),
        cluster: 'east',
        credentials: {
          data: { username: testbedEnv.gitUsername, token },
          roles: { username: testbedEnv.gitUsername, token },
          version: '1',
        },
        workDir: `/tmp/${uniqueName('gl-work')}`,
        signal: new AbortController().signal,
        log: quiet,
      });
      return {
        sink,
        runner: new SinkRunner({
          sink,
          sinkName: 'snapshot/team-a/gl',
          full: model,
          store: new MaterializedStore(),
          clusterLabel: 'east',
          log: quiet,
        }),
      };
    }

    it('pushes one stable branch per inventory forked from the target, opens one merge request, honours git.* settings', async () => {
      const model = new InventoryModel(inv, 'east');
      const { sink, runner } = runnerFor(testbedEnv.gitToken, model);
      model.push(makeItems(5));
      const r1 = await runner.handle(model.message(1));
      expect(r1.error?.message).toBeUndefined();
      expect(r1.outcome).toBe('exported');
      model.push(makeItems(6));
      const r2 = await runner.handle(model.message(2));
      expect(r2.outcome).toBe('exported');
      const posts = api.calls.filter((c) => c.method === 'POST');
      expect(posts).toHaveLength(1);
      expect(posts[0]!.body).toMatchObject({
        source_branch: 'kollect/team-a/web',
        target_branch: 'main',
        title: 'kollect inventory export: team-a/web',
      });
      const dir = `${testbedEnv.gitRoot}/${projectPath}.git`;
      const log = execFileSync('git', ['--git-dir', dir, 'log', '--format=%an|%s', 'kollect/team-a/web'], {
        encoding: 'utf8',
      })
        .trim()
        .split('\n');
      expect(log).toEqual([
        'Inventory Bot|inventory(team-a/web): 6 rows',
        'Inventory Bot|inventory(team-a/web): 5 rows',
        't|init',
      ]);
      const stored = await readGit(
        url,
        { username: testbedEnv.gitUsername, password: testbedEnv.gitToken },
        { mode: 'document', format: 'yaml', path: (_c, i) => `inventory/${i.namespace}/${i.name}.yaml` },
        'east',
        inv,
        'kollect/team-a/web',
      );
      expect(checksumItems(stored!.items)).toBe(checksumItems(sortItems(makeItems(6))));
      await sink.close();
    });

    it('a rejected API token is a terminal failure with a clear message', async () => {
      const model = new InventoryModel({ ...inv, name: 'other' }, 'east');
      const { sink } = runnerFor('glpat-wrong-token', model);
      const probe = await sink.probe();
      expect(probe.ok).toBe(false);
      expect(probe.message).toMatch(/401|credentials|rejected/);
      expect(probe.message).not.toContain('glpat-wrong-token');
      await sink.close();
    });
  });
});
