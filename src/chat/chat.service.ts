import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { readFromReplica } from '../common/database/replica';
import type { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { Chat } from './chat.entity';
import {
  ChatMessageDto,
  ConversationDto,
  ConversationPageQueryDto,
  GlobalChatMessageDto,
  PageQueryDto,
  toChatMessageDto,
  toGlobalChatMessageDto,
} from './dto/chat.dto';
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

@Injectable()
export class ChatService {
  constructor(
    @InjectRepository(Chat) private readonly chats: Repository<Chat>,
    @InjectRepository(GlobalChat) private readonly globalChat: Repository<GlobalChat>,
    private readonly users: UsersService,
    private readonly clock: Clock,
  ) {}

  async send(sender: User, receiverId: number, message: string): Promise<ChatMessageDto> {
    await this.requireUser(receiverId);
    const chat = this.chats.create({ senderId: sender.id, receiverId, message, timestamp: this.clock.now() });
    await this.chats.insert(chat);
    return toChatMessageDto(chat);
  }

  /**
   * One page of the user's conversations: one entry per person they have exchanged messages with,
   * by latest message, newest first, older than the cursor (a last_message id) if one is given.
   * Histories are read from the replica if there is one: a message sent a moment ago may be missing.
   *
   * The page is chosen in SQL (CONVERSATION_PAGE_SQL): only `limit` messages and names are read,
   * however many conversations the user has; each branch of its UNION reads one covering index
   * (sender_id, receiver_id, id) or (receiver_id, sender_id, id), never a table row.
   */
  async conversations(user: User, page: ConversationPageQueryDto): Promise<ConversationDto[]> {
    const messages = await readFromReplica(this.chats.manager.connection, async (manager) => {
      const [sql, parameters] = manager.connection.driver.escapeQueryWithParameters(
        conversationPageSql(page.before !== undefined),
        { me: user.id, before: page.before, limit: page.limit },
        {},
      );
      const latest: Array<{ last_id: number | string }> = await manager.query(sql, parameters);
      if (latest.length === 0) return [];
      // PostgreSQL's MAX() of an integer column comes back as a number; SQLite's too; Number() for safety.
      const found = await manager.findBy(Chat, { id: In(latest.map((row) => Number(row.last_id))) });
      return found.sort((a, b) => b.id - a.id);
    });
    const partnerOf = (m: Chat) => (m.senderId === user.id ? m.receiverId : m.senderId);
    const names = await this.users.findNames(messages.map(partnerOf));
    return messages.map((m) => ({
      user: { id: partnerOf(m), name: names.get(partnerOf(m)) ?? '' },
      last_message: toChatMessageDto(m),
    }));
  }

  /** The messages between the user and another, newest first, one page. */
  async conversation(user: User, otherId: number, page: PageQueryDto): Promise<ChatMessageDto[]> {
    await this.requireUser(otherId);
    const messages = await readFromReplica(this.chats.manager.connection, (manager) => {
      const query = manager
        .createQueryBuilder(Chat, 'chat')
        .where(
          '((chat.sender_id = :me AND chat.receiver_id = :other) OR (chat.sender_id = :other AND chat.receiver_id = :me))',
          { me: user.id, other: otherId },
        )
        .orderBy('chat.id', 'DESC')
        .limit(page.limit);
      if (page.before_id) query.andWhere('chat.id < :before', { before: page.before_id });
      return query.getMany();
    });
    return messages.map(toChatMessageDto);
  }

  async postGlobal(user: User, message: string): Promise<GlobalChatMessageDto> {
    const entry = this.globalChat.create({ userId: user.id, message, timestamp: this.clock.now() });
    await this.globalChat.insert(entry);
    return toGlobalChatMessageDto(entry, user.name);
  }

  async listGlobal(page: PageQueryDto): Promise<GlobalChatMessageDto[]> {
    const messages = await readFromReplica(this.globalChat.manager.connection, (manager) => {
      const query = manager
        .createQueryBuilder(GlobalChat, 'g')
        .innerJoin('g.user', 'u')
        .addSelect(['u.id', 'u.name'])
        .orderBy('g.id', 'DESC')
        .limit(page.limit);
      if (page.before_id) query.where('g.id < :before', { before: page.before_id });
      return query.getMany();
    });
    return messages.map((g) => toGlobalChatMessageDto(g, g.user?.name ?? ''));
  }

  private async requireUser(id: number): Promise<void> {
    if (!(await this.users.findById(id))) throw new NotFoundException('User not found');
  }
}
