import type { AuditEventV1 } from '../../../schema/audit-event.ts';
import type { RuntimeDecision } from './decide.ts';
import type { RuntimeEvent, SensorKind } from './event.ts';
import { evaluateRuntimeEvent } from './evaluator.ts';
import { adaptFalco } from './falco.ts';
import type { FqdnIndex } from './network.ts';
import type { PodCache } from './pods.ts';
import type { RuntimeRules } from './rules.ts';
import { runtimeAuditEvents, type Enforcement } from './runtime-audit.ts';
import { adaptTetragon, type AdaptDrop } from './tetragon.ts';

/** Why a received event was not evaluated. */
export const RUNTIME_DROP_REASONS = ['queueFull', 'malformed', 'unsupported', 'hostProcess', 'noBundle', 'error'] as const;
export type RuntimeDropReason = (typeof RUNTIME_DROP_REASONS)[number];

export interface RuntimeCounters {
  received: number;
  evaluated: number;
  dropped: Record<RuntimeDropReason, number>;
  verdicts: { allowed: number; alerted: number; blocked: number };
  /** Blocked events already refused in the kernel (a Tetragon policy's Override / Sigkill). */
  kernelBlocked: number;
  /** Processes killed from user space after the fact, and kills that failed (gone, or not the same program). */
  killed: number;
  killFailed: number;
  auditEvents: number;
}

export interface RuntimeProcessorOptions {
  /** Lines held before evaluation; when full, new lines are dropped as `queueFull` (default 65,536). */
  capacity?: number;
  rules: () => RuntimeRules | null;
  pods?: PodCache;
  names?: FqdnIndex;
  now?: () => Date;
  newId: () => string;
  /** Receives the audit events of every decision with findings (Audit: `alerted`, Enforce: `blocked`). */
  onAudit: (events: AuditEventV1[]) => void;
  /**
   * Kills a process from user space (Enforce-mode exec violations the kernel did not refuse); resolves whether it
   * was killed. Absent: nothing is killed.
   */
  kill?: (pid: number, binary: string) => boolean;
}

/**
 * Takes sensor lines through a bounded queue into decisions: adapt (Tetragon or Falco) → which profiles apply →
 * decide → audit events and, for an Enforce-mode exec the kernel did not already refuse, a user-space kill. Every
 * line is counted once: `received` counts lines taken off the queue or refused by it, each of which is then
 * `evaluated` or `dropped` by reason in the same step, so received = evaluated + dropped holds at every moment
 * (lines still waiting are `queued`).
 *
 * @example
 * ```ts
 * const processor = new RuntimeProcessor({ rules: () => rules, newId: uuidv7, onAudit: (e) => audit.record(e) });
 * tail.on('line', (line) => processor.push(line, 'tetragon'));
 * setInterval(() => processor.drain(), 10);
 * ```
 */
export class RuntimeProcessor {
  readonly capacity: number;
  readonly counters: RuntimeCounters = {
    received: 0, evaluated: 0, dropped: Object.fromEntries(RUNTIME_DROP_REASONS.map((r) => [r, 0])) as Record<RuntimeDropReason, number>,
    verdicts: { allowed: 0, alerted: 0, blocked: 0 }, kernelBlocked: 0, killed: 0, killFailed: 0, auditEvents: 0,
  };
  /** The queue: lines and their sensors side by side (no pair allocated per line), read from `#head`. */
  #lines: string[] = [];
  #sensors: SensorKind[] = [];
  #head = 0;

  constructor(private readonly o: RuntimeProcessorOptions) {
    this.capacity = o.capacity ?? 65_536;
  }

  get queued(): number {
    return this.#lines.length - this.#head;
  }

  /** Queues one sensor line; `false` (and counted as received and dropped) when the queue is full. */
  push(line: string, sensor: SensorKind): boolean {
    if (this.queued >= this.capacity) {
      this.counters.received++;
      this.counters.dropped.queueFull++;
      return false;
    }
    this.#lines.push(line);
    this.#sensors.push(sensor);
    return true;
  }

  /**
   * Evaluates up to `max` queued lines; returns how many were taken. One clock reading serves the batch for
   * compiling container plans (exclusions' expiry); audit events read the clock when they are made.
   */
  drain(max = 10_000): number {
    const n = Math.min(max, this.queued);
    if (n === 0) return 0;
    // Read once per batch (drain is synchronous: the active bundle cannot change inside it); `undefined` when
    // reading the rules failed, which drops each line as `error`, as a failure per line would.
    let rules: RuntimeRules | null | undefined;
    try {
      rules = this.o.rules();
    } catch {
      rules = undefined;
    }
    const now = this.#now();
    for (let i = 0; i < n; i++) {
      const at = this.#head++;
      const line = this.#lines[at]!;
      this.#lines[at] = undefined as never;
      this.#take(line, this.#sensors[at]!, rules, now);
    }
    if (this.#head === this.#lines.length) (this.#lines = []), (this.#sensors = []), (this.#head = 0);
    else if (this.#head > 4096 && this.#head * 2 > this.#lines.length) (this.#lines = this.#lines.slice(this.#head)), (this.#sensors = this.#sensors.slice(this.#head)), (this.#head = 0);
    return n;
  }

  #now(): Date {
    return this.o.now ? this.o.now() : new Date();
  }

  #take(line: string, sensor: SensorKind, rules: RuntimeRules | null | undefined, now: Date): void {
    this.counters.received++;
    try {
      const adapted = sensor === 'falco' ? adaptFalco(line) : adaptTetragon(line);
      if ('drop' in adapted) return this.#drop(adapted.drop);
      if (rules === undefined) return this.#drop('error');
      if (!rules) return this.#drop('noBundle');
      this.counters.evaluated++;
      const decision = evaluateRuntimeEvent(adapted.event, rules, now, this.o.pods, this.o.names);
      this.counters.verdicts[decision.verdict]++;
      if (decision.verdict !== 'allowed') this.#act(adapted.event, decision, rules.revision, this.#now());
    } catch {
      // Counted as evaluated already if it got that far; otherwise as an error drop, so the sum stays exact.
      if (this.counters.received > this.counters.evaluated + this.#dropTotal()) this.#drop('error');
    }
  }

  #act(event: RuntimeEvent, decision: RuntimeDecision, revision: number, now: Date): void {
    let enforcement: Enforcement = 'none';
    if (decision.verdict === 'blocked') {
      if (event.kernelAction) {
        enforcement = event.kernelAction === 'sigkill' ? 'kernelSigkill' : 'kernel';
        this.counters.kernelBlocked++;
      } else if (event.type === 'exec' && this.o.kill && event.process.pid !== undefined) {
        const killed = this.o.kill(event.process.pid, event.process.binary);
        enforcement = killed ? 'killed' : 'killFailed';
        this.counters[killed ? 'killed' : 'killFailed']++;
      }
    }
    const events = runtimeAuditEvents(event, decision, { revision, now, newId: this.o.newId, enforcement });
    this.counters.auditEvents += events.length;
    this.o.onAudit(events);
  }

  #drop(reason: AdaptDrop | RuntimeDropReason): void {
    this.counters.dropped[reason]++;
  }

  #dropTotal(): number {
    return Object.values(this.counters.dropped).reduce((a, b) => a + b, 0);
  }
}
