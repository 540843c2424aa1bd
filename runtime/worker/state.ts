/**
 * The state a sandbox worker's modules share: the packages it was given, their isolates, the calls in
 * progress, and the channel to the host (fd 3). One instance per worker process (main.ts).
 */
import { Socket } from 'node:net';
import type { PackageIsolate } from '../isolate.ts';
import { createFrameWriter, encodeFrame } from '../protocol.ts';
import type { WorkerCallLimits, WorkerToHost } from '../protocol.ts';
import { CpuMeter } from './cpu-meter.ts';

export const RSS_LIMIT_BYTES = Number(process.env.WARDEN_WORKER_RSS_MB ?? '1024') * 1024 * 1024;
export const TOOL_ERROR_CODES = new Set(['TOOL_THREW', 'OUTPUT_INVALID', 'OUTPUT_TOO_LARGE', 'TOOL_NOT_FOUND']);
export const LOG_LEVELS = new Set(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency']);

export interface PackageSource {
  name: string;
  source: string;
  memoryMb: number;
  fresh: boolean;
}

export interface PackageState {
  /** The warm isolate once created: the synchronous fast path of every later call. */
  ready?: PackageIsolate;
  /** The warm isolate (or its creation in progress); undefined until the first call. */
  isolate?: Promise<PackageIsolate>;
  /** For fresh-per-call packages: the next isolate, created ahead of time. */
  spare?: Promise<PackageIsolate>;
  /** A cancelled call's code was running in the warm isolate: settles once it stopped or was reset. */
  cancelling?: Promise<void>;
}

/** The outcome the isolate posted for a call, held until the entry that posted it has returned. */
export type Outcome = { ok: true; json: string } | { ok: false; code: string; message: string };

export interface CallRecord {
  id: number;
  pkg: string;
  iso: PackageIsolate | null;
  limits: WorkerCallLimits;
  /** CPU time of the isolate charged to this call (its completed entries), ms. */
  cpuUsed: number;
  /** performance.now() at which the call's wall-clock limit passes. */
  deadline: number;
  settled: boolean;
  timers: Set<NodeJS.Timeout>;
  hostCalls: number;
  fresh: boolean;
  held: Outcome | null;
}

export const socket = new Socket({ fd: 3, readable: true, writable: true });
export const sources = new Map<string, PackageSource>();
export const packages = new Map<string, PackageState>();
export const calls = new Map<number, CallRecord>();
export const cpuMeter = new CpuMeter<PackageIsolate>();

const writeFrame = createFrameWriter(socket);
/** Sends a frame: directly on fd 3 while the socket takes it (see createFrameWriter). */
export function send(message: WorkerToHost): void {
  writeFrame(encodeFrame(message as WorkerToHost & Record<string, unknown>));
}
