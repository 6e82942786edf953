export * from './constants.js';
export * from './duration.js';
export * from './kinds.js';
