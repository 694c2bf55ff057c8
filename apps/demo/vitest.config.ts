import { mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

// tsyringe needs reflect-metadata loaded before any decorated class: the
// setup file plays the entry point's role in tests.
export default mergeConfig(shared, { test: { setupFiles: ['./test/setup.ts'] } });
