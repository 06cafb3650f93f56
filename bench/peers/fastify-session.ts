/**
 * The peer a Fastify user would pick: Fastify 5 with @fastify/cookie and @fastify/session 11, and a
 * SQLite store (bench/peers/fastify-sqlite-store.ts). POST /login (no password check: only the
 * session work is compared) stores in the session the user and the session facts our login records;
 * GET /session_status answers from them in our route's shape: `{authenticated, user, session,
 * expires_in}`, or 401 `{authenticated: false}` without a session.
 *
 * The session options are @fastify/session's defaults, which is what a typical setup runs with:
 * `rolling: true` (every answer re-sends the cookie and saves the session, so its row is written on
 * every request) and `saveUninitialized: true`. That is more writing than our guard does (it writes
 * `last_activity` at most once a minute); it is also what the issue measured the server against.
 *
 * Env: PORT, PEER_DB (the SQLite file). Started by run.ts as its own process.
 */
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import Fastify from 'fastify';
import { FastifySqliteStore } from './fastify-sqlite-store';

interface PeerUser {
  id: number;
  name: string;
  email: string;
  phone: string;
  created_at: string;
  last_login: string;
  is_active: boolean;
  email_verified: boolean;
}
interface PeerSessionFacts {
  id: number;
  ip_address: string;
  user_agent: string;
  login_time: string;
  expires_at: string;
}

declare module 'fastify' {
  interface Session {
    user?: PeerUser;
    facts?: PeerSessionFacts;
  }
}

const TTL_MS = 86_400_000;
const port = Number(process.env.PORT ?? 5291);
const app = Fastify({ logger: false });
void app.register(fastifyCookie);
void app.register(fastifySession, {
  secret: 'peer-secret-not-for-production-0123456789abcdef',
  store: new FastifySqliteStore(process.env.PEER_DB ?? 'peer-fastify-sessions.db', TTL_MS),
  cookie: { httpOnly: true, sameSite: 'lax', secure: false, path: '/', maxAge: TTL_MS },
});

let nextId = 1;

app.post('/login', (request, reply) => {
  const body = (request.body ?? {}) as { email?: unknown; name?: unknown };
  const id = nextId++;
  const now = new Date();
  request.session.user = {
    id,
    name: typeof body.name === 'string' ? body.name : `Peer User ${id}`,
    email: typeof body.email === 'string' ? body.email : `peer-${id}@example.com`,
    phone: '+1 555 0100',
    created_at: now.toISOString(),
    last_login: now.toISOString(),
    is_active: true,
    email_verified: false,
  };
  request.session.facts = {
    id,
    ip_address: request.ip,
    user_agent: request.headers['user-agent'] ?? '',
    login_time: now.toISOString(),
    expires_at: new Date(now.getTime() + TTL_MS).toISOString(),
  };
  void reply.send({ user: request.session.user });
});

app.get('/session_status', (request, reply) => {
  const { user, facts } = request.session;
  if (!user || !facts) {
    void reply.code(401).send({ authenticated: false });
    return;
  }
  const expiresAt = new Date(facts.expires_at).getTime();
  void reply.send({
    authenticated: true,
    user,
    session: { ...facts, last_activity: new Date().toISOString(), is_active: true, current: true },
    expires_in: Math.max(0, Math.floor((expiresAt - Date.now()) / 1000)),
  });
});

app.get('/health', (_request, reply) => {
  void reply.send({ status: 'ok' });
});

app.listen({ port, host: '127.0.0.1' }).then(
  () => console.log(`fastify peer listening on ${port}`),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
