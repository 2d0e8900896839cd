export * from './errors';
export * from './fleet';
export * from './output';
export * from './synth';
export * from './validate-objects';
