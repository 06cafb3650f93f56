import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { readFromReplica } from '../common/database/replica';
import { Chat } from './chat.entity';
import { GlobalChat } from './global-chat.entity';

/**
 * The ids of one page of a user's conversations' latest messages, newest first. Each branch takes
 * the latest message per partner in one direction, the outer query the later of the two; HAVING
 * (not WHERE) applies the cursor, so a conversation is skipped only when its latest message is at
 * or past the cursor, i.e. when it was on an earlier page. A message to oneself is in both
 * branches with one id, hence one entry.
 */
function conversationPageSql(withCursor: boolean): string {
  return `
    SELECT partner_id, MAX(branch_last_id) AS last_id FROM (
      SELECT receiver_id AS partner_id, MAX(id) AS branch_last_id FROM chats WHERE sender_id = :me GROUP BY receiver_id
      UNION ALL
      SELECT sender_id AS partner_id, MAX(id) AS branch_last_id FROM chats WHERE receiver_id = :me GROUP BY sender_id
    ) latest
    GROUP BY partner_id
    ${withCursor ? 'HAVING MAX(branch_last_id) < :before' : ''}
    ORDER BY last_id DESC
    LIMIT :limit`;
}

/** A page of newest-first rows: at most `limit`, older than the id `before` if given. */
export interface Page {
  limit: number;
  before?: number;
}

/**
 * The `chats` and `global_chat` tables (the chat aggregate): every read and write of them. Lists and
 * histories are read from the read replica if there is one, so a message sent a moment ago may be
 * missing; writes go to the primary.
 */
@Injectable()
export class ChatRepository {
  constructor(
    @InjectRepository(Chat) private readonly chats: Repository<Chat>,
    @InjectRepository(GlobalChat) private readonly globalChat: Repository<GlobalChat>,
  ) {}

  /** Inserts a private message; returns it with its id. */
  async insertMessage(row: Omit<Chat, 'id'>): Promise<Chat> {
    const chat = this.chats.create(row);
    await this.chats.insert(chat);
    return chat;
  }

  /**
   * The latest message of each of one page of the user's conversations, newest first. The page is
   * chosen in SQL (conversationPageSql): only `limit` messages are read, however many
   * conversations the user has; each branch of its UNION reads one covering index (sender_id,
   * receiver_id, id) or (receiver_id, sender_id, id), never a table row.
   */
  latestPerConversation(userId: number, page: Page): Promise<Chat[]> {
    return readFromReplica(this.chats.manager.connection, async (manager) => {
      const [sql, parameters] = manager.connection.driver.escapeQueryWithParameters(
        conversationPageSql(page.before !== undefined),
        { me: userId, before: page.before, limit: page.limit },
        {},
      );
      const latest: Array<{ last_id: number | string }> = await manager.query(sql, parameters);
      if (latest.length === 0) return [];
      // PostgreSQL's MAX() of an integer column comes back as a number; SQLite's too; Number() for safety.
      const found = await manager.findBy(Chat, { id: In(latest.map((row) => Number(row.last_id))) });
      return found.sort((a, b) => b.id - a.id);
    });
  }

  /** The messages between two users (either way), newest first, one page. */
  between(userId: number, otherId: number, page: Page): Promise<Chat[]> {
    return readFromReplica(this.chats.manager.connection, (manager) => {
      const query = manager
        .createQueryBuilder(Chat, 'chat')
        .where(
          '((chat.sender_id = :me AND chat.receiver_id = :other) OR (chat.sender_id = :other AND chat.receiver_id = :me))',
          { me: userId, other: otherId },
        )
        .orderBy('chat.id', 'DESC')
        .limit(page.limit);
      if (page.before) query.andWhere('chat.id < :before', { before: page.before });
      return query.getMany();
    });
  }

  /** Inserts a global chat message; returns it with its id. */
  async insertGlobal(row: Omit<GlobalChat, 'id'>): Promise<GlobalChat> {
    const entry = this.globalChat.create(row);
    await this.globalChat.insert(entry);
    return entry;
  }

  /** The global chat's messages, newest first, one page, each with its author's id and name. */
  listGlobal(page: Page): Promise<GlobalChat[]> {
    return readFromReplica(this.globalChat.manager.connection, (manager) => {
      const query = manager
        .createQueryBuilder(GlobalChat, 'g')
        .innerJoin('g.user', 'u')
        .addSelect(['u.id', 'u.name'])
        .orderBy('g.id', 'DESC')
        .limit(page.limit);
      if (page.before) query.where('g.id < :before', { before: page.before });
      return query.getMany();
    });
  }
}
