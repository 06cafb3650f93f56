import fastifyCookie from '@fastify/cookie';
import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BEARER_SCHEME, COOKIE_SCHEME } from './common/access/auth.decorator';
import { routeTraits, type RouteTraits } from './common/access/route-traits';
import {
  BODY_LIMIT_BYTES,
  checkIgnoredBody,
  hasIgnoredBody,
  registerBodyParsers,
  unsupportedBody,
} from './common/body-parsing';
import { crossSiteRefusal } from './common/cross-site';
import { answerClientErrorAsJson } from './common/client-errors';
import { errorBody } from './common/http-error';
import { lingerIfBodyUnread } from './common/lingering-close';
import type { Logger } from 'pino';
import { endRequestLog, REQUEST_ID_HEADER, requestIdFor, ROOT_LOGGER, startRequestLog } from './common/logging';
import { cacheAndVaryHeaders, corsOptions, securityHeaders, type SecurityHeaders } from './common/security-headers';
import { appConfig, type AppConfig } from './config/app.config';
import { MetricsService } from './metrics/metrics.service';
import { assetsBase, FAVICON_CACHE, faviconSvg, LONG_LIVED, PUBLIC_DIR, UA_PARSER_DIR } from './pages/assets';
import { sessionCookieName } from './sessions/session-cookie';

/**
 * The HTTP server: Fastify (through @nestjs/platform-fastify), measured against Express in
 * docs/PERFORMANCE.md. Routing ignores case and a trailing slash (as Express's did), bodies are
 * limited to 100 kB, TRUST_PROXY decides which X-Forwarded-* headers count (as on Express, through
 * proxy-addr), and Node-level errors (oversized headers, malformed requests) are answered in JSON.
 */
export function createHttpAdapter(config: AppConfig): FastifyAdapter {
  const security = securityHeaders({ https: config.cookieSecure });
  return new FastifyAdapter({
    logger: false,
    trustProxy: config.trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: requestIdFor,
    clientErrorHandler: answerClientErrorAsJson,
    // While shutting down, the listening socket is closed (new connections are refused), idle
    // keep-alive connections are closed, and requests arriving on busy ones get 503 with
    // Connection: close; requests in flight finish (common/shutdown-deadline.ts bounds them).
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // A path segment (an id) up to 2 kB; Express had no limit of its own.
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: 2048 },
    // URLs the router cannot take (bad percent-encoding, an over-long segment) get the contract's
    // error shape and the usual headers (of no route: none matched); Fastify answers them before
    // any hook runs.
    frameworkErrors: (error: { code?: string }, req: FastifyRequest, reply: FastifyReply) => {
      applyResponseHeaders(NO_ROUTE, req, reply, security);
      const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
      void reply
        .code(status)
        .send(
          errorBody(
            status,
            status === 414 ? 'A path segment is too long' : 'The URL is not valid (bad percent-encoding)',
          ),
        );
    },
  });
}

const NO_ROUTE: RouteTraits = {};

/**
 * The headers every response carries, set before anything can answer: the request id, the
 * security headers, no-store and Vary (some by the route's traits).
 */
function applyResponseHeaders(
  route: RouteTraits,
  req: FastifyRequest,
  reply: FastifyReply,
  security: SecurityHeaders,
): void {
  reply.header(REQUEST_ID_HEADER, req.id);
  security(route, req, reply);
  cacheAndVaryHeaders(route, reply);
}

/**
 * Everything about the HTTP app that cannot be a Nest provider, used by main.ts and by tests so
 * both run the same server. The app must be created with createHttpAdapter and `bodyParser: false`.
 */
