import { Module } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { appConfig } from '../config/app.config';
import { RedisModule } from '../redis/redis.module';
import { RedisService } from '../redis/redis.service';
import { RedisThrottlerStorage } from '../redis/redis-throttler-storage';
import { UsersModule } from '../users/users.module';
import { Chat } from './chat.entity';
import { ChatController } from './chat.controller';
import { ChatRepository } from './chat.repository';
import { ChatService } from './chat.service';
import {
  CHAT_THROTTLER_OPTIONS,
  CHAT_THROTTLER_STORAGE,
  ChatSendThrottle,
  chatThrottlerOptions,
} from './chat-send-throttle.guard';
import { GlobalChat } from './global-chat.entity';

@Module({
  imports: [TypeOrmModule.forFeature([Chat, GlobalChat]), UsersModule, RedisModule],
  controllers: [ChatController],
  providers: [
    ChatService,
    ChatRepository,
    ChatSendThrottle,
    { provide: CHAT_THROTTLER_OPTIONS, inject: [appConfig.KEY], useFactory: chatThrottlerOptions },
    // Send counts: in Redis, shared by every instance, when REDIS_URL is set; else in this process.
    {
      provide: CHAT_THROTTLER_STORAGE,
      inject: [RedisService],
      useFactory: (redis: RedisService) =>
        redis.client ? new RedisThrottlerStorage(redis.client) : new ThrottlerStorageService(),
    },
  ],
})
export class ChatModule {}
