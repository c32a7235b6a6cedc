import { EventEmitter } from 'node:events';
import type { NotificationConstructorOptions } from 'electron';
import type { NotificationCtor, NotificationLike } from '../notifications.js';

/** A recording stand-in for Electron's Notification; an EventEmitter, like the real one. */
export class FakeNotification extends EventEmitter implements NotificationLike {
  static created: FakeNotification[] = [];
  static supported = true;
  static isSupported(): boolean {
    return FakeNotification.supported;
  }
  shown = false;
  closed = false;
  constructor(readonly options: NotificationConstructorOptions) {
    super();
    FakeNotification.created.push(this);
  }
  show(): void {
    this.shown = true;
  }
  close(): void {
    this.closed = true;
  }
  click(): void {
    this.emit('click', {});
  }
  action(actionIndex: number): void {
    this.emit('action', { actionIndex, selectionIndex: -1 }, actionIndex, -1);
  }
}

export const fakeNotificationCtor: NotificationCtor = FakeNotification;
