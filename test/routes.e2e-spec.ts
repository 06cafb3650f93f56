import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import request from 'supertest';
import { AUTH_MODE, type AuthMode } from '../src/auth/auth.decorators';
import { FORM_ROUTES } from '../src/common/body-parsing';
import type { OpenApiDocument } from './utils/openapi-check';
import { NOT_IN_CATALOGUE, openApiPath, routeLabel, ROUTES, type Access } from './utils/routes';
import { createTestApp, type TestApp } from './utils/test-app';

/**
 * The route catalogue (test/utils/routes.ts) against the running server: the routes Fastify
 * registered (collected by an onRoute hook from before the first one, see createTestApp), the
 * controllers' own metadata and the OpenAPI document. A route added to the server and not to the
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

  it("says each route's access as its handler declares it (@Public, @OptionalSession, or the session guard's default)", () => {
    const declared = new Map<string, Access>();
    for (const module of t.app.get(ModulesContainer).values()) {
      for (const wrapper of module.controllers.values()) {
        const controller = wrapper.metatype as (new (...args: never[]) => unknown) | null;
        if (!controller) continue;
        const prefix = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
        const proto = controller.prototype as Record<string, unknown>;
        for (const name of Object.getOwnPropertyNames(proto)) {
          const handler = proto[name];
          if (typeof handler !== 'function' || name === 'constructor') continue;
          const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
          if (method === undefined || method === RequestMethod.HEAD) continue;
          const path = `/${[prefix, String(Reflect.getMetadata(PATH_METADATA, handler) ?? '')]
            .flatMap((p) => p.split('/'))
            .filter(Boolean)
            .join('/')}`;
          const mode =
            (Reflect.getMetadata(AUTH_MODE, handler) as AuthMode | undefined) ??
            (Reflect.getMetadata(AUTH_MODE, controller) as AuthMode | undefined);
          declared.set(`${RequestMethod[method]} ${path}`, mode ?? 'session');
        }
      }
    }
    expect([...declared.keys()].sort()).toEqual(catalogued());
    for (const r of ROUTES)
      expect({ route: routeLabel(r), access: r.access }).toEqual({
        route: routeLabel(r),
        access: declared.get(routeLabel(r)),
      });
  });

  it('marks as form routes exactly those that take a form post', () => {
    expect(
      ROUTES.filter((r) => r.form)
        .map((r) => r.path)
        .sort(),
    ).toEqual([...FORM_ROUTES].sort());
  });

  it('is what the OpenAPI document describes, path for path', async () => {
    const doc: OpenApiDocument = (await request(t.http).get('/docs-json').expect(200)).body;
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(ROUTES.map((r) => `${r.method.toUpperCase()} ${openApiPath(r)}`).sort());
  });
});
