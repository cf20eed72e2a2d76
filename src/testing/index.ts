export type { ConformanceConfig } from './conformance-config.js';
export {
  type KilledWriterRaceConfig,
  type KilledWriterRaceResult,
  runKilledWriterRace,
} from './killed-writer-race.js';
export { conformanceCases, runEventStoreConformance } from './run-event-store-conformance.js';
export {
  runSeatBookingRace,
  type SeatBookingRaceConfig,
  type SeatBookingRaceResult,
} from './seat-booking-race.js';