export async function configureApp(nestApp: INestApplication): Promise<void> {
  const app = nestApp as NestFastifyApplication;
  const config = app.get<AppConfig>(appConfig.KEY);
  const adapter = app.getHttpAdapter() as FastifyAdapter;
  const fastify = adapter.getInstance();

  // First on every request, after routing (Fastify routes a request before its onRequest hooks
  // run, so the matched route's traits are at hand: `req.routeOptions.config`, see
  // common/access/route-traits.ts) and before CORS and body parsing: the request id and the
  // response headers, so every response (errors included) carries X-Request-Id, no-store and the
  // security headers; then the cross-site guard and the body's media type, so a refused request's
  // body is never read. Responses carry no ETag or X-Powered-By (Fastify sends neither).
  const security = securityHeaders({ https: config.cookieSecure });
  const allowedOrigins = new Set(config.allowedOrigins);
  const logger = app.get<Logger>(ROOT_LOGGER);
  adapter.setOnRequestHook((req, reply, done) => {
    startRequestLog(logger, req);
    const route = routeTraits(req);
    applyResponseHeaders(route, req, reply, security);
    const refusal = crossSiteRefusal(req, route, allowedOrigins) ?? unsupportedBody(req, route.form === true);
    if (refusal) {
      void reply.code(refusal.statusCode).send(refusal);
      return;
    }
    if (!hasIgnoredBody(req)) return done();
    void checkIgnoredBody(req).then((error) => (error ? reply.code(error.statusCode).send(error) : done()));
  });
  // The request histogram: the route's template (never the raw URL), from Fastify's own timing.
  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', (req, reply, done) => {
    endRequestLog(logger, req, reply);
    metrics.observeRequest(req.routeOptions.url, req.method, reply.statusCode, reply.elapsedTime);
    done();
  });
  // Once the server is closing, each answer to a request that was in flight closes its
  // connection (Connection: close): the server closed idle keep-alive connections when it began
  // closing, and without this one that became idle afterwards would keep it open until its
  // keep-alive timeout.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // Every answer is no-store (the OpenAPI page's static files would set their own Cache-Control),
  // except the 200s of a route that declares a Cache-Control of its own (the pages' versioned
  // files, the icon). An answer that closes the connection while the body is still arriving (413)
  // closes it gently, so the client can read it (common/lingering-close.ts).
  fastify.addHook('onSend', (req, reply, payload, done) => {
    const cacheControl = reply.statusCode === 200 ? routeTraits(req).cacheControl : undefined;
    if (cacheControl) reply.header('cache-control', cacheControl);
    else if (reply.getHeader('cache-control') !== 'no-store') reply.header('cache-control', 'no-store');
    if (closing) reply.header('connection', 'close');
    lingerIfBodyUnread(req, reply);
    done(null, payload);
  });
  app.enableCors(corsOptions(config.allowedOrigins));
  registerBodyParsers(fastify);
  await app.register(fastifyCookie);

  // The pages' styles, scripts and icon (src/pages/public) and the user-agent parser the dashboard
  // runs (pages/assets.ts), under a version that changes with their content: /assets/<version>/,
  // kept by browsers for a year (the pages link them there, through the views' {{assets}}). The
  // same files stay at their unversioned URLs (/assets/app.css), no-store as before, for anything
  // that still names them. Another version's URL (a page drawn by an instance running other files,
  // during a rolling deploy) is a 404, never cached: an immutable URL only ever answers its own
  // content, and a reload fetches a page and files that agree.
  const assets = assetsBase();
  fastify.addHook('onRoute', (route) => {
    if (route.url.startsWith(`${assets}/`))
      route.config = { ...(route.config as object), cacheControl: LONG_LIVED } satisfies RouteTraits;
  });
  const files = {
    index: false,
    redirect: false,
    dotfiles: 'ignore',
    etag: false,
    lastModified: false,
    cacheControl: false,
    decorateReply: false,
  } as const;
  const onlyUaParser = (path: string) => path === '/ua-parser.min.js';
  for (const prefix of [`${assets}/`, '/assets/']) {
    app.useStaticAssets({ ...files, root: PUBLIC_DIR, prefix });
    app.useStaticAssets({ ...files, root: UA_PARSER_DIR, prefix: `${prefix}vendor/`, allowedPath: onlyUaParser });
  }
  // Browsers ask for /favicon.ico on every page that links no icon (a JSON answer, /docs): the
  // same icon, so none of them logs a 404 (the CSP's img-src 'self' allows it).
  fastify.get('/favicon.ico', { config: { cacheControl: FAVICON_CACHE } satisfies RouteTraits }, (_req, reply) =>
    reply.type('image/svg+xml').send(faviconSvg()),
  );

  // GET /metrics on the main port only with METRICS_TOKEN (without it, the 404 of any unknown
  // route): a Fastify route of its own, so neither the session guard nor the OpenAPI document
  // sees it (it is for Prometheus, not for the API's clients: docs/OPERATIONS.md documents it).
  if (config.metrics.token !== null) {
    fastify.get('/metrics', (req, reply) => {
      if (!metrics.authorizes(req.headers.authorization)) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="metrics"')
          .send(errorBody(401, 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>'));
      }
      return metrics.exposition().then(({ body, contentType }) => reply.type(contentType).send(body));
    });
  }

  // The OpenAPI page (Swagger UI) has inline styles: its routes, registered by @nestjs/swagger
  // rather than by a controller, are marked here, where their path is chosen.
  fastify.addHook('onRoute', (route) => {
    if (route.url === `/${DOCS}` || route.url.startsWith(`/${DOCS}/`))
      route.config = { ...(route.config as object), inlineStyles: true } satisfies RouteTraits;
  });
  const document = SwaggerModule.createDocument(app, buildOpenApiConfig(config));
  SwaggerModule.setup(DOCS, app, document, { jsonDocumentUrl: `${DOCS}-json`, yamlDocumentUrl: `${DOCS}-yaml` });
}

