import request from 'supertest';
import type { OpenApiDocument } from './utils/openapi-check';
import { NOT_IN_CATALOGUE, openApiPath, routeLabel, ROUTES, type Access, type CatalogueRoute } from './utils/routes';
import { createTestApp, type TestApp } from './utils/test-app';

/**
 * The route catalogue (test/utils/routes.ts) against the running server: the routes Fastify
 * registered (collected by an onRoute hook from before the first one, see createTestApp), the
 * config each route carries there (its @Auth and other traits, as the guard and the request hooks
 * read them) and the OpenAPI document. A route added to the server and not to the
 * catalogue, or left in the catalogue after it is gone, fails here.
 */
describe('The route catalogue', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const catalogued = () => ROUTES.map(routeLabel).sort();

  /** The server's own routes as `METHOD path`: Fastify's table, less what NOT_IN_CATALOGUE names and the HEAD twins of GETs. */
  function serverRoutes(): string[] {
    const all = new Set(t.routes);
    return [...all]
      .filter((r) => !NOT_IN_CATALOGUE.some((n) => n.route.test(r)))
      .filter((r) => !(r.startsWith('HEAD ') && all.has(r.replace(/^HEAD /, 'GET '))))
      .sort();
  }

  it("sees Fastify's whole route table (the hook was there before the first route)", () => {
    // The plugins' routes (CORS, the OpenAPI page, static files) and the controllers' alike.
    expect(t.routes).toEqual(
      expect.arrayContaining(['OPTIONS *', 'GET /docs-json', 'GET /assets/*', 'POST /signup', 'GET /health']),
    );
  });

  it('has every route the server has, and no route the server lacks', () => {
    const server = serverRoutes();
    const names = catalogued();
    expect({ missingFromCatalogue: server.filter((r) => !names.includes(r)) }).toEqual({ missingFromCatalogue: [] });
    expect({ notOnServer: names.filter((r) => !server.includes(r)) }).toEqual({ notOnServer: [] });
    expect(new Set(names).size).toBe(names.length);
  });

  /** A catalogued route's config in Fastify's route table, where the session guard and the request hooks read it. */
  const configOf = (r: CatalogueRoute) => t.routeConfig(`${r.method.toUpperCase()} ${r.path}`) ?? {};

  it("says each route's access as its @Auth declares it (or the session guard's default: a session)", () => {
    const declared = (r: CatalogueRoute): Access => {
      const access = configOf(r).access;
      if (!access || access.mode === 'required') return 'session';
      return access.mode;
    };
    for (const r of ROUTES)
      expect({ route: routeLabel(r), access: r.access, admin: r.admin ?? false }).toEqual({
        route: routeLabel(r),
        access: declared(r),
        admin: configOf(r).access?.admin ?? false,
      });
  });

  it('marks as form routes exactly those that take a form post', () => {
    expect(ROUTES.filter((r) => r.form).map(routeLabel)).toEqual(
      ROUTES.filter((r) => configOf(r).form).map(routeLabel),
    );
  });

  it("documents a session (both schemes) on exactly the routes that need one or are admin's, and the session's 401 on those that need one", async () => {
    const doc: OpenApiDocument = (await request(t.http).get('/docs-json').expect(200)).body;
    for (const r of ROUTES) {
      const op = doc.paths[openApiPath(r)]?.[r.method];
      const needsSession = r.access === 'session';
      const unauthorized = JSON.stringify(op?.responses['401'] ?? {});
      expect({
        route: routeLabel(r),
        security: op?.security ?? [],
        sessionUnauthorized: unauthorized.includes('#/components/schemas/UnauthorizedDto'),
      }).toEqual({
        route: routeLabel(r),
        security: needsSession || r.admin ? [{ session_cookie: [] }, { bearer: [] }] : [],
        sessionUnauthorized: needsSession,
      });
    }
  });

  it('is what the OpenAPI document describes, path for path', async () => {
    const doc: OpenApiDocument = (await request(t.http).get('/docs-json').expect(200)).body;
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(ROUTES.map((r) => `${r.method.toUpperCase()} ${openApiPath(r)}`).sort());
  });
});
