import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EventStore, RecordedEvent } from '../../src/core/types.js';

const worker = fileURLToPath(new URL('./workers/batch-writer.ts', import.meta.url));

export interface KillScenarioOptions {
  url: string;
  namespace: string;
  writers: number;
  batchSize: number;
  /** Each writer is killed with SIGKILL after a random delay up to this many milliseconds (after it is ready). */
  maxRunMs: number;
}

export interface KillScenarioResult {
  writers: number;
  acknowledgedBatches: number;
  storedBatches: number;
  storedEvents: number;
  /** Acknowledged batches missing from the store (must be 0). */
  lostAcknowledged: number;
  /** Stored batches with fewer or more events than written (must be 0). */
  partialBatches: number;
  /** Event ids stored twice (must be 0). */
  duplicates: number;
}

interface WriterRun {
  /** Resolves when the process ended as expected (SIGKILL for victims, exit 0 after `done` for survivors). */
  ended: Promise<void>;
  /** Asks a survivor to finish its current batch and exit. */
  stop: () => void;
  /** SIGKILLs the process if it is still running (cleanup after a failed run). */
  kill: () => void;
}

/**
 * Starts one batch-writer process. A victim is SIGKILLed `killAfterMs` after it is ready; a
 * survivor writes `maxBatches` batches and must exit cleanly. Every acknowledged batch id is
 * passed to `onAck`.
 */
function startWriter(
  options: { url: string; namespace: string; writer: number; batchSize: number },
  role:
    | { kind: 'victim'; killAfterMs: () => number; onKilled?: () => void }
    | { kind: 'survivor'; maxBatches: number },
  onAck: (batchId: string) => void,
): WriterRun {
  const args = [worker, options.url, options.namespace, String(options.writer), String(options.batchSize)];
  if (role.kind === 'survivor') args.push(String(role.maxBatches));
  let stop = () => {};
  let kill = () => {};
  const ended = new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.on('error', () => {});
    stop = () => {
      child.stdin.write('stop\n');
    };
    kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    let buffer = '';
    let stderr = '';
    let done = false;
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'ready' && role.kind === 'victim') {
          setTimeout(() => {
            child.kill('SIGKILL');
            role.onKilled?.();
          }, role.killAfterMs());
        } else if (line === 'done') done = true;
        else if (line.startsWith('ack ')) onAck(line.split(' ')[1]!);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (role.kind === 'victim' && signal === 'SIGKILL') return resolve();
      if (role.kind === 'survivor' && code === 0 && done) return resolve();
      reject(new Error(`writer ${options.writer} (${role.kind}) exited with ${code ?? signal}: ${stderr}`));
    });
  });
  return { ended, stop, kill };
}

/** Reads the whole namespace and counts batches, partial batches, duplicates and lost acknowledgements. */
export async function auditBatches(
  store: EventStore,
  acks: Set<string>,
  batchSize: number,
): Promise<Omit<KillScenarioResult, 'writers'>> {
  const events: RecordedEvent[] = [];
  for (let after: string | undefined; ; ) {
    const page = await store.readAll({ limit: 5_000, ...(after ? { after } : {}) });
    events.push(...page);
    if (page.length < 5_000) break;
    after = page[page.length - 1]!.position;
  }
  const batches = new Map<string, number>();
  const ids = new Set<string>();
  let duplicates = 0;
  for (const event of events) {
    if (ids.has(event.id)) duplicates++;
    ids.add(event.id);
    const { batchId } = event.data as { batchId: string };
    batches.set(batchId, (batches.get(batchId) ?? 0) + 1);
  }
  let partialBatches = 0;
  for (const count of batches.values()) if (count !== batchSize) partialBatches++;
  let lostAcknowledged = 0;
  for (const batchId of acks) if (!batches.has(batchId)) lostAcknowledged++;
  return {
    acknowledgedBatches: acks.size,
    storedBatches: batches.size,
    storedEvents: events.length,
    lostAcknowledged,
    partialBatches,
    duplicates,
  };
}

