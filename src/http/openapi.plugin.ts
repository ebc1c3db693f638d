import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export interface OpenApiOptions {
  /** The API version shown in the document, normally the package version. */
  readonly version: string;
  /** Routes under this prefix are documented as needing the bearer token. Default `/v1`. */
  readonly securedPrefix?: string;
  /** Where the UI is served; the document lives at `<routePrefix>/json`. Default `/docs`. */
  readonly routePrefix?: string;
}

/** Name of the security scheme in the OpenAPI document. */
export const BEARER_SCHEME = 'bearerAuth';

/**
 * Serves the OpenAPI 3 document and its UI. Register it on the root instance before any route:
 * the document is assembled from the schemas of routes added after it. The UI's assets come from
 * the package itself, so `/docs` works without internet access. Security is attached per route
 * rather than globally so that `/healthz` and the docs themselves are not shown as protected.
 */
export async function registerOpenApi(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  const securedPrefix = options.securedPrefix ?? '/v1';
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Parley',
        description: 'Control plane for many WhatsApp bots with AI replies over text and media.',
        version: options.version,
      },
      components: {
        securitySchemes: { [BEARER_SCHEME]: { type: 'http', scheme: 'bearer', description: 'The API_KEY of the Parley instance.' } },
      },
    },
    // Shared schemas are listed under their `$id` rather than as `def-0`, `def-1`, ...
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: ({ schema, url }) => {
      const secured = url === securedPrefix || url.startsWith(`${securedPrefix}/`);
      if (!secured || (schema !== undefined && 'security' in schema)) return { schema, url };
      return { schema: { ...schema, security: [{ [BEARER_SCHEME]: [] }] }, url };
    },
  });
  await app.register(swaggerUi, {
    routePrefix: options.routePrefix ?? '/docs',
    uiConfig: { persistAuthorization: false, tryItOutEnabled: true },
  });
}
