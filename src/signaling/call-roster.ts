/**
 * One call's roster as Graph's participant notifications build it. `updated` carries the full
 * current roster, `created` the participants who joined (or changed), `deleted` those who
 * left. Notifications can arrive out of order: one whose highest rosterSequenceNumber is below
 * the highest already applied describes an older roster and is skipped (stale). Notifications
 * without a sequence number are applied as they come (Graph does not always send one).
 */
import type { Participant } from "../graph/types.js";

export type RosterChangeType = "updated" | "created" | "deleted";

export interface RosterChange {
  changeType: RosterChangeType;
  /** The highest rosterSequenceNumber of the notification's participants (Int64), if any. */
  sequenceNumber?: bigint;
  participants: readonly Participant[];
}

/** What apply() did with a change (signaling_roster_updates_total{outcome}). */
export type RosterApplyOutcome = "applied" | "stale";

export class CallRoster {
  private readonly byId = new Map<string, Participant>();
  private lastSequence: bigint | undefined;

  /** Applies a change in arrival order; a stale one leaves the roster as it was. */
  apply(change: RosterChange): RosterApplyOutcome {
    const sequence = change.sequenceNumber;
    if (sequence !== undefined) {
      // Equal numbers are re-deliveries of the same roster: applying them again changes nothing.
      if (this.lastSequence !== undefined && sequence < this.lastSequence) return "stale";
      this.lastSequence = sequence;
    }
    if (change.changeType === "updated") this.byId.clear();
    for (const participant of change.participants) {
      if (change.changeType === "deleted") this.byId.delete(participant.id);
      else this.byId.set(participant.id, participant);
    }
    return "applied";
  }

  /** The current roster, in join order (a participant that changed keeps its place). */
  get participants(): Participant[] {
    return [...this.byId.values()];
  }

  /** The highest sequence number applied so far. */
  get sequenceNumber(): bigint | undefined {
    return this.lastSequence;
  }
}