/** Starts writer processes, kills each with SIGKILL mid-stream, then audits what the store holds. */
export async function runKillScenario(
  store: EventStore,
  options: KillScenarioOptions,
): Promise<KillScenarioResult> {
  const acks = new Set<string>();
  await Promise.all(
    Array.from(
      { length: options.writers },
      (_, writer) =>
        startWriter(
          { ...options, writer },
          { kind: 'victim', killAfterMs: () => 50 + Math.random() * options.maxRunMs },
          (batchId) => acks.add(batchId),
        ).ended,
    ),
  );
  return { writers: options.writers, ...(await auditBatches(store, acks, options.batchSize)) };
}

export interface SurvivorScenarioOptions {
  url: string;
  namespace: string;
  /** Writers killed with SIGKILL while the survivors write. */
  victims: number;
  /** Writers that must keep writing and finish without a single failed append. */
  survivors: number;
  /** Batches the survivors (together) must acknowledge after the last victim died before they are stopped. */
  batchesAfterKill: number;
  batchSize: number;
  /** Victims are killed after a random delay up to this many milliseconds (after they are ready). */
  maxRunMs: number;
  /** Bound on the whole run. */
  timeoutMs: number;
}

export interface SurvivorScenarioResult extends KillScenarioResult {
  /** Batches the survivors had acknowledged when the last victim was killed, and in total. */
  survivorAcksAtLastKill: number;
  survivorAcks: number;
}

/**
 * Some writer processes are SIGKILLed while others keep writing: the survivors must go on
 * acknowledging batches after the last kill (a dead writer must not leave a lock behind), then
 * stop cleanly on request without a single failed append; the audit must show no loss, no
 * partial batch and no duplicate.
 */
export async function runSurvivorScenario(
  store: EventStore,
  options: SurvivorScenarioOptions,
): Promise<SurvivorScenarioResult> {
  const acks = new Set<string>();
  let survivorAcks = 0;
  let survivorAcksAtLastKill = -1;
  let killed = 0;
  let wake = () => {};
  const survivorIds = Array.from({ length: options.survivors }, (_, i) => i);
  const victimIds = Array.from({ length: options.victims }, (_, i) => options.survivors + i);
  const survivors = survivorIds.map((writer) =>
    startWriter({ ...options, writer }, { kind: 'survivor', maxBatches: 1_000_000_000 }, (batchId) => {
      acks.add(batchId);
      survivorAcks++;
      wake();
    }),
  );
  const victims = victimIds.map(
    (writer) =>
      startWriter(
        { ...options, writer },
        {
          kind: 'victim',
          killAfterMs: () => 50 + Math.random() * options.maxRunMs,
          onKilled: () => {
            if (++killed === options.victims) survivorAcksAtLastKill = survivorAcks;
            wake();
          },
        },
        (batchId) => acks.add(batchId),
      ).ended,
  );
  const survivorsEnded = Promise.all(survivors.map((s) => s.ended));
  // Survivors that fail end early: that rejection must surface instead of a timeout.
  survivorsEnded.catch(() => {});
  const enough = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `survivors acknowledged ${survivorAcks} batches, not enough after the kills, within ${options.timeoutMs} ms`,
          ),
        ),
      options.timeoutMs,
    );
    wake = () => {
      if (survivorAcksAtLastKill >= 0 && survivorAcks >= survivorAcksAtLastKill + options.batchesAfterKill) {
        clearTimeout(timer);
        resolve();
      }
    };
  });
  try {
    await Promise.race([
      enough,
      survivorsEnded.then(() => Promise.reject(new Error('survivors ended early'))),
    ]);
    for (const survivor of survivors) survivor.stop();
    // A survivor that does not stop within 10 s is killed, and the run fails.
    const stuck = setTimeout(() => {
      for (const survivor of survivors) survivor.kill();
    }, 10_000);
    await Promise.all([survivorsEnded, ...victims]).finally(() => clearTimeout(stuck));
  } catch (error) {
    for (const survivor of survivors) survivor.kill();
    await Promise.allSettled([survivorsEnded, ...victims]);
    throw error;
  }
  return {
    writers: options.victims + options.survivors,
    survivorAcksAtLastKill,
    survivorAcks,
    ...(await auditBatches(store, acks, options.batchSize)),
  };
}
