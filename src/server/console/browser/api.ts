/**
 * The console's one way to the service: the Huawei REST routes of the same origin, the API token
 * in X-Auth-Token (never in a URL), no cookies, no referrer, nothing cached.
 */

/** Who is signed in: the API token and the project ID of the path, for this tab only. */
export interface Session {
  readonly token: string;
  readonly project: string;
}

/** A refusal as the Huawei dialect sends it: its HTTP status, `error_code` and `error_msg`. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

/** POST /v1.0/{project}/kms/{action} with a JSON body; resolves the JSON answer or throws ApiError. */
export async function callKms<T>(session: Session, action: string, body: object): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/v1.0/${encodeURIComponent(session.project)}/kms/${action}`, {
      method: 'POST', body: JSON.stringify(body), credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer',
      headers: { 'content-type': 'application/json', 'x-auth-token': session.token },
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The service could not be reached.');
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const error = (parsed as { error?: { error_code?: unknown; error_msg?: unknown } } | undefined)?.error;
    const code = typeof error?.error_code === 'string' ? error.error_code : `HTTP ${res.status}`;
    const message = typeof error?.error_msg === 'string' ? error.error_msg : 'The service gave no error message.';
    throw new ApiError(res.status, code, message);
  }
  return parsed as T;
}
