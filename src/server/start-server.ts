import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { Registry } from 'prom-client';
import { TOKEN_LENGTH } from '../shared/token/download-token.js';
import { bootstrapAdmin, type AdminBootstrap } from './auth/bootstrap-admin.js';
import { startSecurityRefresh } from './auth/security-refresh.js';
import { ConfigError, type ServerConfig } from './config.js';
import { AuditLog } from './domain/audit-log.js';
import { checkPublicUrlLength, CommandIssuer } from './domain/command-issuer.js';
import { DeviceReportHandler } from './domain/device-report-handler.js';
import { DeviceService } from './domain/device-service.js';
import { PackageService } from './domain/package-service.js';
import { RolloutEngine } from './domain/rollout-engine.js';
import { RolloutLease } from './domain/rollout-lease.js';
import { pacingLimitsOf } from './domain/rollout-plan.js';
import { RolloutService } from './domain/rollout-service.js';
import { mountDownloads } from './download-mount.js';
import { buildHttpApp } from './http/build-http-app.js';
import { KeyRotation } from './keys/key-rotation.js';
import { UrlKeyring } from './keys/url-keyring.js';
import { ManifestSigner } from './keys/manifest-signer.js';
import { createLogger, type Logger } from './log.js';
import { DeviceGateway } from './mqtt/device-gateway.js';
import { EmbeddedBroker } from './mqtt/embedded-broker.js';
import { ExternalBrokerBus } from './mqtt/external-broker-bus.js';
import type { MessageBus } from './mqtt/message-bus.js';
import { MosquittoAuthFiles } from './mqtt/mosquitto-auth-files.js';
import { saveBrokerPasswordHash } from './mqtt/mosquitto-password-hash.js';
import { listenOrExplain } from './net/listen.js';
import { registerProcessMetrics } from './process-metrics.js';
import { openBlobStore } from './storage/open-blob-store.js';
import { openDatabase } from './store/open-database.js';

export interface RunningServer {
  readonly config: ServerConfig;
  /** Where the API and console answer, e.g. http://127.0.0.1:8080 */
  readonly httpUrl: string;
  /** The base of download URLs sent to devices. */
  readonly publicUrl: string;
  /** The broker devices connect to. */
  readonly mqttUrl: string;
  readonly admin: AdminBootstrap;
  close(): Promise<void>;
}

/**
 * Composition root: opens the database, storage and broker, wires the domain and starts
 * HTTP. Everything a later issue swaps (database, broker, storage) is chosen here from config.
 */
