import path from 'node:path';

/**
 * Every server setting, with its flag and environment variable. One table so that
 * `tiota server --help`, docs/configuration (README) and the code agree.
 */
export interface ServerConfig {
  /** Folder for the embedded default: database, packages, keys, admin token. */
  readonly dataDir: string;
  readonly httpHost: string;
  /** HTTP port for the API, downloads and console. 0 picks a free port. */
  readonly httpPort: number;
  /** Base of every download URL sent to devices, e.g. `http://10.0.0.5:8080`. */
  readonly publicUrl: string | null;
  /** Broker URL handed to devices at registration, e.g. `mqtt://ota.example.com:1883`. */
  readonly publicMqttUrl: string | null;
  /** `sqlite:<file>` or `postgres://…`. */
  readonly databaseUrl: string;
  /** External broker (`mqtt://host:port`); when null the embedded broker runs. */
  readonly mqttUrl: string | null;
  readonly mqttHost: string;
  /** Embedded broker port (MQTT's standard 1883 by default). 0 picks a free port. */
  readonly mqttPort: number;
  /** `file:<folder>` or `s3://bucket/prefix?endpoint=…`. */
  readonly storageUrl: string;
  /** Lifetime of a download URL, seconds. */
  readonly urlTtlSeconds: number;
  /** Largest package accepted, bytes. */
  readonly maxUploadBytes: number;
  /** Server-wide cap on downloads in flight (503 + Retry-After above it). */
  readonly maxDownloads: number;
  /** Per-package cap on downloads in flight. */
  readonly maxDownloadsPerPackage: number;
  /** Bytes per second the server may send to devices (rollout pacing). */
  readonly bandwidthBytesPerSecond: number;
  /** Bytes of object-storage packages each replica keeps on local disk (LRU beyond it). */
  readonly storageCacheBytes: number;
  /** With an external Mosquitto: its password file, kept in step with the devices table. */
  readonly mosquittoPasswordFile: string | null;
  /** With an external Mosquitto: its ACL file (written once at start). */
  readonly mosquittoAclFile: string | null;
  /** With an external Mosquitto: its pid file; SIGHUP makes it reload the two files. */
  readonly mosquittoPidFile: string | null;
  /** Name of this replica in leases and logs; unique among the replicas. */
  readonly replicaId: string;
  readonly logLevel: string;
  /**
   * How far, in percent, the JavaScript heap may grow past the live data before V8's next full
   * collection (0: V8's own choice, up to 300 % under load). See heap-growth.ts.
   */
  readonly heapGrowthPercent: number;
}

export interface OptionSpec {
  readonly key: keyof ServerConfig;
  readonly flag: string;
  readonly env: string;
  readonly description: string;
  readonly kind: 'string' | 'integer' | 'nullable-string';
}

