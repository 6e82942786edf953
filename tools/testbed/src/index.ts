export {
  up,
  down,
  stop,
  kill,
  start,
  restart,
  status,
  envVars,
  envShell,
  build,
  clean,
  withDeps,
} from './bed.js';
export type { StatusLine } from './bed.js';
export { COMPONENTS, componentDir, binPath } from './components.js';
export type { ComponentName } from './components.js';
export { dataRoot, cacheRoot, CLI_JS } from './paths.js';
export { SERVICE_NAMES, isServiceName } from './state.js';
export type { ServiceName } from './state.js';
