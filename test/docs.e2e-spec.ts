import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUTH_FAILURE_REASONS } from '../src/auth/auth-failure';
import { ROUTES } from './utils/routes';

// The documents a client reads must say what the server does: the reasons a 401 can give and the
// routes there are. Each list sits between two marker comments, so it can be found and compared
// both ways: a reason or route the server gains, or loses, fails here until the documents follow.
const ROOT = join(__dirname, '..');

/** The lines between `<!-- name:start -->` and `<!-- name:end -->` of a file; fails when they are missing. */
function markedSection(file: string, name: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const match = new RegExp(`<!-- ${name}:start -->\\n([\\s\\S]*?)<!-- ${name}:end -->`).exec(text);
  if (!match) throw new Error(`${file} has no <!-- ${name}:start --> ... <!-- ${name}:end --> section`);
  return match[1].split('\n');
}

/** The rows of the (one) table in `lines`, below its header. */
const tableRows = (lines: string[]): string[] => lines.slice(lines.findIndex((line) => /^\|\s*-/.test(line)) + 1);

/** The first cell of each table row whose first cell is one `code` span: `| \`missing\` | ...`. */
const firstCodeCells = (lines: string[]): string[] =>
  tableRows(lines)
    .map((line) => /^\| `([^`]+)` \|/.exec(line)?.[1])
    .filter((cell): cell is string => cell !== undefined);

describe.each(['README.md', 'docs/SESSION_MANAGEMENT.md'])("%s's list of 401 reasons", (file) => {
  const documented = firstCodeCells(markedSection(file, 'auth-failure-reasons'));

  it('names every reason the server can give (AUTH_FAILURE_REASONS)', () => {
    expect(AUTH_FAILURE_REASONS.filter((reason) => !documented.includes(reason))).toEqual([]);
  });

  it('names no reason the server does not give, and each once', () => {
    expect(documented.filter((reason) => !(AUTH_FAILURE_REASONS as readonly string[]).includes(reason))).toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
  });
});

describe("docs/API.md's route table", () => {
  const documented = tableRows(markedSection('docs/API.md', 'routes'))
    .map((line) => /^\| `([A-Z]+)` \| `([^`]+)` \|/.exec(line))
    .filter((match) => match !== null)
    .map(([, method, path]) => `${method} ${path}`);
  const served = ROUTES.map((route) => `${route.method.toUpperCase()} ${route.path}`);

  it('lists every route of the catalogue (test/utils/routes.ts)', () => {
    expect(served.filter((route) => !documented.includes(route))).toEqual([]);
  });

  it('lists no route the server does not have, and each once', () => {
    expect(documented.filter((route) => !served.includes(route))).toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
  });
});
