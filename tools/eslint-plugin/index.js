// @ts-check
/**
 * `kollect/dependency-direction`: enforces the architecture's dependency law from Nx project tags
 * (package.json `nx.tags`):
 *   - an app (`type:app`) may import libs, never another app;
 *   - a lib (`type:lib`) may import libs only; `scope:contracts` imports nothing of ours;
 *   - a sink lib (`type:sink`) never imports another sink lib or an app;
 *   - nothing imports a project's internals (`@kollect/x/src/...` or a relative path leaving the project).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const workspaceRoot = resolve(import.meta.dirname, '..', '..');

/** @typedef {{ name: string, root: string, tags: string[] }} Project */

/** @type {Map<string, Project> | undefined} */
let byName;
/** @type {Project[] | undefined} */
let all;

function loadProjects() {
  if (byName && all) return { byName, all };
  byName = new Map();
  all = [];
  for (const dir of ['libs', 'libs/sinks', 'apps', 'tools', '.']) {
    const abs = join(workspaceRoot, dir);
    if (!existsSync(abs)) continue;
    const candidates = dir === '.' ? ['e2e'] : readdirSync(abs);
    for (const name of candidates) {
      const pkgFile = join(abs, name, 'package.json');
      if (!existsSync(pkgFile)) continue;
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
      /** @type {Project} */
      const project = { name: pkg.name, root: join(abs, name), tags: pkg.nx?.tags ?? [] };
      byName.set(project.name, project);
      all.push(project);
    }
  }
  // Longest root first, so nested projects (libs/sinks/x) win over their parents.
  all.sort((a, b) => b.root.length - a.root.length);
  return { byName, all };
}

/** @param {string} file */
function projectOfFile(file) {
  const { all } = loadProjects();
  return all.find((p) => file === p.root || file.startsWith(p.root + sep));
}

/**
 * @param {Project} from
 * @param {Project} to
 * @returns {string | undefined} why the import is not allowed
 */
export function violation(from, to) {
  if (from.name === to.name) return undefined;
  const has = (/** @type {Project} */ p, /** @type {string} */ t) => p.tags.includes(t);
  if (has(to, 'type:app')) return `${from.name} may not import the app ${to.name}; move shared code to a lib`;
  if (has(from, 'scope:contracts')) return `@kollect/contracts imports nothing of ours (found ${to.name})`;
  if (has(from, 'type:sink') && has(to, 'type:sink')) {
    return `a sink lib never imports another sink lib (${from.name} -> ${to.name}); share code through a non-sink lib`;
  }
  if ((has(from, 'type:lib') || has(from, 'type:sink')) && !(has(to, 'type:lib') || has(to, 'type:sink'))) {
    return `lib ${from.name} may only import libs (found ${to.name} tagged ${to.tags.join(',') || 'nothing'})`;
  }
  if (
    has(from, 'type:lib') &&
    !has(from, 'type:sink') &&
    has(to, 'type:sink') &&
    !has(from, 'scope:sink-testing')
  ) {
    return `core lib ${from.name} may not depend on the sink backend ${to.name}`;
  }
  return undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
const dependencyDirection = {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce the dependency direction between workspace projects' },
    schema: [],
  },
  create(context) {
    const file = resolve(context.filename);
    const from = projectOfFile(file);
    if (!from) return {};
    /** @param {any} node */
    const check = (node) => {
      const source = node.source?.value;
      if (typeof source !== 'string') return;
      if (source.startsWith('.')) {
        const target = resolve(dirname(file), source);
        if (!(target === from.root || target.startsWith(from.root + sep))) {
          context.report({
            node,
            message: `relative import ${source} leaves project ${from.name} (${relative(workspaceRoot, from.root)}); import the package by name`,
          });
        }
        return;
      }
      const m = /^(@kollect\/[^/]+)(\/.*)?$/.exec(source);
      if (!m) return;
      const { byName } = loadProjects();
      const to = byName.get(/** @type {string} */ (m[1]));
      if (!to) return;
      if (m[2]) {
        context.report({ node, message: `import ${to.name} through its index, not ${source}` });
        return;
      }
      const why = violation(from, to);
      if (why) context.report({ node, message: why });
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

export default {
  meta: { name: '@kollect/eslint-plugin' },
  rules: { 'dependency-direction': dependencyDirection },
};