/** Where the OpenAPI page is served (its JSON at /docs-json, its YAML at /docs-yaml). */
const DOCS = 'docs';

function buildOpenApiConfig(config: AppConfig) {
  return new DocumentBuilder()
    .setTitle('Session server')
    .setVersion('1.0')
    .setDescription(
      [
        'Opaque session tokens in an HttpOnly cookie (or `Authorization: Bearer`), checked on every request by one guard.',
        'Sessions expire `SESSION_TIMEOUT` seconds after login (activity never extends them) and, when `SESSION_IDLE_TIMEOUT` is set, after that long without activity.',
        '`last_activity` is written at most once a minute per session (at most a quarter of the idle timeout when one is set).',
        'Errors are JSON: `{statusCode, error, message}`. Unknown body fields are refused (400); unknown query parameters are ignored.',
        'Bodies are JSON (limit 100 kB); `/signup` and `/login` also take HTML form posts.',
        'Cross-site requests: a `POST`, `PUT`, `PATCH` or `DELETE` (on any route, `/signup` and `/login` included) that a browser marks as cross-site ' +
          '(`Sec-Fetch-Site: cross-site` or `same-site`, or, without that header, an `Origin` that is neither this server nor one of `ALLOWED_ORIGINS`, or `Origin: null`) ' +
          'is refused with 403, and so is `GET /logout` with `Sec-Fetch-Site: cross-site`. An `Origin` listed in `ALLOWED_ORIGINS` always passes; ' +
          'requests with neither header (curl, Postman, servers) are not refused on this ground. ' +
          'CORS (with credentials; methods GET, POST, DELETE; headers Content-Type and Authorization) is granted to exactly the `ALLOWED_ORIGINS`, to no other origin.',
        'Every JSON response has `Cache-Control: no-store`; logout responses clear the session cookie (under both its names) but no other: no `Clear-Site-Data: "cookies"`, which would also forget the known device (see `POST /login`).',
        'Every response carries `X-Request-Id` (a well-formed one sent by the client is kept), the id its log lines carry.',
        'Failed logins are throttled (429 with Retry-After) and a user keeps at most `MAX_SESSIONS_PER_USER` sessions: see `POST /login`.',
      ].join('\n\n'),
    )
    .addCookieAuth(
      sessionCookieName(config.cookieSecure),
      {
        type: 'apiKey',
        in: 'cookie',
        description:
          'Set by POST /login. When a request carries several cookies of this name (one planted by a sibling subdomain), ' +
          'each is tried, up to four, and the first that names a valid session is used.',
      },
      COOKIE_SCHEME,
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'opaque',
        description:
          'The same token as the cookie, for clients without a cookie jar, sent as `Authorization: Bearer <token>`; when both are sent, the header is used. ' +
          'To get one, log in with `"return_token": true` in the JSON body of `POST /login` (`{"email", "password", "return_token": true}`): ' +
          'the response carries it as `token`. Here, paste that value (without `Bearer `) into "Authorize" → `bearer`. ' +
          'It stays valid until the session ends (`POST /logout` with it ends it); `POST /change_password` made with it answers with the replacement `token`. ' +
          'An `Authorization` header that is not `Bearer <token>` (`Bearer` alone, `Basic ...`, two tokens) is answered ' +
          '401 with reason `invalid` (on `/logout` it counts as no session); the cookie is then not read.',
      },
      BEARER_SCHEME,
    )
    .build();
}
