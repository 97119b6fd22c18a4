/**
 * The ports the core uses. Each lists only what the core calls; adapters live in src/adapters
 * and are wired by the CLI, never imported by the core.
 */
export * from './bus';
export * from './executor';
export * from './results';
export * from './notifier';
export * from './release';
export * from './lookup';
export * from './metrics';
export * from './runtime';
export type { Journal } from './journal';
