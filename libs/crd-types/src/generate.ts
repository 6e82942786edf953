/**
 * `npm run gen`: writes crds/*.yaml and docs/reference/*.md from the schemas in this library.
 * Run from anywhere; paths resolve against the repository root (three levels above dist/).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_DIRS, isGeneratedName, renderGeneratedFiles } from './generate/files.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const files = renderGeneratedFiles();
let written = 0;
for (const [rel, content] of files) {
  const abs = join(root, rel);
  mkdirSync(dirname(abs), { recursive: true });
  let current: string | undefined;
  try {
    current = readFileSync(abs, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== content) {
    writeFileSync(abs, content);
    written++;
  }
}
let removed = 0;
for (const dir of Object.values(GENERATED_DIRS)) {
  for (const name of readdirSync(join(root, dir))) {
    const rel = `${dir}/${name}`;
    if (isGeneratedName(rel) && !files.has(rel)) {
      rmSync(join(root, rel));
      removed++;
    }
  }
}
console.log(`crd-types: ${files.size} generated files, ${written} updated, ${removed} stale removed`);
