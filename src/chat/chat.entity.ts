import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

/** A private message. Conversations are read newest first by id, hence the composite indexes. */
@Entity({ name: 'chats' })
@Index('ix_chats_sender_receiver', ['senderId', 'receiverId', 'id'])
@Index('ix_chats_receiver_sender', ['receiverId', 'senderId', 'id'])
export class Chat {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'sender_id', type: 'integer' })
  senderId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'sender_id' })
  sender?: User;

  @Column({ name: 'receiver_id', type: 'integer' })
  receiverId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'receiver_id' })
  receiver?: User;

  @Column({ type: 'text' })
  message: string;

  @Column({ type: Date })
  timestamp: Date;
}
