import { mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.js';

/** The smoke run of the repository's torture harness (not a package's own suite: it runs every package together). */
export default mergeConfig(shared, { test: { name: 'torture' } });
