import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** Why a peer may not call `POST /validate`: the status to answer and what to say, or `null` when it may. */
export interface ClientAuthProblem {
  status: 401 | 403;
  detail: string;
}

/** The names a client certificate vouches for: its subject CN and its DNS SANs. */
function certificateNames(socket: TLSSocket): { cn: string; names: string[] } {
  const peer = socket.getPeerX509Certificate();
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(peer?.subject ?? '')?.[1] ?? '';
  const sans = (peer?.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4));
  return { cn, names: [cn, ...sans].filter((n) => n !== '') };
}

/**
 * Authenticates the caller of `POST /validate` by its TLS client certificate: it must chain to `clientCaFile` (the
 * server asked for it at the handshake; `socket.authorized` is OpenSSL's verdict, expiry included), and, when
 * `clientNames` is set, name one of them. Without `clientCaFile` (only with `allowUnauthenticated: true`) anyone may.
 */
export function clientAuthProblem(req: IncomingMessage, settings: { clientCaFile?: string; clientNames: string[] }): ClientAuthProblem | null {
  if (settings.clientCaFile === undefined) return null;
  const socket = req.socket as TLSSocket;
  if (!socket.authorized) {
    const why = socket.authorizationError ? ` (${String(socket.authorizationError)})` : '';
    return { status: 401, detail: `a client certificate signed by the configured client CA is required${why}` };
  }
  if (settings.clientNames.length === 0) return null;
  const { cn, names } = certificateNames(socket);
  if (names.some((n) => settings.clientNames.includes(n))) return null;
  return { status: 403, detail: `the client certificate "${cn}" is not one of clientNames (${settings.clientNames.join(', ')})` };
}
