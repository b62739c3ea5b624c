/**
 * The token routes: the application token (client credentials), the scoped token (get-or-create a
 * workspace by exact name) and its info, for both path families.
 */
import { type Issue, invalid, ok, type Reply, WORKSPACE_NOT_FOUND } from '../answers.js';
import { REGION_IDS } from '../../src/core/types.js';
import type { RequestContext } from '../context.js';
import { bodyObject, isUuid, NOT_AN_OBJECT, requiredString } from '../validate.js';

/** `POST /api/v1/account/applications/token`. */
export function applicationToken(ctx: RequestContext): Reply {
  const body = bodyObject(ctx.body);
  if (!body) return invalid([NOT_AN_OBJECT]);
  const issues: Issue[] = [];
  const clientId = requiredString(body, 'client_id', issues);
  const clientSecret = requiredString(body, 'client_secret', issues);
  if (issues.length > 0) return invalid(issues);
  const { sim } = ctx;
  if (clientId !== sim.clientId || clientSecret !== sim.clientSecret) {
    return {
      status: 401,
      body: JSON.stringify({ error: 'invalid_client', message: 'Invalid client credentials' }),
    };
  }
  const accessToken = sim.tokens.mint({ kind: 'application' }, sim.appTokenTtlMs);
  sim.stats.tokenMints++;
  return ok({
    access_token: accessToken,
    token_type: 'bearer',
    // Whole seconds, rounded down (never promise more than there is), and at least 1.
    expires_in: Math.max(1, Math.floor(sim.appTokenTtlMs / 1000)),
    organization_id: sim.organizationId,
  });
}

/**
 * `POST …/scoped-token`: a token for the live workspace with exactly this name, creating it
 * (active) when there is none. After a rename the old name is free, so minting with it creates a
 * new workspace: the rename trap of docs/agent-engine-api.md, reproduced on purpose.
 */
export function scopedToken(ctx: RequestContext): Reply {
  const body = bodyObject(ctx.body);
  if (!body) return invalid([NOT_AN_OBJECT]);
  const issues: Issue[] = [];
  const name = requiredString(body, 'workspace_name', issues);
  if (name !== undefined && name.trim() === '') {
    issues.push({
      loc: ['body', 'workspace_name'],
      msg: 'String should have at least 1 character',
      type: 'string_too_short',
    });
  }
  const region = body.region_id;
  if (region !== undefined && region !== null && (typeof region !== 'string' || !isUuid(region))) {
    issues.push({
      loc: ['body', 'region_id'],
      msg: 'Input should be a valid UUID',
      type: 'uuid_type',
    });
  }
  if (issues.length > 0 || name === undefined) return invalid(issues);
  const { sim } = ctx;
  // `region_id` only matters at creation: an existing workspace stays where it is.
  const regionId = typeof region === 'string' ? region.toLowerCase() : null;
  let workspace = sim.store.findByName(name);
  if (!workspace) {
    workspace = sim.store.create(name, 'active', regionId ?? REGION_IDS.us);
    sim.stats.workspacesCreated++;
    sim.journal.mints.push({ at: sim.clock.now(), workspaceId: workspace.id, name, regionId });
  }
  const token = sim.tokens.mint(
    { kind: 'scoped', workspaceId: workspace.id },
    sim.scopedTokenTtlMs,
  );
  sim.stats.scopedMints++;
  return ok({ token });
}

/** `GET …/scoped-token/info`, with the scoped token; the name is the workspace's current one. */
export function scopedTokenInfo(ctx: RequestContext): Reply {
  // The route demands a scoped token, so anything else here is a bug of the simulator.
  if (ctx.grant?.kind !== 'scoped') throw new Error('scoped-token/info without a scoped grant');
  const workspace = ctx.sim.store.get(ctx.grant.workspaceId);
  if (!workspace) return WORKSPACE_NOT_FOUND;
  return ok({
    organization_id: workspace.organizationId,
    workspace_id: workspace.id,
    workspace_name: workspace.name,
  });
}
