import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import cookieParser from 'cookie-parser';
import { join } from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import { BEARER_SCHEME, COOKIE_SCHEME } from './common/api-docs';
import { BODY_LIMIT, bodyParserErrorHandler, requireSupportedBody } from './common/body-parsing';
import { crossSiteProtection } from './common/cross-site';
import { answerClientErrorsAsJson } from './common/client-errors';
import { requestId } from './common/logging';
import { cacheAndVaryHeaders, corsOptions, securityHeaders } from './common/security-headers';
import { appConfig, type AppConfig } from './config/app.config';
import { sessionCookieName } from './sessions/session-cookie';

/**
 * Everything about the HTTP app that cannot be a Nest provider, used by main.ts and by tests so
 * both run the same server. The app must be created with `bodyParser: false`.
 */
export function configureApp(nestApp: INestApplication): void {
  const app = nestApp as NestExpressApplication;
  const config = app.get<AppConfig>(appConfig.KEY);

  app.disable('x-powered-by');
  answerClientErrorsAsJson(app.getHttpServer());
  // Responses are per user and per moment; no conditional-GET validators.
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);
  // Express's "extended" query parser builds nested objects from a[b]=c; plain key=value is enough.
  app.set('query parser', 'simple');

  // Order matters. The request id and the response headers before anything can answer, so every
  // response (errors included) carries X-Request-Id, no-store and the security headers; then the
  // cross-site guard, before CORS and the body parsers, so a refused request's body is never read.
  app.use(requestId);
  app.use(securityHeaders({ https: config.cookieSecure }));
  app.use(cacheAndVaryHeaders);
  app.use(crossSiteProtection(config.allowedOrigins));
  app.enableCors(corsOptions(config.allowedOrigins));
  app.use(requireSupportedBody);
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useBodyParser('urlencoded', { limit: BODY_LIMIT, extended: false, parameterLimit: 100 });
  app.use(bodyParserErrorHandler);
  app.use(cookieParser());

  // The pages' styles and scripts (src/pages/public, copied into dist by nest-cli.json) and the
  // user-agent parser the dashboard runs, from its npm package: no CDN, no build step.
  const files = { index: false, redirect: false, dotfiles: 'ignore' as const, etag: false, lastModified: false };
  app.useStaticAssets(join(__dirname, 'pages', 'public'), { ...files, prefix: '/assets/' });
  const uaParser = require.resolve('ua-parser-js/dist/ua-parser.min.js');
  app.use('/assets/vendor/ua-parser.min.js', (req: Request, res: Response, next: NextFunction) =>
    (req.method === 'GET' || req.method === 'HEAD') && req.path === '/' ? res.sendFile(uaParser, files) : next(),
  );

  const document = SwaggerModule.createDocument(app, buildOpenApiConfig(config));
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}

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
        'Every JSON response has `Cache-Control: no-store`; logout responses carry `Clear-Site-Data: "cookies"`.',
        'Every response carries `X-Request-Id` (a well-formed one sent by the client is kept), the id its log lines carry.',
        'Failed logins are throttled (429 with Retry-After) and a user keeps at most `MAX_SESSIONS_PER_USER` sessions: see `POST /login`.',
      ].join('\n\n'),
    )
    .addCookieAuth(sessionCookieName(config.cookieSecure), { type: 'apiKey', in: 'cookie', description: 'Set by POST /login.' }, COOKIE_SCHEME)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque', description: 'The same token as the cookie, for clients without a cookie jar.' }, BEARER_SCHEME)
    .build();
}
