import net from 'node:net';
import { once } from 'node:events';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { SmtpReceiver } from './smtp-receiver.js';
import { eventually } from './eventually.js';

/** A client that opens a transaction (MAIL FROM, RCPT TO, DATA) and resets the connection before the message. */
async function resetMidMessage(port: number): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let heard = '';
  socket.on('data', (chunk: string) => {
    heard += chunk;
  });
  const expectReply = (code: string) => eventually(async () => (heard.includes(`\n${code}`) || heard.startsWith(code) ? true : undefined), { what: `an SMTP ${code}`, every: 10 });
  await expectReply('220');
  for (const [command, reply] of [['EHLO probe', '250'], ['MAIL FROM:<a@example.com>', '250 Accepted'], ['RCPT TO:<b@example.com>', '250 Accepted'], ['DATA', '354']] as const) {
    heard = '';
    socket.write(`${command}\r\n`);
    await expectReply(reply);
  }
  // A reset right after a write can reach the server as a plain close; the reset alone reaches it as one.
  socket.resetAndDestroy();
  await once(socket, 'close');
}

describe('the SMTP receiver the tests send mail to', () => {
  let receiver: SmtpReceiver | null = null;
  afterEach(async () => {
    await receiver?.stop();
    receiver = null;
  });

  it('stays up when senders reset their connections mid-message, as a killed hub does, and still accepts mail', async () => {
    receiver = await new SmtpReceiver().start();
    await resetMidMessage(receiver.port);
    await resetMidMessage(receiver.port);
    await resetMidMessage(receiver.port);
    await eventually(async () => (receiver!.brokenConnections.length === 3 ? true : undefined), { what: 'three broken connections recorded' });
    expect(receiver.brokenConnections.map((error) => (error as NodeJS.ErrnoException).code)).toEqual(['ECONNRESET', 'ECONNRESET', 'ECONNRESET']);

    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: receiver.port, secure: false, ignoreTLS: true });
    await transport.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'after the resets', text: 'still here' });
    expect(receiver.to('b@example.com').map((received) => received.mail.subject)).toEqual(['after the resets']);
  });
});
