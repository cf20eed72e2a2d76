/**
 * Test worker: takes SQLite's write lock on `path` (BEGIN IMMEDIATE), prints `locked`, keeps it
 * for `holdMs` milliseconds, commits and exits.
 * argv: path holdMs
 */
import Database from 'better-sqlite3';

const [path, holdArg] = process.argv.slice(2);
const db = new Database(path!);
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\n');
await new Promise((resolve) => setTimeout(resolve, Number(holdArg)));
db.exec('COMMIT');
db.close();
