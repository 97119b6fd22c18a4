/** The domain model: what the core reasons about, independent of any store or peer. */
export * from './run';
export * from './effect';
export * from './message';
export * from './gate';
export * from './outcome';
export * from './token-bucket';
export * from './action';
