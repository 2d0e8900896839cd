export * from './errors';
export * from './fleet';
export * from './output';
export * from './synth';
export * from './site-synth';
export * from './secrets';
export * from './validate-objects';
