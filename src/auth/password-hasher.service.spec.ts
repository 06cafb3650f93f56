import * as bcryptjs from 'bcryptjs';
import { parseEnv } from '../config/app.config';
import { normalizeBcryptHash, PasswordHasher } from './password-hasher.service';

describe('normalizeBcryptHash', () => {
  it('spells $2y$ as $2b$ and leaves other prefixes alone', () => {
    expect(normalizeBcryptHash('$2y$12$abc')).toBe('$2b$12$abc');
    expect(normalizeBcryptHash('$2a$12$abc')).toBe('$2a$12$abc');
    expect(normalizeBcryptHash('$2b$12$abc')).toBe('$2b$12$abc');
  });
});

describe('PasswordHasher', () => {
  async function hasher(env: Record<string, string> = {}) {
    const h = new PasswordHasher(parseEnv({ BCRYPT_ROUNDS: '4', ...env }));
    await h.onModuleInit();
    return h;
  }

  it('hashes at the configured cost, in a form bcryptjs (and so the original Flask-Bcrypt) reads', async () => {
    const h = await hasher({ BCRYPT_ROUNDS: '5' });
    const hash = await h.hash('pässwörd 123');
    expect(hash).toMatch(/^\$2b\$05\$/);
    expect(bcryptjs.compareSync('pässwörd 123', hash)).toBe(true);
    expect(await h.verify('pässwörd 123', hash)).toBe(true);
    expect(await h.verify('pässwörd 124', hash)).toBe(false);
  });

  it('hashes and checks the NFC form, still matching a hash made from a raw non-NFC password (then asking for a re-hash)', async () => {
    const h = await hasher();
    const nfc = 'caf\u00e9 cr\u00e8me';
    const nfd = nfc.normalize('NFD');
    const made = await h.hash(nfd);
    expect(bcryptjs.compareSync(nfc, made)).toBe(true);
    expect(await h.check(nfc, made)).toEqual({ ok: true, rehash: false });
    expect(await h.check(nfd, made)).toEqual({ ok: true, rehash: false });
    const legacy = bcryptjs.hashSync(nfd, 4);
    expect(await h.check(nfd, legacy)).toEqual({ ok: true, rehash: true });
    expect(await h.check(nfc, legacy)).toEqual({ ok: false, rehash: false }); // nothing to fall back to
    expect(await h.check('cafe creme', legacy)).toEqual({ ok: false, rehash: false });
  });

  it('calls a hash stale when its cost is not BCRYPT_ROUNDS or it is spelled $2a$/$2y$', async () => {
    const h = await hasher({ BCRYPT_ROUNDS: '5' });
    const at5 = await h.hash('password123');
    expect(h.isStale(at5)).toBe(false);
    expect(h.isStale(at5.replace('$2b$', '$2y$'))).toBe(true);
    expect(h.isStale(at5.replace('$2b$', '$2a$'))).toBe(true);
    expect(h.isStale(at5.replace('$2b$05$', '$2b$04$'))).toBe(true);
    expect(h.isStale('not a bcrypt hash')).toBe(false);
    expect(await h.check('password123', at5.replace('$2b$', '$2y$'))).toEqual({ ok: true, rehash: true });
    expect(await h.check('password124', at5.replace('$2b$', '$2y$'))).toEqual({ ok: false, rehash: false });
  });

  it('never matches without a stored hash, or with a malformed one', async () => {
    const h = await hasher();
    expect(await h.verify('not-a-real-password', undefined)).toBe(false);
    expect(await h.verify('anything', 'not a bcrypt hash')).toBe(false);
  });

  it('turns away hashes beyond the running and waiting limit with 503 and Retry-After', async () => {
    const h = await hasher({ BCRYPT_ROUNDS: '10', BCRYPT_MAX_PENDING: '0' });
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => h.hash('password123')));
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
    expect(rejected[0].reason).toMatchObject({ headers: { 'Retry-After': '1' } });
    expect(rejected[0].reason.getStatus()).toBe(503);
    // The limiter recovers once the burst has passed.
    await expect(h.hash('password123')).resolves.toMatch(/^\$2b\$10\$/);
  });

  it('keeps a lane for known devices that a flood of other checks cannot fill, and serves it first', async () => {
    const h = await hasher({ BCRYPT_ROUNDS: '8', BCRYPT_CONCURRENCY: '1', BCRYPT_MAX_PENDING: '1' });
    const hash = await h.hash('password123');
    const order: string[] = [];
    const check = (name: string, lane?: 'known-device') =>
      h.verify('password123', hash, lane).then((ok) => {
        order.push(name);
        return ok;
      });
    // One running, one waiting in the general lane: the general lane is full.
    const running = check('running');
    const waiting = check('waiting');
    await expect(check('flood')).rejects.toMatchObject({ status: 503 });
    // A known device still gets a place, and is served before the general lane's waiter.
    const known = check('known', 'known-device');
    await expect(Promise.all([running, waiting, known])).resolves.toEqual([true, true, true]);
    expect(order).toEqual(['running', 'known', 'waiting']);
    // Its lane is bounded too (BCRYPT_MAX_PENDING, at least BCRYPT_CONCURRENCY).
    const busy = [check('a'), check('b', 'known-device')];
    await expect(check('c', 'known-device')).rejects.toMatchObject({ status: 503 });
    await Promise.all(busy);
  });
});
