import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Stores the race tests run against: each a URL that several OS processes can open. */
export interface RaceTarget {
  name: string;
  url: () => string;
}

const sqliteDir = mkdtempSync(join(tmpdir(), 'ordo-race-'));

export const raceTargets: RaceTarget[] = [
  { name: 'sqlite', url: () => `sqlite:${join(sqliteDir, 'race.db')}` },
];
