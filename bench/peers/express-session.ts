/**
 * The peer the server is compared with: the usual Express way of doing sessions, express-session
 * with a SQLite store, as small as it gets. POST /login (no password check: only the session
 * work is compared) stores a user in the session; GET /session_status answers from it.
 *
 * Env: PORT, PEER_DB (the SQLite file). Started by run.ts as its own process.
 */
import express, { type Request } from 'express';
import session from 'express-session';
import { SqliteStore } from './sqlite-store';

interface PeerUser {
  id: number;
  name: string;
  email: string;
}
type WithSession = Request & { session: session.Session & { user?: PeerUser } };

const port = Number(process.env.PORT ?? 5290);
const app = express();
app.disable('x-powered-by');
app.use(express.json());
app.use(
  session({
    secret: 'peer-secret-not-for-production-0123456789abcdef',
    store: new SqliteStore(process.env.PEER_DB ?? 'peer-sessions.db'),
    resave: false,
    saveUninitialized: false,
    rolling: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: 86_400_000 },
  }),
);

let nextId = 1;

app.post('/login', (req, res, next) => {
  const r = req as WithSession;
  const body = (req.body ?? {}) as { email?: unknown; name?: unknown };
  const id = nextId++;
  r.session.user = {
    id,
    name: typeof body.name === 'string' ? body.name : `Peer User ${id}`,
    email: typeof body.email === 'string' ? body.email : `peer-${id}@example.com`,
  };
  r.session.save((error) => (error ? next(error) : res.json({ user: r.session.user })));
});

app.get('/session_status', (req, res) => {
  const user = (req as WithSession).session.user;
  if (!user) {
    res.status(401).json({ authenticated: false });
    return;
  }
  res.json({ authenticated: true, user });
});

app.get('/health', (_req, res) => {
  res.json({ status: 'ok' });
});

app.listen(port, () => console.log(`peer listening on ${port}`));
