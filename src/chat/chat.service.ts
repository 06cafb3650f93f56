import { Injectable, NotFoundException } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import type { Chat } from './chat.entity';
import { ChatRepository } from './chat.repository';
import {
  ChatMessageDto,
  ConversationDto,
  ConversationPageQueryDto,
  GlobalChatMessageDto,
  PageQueryDto,
  toChatMessageDto,
  toGlobalChatMessageDto,
} from './dto/chat.dto';

@Injectable()
export class ChatService {
  constructor(
    private readonly chats: ChatRepository,
    private readonly users: UsersService,
    private readonly clock: Clock,
  ) {}

  async send(sender: User, receiverId: number, message: string): Promise<ChatMessageDto> {
    await this.requireUser(receiverId);
    const chat = await this.chats.insertMessage({
      senderId: sender.id,
      receiverId,
      message,
      timestamp: this.clock.now(),
    });
    return toChatMessageDto(chat);
  }

  /**
   * One page of the user's conversations: one entry per person they have exchanged messages with,
   * by latest message, newest first, older than the cursor (a last_message id) if one is given.
   * Histories are read from the replica if there is one: a message sent a moment ago may be missing.
   * Only `limit` messages and names are read, however many conversations the user has
   * (ChatRepository.latestPerConversation).
   */
  async conversations(user: User, page: ConversationPageQueryDto): Promise<ConversationDto[]> {
    const messages = await this.chats.latestPerConversation(user.id, { limit: page.limit, before: page.before });
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
    const messages = await this.chats.between(user.id, otherId, { limit: page.limit, before: page.before_id });
    return messages.map(toChatMessageDto);
  }

  async postGlobal(user: User, message: string): Promise<GlobalChatMessageDto> {
    const entry = await this.chats.insertGlobal({ userId: user.id, message, timestamp: this.clock.now() });
    return toGlobalChatMessageDto(entry, user.name);
  }

  async listGlobal(page: PageQueryDto): Promise<GlobalChatMessageDto[]> {
    const messages = await this.chats.listGlobal({ limit: page.limit, before: page.before_id });
    return messages.map((g) => toGlobalChatMessageDto(g, g.user?.name ?? ''));
  }

  private async requireUser(id: number): Promise<void> {
    if (!(await this.users.findById(id))) throw new NotFoundException('User not found');
  }
}
