import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { readFromReplica } from '../common/database/replica';
import type { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { Chat } from './chat.entity';
import {
  ChatMessageDto,
  ConversationDto,
  GlobalChatMessageDto,
  PageQueryDto,
  toChatMessageDto,
  toGlobalChatMessageDto,
} from './dto/chat.dto';
import { GlobalChat } from './global-chat.entity';

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
   * One entry per person the user has exchanged messages with, by latest message, newest first.
   * Histories are read from the replica if there is one: a message sent a moment ago may be missing.
   */
  async conversations(user: User): Promise<ConversationDto[]> {
    const latest = this.chats
      .createQueryBuilder('c')
      .select('MAX(c.id)', 'last_id')
      .where('c.sender_id = :me OR c.receiver_id = :me')
      .groupBy('CASE WHEN c.sender_id = :me THEN c.receiver_id ELSE c.sender_id END');
    const messages = await readFromReplica(this.chats.manager.connection, (manager) =>
      manager
        .createQueryBuilder(Chat, 'chat')
        .where(`chat.id IN (${latest.getQuery()})`)
        .setParameters({ me: user.id })
        .orderBy('chat.id', 'DESC')
        .getMany(),
    );
    const names = await this.users.findNames(messages.map((m) => (m.senderId === user.id ? m.receiverId : m.senderId)));
    return messages.map((m) => {
      const partnerId = m.senderId === user.id ? m.receiverId : m.senderId;
      return { user: { id: partnerId, name: names.get(partnerId) ?? '' }, last_message: toChatMessageDto(m) };
    });
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
