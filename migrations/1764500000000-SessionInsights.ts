import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * What a session says about itself beyond its times: remember-me, the device and country it was
 * started from, whether that was new for the account, and when its owner last proved the password
 * (re-authentication). Sign-in attempts get the country and the new-device mark; users get the
 * administrator flag that ADMIN_EMAILS sets at start.
 */
export class SessionInsights1764500000000 implements MigrationInterface {
  name = 'SessionInsights1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const time = postgres ? 'timestamptz' : 'datetime';
    const no = postgres ? 'false' : '0';
    const device = (name: string, length: string) =>
      new TableColumn({ name, type: 'varchar', length, isNullable: true });
    await queryRunner.addColumns('sessions', [
      // null: the login did not say (the cookie and lifetime of before remember-me).
      new TableColumn({ name: 'remember_me', type: 'boolean', isNullable: true }),
      device('device_browser', '50'),
      device('device_os', '50'),
      device('device_type', '20'),
      new TableColumn({ name: 'country', type: 'varchar', length: '2', isNullable: true }),
      new TableColumn({ name: 'new_device', type: 'boolean', default: no }),
      // Nullable only until the rows of before have it: their login was their last proof.
      new TableColumn({ name: 'auth_time', type: time, isNullable: true }),
    ]);
    await queryRunner.query('UPDATE sessions SET auth_time = login_time');
    await queryRunner.changeColumn(
      'sessions',
      'auth_time',
      new TableColumn({ name: 'auth_time', type: time, isNullable: false }),
    );
    await queryRunner.addColumns('login_attempts', [
      new TableColumn({ name: 'country', type: 'varchar', length: '2', isNullable: true }),
      new TableColumn({ name: 'new_device', type: 'boolean', default: no }),
    ]);
    await queryRunner.addColumn('users', new TableColumn({ name: 'is_admin', type: 'boolean', default: no }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('users', 'is_admin');
    await queryRunner.dropColumns('login_attempts', ['country', 'new_device']);
    await queryRunner.dropColumns('sessions', [
      'remember_me',
      'device_browser',
      'device_os',
      'device_type',
      'country',
      'new_device',
      'auth_time',
    ]);
  }
}
