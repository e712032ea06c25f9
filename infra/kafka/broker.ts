import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Admin } from '@platformatic/kafka'
import { type Logger } from '../../shared/log/logger.ts'
import { pollUntil, tcpOpen, type ServiceSpec } from '../stack/service.ts'

const pom = join(import.meta.dir, 'pom.xml')

export interface BrokerOptions {
  dataDir: string
  port: number
  controllerPort: number
  heapMb: number
  /** Maven local repository, reused across clones so a second start downloads nothing. */
  mavenRepo: string
  /** Extra broker properties (tests make the log cleaner eager). */
  extra?: Record<string, string>
  /** The cluster id given to a new data folder (default: a random one). */
  clusterId?: string
}

/**
 * The broker's classpath from Maven Central, resolved once per version of pom.xml and cached
 * beside the Maven repository: later starts only check that the jars are still there.
 */
export async function kafkaClasspath (mavenRepo: string, log: Logger): Promise<string> {
  const digest = createHash('sha256').update(readFileSync(pom)).digest('hex').slice(0, 12)
  const file = join(mavenRepo, '..', `kafka-classpath-${digest}.txt`)
  if (existsSync(file)) {
    const cp = readFileSync(file, 'utf8').trim()
    if (cp && cp.split(':').every(existsSync)) return cp
  }
  mkdirSync(mavenRepo, { recursive: true })
  log.info('kafka_resolving', { note: 'Apache Kafka from Maven Central (the first time downloads ≈ 60 MB)', mavenRepo })
  const t0 = performance.now()
  const proc = Bun.spawn(['mvn', '-B', '-q', `-Dmaven.repo.local=${mavenRepo}`, '-f', pom,
    'dependency:build-classpath', `-Dmdep.outputFile=${file}`], { stdout: 'pipe', stderr: 'pipe' })
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  if (code !== 0) throw new Error(`mvn dependency:build-classpath failed (exit ${code}): ${(out + err).slice(-2000)}`)
  log.info('kafka_resolved', { ms: Math.round(performance.now() - t0) })
  return readFileSync(file, 'utf8').trim()
}

function serverProperties (o: BrokerOptions): string {
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.bootstrap.servers': `127.0.0.1:${o.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${o.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': join(o.dataDir, 'logs'),
    'auto.create.topics.enable': 'false',
    'num.partitions': '1',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '12',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    'log.cleaner.enable': 'true',
    ...o.extra
  }
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n'
}

const log4j = `status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = \${sys:kafka.logs.dir}/broker.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
appender.out.filter.threshold.type = ThresholdFilter
appender.out.filter.threshold.level = warn
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
rootLogger.appenderRef.out.ref = out
logger.kafka.name = kafka
logger.kafka.level = info
logger.state.name = state.change.logger
logger.state.level = warn
`

/** A base64url UUID, the form Kafka's storage tool expects for a cluster id. One in 64 starts with '-'. */
export function newClusterId (): string {
  return randomBytes(16).toString('base64url')
}

/** Writes the config files and formats the storage on first use (KRaft, standalone controller). */
export async function prepareBroker (o: BrokerOptions, classpath: string, log: Logger): Promise<string> {
  mkdirSync(join(o.dataDir, 'logs'), { recursive: true })
  const config = join(o.dataDir, 'server.properties')
  writeFileSync(config, serverProperties(o))
  writeFileSync(join(o.dataDir, 'log4j2.properties'), log4j)
  if (!existsSync(join(o.dataDir, 'logs', 'meta.properties'))) {
    const id = o.clusterId ?? newClusterId()
    // `--cluster-id=<id>`, never `-t <id>`: an id starting with '-' would be read as an option and
    // fail the first start of one fresh stack in 64.
    const proc = Bun.spawn(['java', '-cp', classpath, ...jvmLogArgs(o), 'kafka.tools.StorageTool', 'format', '--standalone', `--cluster-id=${id}`, '-c', config],
      { stdout: 'pipe', stderr: 'pipe' })
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()])
    if (code !== 0) throw new Error(`kafka storage format failed (exit ${code}): ${(out + err).slice(-2000)}`)
    log.info('kafka_formatted', { clusterId: id, dataDir: o.dataDir })
  }
  return config
}

function jvmLogArgs (o: BrokerOptions): string[] {
  return [`-Dlog4j2.configurationFile=${join(o.dataDir, 'log4j2.properties')}`, `-Dkafka.logs.dir=${o.dataDir}`]
}

export function brokerService (o: BrokerOptions, classpath: string, config: string): ServiceSpec {
  const bootstrap = `127.0.0.1:${o.port}`
  return {
    name: 'kafka',
    cmd: ['java', `-Xms${o.heapMb}m`, `-Xmx${o.heapMb}m`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20',
      '-Djava.awt.headless=true', ...jvmLogArgs(o), '-cp', classpath, 'kafka.Kafka', config],
    readyTimeoutMs: 90_000,
    stopTimeoutMs: 30_000,
    restart: true,
    ready: signal => pollUntil('kafka', async () => (await tcpOpen('127.0.0.1', o.port)) && await metadataAnswers(bootstrap), signal, 300)
  }
}

async function metadataAnswers (bootstrap: string): Promise<boolean> {
  const admin = new Admin({ clientId: 'stack-probe', bootstrapBrokers: [bootstrap], timeout: 2000, retries: 0 })
  try {
    await admin.listTopics()
    return true
  } finally {
    await admin.close().catch(() => {})
  }
}
