import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import cookieParser from 'cookie-parser';
import { BEARER_SCHEME, COOKIE_SCHEME } from './common/api-docs';
import { BODY_LIMIT, bodyParserErrorHandler, requireSupportedBody } from './common/body-parsing';
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
  // Responses are per user and per moment; no conditional-GET validators.
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);
  // Express's "extended" query parser builds nested objects from a[b]=c; plain key=value is enough.
  app.set('query parser', 'simple');

  app.use(requireSupportedBody);
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useBodyParser('urlencoded', { limit: BODY_LIMIT, extended: false, parameterLimit: 100 });
  app.use(bodyParserErrorHandler);
  app.use(cookieParser());

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
      ].join('\n\n'),
    )
    .addCookieAuth(sessionCookieName(config.cookieSecure), { type: 'apiKey', in: 'cookie', description: 'Set by POST /login.' }, COOKIE_SCHEME)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque', description: 'The same token as the cookie, for clients without a cookie jar.' }, BEARER_SCHEME)
    .build();
}
