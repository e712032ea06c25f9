import { createLogger } from '../../shared/log/logger.ts'

/** A logger that keeps quiet in tests unless TEST_LOGS=1. */
export const testLogger = createLogger('test', 'debug', {}, line => { if (process.env.TEST_LOGS) process.stderr.write(line) })
