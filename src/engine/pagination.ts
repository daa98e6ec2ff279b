/**
 * Marker pagination for the list calls (AWS ListKeys / ListAliases, Huawei list-keys): entries in
 * the order of a sort key, a page of `limit` after the marker, and the marker of the next page.
 * A marker is the last entry's sort key, opaque to callers (base64url), so a page stays right
 * when entries before it are added or removed.
 */
import { ByokError } from '../errors.js';

/** AWS's bounds for Limit (1..1000) and its default (100). */
const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;

export interface PageRequest {
  readonly limit?: number;
  readonly marker?: string;
}

export interface Page<T> {
  readonly items: T[];
  readonly truncated: boolean;
  readonly nextMarker?: string;
}

function markerKey(marker: unknown): string | undefined {
  if (marker === undefined) return undefined;
  if (typeof marker !== 'string' || marker.length === 0 || marker.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(marker)) {
    throw new ByokError('INVALID_PARAMETER', 'marker must be the nextMarker of a previous page.');
  }
  return Buffer.from(marker, 'base64url').toString('utf8');
}

/** The page after `request.marker` of `entries`, ordered by `sortKey` (compared as strings). */
export function pageOf<T>(entries: readonly T[], sortKey: (entry: T) => string, request: PageRequest): Page<T> {
  const limit = request.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new ByokError('INVALID_PARAMETER', `limit must be an integer from 1 to ${MAX_LIMIT}.`);
  const after = markerKey(request.marker);
  const keyed = entries.map((entry) => ({ entry, key: sortKey(entry) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const rest = after === undefined ? keyed : keyed.filter((e) => e.key > after);
  const items = rest.slice(0, limit);
  const truncated = rest.length > limit;
  return {
    items: items.map((e) => e.entry), truncated,
    ...(truncated ? { nextMarker: Buffer.from(items[items.length - 1]!.key, 'utf8').toString('base64url') } : {}),
  };
}
