/**
 * How each dialect's caller proves who it is: an API token for the project's own tools, or a
 * request signed with an access key by the vendor's SDK. The scheme is chosen by the
 * Authorization header's first word; the signature schemes need the raw body, so these run
 * after it is read and before it is validated.
 */
import type { FastifyRequest } from 'fastify';
import { ByokError } from '../../errors.js';
import type { Credentials } from '../auth.js';
import { signedRequestOf } from './canonical.js';
import { SDK_HMAC_ALGORITHM, verifySdkHmac } from './sdk-hmac.js';
import { SIGV4_ALGORITHM, verifySigV4 } from './sigv4.js';
import { TC3_ALGORITHM, verifyTc3 } from './tc3-hmac.js';

/** The Authorization header's value when it is one string. */
const authorization = (req: FastifyRequest) => (typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined);

/** Tencent: `Authorization: TC3-HMAC-SHA256 …` (the SDKs) or `Authorization: Bearer <token>`. */
export function authenticateTencent(req: FastifyRequest, credentials: Credentials, rawBody: Uint8Array): string {
  const h = authorization(req);
  if (h?.startsWith(`${TC3_ALGORITHM} `)) return verifyTc3(signedRequestOf(req, rawBody), credentials.accessKeys, credentials.clock.now()).tenant;
  return credentials.tenantOf(h?.startsWith('Bearer ') ? h.slice(7) : undefined);
}

/**
 * Huawei: `Authorization: SDK-HMAC-SHA256 …` (the SDKs' AK/SK) or `X-Auth-Token: <token>`. An
 * access key bound to a project may only reach that project: the {project_id} in the path and
 * X-Project-Id, when sent, must both be it.
 */
export function authenticateHuawei(req: FastifyRequest, credentials: Credentials, rawBody: Uint8Array): string {
  const h = authorization(req);
  if (!h?.startsWith(`${SDK_HMAC_ALGORITHM} `)) return credentials.tenantOf(req.headers['x-auth-token'] as string | undefined);
  const key = verifySdkHmac(signedRequestOf(req, rawBody), credentials.accessKeys, credentials.clock.now());
  const pathProject = (req.params as { project_id?: string } | undefined)?.project_id;
  const headerProject = req.headers['x-project-id'];
  if (key.projectId !== undefined && (pathProject !== key.projectId || (headerProject !== undefined && headerProject !== key.projectId))) {
    throw new ByokError('ACCESS_DENIED', 'The access key is not allowed to access this project.');
  }
  return key.tenant;
}

/** AWS: `Authorization: AWS4-HMAC-SHA256 …` for the service `kms` (the AWS dialect's authenticate). */
export function authenticateAws(req: FastifyRequest, credentials: Credentials, rawBody: Uint8Array): string {
  const h = authorization(req);
  if (h === undefined) throw new ByokError('UNAUTHORIZED');
  if (!h.startsWith(`${SIGV4_ALGORITHM} `)) throw new ByokError('SIGNATURE_MALFORMED', `The request must be signed with ${SIGV4_ALGORITHM}.`);
  return verifySigV4(signedRequestOf(req, rawBody), credentials.accessKeys, credentials.clock.now(), { service: 'kms' }).tenant;
}
