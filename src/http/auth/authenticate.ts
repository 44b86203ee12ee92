import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hasAnyScope, type Principal } from '../../domain/identity.js';
import { HttpProblem } from '../problems.js';
import { TokenRejected, type TokenVerifier, VerificationKeysUnavailable } from './token-verifier.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route needs a bearer token holding at least one of these scopes; none listed: any valid token. */
    scopes?: readonly string[];
  }
  interface FastifyRequest {
    /** The verified caller on routes that require a token. */
    principal: Principal | null;
  }
}

/**
 * Authenticates requests to routes that declare `config.scopes`, before their bodies are read: 401 without a
 * valid bearer token, 403 when the token lacks every listed scope (an empty list takes any valid token).
 */
export function installAuthentication(app: FastifyInstance, verifier: TokenVerifier): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const required = request.routeOptions.config.scopes;
    if (!required) return;
    const principal = await authenticate(request, verifier);
    if (required.length > 0 && !hasAnyScope(principal, required)) {
      throw new HttpProblem(
        'forbidden',
        `This requires the scope ${required.map((s) => `'${s}'`).join(' or ')}.`,
      );
    }
    request.principal = principal;
  });
}

async function authenticate(request: FastifyRequest, verifier: TokenVerifier): Promise<Principal> {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) {
    throw new HttpProblem('unauthenticated', 'Send a token in an Authorization: Bearer header.', {
      headers: { 'www-authenticate': 'Bearer' },
    });
  }
  try {
    return await verifier.verify(match[1]);
  } catch (error) {
    if (error instanceof VerificationKeysUnavailable) {
      throw new HttpProblem('keysUnavailable', 'The keys that verify tokens could not be fetched. Retry shortly.', {
        headers: { 'retry-after': '5' },
      });
    }
    if (!(error instanceof TokenRejected)) throw error;
    throw new HttpProblem('unauthenticated', error.message, {
      headers: {
        'www-authenticate': `Bearer error="invalid_token", error_description="${error.message.replace(/"/g, "'")}"`,
      },
    });
  }
}

/** The principal of an authenticated route; routes with `config.scopes` always have one. */
export function callerOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('callerOf used on a route without config.scopes');
  return request.principal;
}
