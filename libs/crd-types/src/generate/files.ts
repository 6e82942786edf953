import { KINDS, KIND_DEFINITIONS } from '../kinds.js';
import { crdFileName, crdYaml } from './crd.js';
import { docFileName, indexPage, kindPage } from './docs.js';

/** Directories (relative to the repository root) whose content the generator owns. */
export const GENERATED_DIRS = { crds: 'crds', docs: 'docs/reference' } as const;

/**
 * Every generated file, keyed by its path relative to the repository root. Pure: the CLI writes
 * these, and the freshness test compares them with the files on disk.
 */
export function renderGeneratedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const kind of KINDS) {
    const def = KIND_DEFINITIONS[kind];
    files.set(`${GENERATED_DIRS.crds}/${crdFileName(def)}`, crdYaml(def));
    files.set(`${GENERATED_DIRS.docs}/${docFileName(def)}`, kindPage(def));
  }
  files.set(`${GENERATED_DIRS.docs}/README.md`, indexPage());
  return files;
}

/** Whether a file in a generated directory is one the generator would write (stale ones are removed). */
export function isGeneratedName(relPath: string): boolean {
  return (
    (relPath.startsWith(`${GENERATED_DIRS.crds}/kollect.dev_`) && relPath.endsWith('.yaml')) ||
    (relPath.startsWith(`${GENERATED_DIRS.docs}/`) && relPath.endsWith('.md'))
  );
}
