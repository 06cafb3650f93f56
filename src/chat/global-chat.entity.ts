import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

/** A message in the room every signed-in user shares. */
@Entity({ name: 'global_chat' })
@Index('ix_global_chat_user', ['userId'])
export class GlobalChat {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ type: 'text' })
  message: string;

  @Column({ type: Date })
  timestamp: Date;
}
