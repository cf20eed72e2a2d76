import { MalformedRecordError } from '../core/errors.js';
import type { Json, NewEvent, RecordedEvent } from '../core/types.js';
import type { Tagged } from './match.js';

/** Event type of every accepted transition of every machine. */
export const MACHINE_TRANSITION_EVENT = 'ordo.machine.transition';

/** Tag carried by every transition event of machine `name` (what the state index reads). */
export function machineTag(name: string): string {
  return `machine:${name}`;
}

/** The data of one transition event: the command and the state it led to. */
export interface MachineTransitionData<Command extends Tagged, State extends Tagged> {
  machine: string;
  id: string;
  command: Command;
  /** `type` of the state before the command. */
  from: string;
  state: State;
}

/** Builds the one event an accepted transition appends. */
export function transitionEvent<Command extends Tagged, State extends Tagged>(
  data: MachineTransitionData<Command, State>,
  extra: { eventId?: string; metadata?: Record<string, Json> },
): NewEvent {
  return {
    type: MACHINE_TRANSITION_EVENT,
    data: data as unknown as Json,
    tags: [machineTag(data.machine), `command:${data.command.type}`, `state:${data.state.type}`],
    ...(extra.eventId === undefined ? {} : { id: extra.eventId }),
    ...(extra.metadata === undefined ? {} : { metadata: extra.metadata }),
  };
}

/**
 * Reads a transition event back. A record of another type or shape in a machine stream throws
 * `MalformedRecordError` rather than being skipped: the state would otherwise be silently wrong.
 */
export function decodeTransition<Command extends Tagged, State extends Tagged>(
  event: RecordedEvent,
): MachineTransitionData<Command, State> {
  const data = event.data as Partial<MachineTransitionData<Command, State>> | null;
  const ok =
    event.type === MACHINE_TRANSITION_EVENT &&
    typeof data === 'object' &&
    data !== null &&
    typeof data.id === 'string' &&
    typeof data.machine === 'string' &&
    typeof data.from === 'string' &&
    isTagged(data.command) &&
    isTagged(data.state);
  if (!ok) {
    const record = {
      streamId: event.streamId,
      version: event.version,
      position: event.position,
      raw: event,
      error: new Error(`not a machine transition event (type ${JSON.stringify(event.type)})`),
    };
    throw new MalformedRecordError(
      record,
      `stream ${JSON.stringify(event.streamId)} version ${event.version}: ${record.error.message}`,
    );
  }
  return data as MachineTransitionData<Command, State>;
}

function isTagged(value: unknown): value is Tagged {
  return typeof value === 'object' && value !== null && typeof (value as Tagged).type === 'string';
}