export const SERVER_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'dataDir',
    flag: '--data-dir',
    env: 'TIOTA_DATA_DIR',
    kind: 'string',
    description: 'data folder (default ./tiota-data)',
  },
  {
    key: 'httpHost',
    flag: '--http-host',
    env: 'TIOTA_HTTP_HOST',
    kind: 'string',
    description: 'HTTP listen address (default 0.0.0.0)',
  },
  {
    key: 'httpPort',
    flag: '--http-port',
    env: 'TIOTA_HTTP_PORT',
    kind: 'integer',
    description: 'HTTP port for API, downloads and console (default 8080)',
  },
  {
    key: 'publicUrl',
    flag: '--public-url',
    env: 'TIOTA_PUBLIC_URL',
    kind: 'nullable-string',
    description: 'base URL devices download from (default http://<this host>:<http port>)',
  },
  {
    key: 'publicMqttUrl',
    flag: '--public-mqtt-url',
    env: 'TIOTA_PUBLIC_MQTT_URL',
    kind: 'nullable-string',
    description: 'broker URL given to devices (default derived from the broker address)',
  },
  {
    key: 'databaseUrl',
    flag: '--database-url',
    env: 'TIOTA_DATABASE_URL',
    kind: 'string',
    description: 'sqlite:<file> or postgres://… (default sqlite in the data folder)',
  },
  {
    key: 'mqttUrl',
    flag: '--mqtt-url',
    env: 'TIOTA_MQTT_URL',
    kind: 'nullable-string',
    description: 'external MQTT broker URL; omit to run the embedded broker',
  },
  {
    key: 'mqttHost',
    flag: '--mqtt-host',
    env: 'TIOTA_MQTT_HOST',
    kind: 'string',
    description: 'embedded broker listen address (default 0.0.0.0)',
  },
  {
    key: 'mqttPort',
    flag: '--mqtt-port',
    env: 'TIOTA_MQTT_PORT',
    kind: 'integer',
    description: 'embedded broker port (default 1883)',
  },
  {
    key: 'storageUrl',
    flag: '--storage-url',
    env: 'TIOTA_STORAGE_URL',
    kind: 'string',
    description: 'file:<folder> or s3://bucket/prefix (default the data folder)',
  },
  {
    key: 'urlTtlSeconds',
    flag: '--url-ttl',
    env: 'TIOTA_URL_TTL',
    kind: 'integer',
    description: 'download URL lifetime in seconds (default 86400, at most 604800)',
  },
  {
    key: 'maxUploadBytes',
    flag: '--max-upload-bytes',
    env: 'TIOTA_MAX_UPLOAD_BYTES',
    kind: 'integer',
    description: 'largest package accepted (default 256 MiB)',
  },
  {
    key: 'maxDownloads',
    flag: '--max-downloads',
    env: 'TIOTA_MAX_DOWNLOADS',
    kind: 'integer',
    description: 'downloads in flight server-wide (default 1000)',
  },
  {
    key: 'maxDownloadsPerPackage',
    flag: '--max-downloads-per-package',
    env: 'TIOTA_MAX_DOWNLOADS_PER_PACKAGE',
    kind: 'integer',
    description: 'downloads in flight per package (default 1000)',
  },
  {
    key: 'bandwidthBytesPerSecond',
    flag: '--bandwidth',
    env: 'TIOTA_BANDWIDTH',
    kind: 'integer',
    description: 'bytes/s the server may send to devices (default 12500000, 100 Mbit/s)',
  },
  {
    key: 'storageCacheBytes',
    flag: '--storage-cache-bytes',
    env: 'TIOTA_STORAGE_CACHE_BYTES',
    kind: 'integer',
    description: 'local cache of s3:// packages per replica (default 10 GiB)',
  },
  {
    key: 'mosquittoPasswordFile',
    flag: '--mosquitto-password-file',
    env: 'TIOTA_MOSQUITTO_PASSWORD_FILE',
    kind: 'nullable-string',
    description: "Mosquitto's password_file, kept in step with registered devices",
  },
  {
    key: 'mosquittoAclFile',
    flag: '--mosquitto-acl-file',
    env: 'TIOTA_MOSQUITTO_ACL_FILE',
    kind: 'nullable-string',
    description: "Mosquitto's acl_file, written at start",
  },
  {
    key: 'mosquittoPidFile',
    flag: '--mosquitto-pid-file',
    env: 'TIOTA_MOSQUITTO_PID_FILE',
    kind: 'nullable-string',
    description: "Mosquitto's pid_file: sent SIGHUP after each change",
  },
  {
    key: 'replicaId',
    flag: '--replica-id',
    env: 'TIOTA_REPLICA_ID',
    kind: 'string',
    description: 'name of this replica (default host-pid)',
  },
  {
    key: 'logLevel',
    flag: '--log-level',
    env: 'TIOTA_LOG_LEVEL',
    kind: 'string',
    description: 'pino log level (default info)',
  },
  {
    key: 'heapGrowthPercent',
    flag: '--heap-growth-percent',
    env: 'TIOTA_HEAP_GROWTH_PERCENT',
    kind: 'integer',
    description:
      'heap growth past live data before a full garbage collection, % (default 100, at most 1000; 0 = V8 decides)',
  },
];

