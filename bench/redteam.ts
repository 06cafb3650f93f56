/**
 * `npm run redteam`: the attacks of issue 17 run from outside against the built server (one
 * process, a fresh SQLite file, default settings but TRUST_PROXY=loopback so X-Forwarded-For plays
 * many source addresses). It measures, it does not assert: each line says what an attacker got.
 * Options: `--pg` (a scratch PostgreSQL database), `--trials N` (repeats of the race attacks).
 *
 * The server has no MAIL_URL (a developer's setup): its mail goes to the outbox folder
 * (MAIL_OUTBOX_DIR), whose .eml files the mail-link attack reads back.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { Client } from 'pg';
import { buildServer, startServer, type ServerProcess } from '../test/utils/server-process';

const args = process.argv.slice(2);
const PG = args.includes('--pg');
const TRIALS = Number(args[args.indexOf('--trials') + 1]) || 3;
const ADMIN = 'admin@example.com';
const PASSWORD = 'correct horse battery';
/** Where the server is told it is reached; no request goes there. Every link in mail should start with it. */
const PUBLIC_URL = 'https://sessions.redteam.test';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- responses of every shape, read loosely
type Json = any;

/** One browser: its cookies (every Set-Cookie kept, whatever its name) and its source address. */
class Browser {
  readonly jar = new Map<string, string>();
  constructor(
    readonly base: string,
    readonly ip = '127.0.0.1',
  ) {}

  async send(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    const headers: Record<string, string> = { 'x-forwarded-for': this.ip };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      const cleared =
        value === '' || attrs.some((a) => /max-age=0\b/i.test(a.trim()) || /expires=thu, 01 jan 1970/i.test(a));
      if (cleared) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed };
  }

  /** A copy with the same cookies (another tab), optionally from another address. */
  clone(ip = this.ip): Browser {
    const copy = new Browser(this.base, ip);
    for (const [k, v] of this.jar) copy.jar.set(k, v);
    return copy;
  }
}

const counts = (statuses: number[]) =>
  Object.entries(statuses.reduce<Record<number, number>>((acc, s) => ((acc[s] = (acc[s] ?? 0) + 1), acc), {}))
    .map(([s, n]) => `${n}×${s}`)
    .join(' ');

