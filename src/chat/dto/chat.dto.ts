import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { CodePointLength, Trim } from '../../common/validators';
import type { Chat } from '../chat.entity';
import type { GlobalChat } from '../global-chat.entity';

const MAX_ID = 2147483647;

/** A query number: an empty value (`?before_id=`) means "not given"; anything else must parse. */
const QueryNumber = (fallback?: number) =>
  Transform(({ value }) => {
    if (value === '' || value === undefined) return fallback;
    // Plain decimal digits only: Number() would also take "0x10", "1e1" or " 5 ".
    return typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  });

export class SendChatDto {
  @ApiProperty({ example: 2, description: 'The user to send to.' })
  @IsInt({ message: 'receiver_id must be an integer' })
  @Min(1)
  @Max(MAX_ID)
  receiver_id: number;

  @ApiProperty({
    example: 'Hello!',
    description: 'Trimmed; 1–2000 characters (code points).',
    minLength: 1,
    maxLength: 2000,
  })
  @Trim()
  @CodePointLength(1, 2000)
  @IsString()
  message: string;
}

export class PostGlobalChatDto {
  @ApiProperty({
    example: 'Hello, everyone!',
    description: 'Trimmed; 1–2000 characters (code points).',
    minLength: 1,
    maxLength: 2000,
  })
  @Trim()
  @CodePointLength(1, 2000)
  @IsString()
  message: string;
}

/** `limit`, shared by every paged chat list. */
export class LimitQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 50, description: 'Page size.' })
  @QueryNumber(50)
  @IsOptional()
  @IsInt({ message: 'limit must be an integer between 1 and 100' })
  @Min(1, { message: 'limit must be an integer between 1 and 100' })
  @Max(100, { message: 'limit must be an integer between 1 and 100' })
  limit: number = 50;
}

export class PageQueryDto extends LimitQueryDto {
  @ApiPropertyOptional({
    minimum: 1,
    description: 'Return only messages older than this id (the last id of the previous page).',
  })
  @QueryNumber()
  @IsOptional()
  @IsInt({ message: 'before_id must be a positive integer' })
  @Min(1, { message: 'before_id must be a positive integer' })
  @Max(MAX_ID, { message: 'before_id must be a positive integer' })
  before_id?: number;
}

/**
 * GET /chats. The cursor is a message id, not a time: every conversation's latest message has an
 * id of its own, so the order (by that id, newest first) has no ties and a page boundary never
 * splits or repeats conversations, which times that two messages can share would.
 */
export class ConversationPageQueryDto extends LimitQueryDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_ID,
    description:
      'Cursor: the `last_message.id` of the last conversation of the previous page; returns only conversations ' +
      'whose latest message is older (a smaller id). Omit for the first page. A conversation that gets a new ' +
      'message while you page moves to the top, so it shows on the first page again, not on a later one.',
  })
  @QueryNumber()
  @IsOptional()
  @IsInt({ message: 'before must be a positive integer (a last_message id)' })
  @Min(1, { message: 'before must be a positive integer (a last_message id)' })
  @Max(MAX_ID, { message: 'before must be a positive integer (a last_message id)' })
  before?: number;
}

export class ChatMessageDto {
  @ApiProperty({ example: 10 }) id: number;
  @ApiProperty({ example: 1 }) sender_id: number;
  @ApiProperty({ example: 2 }) receiver_id: number;
  @ApiProperty({ example: 'Hello!' }) message: string;
  @ApiProperty({ type: String, format: 'date-time' }) timestamp: string;
}

export class ChatCreatedDto {
  @ApiProperty({ type: ChatMessageDto }) chat: ChatMessageDto;
}

export class ChatMessagesDto {
  @ApiProperty({ type: [ChatMessageDto], description: 'Newest first.' }) messages: ChatMessageDto[];
}

export class ChatPartnerDto {
  @ApiProperty({ example: 2 }) id: number;
  @ApiProperty({ example: 'Grace Hopper' }) name: string;
}

export class ConversationDto {
  @ApiProperty({ type: ChatPartnerDto }) user: ChatPartnerDto;
  @ApiProperty({ type: ChatMessageDto }) last_message: ChatMessageDto;
}

export class ConversationListDto {
  @ApiProperty({
    type: [ConversationDto],
    description: 'Most recent first (by `last_message.id`); at most `limit` entries.',
  })
  conversations: ConversationDto[];
}

export class GlobalChatMessageDto {
  @ApiProperty({ example: 5 }) id: number;
  @ApiProperty({ example: 1 }) user_id: number;
  @ApiProperty({ example: 'Ada Lovelace' }) user_name: string;
  @ApiProperty({ example: 'Hello, everyone!' }) message: string;
  @ApiProperty({ type: String, format: 'date-time' }) timestamp: string;
}

export class GlobalChatCreatedDto {
  @ApiProperty({ type: GlobalChatMessageDto }) message: GlobalChatMessageDto;
}

export class GlobalChatListDto {
  @ApiProperty({ type: [GlobalChatMessageDto], description: 'Newest first.' }) messages: GlobalChatMessageDto[];
}

export function toChatMessageDto(chat: Chat): ChatMessageDto {
  return {
    id: chat.id,
    sender_id: chat.senderId,
    receiver_id: chat.receiverId,
    message: chat.message,
    timestamp: chat.timestamp.toISOString(),
  };
}

export function toGlobalChatMessageDto(message: GlobalChat, userName: string): GlobalChatMessageDto {
  return {
    id: message.id,
    user_id: message.userId,
    user_name: userName,
    message: message.message,
    timestamp: message.timestamp.toISOString(),
  };
}
