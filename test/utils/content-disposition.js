/* eslint-disable @typescript-eslint/no-require-imports */
/**
 * For jest only. @fastify/static requires content-disposition 3, which is ESM only: Node 20.19
 * loads it through require(), but jest 30 on Node 20 cannot. jest.config.js maps the package here,
 * to the same function from content-disposition 1 (CommonJS, installed with Express). The server
 * uses it for nothing (only reply.download() builds that header).
 */
const contentDisposition = require('../../node_modules/content-disposition/index.js');

module.exports = { create: contentDisposition, parse: contentDisposition.parse };
