/** Agent Engine calls as the simulator counted them, sorted into what the goals speak of. */
import type { SimStats } from '../simulator/index.js';

export interface Calls {
  readonly total: number;
  readonly lists: number;
  /** Application-token mints. */
  readonly tokens: number;
  /** PUT and DELETE of workspaces, and scoped-token mints (which may create one). */
  readonly writes: number;
  /** PUTs of workspaces alone (among the writes): renames and status changes. */
  readonly puts: number;
  readonly gets: number;
  readonly status429: number;
}

const WRITES =
  /^(PUT|DELETE) \/api\/v1\/workspaces\/\{id\}$|^POST \/api\/v1\/(account\/applications|embedded)\/scoped-token$/;

export function callsOf(stats: SimStats): Calls {
  let total = 0;
  let lists = 0;
  let tokens = 0;
  let writes = 0;
  let puts = 0;
  let gets = 0;
  let status429 = 0;
  for (const [route, statuses] of Object.entries(stats.snapshot().byRoute)) {
    for (const [status, n] of Object.entries(statuses)) {
      total += n;
      if (status === '429') status429 += n;
      if (route === 'GET /api/v1/workspaces') lists += n;
      else if (route === 'POST /api/v1/account/applications/token') tokens += n;
      else if (route === 'GET /api/v1/workspaces/{id}') gets += n;
      else if (WRITES.test(route)) writes += n;
      // A subset of the writes, counted apart.
      if (route === 'PUT /api/v1/workspaces/{id}') puts += n;
    }
  }
  return { total, lists, tokens, writes, puts, gets, status429 };
}
