import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { requireTestbed, testbedEnv } from '../support/testbed.js';

const execFileP = promisify(execFile);

describe('testbed: helm', () => {
  it('lints and renders a trivial chart', async () => {
    requireTestbed('helm');
    const dir = mkdtempSync(join(tmpdir(), 'kollect-helm-smoke-'));
    try {
      const chart = join(dir, 'smoke');
      mkdirSync(join(chart, 'templates'), { recursive: true });
      writeFileSync(
        join(chart, 'Chart.yaml'),
        'apiVersion: v2\nname: smoke\ndescription: test bed smoke chart\nversion: 0.1.0\nicon: https://example.invalid/icon.png\n',
      );
      writeFileSync(join(chart, 'values.yaml'), 'greeting: hello\n');
      writeFileSync(
        join(chart, 'templates', 'configmap.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-smoke\ndata:\n  greeting: {{ .Values.greeting | quote }}\n',
      );
      const env = {
        ...process.env,
        HELM_CACHE_HOME: join(dir, 'c'),
        HELM_CONFIG_HOME: join(dir, 'cfg'),
        HELM_DATA_HOME: join(dir, 'd'),
      };
      const lint = await execFileP(testbedEnv.helm, ['lint', chart], { env });
      expect(lint.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      const tpl = await execFileP(testbedEnv.helm, ['template', 'r1', chart, '--set', 'greeting=hi'], {
        env,
      });
      expect(tpl.stdout).toContain('name: r1-smoke');
      expect(tpl.stdout).toContain('greeting: "hi"');
      const ver = await execFileP(testbedEnv.helm, ['version', '--short'], { env });
      expect(ver.stdout).toMatch(/^v3\./);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
