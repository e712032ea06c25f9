import { Registry, type Counter, type Gauge, type Histogram } from '../shared/metrics/registry.ts'

/** The updater's metrics, named `updater_<operation>_<unit>`. */
export class UpdaterMetrics {
  readonly lag: Gauge
  readonly batchSize: Histogram
  readonly batchSeconds: Histogram
  readonly writeSeconds: Histogram
  readonly dynamoRetries: Counter
  readonly repairedItems: Counter
  readonly deadLetters: Counter
  readonly poison: Counter
  readonly refusedSteps: Counter
  readonly commands: Counter
  readonly itemsWritten: Counter
  readonly writeRequests: Counter
  readonly eventsProduced: Counter
  readonly stalled: Gauge
  readonly leaseHeld: Gauge
  readonly commits: Counter
  readonly finisherCommands: Counter

  constructor (readonly registry: Registry = new Registry()) {
    const r = registry
    this.lag = r.gauge('updater_consumer_lag_messages', 'log end offset minus the next offset to process, per owned partition')
    this.batchSize = r.histogram('updater_batch_size_messages', 'commands per folded batch', [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000])
    this.batchSeconds = r.histogram('updater_batch_duration_seconds', 'read-to-commit time of one batch')
    this.writeSeconds = r.histogram('updater_dynamodb_request_duration_seconds', 'latency of one DynamoDB request (attempt), by operation')
    this.dynamoRetries = r.counter('updater_dynamodb_retries_total', 'DynamoDB requests retried, by operation and reason')
    this.repairedItems = r.counter('updater_items_repaired_total', 'items an abandoned (timed-out) write had overwritten with an older image, put again')
    this.deadLetters = r.counter('updater_dead_letters_total', 'commands sent to the dead-letter topic, by reason')
    this.poison = r.counter('updater_poison_total', 'records dead-lettered without being folded or written, by reason (no_key, bad_key, key_mismatch, undecodable, write_refused, write_blocked)')
    this.refusedSteps = r.counter('updater_refused_steps_total', 'load, fold and write steps DynamoDB refused for good while a batch was narrowed down to the commands it refuses')
    this.commands = r.counter('updater_commands_total', 'commands processed, by result (applied, skipped, rejected, poison, refused)')
    this.itemsWritten = r.counter('updater_items_written_total', 'item images written with BatchWriteItem')
    this.writeRequests = r.counter('updater_write_requests_total', 'BatchWriteItem requests sent (attempts included)')
    this.eventsProduced = r.counter('updater_status_events_total', 'status events produced')
    this.stalled = r.gauge('updater_partition_stalled', '1 while a partition retries a batch it could not finish')
    this.leaseHeld = r.gauge('updater_lease_held', '1 while this updater holds the partition lease')
    this.commits = r.counter('updater_commits_total', 'offset commits, by result')
    this.finisherCommands = r.counter('updater_finisher_commands_total', 'trip.finish commands produced by the ended-trips task')
  }
}
