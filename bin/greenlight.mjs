#!/usr/bin/env node
// Runs the TypeScript CLI without a build step: tsx compiles each module as it is imported.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../server/cli/main.ts');
await main();
