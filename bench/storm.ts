/**
 * The login storm, in its own process (spawned by run.ts with `node --import tsx`), so that its
 * autocannon does not share an event loop with the one measuring GET /session_status meanwhile.
 *
 * argv[2]: JSON { url, connections, seconds, emails, password }. Prints `STARTED` once the
 * connections are open, then one line `RESULT {json}` with the answers it got.
 */
import autocannon from 'autocannon';
import { connectionRequests } from './load';

interface StormConfig {
  url: string;
  connections: number;
  seconds: number;
  emails: string[];
  password: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as StormConfig;
let nextEmail = 0;
const requests = [
  {
    method: 'POST' as const,
    path: '/login',
    body: () => JSON.stringify({ email: config.emails[nextEmail++ % config.emails.length], password: config.password }),
  },
];
const statusCounts: Record<string, number> = {};
let connection = 0;

const instance = autocannon(
  {
    url: config.url,
    connections: config.connections,
    duration: config.seconds,
    timeout: 10,
    setupClient: (client) => client.setRequests(connectionRequests({ requests }, connection++)),
  },
  (error, result) => {
    if (error) {
      console.error(error);
      process.exit(1);
    }
    console.log(
      `RESULT ${JSON.stringify({ statusCounts, errors: result.errors, timeouts: result.timeouts, seconds: result.duration })}`,
    );
  },
);
instance.on('start', () => console.log('STARTED'));
instance.on('response', (_client, status) => {
  statusCounts[status] = (statusCounts[status] ?? 0) + 1;
});
