/**
 * Property tests (issue 18): random command sequences of several users through the real updater
 * path (processBatch, readLoads, fold) with random batch cuts, crashes and replays, read back
 * through the API's projections, against the naive model in model.ts.
 */
import { expect, test } from 'bun:test'
import fc from 'fast-check'
import { materialize, stepArb } from './commands.ts'
import { differences, runModel } from './oracle.ts'
import { attemptArb, runUpdater } from './updater-run.ts'

const RUNS = Number(process.env.MODEL_RUNS ?? 200)
/**
 * A fixed seed by default, so `npm test` is deterministic: the fold has known limits that a rare
 * random case hits (counterexamples.test.ts, test.failing). Explore with MODEL_SEED=<n> (or
 * MODEL_SEED=random) and MODEL_RUNS=<n>; put what fails into counterexamples.test.ts.
 */
const SEED = process.env.MODEL_SEED === 'random' ? undefined : Number(process.env.MODEL_SEED ?? 18)

test(`one command per batch, no crash: views, refusals and every event equal the model's (${RUNS} sequences)`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 40, size: 'max' }), async steps => {
      const commands = materialize(steps)
      const run = await runUpdater(commands, commands.map(() => ({ size: 1, end: 'ok' as const, rewind: 0, seed: 0 })))
      expect(differences(runModel(commands), run, { exactEvents: true })).toEqual([])
    }),
    { numRuns: RUNS, seed: SEED }
  )
}, 60_000)

test(`random batches, crashes mid-write and mid-produce, lagging commits: the same views, refusals and events (${RUNS} sequences)`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 40, size: 'max' }), fc.array(attemptArb, { maxLength: 30 }), async (steps, attempts) => {
      const commands = materialize(steps)
      const run = await runUpdater(commands, attempts)
      // A lost dead letter of a command refused for its item's state is a known limit (oracle.ts changedLater).
      expect(differences(runModel(commands), run, { lostRefusals: true, commands })).toEqual([])
    }),
    { numRuns: RUNS, seed: SEED }
  )
}, 60_000)
