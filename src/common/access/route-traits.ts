import { METHOD_METADATA } from '@nestjs/common/constants';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import type { FastifyRequest } from 'fastify';

/** Who may call a route, as the session guard reads it (written by @Auth, never by hand). */
export interface AccessRule {
  /** required: a valid session or 401; optional: looked up if present, never refused; public: never looked up. */
  mode: 'required' | 'optional' | 'public';
  /** Administrators only: anyone else gets the 404 of an unknown route (then a recent password is needed). */
  admin?: true;
  /** A signed-out browser (Accept: text/html) is redirected here instead of getting 401. */
  redirectBrowsersTo?: string;
}

/**
 * What a route is, declared beside its handler and kept in its Fastify route config, where the
 * edge's hooks read it (`req.routeOptions.config`, the route the router has already matched), so
 * `common/` names no path. A request no route matched (404) has none of these.
 */
export interface RouteTraits {
  access?: AccessRule;
  /** Also takes classic HTML form posts (application/x-www-form-urlencoded); other routes answer them 415. */
  form?: true;
  /** The answer depends on Accept (a browser gets a page): Vary: Accept. */
  negotiated?: true;
  /**
   * A GET or HEAD that changes state (GET /logout): SameSite=Lax still sends the cookie on a
   * top-level cross-site navigation, so the cross-site check refuses `Sec-Fetch-Site: cross-site`
   * for it too, and the answer varies on Sec-Fetch-Site.
   */
  crossSiteChecked?: true;
  /** A page whose CSP must allow inline styles (never inline scripts): the OpenAPI page. */
  inlineStyles?: true;
  /**
   * The Cache-Control of the route's 200 answers, instead of no-store: files that never hold user
   * data (the pages' versioned assets, the icon). Its errors (a 404) stay no-store.
   */
  cacheControl?: string;
}

/** A request's route traits ({} for a request no route matched). */
export function routeTraits(req: FastifyRequest): RouteTraits {
  return (req.routeOptions.config as RouteTraits | undefined) ?? {};
}

function merge(target: object, traits: RouteTraits, keepExisting: boolean): void {
  const existing = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, target) as RouteTraits | undefined) ?? {};
  const merged = keepExisting ? { ...traits, ...existing } : { ...existing, ...traits };
  Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, merged, target);
}

/**
 * Declares route traits. Unlike @nestjs/platform-fastify's RouteConfig (one metadata value that
 * the last decorator replaces) the traits of several decorators add up. On a controller class it
 * applies to each of its handlers, a handler's own traits winning: the adapter reads the route
 * config from the handler only.
 */
export function WithRouteTraits(traits: RouteTraits): ClassDecorator & MethodDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor) return merge(descriptor.value as object, traits, false);
    const proto = (target as { prototype: Record<string, unknown> }).prototype;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
      if (typeof handler === 'function' && Reflect.getMetadata(METHOD_METADATA, handler) !== undefined)
        merge(handler, traits, true);
    }
  };
}

/** See RouteTraits.form. */
export const AcceptsFormPosts = () => WithRouteTraits({ form: true });

/** See RouteTraits.negotiated. */
export const NegotiatesHtml = () => WithRouteTraits({ negotiated: true });

/** See RouteTraits.crossSiteChecked. */
export const CrossSiteChecked = () => WithRouteTraits({ crossSiteChecked: true });
