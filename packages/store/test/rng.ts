/** The journal's test PRNG and soak multiplier, shared: every randomized test replays from its seed. */
export { seededRandom, SOAK } from '../../wal/test/rng.js';
