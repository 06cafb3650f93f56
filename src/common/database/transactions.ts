import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * An open transaction. Services only hand it on to repository methods (their optional last
 * parameter), which run their statements in it; nothing else is done with it outside repositories.
 */
export type Transaction = EntityManager;

/**
 * How a service runs several repository calls in one transaction: `run` commits when the callback
 * resolves and rolls back when it throws. It goes through the DataSource's own manager, so on
 * SQLite top-level transactions still take turns (AppDataSource's SerialTransactions) and on
 * PostgreSQL each gets a pooled connection of its own. Unit specs replace it with one that calls
 * the callback at once.
 */
@Injectable()
export class Transactions {
  constructor(private readonly dataSource: DataSource) {}

  run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }
}
