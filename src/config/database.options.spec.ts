import { resolve } from 'node:path';
import { describeDatabase } from './database.options';

describe('describeDatabase (the start-up line)', () => {
  const none = { databaseReplicaUrl: null };

  it('names SQLite and its file', () => {
    expect(describeDatabase({ ...none, databaseUrl: 'sqlite:////var/lib/app/app.db' })).toBe(
      'SQLite /var/lib/app/app.db',
    );
    expect(describeDatabase({ ...none, databaseUrl: 'sqlite:///app.db' })).toBe(`SQLite ${resolve('app.db')}`);
    expect(describeDatabase({ ...none, databaseUrl: 'sqlite:///:memory:' })).toBe('SQLite in memory');
  });

  it('names PostgreSQL by host, port and database: never the password, the user or the query string', () => {
    const described = describeDatabase({
      databaseUrl: 'postgres://app_user:s3cr%40t-pw@db.internal:6432/sessions?sslmode=require&password=also-secret',
      databaseReplicaUrl: 'postgresql://reader:r3plica-pw@replica.internal/sessions',
    });
    expect(described).toBe('PostgreSQL db.internal:6432/sessions, replica replica.internal:5432/sessions');
    for (const secret of ['s3cr', 'also-secret', 'r3plica', 'app_user', 'reader', 'sslmode'])
      expect(described).not.toContain(secret);
    expect(describeDatabase({ ...none, databaseUrl: 'postgres://u:pw@%2Fvar%2Frun%2Fpostgresql/app' })).toBe(
      'PostgreSQL /var/run/postgresql:5432/app',
    );
    expect(describeDatabase({ ...none, databaseUrl: 'postgres://u:pw@localhost' })).toBe('PostgreSQL localhost:5432');
  });

  it('shows nothing of a URL it cannot read', () => {
    const described = describeDatabase({ ...none, databaseUrl: 'postgres://u:p%zz@[bad/db' });
    expect(described).toBe('PostgreSQL (its URL is not shown)');
  });
});
