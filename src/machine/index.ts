export {
  defineMachine,
  type HandleOptions,
  type Machine,
  type MachineDefinition,
  type MachineInstance,
  type Transition,
  type TransitionContext,
} from './define-machine.js';
export { InvalidTransitionError, isInvalidTransition } from './invalid-transition-error.js';
export { MACHINE_TRANSITION_EVENT, type MachineTransitionData, machineTag } from './machine-event.js';
export {
  createMachineRepository,
  type LoadedMachine,
  type MachineHandleOptions,
  type MachineHandleResult,
  type MachineRepository,
  type MachineRepositoryConfig,
  type MachineTransitionRecord,
} from './machine-repository.js';
export {
  createMachineTestSuite,
  type MachineCaseBuilder,
  type MachineTestCase,
  type MachineTestSuite,
  type MachineTestSuiteConfig,
} from './machine-test-suite.js';
export { type MatchHandlers, match, matchPartial, type Tagged, type Variant } from './match.js';
export {
  createProjectedStateIndex,
  defineStateIndexProjection,
  type ProjectedStateIndexConfig,
  type StateIndexDocument,
  type StateIndexProjectionOptions,
} from './projected-state-index.js';
export type {
  Comparable,
  ComparableKeys,
  FieldFilter,
  FieldOperators,
  Operand,
  OrderBy,
  Where,
} from './state-filter.js';
export {
  createStateIndex,
  type FindQuery,
  type FindResult,
  queryEntries,
  type StateIndex,
  type StateIndexConfig,
  type StateIndexEntry,
} from './state-index.js';
export { createStoreLease, type StoreLease, type StoreLeaseConfig } from './store-lease.js';
export {
  createTimeoutProcessor,
  type TimeoutProcessor,
  type TimeoutProcessorConfig,
  type TimeoutRule,
  type TimeoutTickResult,
} from './timeout-processor.js';
