// @ts-check
/** node:timers/promises for a wrapped server. */
import { promises } from './timers.js';

export const setTimeout = promises.setTimeout;
export const setImmediate = promises.setImmediate;
export default promises;