export async function startServer(
  config: ServerConfig,
  log: Logger = createLogger(config.logLevel),
): Promise<RunningServer> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const { db, close: closeDb } = await openDatabase(config.databaseUrl);
  const closers: (() => Promise<void>)[] = [closeDb];
  const close = async () => {
    for (const c of closers.reverse())
      await c().catch((error) => log.warn({ err: error }, 'close failed'));
  };

  try {
    const metrics = new Registry();
    registerProcessMetrics(metrics);
    const blobs = await openBlobStore(config.storageUrl, config.dataDir, {
      cacheBytes: config.storageCacheBytes,
      log,
    });
    closers.push(async () => blobs.close?.());
    const keyring = await UrlKeyring.load(db);
    const signer = await ManifestSigner.load(db);
    const audit = new AuditLog(db);
    const packages = new PackageService(db, blobs, signer, audit, config.maxUploadBytes);

    let publicUrl = config.publicUrl ?? '';
    let mqttUrl = config.mqttUrl ?? '';
    const devices = new DeviceService(db, audit, () => ({
      mqttUrl,
      serverUrl: publicUrl,
      signingPublicKey: signer.publicKeyPem,
    }));
    const rollouts = new RolloutService(db, packages, audit, pacingLimitsOf(config));
    await devices.loadRevoked();

    let bus: MessageBus;
    let brokerHealthy: () => boolean;
    const authFiles = MosquittoAuthFiles.fromConfig(config, db, log);
    if (authFiles) {
      await authFiles.start();
      closers.push(() => authFiles.stop());
    }
    if (config.mqttUrl) {
      const external = await ExternalBrokerBus.connect(config.mqttUrl, config.replicaId, log);
      bus = external;
      brokerHealthy = () => external.connected;
      mqttUrl = config.publicMqttUrl ?? deviceFacingMqttUrl(config.mqttUrl);
    } else {
      const broker = await EmbeddedBroker.start({
        host: config.mqttHost,
        port: config.mqttPort,
        devices,
        log,
      });
      bus = broker;
      brokerHealthy = () => true;
      mqttUrl = config.publicMqttUrl ?? `mqtt://${advertisedHost(config.mqttHost)}:${broker.port}`;
    }
    closers.push(() => bus.close());
    // Every secret is also kept in the broker's format, so a fleet can move to an external broker.
    devices.onRegistered = (deviceId, password) =>
      saveBrokerPasswordHash(db, deviceId, password)
        .then(() => authFiles?.syncSoon())
        .catch((error: unknown) =>
          log.error({ err: error, deviceId }, 'broker password not stored'),
        );
    devices.onRevoked = (deviceId) => {
      bus.disconnect(deviceId);
      authFiles?.syncSoon();
    };
    const keys = new KeyRotation(db, audit, keyring, signer, config.urlTtlSeconds);
    closers.push(startSecurityRefresh({ urlKeys: keyring, manifestKeys: signer, devices }, log));

    const issuer = new CommandIssuer(bus, keyring, () => publicUrl, config.urlTtlSeconds);
    const reports = new DeviceReportHandler(db, devices, packages, issuer, log);
    const engine = new RolloutEngine(db, packages, devices, issuer, log, {
      limits: pacingLimitsOf(config),
    });
    engine.lease = new RolloutLease(db, config.replicaId, issuer, packages, log);
    reports.onFinished = () => engine.kick();
    rollouts.onChange = () => engine.kick();
    rollouts.onActionsCanceled = (actions) => {
      void (async () => {
        for (const a of actions) {
          const device = await db
            .selectFrom('devices')
            .select('device_id')
            .where('id', '=', a.deviceRowId)
            .executeTakeFirst();
          if (device) await issuer.sendCancel({ ...a, deviceId: device.device_id });
        }
      })().catch((error) => log.warn({ err: error }, 'sending cancel commands failed'));
    };
    const gateway = new DeviceGateway(bus, devices, reports, log, metrics);

    const downloads = mountDownloads({
      db,
      blobs,
      keyring,
      devices,
      packages,
      reports,
      metrics,
      config,
      log,
    });
    // An object-storage package evicted from the local cache: the download side must resolve
    // it again (which fetches it anew). mountDownloads hands its cache's forget to onDeleted.
    // TODO(issue 6): call a forget that mountDownloads returns, once it returns one.
    const forgetDownload = packages.onDeleted;
    blobs.onEvicted = (sha256) => {
      db.selectFrom('packages')
        .select('id')
        .where('sha256', '=', sha256)
        .execute()
        .then((rows) => rows.forEach((row) => forgetDownload(Number(row.id))))
        .catch((error: unknown) =>
          log.warn({ err: error, sha256 }, 'evicted package not forgotten'),
        );
    };
    const app = await buildHttpApp(
      {
        config,
        db,
        log,
        metrics,
        audit,
        packages,
        devices,
        rollouts,
        keys,
        health: async () => ({
          database: await db
            .selectFrom('accounts')
            .select('id')
            .limit(1)
            .execute()
            .then(
              () => true,
              () => false,
            ),
          broker: brokerHealthy(),
        }),
      },
      downloads.handler,
    );
    // The HTTP port is the download front: plain GET/HEAD /d/<token> are answered on its lean
    // path, every other request goes to Fastify's server (src/server/download/front-server.ts).
    await app.ready();
    const front = downloads.download.createFrontServer(app.server);
    await listenOrExplain(front, config.httpHost, config.httpPort, {
      what: 'HTTP server',
      flag: '--http-port',
      env: 'TIOTA_HTTP_PORT',
    });
    closers.push(async () => {
      await engine.stop();
      await gateway.drain();
      front.close();
      front.closeAllConnections();
      app.server.closeAllConnections();
      await app.close();
      downloads.download.close();
    });

    const port = (front.address() as AddressInfo).port;
    publicUrl = config.publicUrl ?? `http://${advertisedHost(config.httpHost)}:${port}`;
    const tooLong = checkPublicUrlLength(publicUrl, TOKEN_LENGTH);
    if (tooLong) throw new ConfigError(tooLong);

    const admin = await bootstrapAdmin(db, config.dataDir);
    engine.start();
    const httpUrl = `http://${config.httpHost === '0.0.0.0' ? '127.0.0.1' : config.httpHost}:${port}`;
    return { config, httpUrl, publicUrl, mqttUrl, admin, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The address devices should use for a listener bound to `host`. */
function advertisedHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::') return host;
  for (const addresses of Object.values(os.networkInterfaces())) {
    const lan = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (lan) return lan.address;
  }
  return '127.0.0.1';
}

/** The broker URL devices get: the server's own credentials are not theirs to see. */
function deviceFacingMqttUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString().replace(/\/$/, '');
}