/** The longest URL lifetime the server will issue (DESIGN: short-lived URLs). */
export const MAX_URL_TTL_SECONDS = 7 * 24 * 3600;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Builds the config: flags win over environment variables, which win over defaults. */
export function resolveConfig(
  flags: Partial<Record<keyof ServerConfig, string | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): ServerConfig {
  const raw = (spec: OptionSpec): string | undefined => flags[spec.key] ?? env[spec.env];
  const values: Record<string, string | number | null | undefined> = {};
  for (const spec of SERVER_OPTIONS) {
    const text = raw(spec);
    if (text === undefined || text === '') continue;
    if (spec.kind === 'integer') {
      // Digits only: Number() would also take "0x10", "1e2" and " 50".
      const n = /^\d+$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(n)) {
        throw new ConfigError(
          `${spec.flag} (${spec.env}) must be a whole number ≥ 0, got "${text}"`,
        );
      }
      values[spec.key] = n;
    } else {
      values[spec.key] = text;
    }
  }

  const dataDir = path.resolve((values.dataDir as string) ?? './tiota-data');
  const config: ServerConfig = {
    dataDir,
    httpHost: (values.httpHost as string) ?? '0.0.0.0',
    httpPort: (values.httpPort as number) ?? 8080,
    publicUrl: ((values.publicUrl as string) ?? null)?.replace(/\/+$/, '') ?? null,
    publicMqttUrl: (values.publicMqttUrl as string) ?? null,
    databaseUrl: (values.databaseUrl as string) ?? `sqlite:${path.join(dataDir, 'tiota.db')}`,
    mqttUrl: (values.mqttUrl as string) ?? null,
    mqttHost: (values.mqttHost as string) ?? '0.0.0.0',
    mqttPort: (values.mqttPort as number) ?? 1883,
    storageUrl: (values.storageUrl as string) ?? `file:${path.join(dataDir, 'packages')}`,
    urlTtlSeconds: (values.urlTtlSeconds as number) ?? 86400,
    maxUploadBytes: (values.maxUploadBytes as number) ?? 256 * 1024 * 1024,
    maxDownloads: (values.maxDownloads as number) ?? 1000,
    maxDownloadsPerPackage: (values.maxDownloadsPerPackage as number) ?? 1000,
    bandwidthBytesPerSecond: (values.bandwidthBytesPerSecond as number) ?? 12_500_000,
    storageCacheBytes: (values.storageCacheBytes as number) ?? 10 * 1024 ** 3,
    mosquittoPasswordFile: nullablePath(values.mosquittoPasswordFile),
    mosquittoAclFile: nullablePath(values.mosquittoAclFile),
    mosquittoPidFile: nullablePath(values.mosquittoPidFile),
    replicaId: (values.replicaId as string) ?? `${process.env.HOSTNAME ?? 'tiota'}-${process.pid}`,
    logLevel: (values.logLevel as string) ?? 'info',
    heapGrowthPercent: (values.heapGrowthPercent as number) ?? 100,
  };
  if (config.urlTtlSeconds < 60 || config.urlTtlSeconds > MAX_URL_TTL_SECONDS) {
    throw new ConfigError(
      `--url-ttl (TIOTA_URL_TTL) must be between 60 and ${MAX_URL_TTL_SECONDS} seconds, got ${config.urlTtlSeconds}`,
    );
  }
  if (config.heapGrowthPercent > 1000) {
    throw new ConfigError(
      `--heap-growth-percent (TIOTA_HEAP_GROWTH_PERCENT) must be between 0 and 1000, got ${config.heapGrowthPercent}`,
    );
  }
  const mosquittoFile = config.mosquittoPasswordFile ?? config.mosquittoAclFile;
  if (mosquittoFile && !hasCredentials(config.mqttUrl)) {
    throw new ConfigError(
      `the Mosquitto files (--mosquitto-password-file, --mosquitto-acl-file) are kept for an ` +
        `external broker: give its URL with the server account, --mqtt-url mqtt://user:password@host:port`,
    );
  }
  return config;
}

function hasCredentials(url: string | null): boolean {
  if (!url) return false;
  try {
    const parsed = new URL(url);
    return parsed.username !== '' && parsed.password !== '';
  } catch {
    return false;
  }
}

function nullablePath(value: string | number | null | undefined): string | null {
  return typeof value === 'string' ? path.resolve(value) : null;
}
