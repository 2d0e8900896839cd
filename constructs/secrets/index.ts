export * from './requirements';
export * from './material';
export * from './paths';
export * from './checksum';
