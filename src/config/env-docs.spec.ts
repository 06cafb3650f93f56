import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_VARS, type EnvVar } from './app.config';

// The documents an operator configures from must name exactly the variables the server reads,
// with the defaults it applies.
const ROOT = join(__dirname, '..', '..');
const VARIABLES = Object.entries<EnvVar<unknown>>(ENV_VARS);
const NAMES = VARIABLES.map(([name]) => name);
/** Named by both documents only to say that it is not needed (no JWTs here). */
const IGNORED = ['JWT_SECRET_KEY'];
const ENV_NAME = /\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/g;

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** "Default: 10", not satisfied by "Default: 100". */
const saysDefault = (value: string): RegExp =>
  new RegExp(`Default: ${escape(value === '' ? 'empty' : value)}(?=[\\s.,;(]|$)`);

describe('.env.example', () => {
  const lines = readFileSync(join(ROOT, '.env.example'), 'utf8').split('\n');
  /** Each `NAME=value` line, commented out or not, with the comment block just above it. */
  const assignments = lines.flatMap((line, index) => {
    const match = /^(# )?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!match) return [];
    let start = index;
    while (start > 0 && lines[start - 1].startsWith('#')) start--;
    const comment = lines
      .slice(start, index)
      .map((l) => l.replace(/^#\s?/, ''))
      .join(' ');
    return [{ name: match[2], value: match[3], commented: Boolean(match[1]), comment }];
  });

  it('sets each variable of ENV_VARS once', () => {
    expect(assignments.map((a) => a.name).sort()).toEqual([...NAMES].sort());
  });

  it('names no variable the server does not read', () => {
    const named = new Set(lines.join('\n').match(ENV_NAME));
    expect([...named].filter((name) => !NAMES.includes(name) && !IGNORED.includes(name))).toEqual([]);
  });

  it.each(VARIABLES)('%s: its comment gives the default and the accepted values', (name, variable) => {
    const { comment, value, commented } = assignments.find((a) => a.name === name)!;
    if (variable.default !== undefined) expect(comment).toMatch(saysDefault(variable.default));
    if (variable.allowed !== undefined) expect(comment).toContain(variable.allowed);
    // As shipped, copying the file to .env must change nothing.
    if (!commented) expect(value).toBe(variable.default);
  });
});

describe("README.md's configuration table", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = /^## Configuration\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
  const rows = section
    .split('\n')
    .map((line) => /^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \|/.exec(line))
    .filter((match) => match !== null)
    .map(([, name, defaultCell]) => ({ name, defaultCell: defaultCell.trim() }));

  it('has a row for each variable of ENV_VARS, in the order of the list', () => {
    expect(rows.map((row) => row.name)).toEqual(NAMES);
  });

  it('names no variable the server does not read', () => {
    const named = new Set(section.match(ENV_NAME));
    expect([...named].filter((name) => !NAMES.includes(name) && !IGNORED.includes(name))).toEqual([]);
  });

  it.each(VARIABLES.filter(([, variable]) => variable.default !== undefined))(
    '%s: the default column gives the default',
    (name, variable) => {
      const cell = rows.find((row) => row.name === name)?.defaultCell;
      expect(cell).toMatch(variable.default === '' ? /^empty$/ : new RegExp(`^\`${escape(variable.default!)}\``));
    },
  );
});
