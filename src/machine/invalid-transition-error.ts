import { OrdoError } from '../core/errors.js';

/**
 * The machine does not accept this command in its current state; nothing was written.
 * Not retried by `retryOnConflict` (it is a decision, not a conflict).
 */
export class InvalidTransitionError extends OrdoError {
  declare readonly code: 'INVALID_TRANSITION';
  /** Name of the machine that refused the command. */
  readonly machine: string;
  /** `type` of the refused command. */
  readonly commandType: string;
  /** `type` of the state the machine was in. */
  readonly stateType: string;
  /** Why, when the transition said so. */
  readonly reason: string | undefined;
  constructor(
    machine: string,
    commandType: string,
    stateType: string,
    reason?: string,
    options?: { cause?: unknown },
  ) {
    super(
      'INVALID_TRANSITION',
      `Machine ${JSON.stringify(machine)} cannot handle ${commandType} in state ${stateType}${reason ? `: ${reason}` : ''}`,
      options,
    );
    this.machine = machine;
    this.commandType = commandType;
    this.stateType = stateType;
    this.reason = reason;
  }
}

/** True for {@link InvalidTransitionError}, also across package copies (checks `code`). */
export function isInvalidTransition(error: unknown): error is InvalidTransitionError {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'INVALID_TRANSITION'
  );
}
