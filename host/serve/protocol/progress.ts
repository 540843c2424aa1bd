/**
 * Progress of one request, from the sandbox's progress events to notifications/progress: increasing,
 * bounded, and thinned to at most one per PROGRESS_INTERVAL_MS. A report that arrives inside the interval
 * is not dropped: the latest one waits and is sent when the interval ends, or at once when the request
 * finishes (`flush`, called before the response is sent), so the last report a tool made always reaches
 * the client, and none arrives after the response.
 *
 * Threat: a tool may report progress in a tight loop; at most one notification per interval leaves (two
 * when the second is the final report).
 */
import { boundedMessage } from '../../../runtime/index.ts';
import type { ProgressEvent } from '../../../runtime/index.ts';

/** Progress notifications per request are thinned to at most one per this many ms. */
export const PROGRESS_INTERVAL_MS = 50;

type ProgressToken = string | number;

export interface ProgressParams {
  [key: string]: unknown;
  progressToken: ProgressToken;
  progress: number;
  total?: number;
  message?: string;
}

export interface ProgressForwarder {
  readonly onProgress: (e: ProgressEvent) => void;
  /** Sends the report still waiting, if any; later reports are ignored. */
  readonly flush: () => void;
}

/** undefined when the request asked for no progress (no valid progressToken). */
export function progressForwarder(token: unknown, send: (params: ProgressParams) => void): ProgressForwarder | undefined {
  if (typeof token !== 'string' && typeof token !== 'number') return undefined;
  const progressToken: ProgressToken = token;
  let last = -Infinity;
  let lastAt = -Infinity;
  let waiting: ProgressParams | undefined;
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  const emit = (params: ProgressParams): void => {
    lastAt = performance.now();
    send(params);
  };
  const sendWaiting = (): void => {
    timer = undefined;
    const params = waiting;
    waiting = undefined;
    if (params) emit(params);
  };
  return {
    onProgress: (e) => {
      if (done || !Number.isFinite(e.progress) || e.progress <= last) return;
      last = e.progress;
      const params: ProgressParams = { progressToken, progress: e.progress };
      if (e.total !== undefined && Number.isFinite(e.total)) params.total = e.total;
      if (typeof e.message === 'string') params.message = boundedMessage(e.message, 200);
      const final = params.total !== undefined && params.progress >= params.total;
      const wait = PROGRESS_INTERVAL_MS - (performance.now() - lastAt);
      if (final || wait <= 0) {
        // The final report goes at once, after the one still waiting (so a tool's last steps all arrive).
        clearTimeout(timer);
        if (final) sendWaiting();
        timer = undefined;
        waiting = undefined;
        emit(params);
        return;
      }
      waiting = params;
      timer ??= setTimeout(sendWaiting, wait).unref();
    },
    flush: () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sendWaiting();
    },
  };
}
