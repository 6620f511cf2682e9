import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { TiotaError } from '../../errors.js';
import type { UploadRequest } from '../../domain/package-service.js';
import { refuseNul } from '../input-guard.js';
import type { ServerContext } from '../server-context.js';

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
} as const;

const uploadQuery = {
  type: 'object',
  properties: {
    version: { type: 'string', maxLength: 64 },
    app: { type: 'string', maxLength: 64 },
    fileName: { type: 'string', maxLength: 255 },
    sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
    sha1: { type: 'string', pattern: '^[0-9a-fA-F]{40}$' },
    md5: { type: 'string', pattern: '^[0-9a-fA-F]{32}$' },
  },
  additionalProperties: false,
} as const;

type UploadQuery = {
  version?: string;
  app?: string;
  fileName?: string;
  sha256?: string;
  sha1?: string;
  md5?: string;
};

/**
 * Packages: upload as a raw body (`Content-Type: application/octet-stream`, fields in the
 * query string) or multipart (fields first, then the file part), list, show, delete.
 */
export function packagesRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    '/api/v1/packages',
    { schema: { querystring: uploadQuery, tags: ['packages'] } },
    async (request, reply) => {
      const upload = request.isMultipart()
        ? await multipartUpload(request)
        : rawUpload(request.body as Readable, request.query as UploadQuery, request.headers);
      const view = await ctx.packages.upload(upload, request.actor);
      return reply.status(201).send(view);
    },
  );

  app.get(
    '/api/v1/packages',
    {
      schema: {
        tags: ['packages'],
        querystring: {
          type: 'object',
          properties: { app: { type: 'string' } },
          additionalProperties: false,
        },
      },
    },
    async (request) => ({ packages: await ctx.packages.list(request.query as { app?: string }) }),
  );

  app.get(
    '/api/v1/packages/:id',
    { schema: { params: idParams, tags: ['packages'] } },
    async (request) => {
      const { id } = request.params as { id: number };
      const pkg = await ctx.packages.get(id);
      const rollouts = await ctx.rollouts.list();
      return {
        ...pkg,
        rollouts: rollouts
          .filter((r) => r.package.id === id)
          .map((r) => ({ id: r.id, name: r.name, status: r.status })),
      };
    },
  );

  app.delete(
    '/api/v1/packages/:id',
    { schema: { params: idParams, tags: ['packages'] } },
    async (request, reply) => {
      await ctx.packages.delete((request.params as { id: number }).id, request.actor);
      return reply.status(204).send();
    },
  );
}

function rawUpload(
  body: Readable | undefined,
  query: UploadQuery,
  headers: FastifyRequest['headers'],
): UploadRequest {
  if (!body || typeof (body as Readable).pipe !== 'function') {
    throw new TiotaError(
      'bad_request',
      'send the package as the request body (application/octet-stream) or multipart',
    );
  }
  const declaredSha = headers['x-checksum-sha256'];
  return {
    body,
    version: requireVersion(query.version),
    appName: query.app,
    fileName: query.fileName ?? String(headers['x-file-name'] ?? 'package.bin'),
    declared: {
      sha256: query.sha256 ?? (typeof declaredSha === 'string' ? declaredSha : undefined),
      sha1: query.sha1,
      md5: query.md5,
    },
  };
}

async function multipartUpload(request: FastifyRequest): Promise<UploadRequest> {
  const fields: Record<string, string> = {};
  for await (const part of request.parts()) {
    if (part.type === 'field') {
      fields[part.fieldname] = String(part.value);
      refuseNul(fields[part.fieldname], `body.${part.fieldname}`);
      continue;
    }
    refuseNul(part.filename, 'the file name');
    // The file part: hand its stream on. Fields after it are not seen, so they must come first.
    return {
      body: part.file,
      version: requireVersion(fields.version ?? (request.query as UploadQuery).version),
      appName: fields.app ?? (request.query as UploadQuery).app,
      fileName: part.filename || 'package.bin',
      declared: { sha256: fields.sha256, sha1: fields.sha1, md5: fields.md5 },
    };
  }
  throw new TiotaError('bad_request', 'the multipart body has no file part');
}

function requireVersion(version: string | undefined): string {
  if (!version)
    throw new TiotaError(
      'validation_failed',
      'version is required (the .tapk has no version field)',
    );
  return version;
}
