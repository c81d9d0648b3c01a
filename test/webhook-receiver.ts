import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real webhook receiver for tests: node:http on 127.0.0.1, recording every POST it answers.
 * `respond` decides each answer (default 200); `down()` closes the port for a while (senders
 * get connection refused) and `up()` opens the same port again.
 */
export interface ReceivedWebhook {
  headers: IncomingMessage['headers'];
  body: string;
  /** What the receiver answered. */
  status: number;
}

export type Responder = (
  request: { headers: IncomingMessage['headers']; body: string; index: number },
  res: ServerResponse,
) => number | 'handled';

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  respond: Responder;
  down: () => Promise<void>;
  up: () => Promise<void>;
  close: () => Promise<void>;
}

export async function startWebhookReceiver(path = '/hook'): Promise<WebhookReceiver> {
  let server: Server | null = null;
  let port = 0;
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    respond: () => 200,
    down: async () => {
      const s = server;
      server = null;
      if (s) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
    up: () => listen(),
    close: () => receiver.down(),
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const index = receiver.received.length;
      const answer = receiver.respond({ headers: req.headers, body, index }, res);
      const status = answer === 'handled' ? res.statusCode : answer;
      receiver.received.push({ headers: req.headers, body, status });
      if (answer !== 'handled')
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
    });
  };

  async function listen(): Promise<void> {
    const s = createServer(handle);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  }

  await listen();
  receiver.url = `http://127.0.0.1:${port}${path}`;
  return receiver;
}
