/**
 * What the simulator did, one record per event, for runs that check history rather than
 * counters (the chaos run): every workspace minted (name, time), every change a PUT or DELETE
 * made, every token issued, and every call that arrived with an expired token. Only what came
 * over HTTP is journaled: a test changing the store directly is not the client's doing.
 */
import type { WorkspaceStatus } from '../src/core/types.js';

/** A workspace created by a scoped-token request (get-or-create by name). */
export interface MintRecord {
  readonly at: number;
  readonly workspaceId: string;
  readonly name: string;
  /** The request's `region_id` (lower case), or null when it sent none (then the US default). */
  readonly regionId: string | null;
}

/** A change the API made to a workspace: only the fields that changed, with what they were. */
export type MutationRecord =
  | {
      readonly kind: 'update';
      readonly at: number;
      readonly workspaceId: string;
      readonly from: { readonly name: string; readonly status: WorkspaceStatus };
      /** Present only when it changed. */
      readonly name?: string;
      readonly status?: WorkspaceStatus;
    }
  | {
      readonly kind: 'delete';
      readonly at: number;
      readonly workspaceId: string;
      readonly from: { readonly name: string; readonly status: WorkspaceStatus };
    };

/** A call whose token had already expired when it arrived (before any injected latency). */
export interface ExpiredCall {
  readonly at: number;
  readonly route: string;
  readonly expiredAt: number;
}

/** The simulator's history; read it, or `clear` it between phases. */
export class Journal {
  readonly mints: MintRecord[] = [];
  readonly mutations: MutationRecord[] = [];
  readonly expiredCalls: ExpiredCall[] = [];
  /** Every token issued, application and scoped: for leak checks. */
  readonly tokens: string[] = [];

  /** Forgets everything recorded so far. */
  clear(): void {
    this.mints.length = 0;
    this.mutations.length = 0;
    this.expiredCalls.length = 0;
    this.tokens.length = 0;
  }
}
