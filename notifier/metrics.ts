import { Registry } from '../shared/metrics/registry.ts'

/** The notifier's metrics (Prometheus, on /metrics). */
export function notifierMetrics(registry = new Registry()) {
  return {
    registry,
    events: registry.counter('notifier_events_total', 'Status records handled, by outcome (notified, duplicate, ignored, poison, tombstone)'),
    notifications: registry.counter('notifier_notifications_total', 'Deliveries by channel (in_app, live, webhook) and outcome (ok, dead_letter)'),
    webhookSeconds: registry.histogram('notifier_webhook_seconds', 'One webhook attempt, by outcome (ok, retry, failed)'),
    webhookJobs: registry.counter('notifier_webhook_jobs_total', 'Jobs of the webhook topic handled, by outcome (delivered, retry, dead_letter, dropped, poison)'),
    deadLetters: registry.counter('notifier_dead_letters_total', 'Records sent to the dead-letter topic, by reason (poison, webhook)'),
    stepSeconds: registry.histogram('notifier_step_seconds', 'One step of a notification (claim, settings, in_app, live, webhook: the hand-over to the webhook topic, complete), retries included'),
    eventSeconds: registry.histogram('notifier_event_seconds', 'Handling of one record, from read to done, by consumer (status, webhooks)'),
    delaySeconds: registry.histogram('notifier_delay_seconds', 'From the change being accepted (acceptedAt) to the user notified, every channel done'),
    lag: registry.gauge('notifier_lag_records', 'Records not yet committed by this group, by consumer (status, webhooks) and partition'),
    inFlight: registry.gauge('notifier_in_flight_records', 'Records read and not done, by consumer (status, webhooks)'),
    retries: registry.counter('notifier_infra_retries_total', 'Retried DynamoDB or Kafka operations, by step'),
    commits: registry.counter('notifier_commits_total', 'Offset commits, by consumer and outcome'),
  }
}
export type NotifierMetrics = ReturnType<typeof notifierMetrics>
