/* eslint-disable @typescript-eslint/no-require-imports */
/**
 * A measuring probe, not the product: boots the built AppModule (dist/) on Express or on Fastify
 * with nothing around it but cookie parsing (no helmet, CORS, cross-site check, body limits or
 * OpenAPI), so that `bench/platforms.ts` can tell what the HTTP platform itself costs on the
 * guard's path. Plain JavaScript because tsx emits no decorator metadata, which Nest's injection
 * needs; the app it boots is the compiled one.
 *
 * Usage: node bench/probe/platform.js express|fastify|fastify-bare   (PORT, DATABASE_URL, SECRET_KEY, ... as for the server)
 */
require('reflect-metadata');
const { NestFactory } = require('@nestjs/core');
const { AppModule } = require('../../dist/src/app.module');

async function main() {
  const platform = process.argv[2];
  const port = Number(process.env.PORT);
  let app;
  if (platform === 'fastify-bare') {
    // Not Nest at all: one Fastify route answering what /health/live answers, the floor of a request.
    const fastify = require('fastify')({ logger: false });
    fastify.get('/health/live', (_req, reply) => reply.send({ status: 'ok' }));
    fastify.get('/health', (_req, reply) => reply.send({ status: 'ok' }));
    await fastify.listen({ port, host: '127.0.0.1' });
    return;
  }
  if (platform === 'fastify') {
    const { FastifyAdapter } = require('@nestjs/platform-fastify');
    app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: ['error', 'warn'] });
    await app.register(require('@fastify/cookie'));
  } else if (platform === 'express') {
    app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
    app.use(require('cookie-parser')());
  } else {
    throw new Error('usage: platform.js express|fastify');
  }
  await app.listen(port, '127.0.0.1');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
