import { existsSync } from 'node:fs';
import { parseEnv } from './src/config/app.config';
import { migrations } from './migrations';
import { AppDataSource, buildDataSourceOptions } from './src/config/database.options';
import { entities } from './src/entities';

// The TypeORM CLI's data source (npm run migration:*), built from the same validated settings and
// the same options function as the server. The CLI has no modules to collect the entities from, so
// it lists them itself (migration:generate compares them with the database).
if (existsSync('.env')) process.loadEnvFile('.env');

export default new AppDataSource({
  ...buildDataSourceOptions(parseEnv(process.env), { entities, migrations }),
  migrationsRun: false,
});
