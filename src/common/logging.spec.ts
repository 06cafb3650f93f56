import type { LoggerService } from '@nestjs/common';
import { AppLogger, readableLine, readableLogs } from './logging';

describe('readable development logs', () => {
  it('are for a person at a terminal in development only: a pipe, a file and production get JSON lines', () => {
    expect(readableLogs('development', { isTTY: true })).toBe(true);
    expect(readableLogs('development', { isTTY: false })).toBe(false);
    expect(readableLogs('development', {})).toBe(false);
    expect(readableLogs('production', { isTTY: true })).toBe(false);
    expect(readableLogs('test', { isTTY: true })).toBe(false);
  });

  const time = '2026-01-02T03:04:05.678Z';

  it('show the time, level, context, message and the other fields; a request as method, path, status and time', () => {
    expect(
      readableLine(
        JSON.stringify({
          level: 'warn',
          time,
          pid: 1,
          hostname: 'h',
          context: 'AuthEvents',
          event: 'login_failed',
          msg: 'login_failed',
          reason: 'bad_password',
          user_id: 7,
          reqId: 'abc',
        }),
        false,
      ),
    ).toBe('03:04:05.678 WARN  [AuthEvents] login_failed reason=bad_password user_id=7 reqId=abc\n');
    expect(
      readableLine(
        JSON.stringify({
          level: 'info',
          time,
          reqId: 'r1',
          req: { id: 'r1', method: 'GET', url: '/health', headers: { cookie: '[Redacted]' } },
          res: { statusCode: 200, headers: {} },
          responseTime: 3,
          msg: 'request completed',
        }),
        false,
      ),
    ).toBe('03:04:05.678 INFO  GET /health → 200 (3 ms) reqId=r1\n');
  });

  it('do not repeat what the message says, show an error stack below its line, and colour only when asked', () => {
    const startup = JSON.stringify({
      level: 'info',
      time,
      context: 'Bootstrap',
      msg: 'Listening on http://localhost:5000; database: SQLite /tmp/a.db; migrations: none pending',
      event: 'started',
      database: 'SQLite /tmp/a.db',
      migrations_applied: [],
    });
    expect(readableLine(startup, false)).toBe(
      '03:04:05.678 INFO  [Bootstrap] Listening on http://localhost:5000; database: SQLite /tmp/a.db; migrations: none pending event=started\n',
    );
    expect(readableLine(startup, true)).toContain('\x1b[32mINFO \x1b[0m');
    const failed = readableLine(
      JSON.stringify({ level: 'error', time, msg: 'boom', err: { message: 'boom', stack: 'Error: boom\n    at x' } }),
      false,
    );
    expect(failed).toBe('03:04:05.678 ERROR boom\n    Error: boom\n        at x\n');
  });

  it('show control characters instead of letting the terminal obey them, and pass anything not JSON through', () => {
    const line = readableLine(JSON.stringify({ level: 'info', time, msg: 'a\u001b[2Jb', ua: 'x\u0007' }), true);
    expect(line.includes('\u001b[2J') || line.includes('\u0007')).toBe(false);
    expect(line).toContain('a\\u001b[2Jb');
    expect(readableLine('not json\n', false)).toBe('not json\n');
  });
});

describe('AppLogger', () => {
  it("writes Nest's start-up chatter (a line per module and route) at debug, everything else as asked", () => {
    const calls: string[] = [];
    const record =
      (level: string) =>
      (message: unknown, ...params: unknown[]) =>
        calls.push(`${level} ${String(message)} ${params.join(',')}`);
    const inner = {
      log: record('log'),
      error: record('error'),
      warn: record('warn'),
      debug: record('debug'),
      verbose: record('verbose'),
      fatal: record('fatal'),
    } satisfies LoggerService;
    const logger = new AppLogger(inner);
    logger.log('Mapped {/health, GET} route', 'RouterExplorer');
    logger.log('AuthModule dependencies initialized', 'InstanceLoader');
    logger.log('Listening', 'Bootstrap');
    logger.log('no context');
    logger.warn('careful', 'Config');
    logger.error('bad', 'stack', 'Somewhere');
    expect(calls).toEqual([
      'debug Mapped {/health, GET} route RouterExplorer',
      'debug AuthModule dependencies initialized InstanceLoader',
      'log Listening Bootstrap',
      'log no context ',
      'warn careful Config',
      'error bad stack,Somewhere',
    ]);
  });
});
