import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { PackageView } from '../../server/domain/package-service.js';
import { CliError, clientFor, withApiOptions } from '../api-client.js';
import { printFields, printResult } from '../output.js';

export function registerPackageCommands(program: Command): void {
  const pkg = program
    .command('package')
    .description('upload and manage packages (.tapk or any file)');

  withApiOptions(
    pkg
      .command('push <file>')
      .description('upload a package; a .tapk is checked (trailer, CRC-16) before it is stored')
      .requiredOption(
        '--version <version>',
        'version of the package (a .tapk has no version field)',
      )
      .option('--app <name>', 'app name (required for files that are not .tapk)')
      .option('--sha256 <hex>', 'refuse the upload unless the server computes this SHA-256'),
  ).action(async (file: string, options) => {
    const info = await stat(file).catch(() => {
      throw new CliError(`cannot read ${file}: no such file`);
    });
    if (!info.isFile()) throw new CliError(`${file} is not a file`);
    if (options.version.length > 64) {
      throw new CliError('--version must be at most 64 characters (e.g. 1.2.0)');
    }
    const size = info.size;
    const query = new URLSearchParams({ version: options.version, fileName: path.basename(file) });
    if (options.app) query.set('app', options.app);
    if (options.sha256) query.set('sha256', options.sha256);

    const bar =
      options.json || !process.stderr.isTTY
        ? null
        : new SingleBar({ format: 'upload [{bar}] {percentage}% {value}/{total} bytes' });
    bar?.start(size, 0);
    let sent = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _e, done) {
        sent += chunk.length;
        bar?.update(sent);
        done(null, chunk);
      },
    });
    const body = Readable.toWeb(createReadStream(file).pipe(counter)) as ReadableStream;
    try {
      const view = await clientFor(options).request<PackageView>(
        'POST',
        `/packages?${query}`,
        undefined,
        {
          body,
          headers: { 'content-type': 'application/octet-stream' },
          duplex: 'half',
        } as RequestInit,
      );
      bar?.stop();
      printFields(options.json, packageFields(view));
    } finally {
      bar?.stop();
    }
  });

  withApiOptions(
    pkg.command('list').description('list packages').option('--app <name>', 'only this app'),
  ).action(async (options) => {
    const query = options.app ? `?app=${encodeURIComponent(options.app)}` : '';
    const result = await clientFor(options).request<{ packages: PackageView[] }>(
      'GET',
      `/packages${query}`,
    );
    printResult(
      options.json,
      result,
      result.packages.map((p) => ({
        id: p.id,
        app: p.app,
        version: p.version,
        size: p.size,
        kind: p.kind,
        sha256: p.sha256.slice(0, 12),
      })),
    );
  });

  withApiOptions(
    pkg.command('show <id>').description('show a package and where it is deployed'),
  ).action(async (id: string, options) => {
    const view = await clientFor(options).request<PackageView & { rollouts: unknown[] }>(
      'GET',
      `/packages/${id}`,
    );
    printFields(
      options.json,
      options.json ? view : { ...packageFields(view), rollouts: view.rollouts },
    );
  });

  withApiOptions(
    pkg.command('delete <id>').description('delete a package not used by an active rollout'),
  ).action(async (id: string, options) => {
    await clientFor(options).request('DELETE', `/packages/${id}`);
    if (!options.json) process.stdout.write(`package ${id} deleted\n`);
  });
}

function packageFields(p: PackageView): Record<string, unknown> {
  return {
    id: p.id,
    app: p.app,
    version: p.version,
    kind: p.kind,
    size: p.size,
    sha256: p.sha256,
    file: p.fileName,
    ...(p.tapk && {
      'tapk name': p.tapk.name,
      'tapk description': p.tapk.description,
      'tapk build time': p.tapk.buildTimeIso,
      'tapk crc': p.tapk.crc,
    }),
    uploaded: new Date(p.createdAt).toISOString(),
  };
}
