#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so users need no build step.
import { register } from 'tsx/esm/api';

// `siteforge ... | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

register();
const { main } = await import('../cli/index.ts');
process.exitCode = await main(process.argv.slice(2));
