/**
 * Settings of the property tests (fast-check): a fixed seed and a bounded number of runs, so
 * `npm test` is fast and repeatable. A longer search:
 *   PROPERTY_RUNS=20000 npx mocha 'test/property/**'     (more cases per property)
 *   PROPERTY_SEED=12345 npx mocha 'test/property/**'     (other cases; a failure prints its seed)
 * Both are test-only settings, read here and nowhere else.
 */
function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`${name} must be a positive whole number, not '${raw}'`);
  return Number(raw);
}

/** Runs per property (default 150). */
export const PROPERTY_RUNS = positiveInt('PROPERTY_RUNS', 150);
/** Seed of every property (default fixed). */
export const PROPERTY_SEED = positiveInt('PROPERTY_SEED', 20_260_101);

/** fast-check parameters: the seed and runs above; `scale` makes a costly property run fewer cases. */
export const propertyParams = (scale = 1): { seed: number; numRuns: number } => ({ seed: PROPERTY_SEED, numRuns: Math.max(1, Math.round(PROPERTY_RUNS * scale)) });
