export * from './access.ts';
export * from './common.ts';
export * from './objects.ts';
export * from './agents.ts';
export * from './audit.ts';
export * from './assurance.ts';
export * from './enforcement.ts';
export * from './file-signatures.ts';
