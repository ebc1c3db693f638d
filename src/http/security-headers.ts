import type { FastifyInstance } from 'fastify';

/**
 * The policy of the pages Parley serves (`/docs`; `/inspect` sets its own): everything from this
 * origin, nothing from elsewhere, so the pages work offline and an injected script could not send
 * anything away. Swagger UI styles its elements inline, hence 'unsafe-inline' for styles only;
 * its icons and logo are data: URLs.
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE_PREFIXES = ['/docs', '/inspect'] as const;

function under(url: string, prefix: string): boolean {
  return url.startsWith(prefix) && (url.length === prefix.length || url[prefix.length] === '/' || url[prefix.length] === '?');
}

/**
 * `/v1` answers hold conversations and settings: `Cache-Control: no-store` keeps them out of
 * browser and proxy caches, errors included. Pages get a content security policy (unless they set
 * their own), no MIME sniffing and no framing, against clickjacking of the operator's session.
 * Register on the root instance.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const url = request.url;
    if (under(url, '/v1')) {
      void reply.header('cache-control', 'no-store');
    } else if (PAGE_PREFIXES.some((prefix) => under(url, prefix))) {
      if (!reply.hasHeader('content-security-policy')) void reply.header('content-security-policy', PAGE_CSP);
      void reply.headers({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY' });
    }
    return payload;
  });
}
