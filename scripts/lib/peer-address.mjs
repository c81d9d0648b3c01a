// Preloaded (node --import) into the web process. Route handlers of `next start` cannot see the
// socket, and Next.js only fills X-Forwarded-For when the client did not send one, so the
// client would choose the address it is throttled under. This writes the socket's address into
// one header on every request, overwriting any value the client sent under that name;
// lib/auth/client-address.ts decides from it (and from X-Forwarded-For only when the socket is
// a proxy named in RXSAGA_TRUSTED_PROXIES). Keep the name equal to PEER_ADDRESS_HEADER there.
import http from 'node:http';

const HEADER = 'x-rxsaga-peer-address';
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function emitWithPeer(event, ...args) {
  if (event === 'request') {
    const [request] = args;
    request.headers[HEADER] = request.socket?.remoteAddress ?? '';
  }
  return emit.call(this, event, ...args);
};