let serial = 0;
async function newUser(base: string, email = `user${++serial}-${Date.now()}@example.com`): Promise<string> {
  const res = await new Browser(base).send('POST', '/signup', {
    name: 'Victim',
    phone: '+1 555 0100',
    email,
    password: PASSWORD,
  });
  if (res.status !== 201) throw new Error(`signup ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  return email;
}

async function login(browser: Browser, email: string, password = PASSWORD): Promise<number> {
  return (await browser.send('POST', '/login', { email, password })).status;
}

/** Logins with the old password racing one credential change; how many of their sessions still work. */
async function raceLogins(
  base: string,
  label: string,
  count: number,
  change: (email: string, owner: Browser) => Promise<number>,
  after?: (email: string) => Promise<void>,
): Promise<void> {
  for (let trial = 1; trial <= TRIALS; trial++) {
    const email = await newUser(base);
    const owner = new Browser(base, '10.9.0.1');
    await login(owner, email);
    const racers = Array.from({ length: count }, (_, i) => new Browser(base, `10.9.1.${i + 1}`));
    // Spread over ~3 s with the change at 0.4 s, so some logins read the account before the
    // change commits and finish their password check after it.
    const started: number[] = [];
    const logins = racers.map((b, i) =>
      new Promise((r) => setTimeout(r, i * 200)).then(() => {
        started[i] = Date.now();
        return login(b, email);
      }),
    );
    await new Promise((r) => setTimeout(r, 400));
    const changed = await change(email, owner);
    const changeAnswered = Date.now();
    const statuses = await Promise.all(logins);
    await after?.(email);
    // Racing: sent before the change was answered, so possibly read the account before it committed.
    const racing = racers.map((_, i) => started[i] < changeAnswered);
    const usable = await Promise.all(
      racers.map(async (b, i) => statuses[i] === 200 && (await b.send('GET', '/session_status')).status === 200),
    );
    const racedUsable = usable.filter((u, i) => u && racing[i]).length;
    console.log(
      `${label} trial ${trial}: change ${changed}; logins ${counts(statuses)}; ` +
        `usable afterwards: ${racedUsable} of the ${racing.filter(Boolean).length} sent before the change answered, ` +
        `${usable.filter(Boolean).length} in all`,
    );
  }
}

async function adminBrowser(base: string): Promise<Browser> {
  const admin = new Browser(base, '10.8.0.1');
  if ((await login(admin, ADMIN)) !== 200) throw new Error('admin login');
  return admin;
}

async function userId(admin: Browser, email: string): Promise<number> {
  const res = await admin.send('GET', `/admin/users?email=${encodeURIComponent(email)}`);
  return (res.body as { users: Array<{ id: number }> }).users[0].id;
}

async function flood(base: string): Promise<void> {
  const email = await newUser(base);
  const known = new Browser(base, '10.7.0.1');
  if ((await login(known, email)) !== 200) throw new Error('first login');
  await known.send('POST', '/logout');
  const stranger = new Browser(base, '10.7.0.2');
  let stop = false;
  let sent = 0;
  let next = 0;
  const loops = Array.from({ length: 24 }, async (_, loop) => {
    while (!stop) {
      const n = next++;
      const ip = `2001:db8:${(n >> 16) & 0xffff}:${n & 0xffff}::${loop + 1}`;
      await new Browser(base, ip).send('POST', '/login', {
        email: `nobody${n}@example.com`,
        password: 'wrong password',
      });
      sent++;
    }
  });
  await new Promise((r) => setTimeout(r, 1500));
  const mine: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < 15; i++) {
    mine.push(await login(known, email));
    await known.send('POST', '/logout');
    theirs.push(await login(stranger, email));
    await stranger.send('POST', '/logout');
    await new Promise((r) => setTimeout(r, 200));
  }
  stop = true;
  await Promise.all(loops);
  console.log(
    `flood (24 loops, each request from a new /64, ${sent} requests): known device ${counts(mine)}; new browser ${counts(theirs)}`,
  );
}

async function chat(base: string): Promise<void> {
  const a = new Browser(base, '10.6.0.1');
  const b = new Browser(base, '10.6.0.2');
  const ea = await newUser(base);
  const eb = await newUser(base);
  await login(a, ea);
  await login(b, eb);
  const bId = ((await b.send('GET', '/session_status')).body as { user: { id: number } }).user.id;
  const sends: number[] = [];
  for (let i = 0; i < 300; i++)
    sends.push((await a.send('POST', '/chats', { receiver_id: bId, message: `m${i}` })).status);
  const globals: number[] = [];
  for (let i = 0; i < 300; i++) globals.push((await a.send('POST', '/global_chat', { message: `g${i}` })).status);
  const other = await b.send('POST', '/global_chat', { message: 'still here' });
  console.log(
    `chat: 300 private sends ${counts(sends)}; 300 global ${counts(globals)}; another user then ${other.status}`,
  );
}

async function activity(base: string): Promise<void> {
  const email = await newUser(base);
  const thief = new Browser(base, '10.5.0.1');
  await login(thief, email);
  for (let i = 0; i < 60; i++)
    await login(new Browser(base, `10.5.${1 + Math.floor(i / 4)}.${i + 2}`), email, 'nope nope nope');
  const owner = new Browser(base, '10.5.99.1');
  await login(owner, email);
  const list = (await owner.send('GET', '/login_activity')).body as {
    attempts: Array<{ success: boolean; ip_address: string }>;
  };
  const shown = list.attempts.some((a) => a.success && a.ip_address === '10.5.0.1');
  console.log(
    `login_activity: thief's sign-in then 60 failures → thief's sign-in listed: ${shown} (${list.attempts.length} entries)`,
  );
}

async function lookalikes(base: string): Promise<void> {
  await newUser(base, 'ada@example.com');
  await newUser(base, 'josé@example.com');
  const variants: Record<string, string> = {
    'zero-width space': 'a\u200bda@example.com',
    'RTL override': '\u202eada@example.com',
    'fullwidth ａ': '\uff41da@example.com',
    'Cyrillic а': '\u0430da@example.com',
    'NFD é': 'jose\u0301@example.com',
    'upper case': 'ADA@EXAMPLE.COM',
  };
  const out: string[] = [];
  for (const [label, email] of Object.entries(variants)) {
    const res = await new Browser(base, '10.4.0.1').send('POST', '/signup', {
      name: 'Look',
      phone: '+1 555 0100',
      email,
      password: PASSWORD,
    });
    out.push(`${label} ${res.status}`);
  }
  const email = `nfc${Date.now()}@example.com`;
  const password = 'correct horse batte\u0301ry'; // NFD: e + combining acute
  await new Browser(base, '10.4.0.2').send('POST', '/signup', {
    name: 'NFC',
    phone: '+1 555 0100',
    email,
    password: password.normalize('NFC'),
  });
  out.push(`password NFC at signup, NFD at login ${await login(new Browser(base, '10.4.0.3'), email, password)}`);
  console.log(`look-alikes beside ada@/josé@: ${out.join('; ')}`);
}

const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0';

/**
 * One request with exactly these headers, through node:http: fetch would replace a forged Host with
 * the real one. Returns the status, the body and the session cookie it set (name=value), if any.
 */
function rawRequest(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: Json; cookie?: string }> {
  const url = new URL(path, base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: url.pathname,
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON
          }
          const cookie = (res.headers['set-cookie'] ?? [])
            .map((line) => line.split(';')[0])
            .find((pair) => /^(__Host-)?session_token=./.test(pair));
          resolve({ status: res.statusCode ?? 0, body: parsed, cookie });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * The mail links attack: sign-ins from a new device (which mail the owner a notice) and a password
 * change, each sent with a forged Host, X-Forwarded-Host or Forwarded header (the server trusts
 * X-Forwarded-* from loopback here, as behind a proxy). Then every mail the outbox folder received
 * is read back, and each of its links printed: an operator sees whether any of them points
 * somewhere other than PUBLIC_URL.
 */
async function mailLinks(base: string, outboxDir: string): Promise<void> {
  const evil = 'evil.example';
  const attacks: Array<{ label: string; headers: Record<string, string>; changePassword?: boolean }> = [
    { label: 'Host', headers: { host: evil } },
    { label: 'X-Forwarded-Host', headers: { 'x-forwarded-host': evil } },
    {
      label: 'X-Forwarded-Host + X-Forwarded-Proto',
      headers: { 'x-forwarded-host': evil, 'x-forwarded-proto': 'http' },
    },
    { label: 'Host + X-Forwarded-Host, a list', headers: { host: evil, 'x-forwarded-host': `${evil}, ${evil}:8443` } },
    { label: 'Forwarded (RFC 7239)', headers: { forwarded: `for=203.0.113.9;host=${evil};proto=http` } },
    { label: 'Host on /change_password', headers: { host: evil }, changePassword: true },
  ];
  const before = new Set(emlFiles(outboxDir));
  const byRecipient = new Map<string, string>();
  for (const [i, attack] of attacks.entries()) {
    const email = await newUser(base);
    byRecipient.set(email, attack.label);
    const from = (n: number) => ({ 'x-forwarded-for': `10.1.${i}.${n}` });
    // The account's first sign-in (never notified), from a Chrome on Windows.
    await rawRequest(
      base,
      'POST',
      '/login',
      { ...from(1), 'user-agent': CHROME_WINDOWS },
      { email, password: PASSWORD },
    );
    const signIn = await rawRequest(
      base,
      'POST',
      '/login',
      { ...from(2), 'user-agent': FIREFOX_LINUX, ...(attack.changePassword ? {} : attack.headers) },
      { email, password: PASSWORD },
    );
    const newDevice = (signIn.body as { session?: { new_device?: boolean } } | undefined)?.session?.new_device;
    let what = `login ${signIn.status}, new_device ${String(newDevice)}`;
    if (attack.changePassword) {
      const change = await rawRequest(
        base,
        'POST',
        '/change_password',
        { ...from(2), 'user-agent': FIREFOX_LINUX, cookie: signIn.cookie ?? '', ...attack.headers },
        { current_password: PASSWORD, new_password: `${PASSWORD} changed` },
      );
      what += `, change_password ${change.status}`;
    }
    console.log(`mail links, forged ${attack.label}: ${what}`);
  }

  // Mail is written after the commit, by the outbox worker: wait for it (up to 15 s).
  const expected = attacks.length + attacks.filter((a) => a.changePassword).length;
  const deadline = Date.now() + 15_000;
  let fresh: string[] = [];
  while (Date.now() < deadline) {
    fresh = emlFiles(outboxDir).filter((file) => !before.has(file));
    if (fresh.length >= expected) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  let links = 0;
  let elsewhere = 0;
  for (const file of fresh.sort()) {
    const mail = await simpleParser(readFileSync(join(outboxDir, file)));
    const to = mail.to && !Array.isArray(mail.to) ? mail.to.text : '?';
    const urls = [
      ...new Set(
        `${mail.text ?? ''}
${typeof mail.html === 'string' ? mail.html : ''}`.match(/https?:\/\/[^\s"'<>]+/g),
      ),
    ];
    for (const url of urls) {
      links++;
      if (!url.startsWith(`${PUBLIC_URL}/`)) elsewhere++;
    }
    const mentions = `${mail.text ?? ''}${typeof mail.html === 'string' ? mail.html : ''}`.includes(evil);
    console.log(
      `  ${byRecipient.get(to) ?? to}: "${mail.subject}" → ${urls.join(' ') || '(no link)'}` +
        `${mentions ? ` (mentions ${evil})` : ''}`,
    );
  }
  console.log(
    `mail links: ${fresh.length} mails of ${expected} expected in the outbox folder, ${links} links, ` +
      `${links - elsewhere} start with PUBLIC_URL (${PUBLIC_URL}), ${elsewhere} elsewhere`,
  );
}

/** The .eml files in the development outbox folder (none if it does not exist yet). */
function emlFiles(folder: string): string[] {
  try {
    return readdirSync(folder).filter((file) => file.endsWith('.eml'));
  } catch {
    return [];
  }
}

async function main(): Promise<void> {
  if (!args.includes('--no-build')) await buildServer();
  const dir = mkdtempSync(join(tmpdir(), 'redteam-'));
  let pgName: string | undefined;
  let databaseUrl = `sqlite:///${join(dir, 'redteam.db')}`;
  if (PG) {
    pgName = `redteam_${Date.now()}`;
    const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${pgName}`);
    await admin.end();
    databaseUrl = `postgres://postgres@127.0.0.1:5432/${pgName}`;
  }
  let server: ServerProcess | undefined;
  try {
    server = await startServer('redteam', {
      NODE_ENV: 'development',
      DATABASE_URL: databaseUrl,
      TRUST_PROXY: 'loopback',
      ADMIN_EMAILS: ADMIN,
      LOG_LEVEL: 'error',
      CLEANUP_INTERVAL_MINUTES: '0',
      // No MAIL_URL: mail is written to this folder, read back by mailLinks.
      MAIL_OUTBOX_DIR: join(dir, 'mail'),
      PUBLIC_URL,
    });
    const base = server.url;
    await newUser(base, ADMIN);
    console.log(`server on ${PG ? 'PostgreSQL' : 'SQLite'}, BCRYPT_ROUNDS default`);

    await raceLogins(base, 'password change vs 15 logins', 15, async (email, owner) => {
      const res = await owner.send('POST', '/change_password', {
        current_password: PASSWORD,
        new_password: `${PASSWORD} 2`,
      });
      void email;
      return res.status;
    });
    const admin = await adminBrowser(base);
    await raceLogins(
      base,
      'disable vs 12 logins, then enable',
      12,
      async (email) => (await admin.send('POST', `/admin/users/${await userId(admin, email)}/disable`)).status,
      async (email) => void (await admin.send('POST', `/admin/users/${await userId(admin, email)}/enable`)),
    );
    await raceLogins(base, 'end-all vs 15 logins', 15, async (_email, owner) => {
      return (await owner.send('DELETE', '/active_sessions')).status;
    });
    {
      const email = await newUser(base);
      const owner = new Browser(base, '10.3.0.1');
      await login(owner, email);
      const both = await Promise.all([
        owner.clone().send('POST', '/change_password', { current_password: PASSWORD, new_password: `${PASSWORD} A` }),
        owner.clone().send('POST', '/change_password', { current_password: PASSWORD, new_password: `${PASSWORD} B` }),
      ]);
      console.log(`two concurrent change_password from one session: ${counts(both.map((r) => r.status))}`);
    }
    await flood(base);
    await chat(base);
    await activity(base);
    await lookalikes(base);
    await mailLinks(base, join(dir, 'mail'));
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (pgName) {
      const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${pgName} WITH (FORCE)`);
      await admin.end();
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
