import { existsSync } from 'node:fs';
import { parseEnv } from './src/config/app.config';
import { AppDataSource, buildDataSourceOptions } from './src/config/database.options';

// The TypeORM CLI's data source (npm run migration:*), built from the same validated settings and
// the same options function as the server.
if (existsSync('.env')) process.loadEnvFile('.env');

export default new AppDataSource({ ...buildDataSourceOptions(parseEnv(process.env)), migrationsRun: false });
