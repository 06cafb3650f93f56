import fc from 'fast-check';
import { User } from '../../src/users/user.entity';
import { unicodeString, unicodeUnit } from '../utils/arbitraries';
import {
  codePoints,
  usePropertyApp,
  expectSafe,
  expectStatus,
  fail,
  LONE_SURROGATE,
  show,
} from '../utils/property-checks';

/**
 * Property 6: signup answers 201 or 400 as an independent model of the API.md rules says, and a
 * 201 stores the normalized values.
 *
 * What every property spec shares is said once, in test/utils/property-checks.ts.
 */
describe('Property tests (fast-check): signup agrees with a model of API.md', () => {
  const { t, send, uniq } = usePropertyApp();
  const users = () => t.dataSource.getRepository(User);

  it('6. signup: 201 vs 400 agrees with a model of the API.md rules, and a 201 stores the normalized values', async () => {
    const alphabetPhone = fc.stringMatching(/^[0-9 +\-()]{0,24}$/);
    const name = fc.oneof(
      { arbitrary: fc.string({ unit: unicodeUnit, minLength: 1, maxLength: 100 }), weight: 6 },
      { arbitrary: unicodeString(110), weight: 3 },
      {
        arbitrary: fc
          .tuple(
            fc.stringMatching(/^[ \t\n\u00a0\u3000\ufeff]{0,3}$/),
            unicodeString(12, 1),
            fc.stringMatching(/^[ \t\n\u00a0\u3000]{0,3}$/),
          )
          .map(([l, s, r]) => l + s + r),
        weight: 3,
      },
      {
        arbitrary: fc
          .tuple(fc.constantFrom('a', 'é', '𝄞', '😀', 'e\u0301'), fc.integer({ min: 95, max: 105 }))
          .map(([ch, n]) => ch.repeat(n)),
        weight: 2,
      },
      { arbitrary: fc.stringMatching(/^[ \t\n\u00a0\u2028\u3000]{0,5}$/), weight: 1 },
      { arbitrary: fc.constantFrom<unknown>(undefined, null, 42, true, [], {}, ['Ada'], { first: 'Ada' }), weight: 1 },
    );
    const phone = fc.oneof(
      { arbitrary: fc.stringMatching(/^[0-9 +\-()]{7,20}$/), weight: 8 },
      { arbitrary: alphabetPhone, weight: 4 },
      {
        arbitrary: fc
          .tuple(
            fc.stringMatching(/^[ \t]{0,2}$/),
            fc.stringMatching(/^[0-9 +\-()]{5,22}$/),
            fc.stringMatching(/^[ \t]{0,2}$/),
          )
          .map(([l, s, r]) => l + s + r),
        weight: 2,
      },
      { arbitrary: unicodeString(25), weight: 2 },
      {
        arbitrary: fc
          .stringMatching(/^[0-9]{7,20}$/)
          .chain((s) =>
            fc.tuple(fc.nat({ max: s.length - 1 }), unicodeUnit).map(([i, ch]) => s.slice(0, i) + ch + s.slice(i + 1)),
          ),
        weight: 2,
      },
      { arbitrary: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), weight: 2 },
      {
        arbitrary: fc.constantFrom<unknown>(undefined, null, 1.5, -1234567, -12345678901, 1e21, true, [], {}, [
          '5550100',
        ]),
        weight: 1,
      },
    );
    const password = fc.oneof(
      { arbitrary: fc.string({ unit: 'grapheme', minLength: 8, maxLength: 40 }), weight: 6 },
      { arbitrary: unicodeString(80), weight: 4 },
      {
        arbitrary: fc
          .array(fc.constantFrom('a', 'é', '€', '𝄞', ' '), { minLength: 1, maxLength: 40 })
          .map((a) => a.join('')),
        weight: 3,
      },
      { arbitrary: fc.integer({ min: 5, max: 80 }).map((n) => 'p'.repeat(n)), weight: 2 },
      { arbitrary: fc.constantFrom<unknown>(undefined, null, 12345678, true, [], {}, ['password123']), weight: 1 },
    );
    /** A good email is made unique inside the run; the generator decides its case and padding. */
    type EmailSpec = { kind: 'good'; upper: boolean[]; left: string; right: string } | { kind: 'raw'; value: unknown };
    const email: fc.Arbitrary<EmailSpec> = fc.oneof(
      {
        arbitrary: fc.record({
          kind: fc.constant('good' as const),
          upper: fc.array(fc.boolean(), { maxLength: 40 }),
          left: fc.stringMatching(/^[ \t\n]{0,2}$/),
          right: fc.stringMatching(/^[ \t\n]{0,2}$/),
        }),
        weight: 5,
      },
      {
        arbitrary: fc.record({
          kind: fc.constant('raw' as const),
          value: fc.oneof(
            unicodeString(40),
            fc.constantFrom(
              'noatsign',
              'a@b',
              '@example.com',
              'a@',
              'a@@example.com',
              'a b@example.com',
              'a@exa mple.com',
              'a@example',
              '',
              ' ',
              'a@.com',
              'user@example.com',
            ),
            fc
              .tuple(
                fc.stringMatching(/^[a-z0-9._%+-]{1,12}$/),
                fc.stringMatching(/^[a-z0-9-]{1,10}$/),
                fc.constantFrom('com', 'org', 'io', 'x'),
              )
              .map(([l, d, tld]) => `${l}@${d}.${tld}`),
            fc.constantFrom<unknown>(undefined, null, 42, true, [], {}, ['a@example.com']),
          ),
        }),
        weight: 3,
      },
    );

    /** The model: API.md's rules, written independently of the server's validators. */
    function model(fields: Record<string, unknown>): { bad: string[]; either: string[]; lone: boolean; nul: boolean } {
      const lone = Object.values(fields).some((v) => typeof v === 'string' && LONE_SURROGATE.test(v));
      // U+0000 cannot be stored by PostgreSQL: the server refuses it in any field, on both databases.
      const nul = Object.values(fields).some((v) => typeof v === 'string' && v.includes('\u0000'));
      const bad: string[] = [];
      const either: string[] = [];
      const n = fields.name;
      if (!(typeof n === 'string' && codePoints(n.trim()) >= 1 && codePoints(n.trim()) <= 100)) bad.push('name');
      const ph = fields.phone;
      const phoneOk =
        (typeof ph === 'string' && /^[0-9 +\-()]{7,20}$/.test(ph)) ||
        (typeof ph === 'number' && Number.isSafeInteger(ph) && ph >= 0 && /^[0-9]{7,20}$/.test(String(ph)));
      // A negative whole number: "accepted and stored as its digits" does not say; either answer is taken.
      const phoneEither = typeof ph === 'number' && Number.isSafeInteger(ph) && ph < 0;
      if (!phoneOk && !phoneEither) bad.push('phone');
      if (phoneEither) either.push('phone');
      const pw = fields.password;
      // 8-72 bytes, counted on the NFC form the server hashes (API.md: passwords are NFC-normalised).
      const pwBytes = typeof pw === 'string' ? Buffer.byteLength(pw.normalize('NFC'), 'utf8') : -1;
      if (!(pwBytes >= 8 && pwBytes <= 72)) bad.push('password');
      return { bad, either, lone, nul };
    }
    /**
     * API.md: addresses are compared after NFC normalisation and case folding (the server also maps
     * fullwidth forms to plain ones, as PRECIS does); written here apart from the server's code.
     */
    const normalized = (value: string) =>
      value
        .trim()
        .replace(/[\uff01-\uffee]/g, (ch) => ch.normalize('NFKC'))
        .normalize('NFC')
        .toLowerCase()
        .normalize('NFC');
    /** Fails a simple check every valid address passes (a dotted domain after the last @, no spaces in it). */
    function obviouslyBadEmail(value: unknown): boolean {
      if (typeof value !== 'string') return true;
      const norm = normalized(value);
      const at = norm.lastIndexOf('@');
      if (at <= 0) return true;
      const domain = norm.slice(at + 1);
      return (
        domain === '' || !domain.includes('.') || /\s/.test(domain) || domain.startsWith('.') || domain.endsWith('.')
      );
    }

    await fc.assert(
      fc.asyncProperty(
        name,
        phone,
        email,
        password,
        fc.boolean(),
        async (nameValue, phoneValue, emailSpec, passwordValue, asForm) => {
          let emailValue: unknown;
          if (emailSpec.kind === 'good') {
            const plain = `prop6.${uniq()}@example.com`;
            emailValue =
              emailSpec.left +
              Array.from(plain, (ch, i) => (emailSpec.upper[i] ? ch.toUpperCase() : ch)).join('') +
              emailSpec.right;
          } else emailValue = emailSpec.value;
          const fields: Record<string, unknown> = {
            name: nameValue,
            phone: phoneValue,
            email: emailValue,
            password: passwordValue,
          };

          // A form post carries strings only (and UTF-8 cannot carry a lone surrogate: it arrives as U+FFFD).
          const formable = Object.values(fields).every((v) => typeof v === 'string');
          const form = asForm && formable;
          const sent: Record<string, unknown> = form
            ? Object.fromEntries(
                Object.entries(fields).map(([k, v]) => [k, (v as string).replace(/\p{Cs}/gu, '\ufffd')]),
              )
            : fields;

          const verdict = model(sent);
          const emailBad = obviouslyBadEmail(sent.email);
          const normEmail = typeof sent.email === 'string' ? normalized(sent.email) : undefined;
          const taken = normEmail !== undefined && !verdict.nul && (await users().existsBy({ email: normEmail }));

          const req = send('post', '/signup');
          const res = form
            ? await req.type('form').send(new URLSearchParams(sent as Record<string, string>).toString())
            : await req.set('Content-Type', 'application/json').send(JSON.stringify(fields));
          const what = `POST /signup ${form ? 'form' : 'JSON'} ${JSON.stringify(sent)}`;
          expectSafe(res, what);

          if (verdict.lone) {
            expectStatus(res, 400, `${what} (text that is not valid Unicode)`);
            return;
          }
          if (verdict.nul) {
            expectStatus(res, 400, `${what} (a NUL character)`);
            return;
          }
          const bad = [...verdict.bad, ...(emailBad ? ['email'] : [])];
          if (bad.length > 0) {
            expectStatus(res, 400, `${what} (model: bad ${bad.join(', ')})`);
            const messages: string[] = Array.isArray(res.body.message) ? res.body.message : [res.body.message];
            for (const field of bad)
              if (!messages.some((m) => m.includes(field)))
                fail(`${what}: the 400 does not name ${field}: ${show(res)}`);
            return;
          }
          // name, phone and password are valid (or a case the contract leaves open), and the email passes the simple check.
          const open = [...verdict.either, ...(emailSpec.kind === 'good' ? [] : ['email'])];
          if (open.length === 0) expectStatus(res, taken ? 409 : 201, `${what} (model: valid)`);
          else
            expectStatus(
              res,
              taken ? [400, 409] : [201, 400],
              `${what} (model: valid unless ${open.join(' or ')} is refused)`,
            );
          if (res.status === 400) {
            const messages: string[] = Array.isArray(res.body.message) ? res.body.message : [res.body.message];
            for (const m of messages)
              if (!open.some((f) => m.includes(f)))
                fail(`${what}: refused for something other than ${open.join(' or ')}: ${show(res)}`);
          }
          if (res.status !== 201) return;

          const expected = {
            name: (sent.name as string).trim(),
            email: normEmail,
            phone: typeof sent.phone === 'number' ? String(sent.phone) : sent.phone,
          };
          const row = await users().findOneByOrFail({ id: res.body.user.id });
          const stored = { name: row.name, email: row.email, phone: row.phone };
          if (JSON.stringify(stored) !== JSON.stringify(expected))
            fail(`${what}: stored ${JSON.stringify(stored)}, expected ${JSON.stringify(expected)}`);
          expect(res.body.user).toMatchObject({
            id: row.id,
            ...expected,
            is_active: true,
            last_login: null,
            email_verified: false,
          });
          expect(Object.keys(res.body.user).sort()).toEqual([
            'created_at',
            'email',
            'email_verified',
            'id',
            'is_active',
            'last_login',
            'name',
            'phone',
          ]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
