/**
 * `GET /api/v1/workspaces`: one page of live workspaces in creation order. `next` is an absolute
 * URL on the host the client used, keeps `limit` and the filters, and is null on the last page.
 * The cursor is an offset (as the real API's is), so concurrent creates and deletes can make a
 * paging client skip or repeat items, exactly as docs/agent-engine-api.md warns.
 */
import type { WorkspaceStatus } from '../../src/core/types.js';
import { faultReply, type Issue, invalid, type Reply } from '../answers.js';
import type { RequestContext } from '../context.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { isWorkspaceStatus, workspaceJson } from '../workspace.js';

/** The list's query, checked. */
interface ListQuery {
  readonly limit: number;
  readonly offset: number;
  readonly status: WorkspaceStatus | undefined;
  readonly nameContains: string | undefined;
}

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

/** `GET /api/v1/workspaces`. */
export function listWorkspaces(ctx: RequestContext): Reply {
  const query = parseQuery(ctx.query);
  if (Array.isArray(query)) return invalid(query);
  // A page that always fails, whatever the retries: the client must see its listing as partial.
  if (ctx.faultsApply && ctx.sim.faults.failsPage(query.offset)) return faultReply(500);
  const filter = { status: query.status, nameContains: query.nameContains };
  const page = ctx.sim.store.page(query.offset, query.limit, filter);
  const next = page.hasMore ? nextUrl(ctx.baseUrl, query, query.offset + page.items.length) : null;
  // Built by hand from cached per-workspace JSON: the hot path of million-workspace benchmarks.
  let data = '';
  for (const ws of page.items) data += (data === '' ? '' : ',') + workspaceJson(ws);
  return { status: 200, body: `{"data":[${data}],"next":${JSON.stringify(next)}}` };
}

function parseQuery(params: URLSearchParams): ListQuery | Issue[] {
  const issues: Issue[] = [];
  let limit = DEFAULT_LIMIT;
  const rawLimit = params.get('limit');
  if (rawLimit !== null) {
    if (!/^[+-]?\d+$/.test(rawLimit.trim())) {
      issues.push({
        loc: ['query', 'limit'],
        msg: 'Input should be a valid integer, unable to parse string as an integer',
        type: 'int_parsing',
      });
    } else {
      limit = Number(rawLimit);
      if (limit < 1) {
        issues.push({
          loc: ['query', 'limit'],
          msg: 'Input should be greater than or equal to 1',
          type: 'greater_than_equal',
        });
      } else if (limit > MAX_LIMIT) {
        issues.push({
          loc: ['query', 'limit'],
          msg: `Input should be less than or equal to ${MAX_LIMIT}`,
          type: 'less_than_equal',
        });
      }
    }
  }
  let offset = 0;
  const cursor = params.get('cursor');
  if (cursor !== null && cursor !== '') {
    const decoded = decodeCursor(cursor);
    if (decoded === undefined) {
      issues.push({ loc: ['query', 'cursor'], msg: 'Invalid cursor', type: 'value_error' });
    } else offset = decoded;
  }
  const rawStatus = params.get('status');
  let status: WorkspaceStatus | undefined;
  if (rawStatus !== null && rawStatus !== '') {
    if (isWorkspaceStatus(rawStatus)) status = rawStatus;
    else {
      issues.push({
        loc: ['query', 'status'],
        msg: "Input should be 'active' or 'inactive'",
        type: 'enum',
      });
    }
  }
  const nameContains = params.get('name_contains') || undefined;
  return issues.length > 0 ? issues : { limit, offset, status, nameContains };
}

function nextUrl(baseUrl: string, query: ListQuery, offset: number): string {
  const params = new URLSearchParams({ limit: String(query.limit), cursor: encodeCursor(offset) });
  if (query.status) params.set('status', query.status);
  if (query.nameContains !== undefined) params.set('name_contains', query.nameContains);
  return `${baseUrl}/api/v1/workspaces?${params.toString()}`;
}
